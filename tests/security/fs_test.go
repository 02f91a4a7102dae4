package security

// Filesystem escapes and Landlock gaps (attacks.md 1.1). The plain
// Landlock grants and the fs_denied table of path spellings are covered by
// core/sandbox TestLandlockReadWrite and TestFsDenied, and the fd sweep by
// TestHostFdsNotInherited; the cases here add the attacks of the catalogue
// those tests do not make, each with a host canary.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// TestFS01HostFds: descriptors the host opened without O_CLOEXEC (a
// directory and "/" as O_PATH, a writable host file) must not reach the
// sandbox: the probe walks fds 3..4095, reads through each as a directory,
// writes to each and tries the seccomp listener's RECV ioctl on each.
func TestFS01HostFds(t *testing.T) {
	p, _ := basePolicy(t)
	p = withProc(p)
	out := tempDir(t)
	sec := secret("fs01")
	writeFile(t, filepath.Join(out, "secret"), sec)
	target := writeFile(t, filepath.Join(out, "target"), "host-target")
	before := snapshot(t, target)
	var fds []int
	for _, o := range []struct {
		path  string
		flags int
	}{{"/", unix.O_PATH | unix.O_DIRECTORY}, {out, unix.O_RDONLY | unix.O_DIRECTORY}, {target, unix.O_WRONLY | unix.O_APPEND}} {
		fd, err := unix.Open(o.path, o.flags, 0) // no O_CLOEXEC on purpose
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
	}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	rel := strings.TrimPrefix(filepath.Join(out, "secret"), "/")

	t.Run("FS-01/attack: inherit host fds", func(t *testing.T) {
		attack(t, "FS-01")
		for _, pol := range []struct {
			name string
			p    policy.Policy
		}{{"plain", p}, {"with on-behalf opens", fsDenyActive(t, p)}} {
			r := inSandbox(t, pol.p, sandbox.Options{}, "fdscan", rel)
			wantCode(t, r, 0)
			if r.kv()["count"] != "0" {
				t.Errorf("%s: descriptors beyond 0-2 in the sandbox: %v", pol.name, r)
			}
			noLeak(t, r, sec)
		}
		unchanged(t, target, before)
	})
	t.Run("FS-01/control: a host exec inherits them", func(t *testing.T) {
		control(t, "FS-01")
		r := onHost(t, hostOpts{}, "fdscan", rel)
		wantCode(t, r, 0)
		if n := r.num(t, "count"); n < len(fds) {
			t.Errorf("%v; want at least %d inherited fds", r, len(fds))
		}
		if !strings.Contains(r.stdout, "openat="+sec) || !strings.Contains(r.stdout, "write=ok") {
			t.Errorf("%v; want the secret read through the inherited directory and a write through the file", r)
		}
	})
}

