package handlers

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// selfFiles returns a Files whose index holds the test process itself,
// granting dir and /etc for reading, and a supervisor on a pipe: the
// handlers run for real (path read, resolution, open, checks) up to
// SECCOMP_IOCTL_NOTIF_ADDFD, which fails with ENOTTY on the pipe.
func selfFiles(t *testing.T, dir string) (*Files, *supervisor.Supervisor) {
	t.Helper()
	ix := procindex.New()
	t.Cleanup(ix.Close)
	if _, err := ix.Register(os.Getpid(), os.Getppid(), -1); err != nil {
		t.Fatal(err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[1]) })
	sup, err := supervisor.New(p[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sup.Stop)
	f, err := NewFiles([]string{"/etc", dir}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.kinds = make([]opKind, unix.SYS_OPENAT+1)
	f.kinds[unix.SYS_OPENAT] = opOpenat
	f.Start(ix, nil)
	t.Cleanup(f.Close)
	return f, sup
}

// TestOpenHotPathAllocs: an open performed on the child's behalf (path read
// from the child's memory, resolution, the object's checks, the open
// itself) allocates nothing, for an absolute path and for a path relative
// to a dirfd of the child (README performance target: the notification hot
// path allocates nothing).
func TestOpenHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; the allocation count is checked without -race")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, sup := selfFiles(t, dir)
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	abs := []byte("/etc/passwd\x00")
	rel := []byte("f\x00")
	for _, tc := range []struct {
		name  string
		dirfd int
		path  []byte
	}{
		{"absolute", unix.AT_FDCWD, abs},
		{"relative to a dirfd", dfd, rel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := notif(unix.SYS_OPENAT, uint64(uint32(int32(tc.dirfd))), uint64(uintptr(unsafe.Pointer(&tc.path[0]))), unix.O_RDONLY|unix.O_CLOEXEC)
			want := supervisor.Errno(unix.ENOTTY) // ADDFD on the pipe
			if r := f.open(sup, n); r != want {
				t.Fatalf("open = %+v, want %+v (the handler did not reach ADDFD)", r, want)
			}
			allocs := testing.AllocsPerRun(200, func() { f.open(sup, n) })
			if allocs != 0 {
				t.Errorf("open on behalf allocates %.1f times per call, want 0", allocs)
			}
		})
	}
}

// objPath and reopen name and reopen the object behind an O_PATH
// descriptor, deleted files included.
func TestObjPathAndReopen(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	if err := os.WriteFile(name, []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(name, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var a, b [unix.PathMax + 64]byte
	got, del, errno := objPath(fd, a[:])
	want, wdel, werrno := fdPath(fd, b[:])
	if errno != 0 || werrno != 0 || string(got) != string(want) || del != wdel || del {
		t.Fatalf("objPath = %q %v %v, fdPath = %q %v %v", got, del, errno, want, wdel, werrno)
	}
	var sc scratch
	rd, errno := reopen(fd, unix.O_RDONLY|unix.O_CLOEXEC, &sc)
	if errno != 0 {
		t.Fatalf("reopen: %v", errno)
	}
	buf := make([]byte, 16)
	n, err := unix.Read(rd, buf)
	unix.Close(rd)
	if err != nil || string(buf[:n]) != "content" {
		t.Fatalf("read through reopen = %q, %v", buf[:n], err)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	canon := string(want)
	got, del, errno = objPath(fd, a[:])
	if errno != 0 || !del || string(got) != canon {
		t.Fatalf("objPath of an unlinked file = %q deleted=%v %v, want %q deleted", got, del, errno, canon)
	}
}
