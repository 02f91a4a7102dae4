package security

// fd passing and the supervisor as deputy (attacks.md 1.3). FD-02 needs an
// on-behalf connect and is pending.

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/sandbox"
)

// TestFD01Listener: the sandbox must not reach a seccomp listener: none is
// inherited (the fd scan of FS-01 also tries NOTIF_RECV on every fd, and
// PROC-03 the host's listener through /proc), it cannot install a nested
// one, and stacking its own filter only hurts itself: ALLOW does not
// override the supervisor's USER_NOTIF, ERRNO(0) and TRAP do not open the
// denied file.
func TestFD01Listener(t *testing.T) {
	p, w := basePolicy(t)
	sec := secret("fd01")
	denied := writeFile(t, filepath.Join(w, "denied"), sec)
	p.FsDenied = []string{denied}
	t.Run("FD-01/attack: nested listener", func(t *testing.T) {
		attack(t, "FD-01")
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "newlistener"), unix.EPERM)
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "newlistener-hibits"), unix.EPERM)
	})
	t.Run("FD-01/control: nested listener on the host", func(t *testing.T) {
		control(t, "FD-01")
		wantCode(t, onHost(t, hostOpts{}, "newlistener"), 0)
		wantCode(t, onHost(t, hostOpts{}, "newlistener-hibits"), 0)
	})
	t.Run("FD-01/attack: own filter over the supervisor's", func(t *testing.T) {
		attack(t, "FD-01")
		r := inSandbox(t, p, sandbox.Options{}, "ownfilter", "allow", denied)
		wantCode(t, r, unix.EACCES)
		noLeak(t, r, sec)
		r = inSandbox(t, p, sandbox.Options{}, "ownfilter", "errno0", denied)
		noLeak(t, r, sec)
		if r.signal == 0 && r.code == 0 && !strings.Contains(r.stdout, "fd=0") {
			t.Errorf("%v; ERRNO(0) should have returned 0 (stdin), not a descriptor of the file", r)
		}
		r = inSandbox(t, p, sandbox.Options{}, "ownfilter", "trap", denied)
		noLeak(t, r, sec)
		if r.signal != int(syscall.SIGSYS) {
			t.Errorf("%v; want death by SIGSYS (the attacker's own TRAP)", r)
		}
		// The supervisor still serves the sandbox normally afterwards.
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "read", "/etc/hostname"), 0, unix.ENOENT)
	})
	t.Run("FD-01/control: own filter without fs_denied", func(t *testing.T) {
		control(t, "FD-01")
		q := p
		q.FsDenied = nil
		r := inSandbox(t, q, sandbox.Options{}, "ownfilter", "allow", denied)
		wantCode(t, r, 0)
		if !strings.Contains(r.stdout, sec) {
			t.Errorf("%v; want the file read", r)
		}
	})
}

// TestFD03InjectedRights: descriptors the supervisor opens and injects
// (fs_denied active) carry exactly the access mode and flags asked for,
// as the kernel's own do (the control).
func TestFD03InjectedRights(t *testing.T) {
	p, w := basePolicy(t)
	f := writeFile(t, filepath.Join(w, "f"), "content")
	want := map[string]string{
		"rdonly_write": "EBADF", "wronly_read": "EBADF", "path_read": "EBADF",
		"rdonly_cloexec": "1", "wronly_cloexec": "0", "wronly_append": "1",
		"wronly_accmode": "1", "rdonly_accmode": "0", "path_flag": "1",
	}
	check := func(t *testing.T, r result) {
		t.Helper()
		wantCode(t, r, 0)
		got := r.kv()
		for k, v := range want {
			if strings.HasPrefix(k, "path_") && got["path_open"] != "ok" {
				continue
			}
			if got[k] != v {
				t.Errorf("%v; %s=%s, want %s", r, k, got[k], v)
			}
		}
	}
	t.Run("FD-03/attack: rights of injected descriptors", func(t *testing.T) {
		attack(t, "FD-03")
		r := inSandbox(t, fsDenyActive(t, p), sandbox.Options{}, "fdrights", f)
		check(t, r)
		// An O_PATH request must never yield a readable descriptor; failing
		// is safe. (Today it fails with EBADF: SECCOMP_IOCTL_NOTIF_ADDFD
		// does not accept O_PATH files, so open(O_PATH) is broken, not
		// unsafe, under fs_denied.)
		wantKey(t, r, "path_open", "ok", "EBADF")
		if r.kv()["path_open"] != "ok" {
			t.Logf("note: open(O_PATH) under on-behalf opens fails with %s (functional limitation, fail-closed)", r.kv()["path_open"])
		}
	})
	t.Run("FD-03/control: rights of the kernel's descriptors", func(t *testing.T) {
		control(t, "FD-03")
		r := inSandbox(t, p, sandbox.Options{}, "fdrights", f)
		check(t, r)
		wantKey(t, r, "path_open", "ok")
	})
}

// TestFD04FailClosed: with the descriptor table full, the on-behalf open
// cannot inject its fd: the call must fail (EMFILE) and never be continued
// against the path, so a denied file stays unreadable, and the sandbox
// keeps working once there is room again.
func TestFD04FailClosed(t *testing.T) {
	p, w := basePolicy(t)
	sec := secret("fd04")
	denied := writeFile(t, filepath.Join(w, "denied"), sec)
	ok := writeFile(t, filepath.Join(w, "ok"), "ok")
	p.FsDenied = []string{denied}
	t.Run("FD-04/attack: full descriptor table under on-behalf opens", func(t *testing.T) {
		attack(t, "FD-04")
		r := inSandbox(t, p, sandbox.Options{}, "emfile", denied, ok)
		wantKey(t, r, "full", "EMFILE", "EACCES")
		wantKey(t, r, "after", "ok")
		noLeak(t, r, sec)
		r = inSandbox(t, p, sandbox.Options{}, "emfile", ok, ok)
		wantKey(t, r, "full", "EMFILE")
		wantKey(t, r, "after", "ok")
	})
	t.Run("FD-04/control: the kernel's own answer", func(t *testing.T) {
		control(t, "FD-04")
		q := p
		q.FsDenied = nil
		r := inSandbox(t, q, sandbox.Options{}, "emfile", ok, ok)
		wantKey(t, r, "full", "EMFILE")
		wantKey(t, r, "after", "ok")
	})
}