// TestFS02ProcFdUpgrade: a read-only descriptor reopened read-write
// through /proc/self/fd, /dev/fd and /proc/thread-self/fd, also after the
// file was unlinked; an O_PATH handle on an ungranted file turned into a
// readable fd, an exec or a hard link.
func TestFS02ProcFdUpgrade(t *testing.T) {
	setup := func(t *testing.T) (policy.Policy, string, string) {
		p, _ := basePolicy(t)
		p = withProc(p)
		ro := tempDir(t)
		f := writeFile(t, filepath.Join(ro, "f"), "ro-canary")
		p.FsReadable = append(p.FsReadable, ro)
		return p, ro, f
	}
	keys := []string{"proc_self", "dev_fd", "thread_self"}
	t.Run("FS-02/attack: reopen read-only fd read-write", func(t *testing.T) {
		attack(t, "FS-02")
		p, _, f := setup(t)
		before := snapshot(t, f)
		for _, pol := range []policy.Policy{p, fsDenyActive(t, p)} {
			r := inSandbox(t, pol, sandbox.Options{}, "procfd-upgrade", f)
			for _, k := range keys {
				wantKey(t, r, k, "EACCES")
			}
		}
		unchanged(t, f, before)
	})
	t.Run("FS-02/control: reopen read-write in a writable tree", func(t *testing.T) {
		control(t, "FS-02")
		p, ro, f := setup(t)
		p.FsWritable = append(p.FsWritable, ro)
		r := inSandbox(t, p, sandbox.Options{}, "procfd-upgrade", f)
		for _, k := range keys {
			wantKey(t, r, k, "ok")
		}
		if !strings.Contains(fileContent(f), "pwned") {
			t.Errorf("%v; file = %q, want the writes", r, fileContent(f))
		}
	})

	unlinked := func(t *testing.T, writable bool) (result, *os.File) {
		p, ro, f := setup(t)
		if writable {
			p.FsWritable = append(p.FsWritable, ro)
		}
		_, rw := basePolicy(t)
		p.FsWritable = append(p.FsWritable, rw)
		keep, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { keep.Close() })
		ready := filepath.Join(rw, "ready")
		done := make(chan struct{})
		go func() {
			defer close(done)
			if eventually(5*time.Second, func() bool { return exists(ready) }) {
				os.Remove(f)
			}
		}()
		r := inSandbox(t, p, sandbox.Options{}, "procfd-unlinked", f, ready)
		<-done
		return r, keep
	}
	t.Run("FS-02/attack: reopen an unlinked read-only file read-write", func(t *testing.T) {
		attack(t, "FS-02")
		r, keep := unlinked(t, false)
		wantKey(t, r, "reopen", "EACCES")
		if b, _ := readAll(keep); b != "ro-canary" {
			t.Errorf("unlinked file = %q, want ro-canary", b)
		}
	})
	t.Run("FS-02/control: the same in a writable tree", func(t *testing.T) {
		control(t, "FS-02")
		r, keep := unlinked(t, true)
		wantKey(t, r, "reopen", "ok")
		wantKey(t, r, "write", "ok")
		if b, _ := readAll(keep); !strings.Contains(b, "pwned") {
			t.Errorf("unlinked file = %q, want the write", b)
		}
	})

	opath := func(t *testing.T, grant bool) (result, string, string) {
		p, _ := basePolicy(t)
		p = withProc(p)
		_, rw := basePolicy(t)
		p.FsWritable = append(p.FsWritable, rw)
		out := tempDir(t)
		sec := secret("fs02")
		f := writeFile(t, filepath.Join(out, "secret"), sec)
		exe := copyFile(t, attacker.Bin, filepath.Join(out, "exe"), 0o755)
		if grant {
			p.FsWritable = append(p.FsWritable, out)
		}
		dest := filepath.Join(rw, "link")
		return inSandbox(t, p, sandbox.Options{}, "opath", f, exe, dest), sec, dest
	}
	t.Run("FS-02/attack: O_PATH handle to read, exec, link", func(t *testing.T) {
		attack(t, "FS-02")
		r, sec, dest := opath(t, false)
		noLeak(t, r, sec)
		if r.kv()["open_path"] != "ok" {
			// Refusing the handle itself is safe too (and is what happens
			// when the supervisor performs the open: SECCOMP_IOCTL_NOTIF_ADDFD
			// cannot install an O_PATH file, see FD-03).
			wantKey(t, r, "open_path", "EBADF", "EACCES")
			return
		}
		wantKey(t, r, "fstat", "ok") // documented metadata leak
		wantKey(t, r, "reopen", "EACCES")
		wantKey(t, r, "execveat", "EACCES")
		wantKey(t, r, "linkat", "EXDEV", "EACCES", "ENOENT", "EPERM")
		if strings.Contains(r.stdout, "EXECUTED") || exists(dest) {
			t.Errorf("%v; the ungranted binary ran or the link exists", r)
		}
	})
	t.Run("FS-02/control: the same with the directory granted", func(t *testing.T) {
		control(t, "FS-02")
		r, sec, dest := opath(t, true)
		wantKey(t, r, "open_path", "ok")
		wantKey(t, r, "reopen", "ok")
		wantKey(t, r, "execveat", "ok")
		wantKey(t, r, "linkat", "ok")
		if !strings.Contains(r.stdout, sec) || !strings.Contains(r.stdout, "EXECUTED") || !exists(dest) {
			t.Errorf("%v; want the secret, EXECUTED and the link", r)
		}
	})
}

func readAll(f *os.File) (string, error) {
	b := make([]byte, 256)
	n, err := f.ReadAt(b, 0)
	return string(b[:n]), err
}

