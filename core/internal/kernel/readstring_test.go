package kernel

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// twoPages maps two pages and unmaps the second, so that the first ends at
// a hole: a read past it faults.
func twoPages(t *testing.T) []byte {
	t.Helper()
	m, err := unix.Mmap(-1, 0, 8192, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	// unix.Munmap only takes whole mappings: unmap the second page raw.
	if _, _, e := unix.Syscall(unix.SYS_MUNMAP, uintptrOf(&m[4096]), 4096, 0); e != 0 {
		t.Fatalf("munmap: %v", e)
	}
	t.Cleanup(func() { _, _, _ = unix.Syscall(unix.SYS_MUNMAP, uintptrOf(&m[0]), 4096, 0) })
	return m[:4096:4096]
}

func TestReadStringEdges(t *testing.T) {
	page := twoPages(t)
	pid := os.Getpid()
	// Longer than the first short read, ending on the last byte before
	// the hole.
	long := bytes.Repeat([]byte("abcdefgh/"), 100)[:700]
	off := 4096 - len(long) - 1
	copy(page[off:], long)
	page[4095] = 0
	got, err := ReadString(pid, uint64(uintptrOf(&page[off])), make([]byte, 0, 8), unix.PathMax)
	if err != nil || !bytes.Equal(got, long) {
		t.Fatalf("ReadString(string up to the hole) = %d bytes, %v; want %d bytes", len(got), err, len(long))
	}
	// No NUL before the hole: the read fails rather than running on.
	page[4095] = 'x'
	if _, err := ReadString(pid, uint64(uintptrOf(&page[off])), nil, unix.PathMax); err == nil {
		t.Fatalf("ReadString of an unterminated string before a hole succeeded")
	}
	// Exactly max bytes before the NUL is too long; max-1 fits.
	page[4095] = 0
	if _, err := ReadString(pid, uint64(uintptrOf(&page[off])), nil, len(long)); !errors.Is(err, unix.ENAMETOOLONG) {
		t.Fatalf("ReadString with max = len = %v, want ENAMETOOLONG", err)
	}
	if got, err := ReadString(pid, uint64(uintptrOf(&page[off])), nil, len(long)+1); err != nil || len(got) != len(long) {
		t.Fatalf("ReadString with max = len+1 = %d bytes, %v", len(got), err)
	}
}

// The path read of the notification hot path reuses the caller's buffer.
func TestReadStringDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := []byte("/usr/share/doc/tar/copyright\x00")
	buf := make([]byte, 0, unix.PathMax+1)
	addr := uint64(uintptrOf(&s[0]))
	allocs := testing.AllocsPerRun(500, func() {
		if p, err := ReadString(os.Getpid(), addr, buf, unix.PathMax); err != nil || len(p) != len(s)-1 {
			t.Fatalf("ReadString = %q, %v", p, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ReadString allocates %.1f times per call, want 0", allocs)
	}
}