// TestFS04HardLinkWidening: link a read-only file into a writable tree and
// open the alias for writing, by Landlock directly and through the
// supervisor's on-behalf link.
func TestFS04HardLinkWidening(t *testing.T) {
	setup := func(t *testing.T) (policy.Policy, string, string, string) {
		p, rw := basePolicy(t)
		ro := tempDir(t)
		f := writeFile(t, filepath.Join(ro, "secret"), "ro-secret")
		p.FsReadable = append(p.FsReadable, ro)
		return p, ro, f, filepath.Join(rw, "alias")
	}
	t.Run("FS-04/attack: link read-only file into writable tree", func(t *testing.T) {
		attack(t, "FS-04")
		p, _, f, alias := setup(t)
		before := snapshot(t, f)
		for _, pol := range []policy.Policy{p, fsDenyActive(t, p)} {
			r := inSandbox(t, pol, sandbox.Options{}, "linkwrite", f, alias)
			wantKey(t, r, "link", "EXDEV", "EACCES")
			wantKey(t, r, "open", "ENOENT")
		}
		unchanged(t, f, before)
		if exists(alias) {
			t.Errorf("alias %s exists", alias)
		}
	})
	t.Run("FS-04/control: both trees writable", func(t *testing.T) {
		control(t, "FS-04")
		p, ro, f, alias := setup(t)
		p.FsWritable = append(p.FsWritable, ro)
		r := inSandbox(t, fsDenyActive(t, p), sandbox.Options{}, "linkwrite", f, alias)
		wantKey(t, r, "link", "ok")
		wantKey(t, r, "open", "ok")
		if !strings.HasPrefix(fileContent(f), "pwned") {
			t.Errorf("%v; file = %q, want the write", r, fileContent(f))
		}
	})
}

// treeState lists a directory tree with contents, for "byte-identical"
// checks.
func treeState(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b.WriteString(rel)
		if d.Type().IsRegular() {
			b.WriteString("=" + fileContent(p))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestFS05RenameWidening: exchange a writable file with a read-only one,
// move a directory out of a read-only grant, rename with renameat (264) as
// well as renameat2, directly and through the supervisor.
func TestFS05RenameWidening(t *testing.T) {
	setup := func(t *testing.T) (policy.Policy, string, string) {
		p, rw := basePolicy(t)
		ro := tempDir(t)
		writeFile(t, filepath.Join(ro, "y"), "ro-y")
		mkdir(t, filepath.Join(ro, "d"))
		writeFile(t, filepath.Join(ro, "d", "f"), "ro-d-f")
		writeFile(t, filepath.Join(rw, "x"), "rw-x")
		p.FsReadable = append(p.FsReadable, ro)
		return p, ro, rw
	}
	ops := func(ro, rw string) [][]string {
		return [][]string{
			{"rename2", filepath.Join(rw, "x"), filepath.Join(ro, "y"), "exchange"},
			{"rename2", filepath.Join(ro, "d"), filepath.Join(rw, "d"), "none"},
			{"renameat", filepath.Join(ro, "y"), filepath.Join(rw, "z")},
		}
	}
	t.Run("FS-05/attack: rename out of or into a read-only tree", func(t *testing.T) {
		attack(t, "FS-05")
		p, ro, rw := setup(t)
		before := treeState(t, ro)
		for _, pol := range []policy.Policy{p, fsDenyActive(t, p)} {
			for _, op := range ops(ro, rw) {
				wantCode(t, inSandbox(t, pol, sandbox.Options{}, op...), unix.EXDEV, unix.EACCES)
			}
		}
		if after := treeState(t, ro); after != before {
			t.Errorf("read-only tree changed:\n%s\nwant\n%s", after, before)
		}
	})
	t.Run("FS-05/control: both trees writable", func(t *testing.T) {
		control(t, "FS-05")
		p, ro, rw := setup(t)
		p.FsWritable = append(p.FsWritable, ro)
		for _, op := range ops(ro, rw) {
			wantCode(t, inSandbox(t, fsDenyActive(t, p), sandbox.Options{}, op...), 0)
		}
		if fileContent(filepath.Join(rw, "z")) != "rw-x" || fileContent(filepath.Join(rw, "x")) != "ro-y" || !exists(filepath.Join(rw, "d", "f")) {
			t.Errorf("the renames did not happen: %s", treeState(t, rw))
		}
	})
}

// TestFS06SymlinkDeputy: with the supervisor opening, creating and
// renaming on the child's behalf (fs_denied active), symlinks planted in a
// writable directory must not lead it outside the grants, also when a
// directory component is swapped for a symlink in a loop.
func TestFS06SymlinkDeputy(t *testing.T) {
	setup := func(t *testing.T) (policy.Policy, string, string) {
		p, rw := basePolicy(t)
		p = fsDenyActive(t, p)
		out := tempDir(t)
		writeFile(t, filepath.Join(out, "target"), "out-target")
		writeFile(t, filepath.Join(out, "f"), "out-f")
		if err := os.Symlink(filepath.Join(out, "target"), filepath.Join(rw, "l")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(out, filepath.Join(rw, "d")); err != nil {
			t.Fatal(err)
		}
		mkdir(t, filepath.Join(rw, "sub"))
		writeFile(t, filepath.Join(rw, "sub", "f"), "in-f")
		if err := os.Symlink(out, filepath.Join(rw, "lnk")); err != nil {
			t.Fatal(err)
		}
		return p, rw, out
	}
	ops := func(rw string) [][]string {
		return [][]string{
			{"append", filepath.Join(rw, "l"), "pwned"},
			{"read", filepath.Join(rw, "d", "target")},
			{"mkdir", filepath.Join(rw, "d", "x")},
			{"rename2", filepath.Join(rw, "d", "target"), filepath.Join(rw, "h"), "none"},
		}
	}
	t.Run("FS-06/attack: on-behalf operations through planted symlinks", func(t *testing.T) {
		attack(t, "FS-06")
		p, rw, out := setup(t)
		before := treeState(t, out)
		for _, op := range ops(rw) {
			r := inSandbox(t, p, sandbox.Options{}, op...)
			wantCode(t, r, unix.EACCES, unix.EXDEV)
			noLeak(t, r, "out-target")
		}
		r := inSandbox(t, p, sandbox.Options{}, "swaprace", filepath.Join(rw, "sub"), filepath.Join(rw, "lnk"), "0.4")
		wantCode(t, r, 0)
		if r.num(t, "exchanges") == 0 || r.num(t, "opens") == 0 {
			t.Errorf("%v; the race did not run", r)
		}
		if after := treeState(t, out); after != before {
			t.Errorf("outside tree changed:\n%s\nwant\n%s", after, before)
		}
	})
	t.Run("FS-06/control: the same with the outside tree writable", func(t *testing.T) {
		control(t, "FS-06")
		p, rw, out := setup(t)
		p.FsWritable = append(p.FsWritable, out)
		for _, op := range ops(rw) {
			wantCode(t, inSandbox(t, p, sandbox.Options{}, op...), 0)
		}
		r := inSandbox(t, p, sandbox.Options{}, "swaprace", filepath.Join(rw, "sub"), filepath.Join(rw, "lnk"), "0.4")
		wantCode(t, r, 0)
		if !strings.Contains(fileContent(filepath.Join(out, "f")), "X") && !strings.Contains(fileContent(filepath.Join(rw, "lnk", "f")), "X") {
			t.Errorf("%v; no write landed outside through the swapped component", r)
		}
	})
}

// TestFS07Spellings adds the path spellings of fs_denied inside a
// read-only tree that core/sandbox TestFsDenied does not try.
func TestFS07Spellings(t *testing.T) {
	p, _ := basePolicy(t)
	p = withProc(p)
	data := tempDir(t)
	sec := secret("fs07")
	writeFile(t, filepath.Join(data, "secret"), sec)
	writeFile(t, filepath.Join(data, "ok"), "data-ok")
	p.FsReadable = append(p.FsReadable, data)
	p.FsDenied = []string{filepath.Join(data, "secret")}
	p.Cwd = data
	spell := func(name string) [][]string {
		return [][]string{
			{"read", "/proc/self/root" + filepath.Join(data, name)},
			{"openat", data, name},
			{"read", "/proc/thread-self/cwd/" + name},
			{"read", "/proc/self/cwd/./" + name},
			{"read", "/proc/" + "self/task/../root" + filepath.Join(data, name)},
		}
	}
	t.Run("FS-07/attack: denied file through other spellings", func(t *testing.T) {
		attack(t, "FS-07")
		for _, op := range spell("secret") {
			r := inSandbox(t, p, sandbox.Options{}, op...)
			wantCode(t, r, unix.EACCES)
			noLeak(t, r, sec)
		}
	})
	t.Run("FS-07/control: sibling through the same spellings", func(t *testing.T) {
		control(t, "FS-07")
		for _, op := range spell("ok") {
			r := inSandbox(t, p, sandbox.Options{}, op...)
			wantCode(t, r, 0)
			if r.stdout != "data-ok" {
				t.Errorf("%v; want data-ok", r)
			}
		}
	})
}

// TestFS08Coverage runs the mediated path syscalls that core/sandbox
// TestFsDenied does not against an fs_denied directory, each with the same
// call on a non-denied sibling as control.
func TestFS08Coverage(t *testing.T) {
	setup := func(t *testing.T) (policy.Policy, string) {
		p, w := basePolicy(t)
		for _, d := range []string{"denied", "ok"} {
			mkdir(t, filepath.Join(w, d, "sub"))
			writeFile(t, filepath.Join(w, d, "file"), d+"-file")
			copyFile(t, attacker.Bin, filepath.Join(w, d, "bin"), 0o755)
		}
		writeFile(t, filepath.Join(w, "okfile"), "okfile")
		p.FsDenied = []string{filepath.Join(w, "denied")}
		return p, w
	}
	ops := func(w, d string) [][]string {
		dir := filepath.Join(w, d)
		return [][]string{
			{"creat", filepath.Join(dir, "new")},
			{"mkdir", filepath.Join(dir, "x")},
			{"mknod", filepath.Join(dir, "fifo"), "p", "0", "0"},
			{"rmdir", filepath.Join(dir, "sub")},
			{"symlinkat", "/etc/hostname", w, d + "/sl"},
			{"exec", filepath.Join(dir, "bin")},
			{"execveat", w, d + "/bin"},
			{"tmpfile", dir},
			{"linkat", filepath.Join(dir, "bin"), filepath.Join(w, d+"-alias")},
			{"rename2", filepath.Join(w, "okfile"), filepath.Join(dir, "file"), "exchange"},
			{"unlinkat", w, d + "/file"},
			{"renameat", filepath.Join(dir, "bin"), filepath.Join(w, d+"-stolen")},
		}
	}
	t.Run("FS-08/attack: mediated calls on a denied directory", func(t *testing.T) {
		attack(t, "FS-08")
		p, w := setup(t)
		before := treeState(t, filepath.Join(w, "denied"))
		for _, op := range ops(w, "denied") {
			r := inSandbox(t, p, sandbox.Options{}, op...)
			wantCode(t, r, unix.EACCES)
			if strings.Contains(r.stdout, "EXECUTED") {
				t.Errorf("%v; the denied binary ran", r)
			}
		}
		if after := treeState(t, filepath.Join(w, "denied")); after != before {
			t.Errorf("denied tree changed:\n%s\nwant\n%s", after, before)
		}
		for _, n := range []string{"denied-alias", "denied-stolen"} {
			if exists(filepath.Join(w, n)) {
				t.Errorf("%s exists", n)
			}
		}
	})
	t.Run("FS-08/control: the same calls on a sibling", func(t *testing.T) {
		control(t, "FS-08")
		p, w := setup(t)
		for _, op := range ops(w, "ok") {
			r := inSandbox(t, p, sandbox.Options{}, op...)
			wantCode(t, r, 0)
			if op[0] == "exec" || op[0] == "execveat" {
				if !strings.Contains(r.stdout, "EXECUTED") {
					t.Errorf("%v; want EXECUTED", r)
				}
			}
		}
	})
}

// TestFS10DeviceNodes: a character or block device node created in a
// writable tree gives raw access to memory or disks (a root caller passes
// the kernel's CAP_MKNOD check, so only Landlock's MAKE_CHAR/MAKE_BLOCK can
// stop it). attacks.md expects EACCES: those rights are never granted by
// default. The node must not exist afterwards; it is never opened.
func TestFS10DeviceNodes(t *testing.T) {
	nodes := [][]string{{"mem", "c", "1", "1"}, {"loop", "b", "7", "0"}}
	t.Run("FS-10/attack: mknod a device in a writable tree", func(t *testing.T) {
		attack(t, "FS-10")
		p, w := basePolicy(t)
		for i, pol := range []policy.Policy{p, fsDenyActive(t, p)} {
			for _, n := range nodes {
				path := filepath.Join(w, n[0]+strconv.Itoa(i))
				t.Cleanup(func() { os.Remove(path) })
				r := inSandbox(t, pol, sandbox.Options{}, append([]string{"mknod", path}, n[1:]...)...)
				if exists(path) {
					t.Errorf("%v; device node %s was created (Landlock grants MAKE_CHAR/MAKE_BLOCK in fs_writable trees; the caller is root: %v)", r, path, isRoot)
				}
				wantCode(t, r, unix.EACCES, unix.EPERM)
			}
		}
	})
	t.Run("FS-10/control: mknod on the host reaches the kernel", func(t *testing.T) {
		control(t, "FS-10")
		w := tempDir(t)
		for _, n := range nodes {
			path := filepath.Join(w, n[0])
			r := onHost(t, hostOpts{}, append([]string{"mknod", path}, n[1:]...)...)
			os.Remove(path)
			if isRoot {
				wantCode(t, r, 0)
			} else {
				// The kernel's own CAP_MKNOD refusal, after the
				// (absent) Landlock check.
				wantCode(t, r, unix.EPERM)
			}
		}
	})
}
