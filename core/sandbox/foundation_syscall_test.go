package sandbox_test

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// TestDeniedSyscall probes the default deny list with mount(2) called with
// a bad type pointer: unfiltered, the kernel fails it with EFAULT before
// any permission check (for root and unprivileged callers alike) and
// changes nothing; filtered, it fails with EPERM. The control is the same
// probe with an empty deny list, in the sandbox and on the host.
func TestDeniedSyscall(t *testing.T) {
	tests := []struct {
		name string
		deny []string // nil keeps the default list
		want int
	}{
		{name: "default deny list", deny: nil, want: int(syscall.EPERM)},
		{name: "explicit deny list", deny: []string{"mount"}, want: int(syscall.EPERM)},
		{name: "control: nothing denied", deny: []string{}, want: int(syscall.EFAULT)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := basePolicy(t)
			p.DenySyscalls = tc.deny
			argv := probe(t, "mount")
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, tc.want)
		})
	}
	t.Run("control: host", func(t *testing.T) {
		argv := probe(t, "mount")
		if code, _, stderr := hostRun(t, argv...); code != int(syscall.EFAULT) {
			t.Errorf("host %q exit = %d (%s), want %d (EFAULT); stderr %q", argv, code, errnoName(code), syscall.EFAULT, stderr)
		}
	})
}

// TestNamespaceCreation checks that the sandbox cannot create namespaces:
// unshare(CLONE_NEWUSER) and clone(CLONE_NEWUSER) fail with EPERM (also
// with unrelated high bits in the clone flags, which the kernel ignores),
// clone3 fails with ENOSYS. The controls run the same probe on the host,
// where each succeeds, and unshare in a sandbox with nothing denied.
func TestNamespaceCreation(t *testing.T) {
	tests := []struct {
		name   string
		op     string
		policy func(p *policy.Policy)
		want   int
	}{
		{name: "unshare CLONE_NEWUSER", op: "unshare-user", want: int(syscall.EPERM)},
		{name: "unshare CLONE_NEWUSER/control: nothing denied", op: "unshare-user",
			policy: func(p *policy.Policy) { p.DenySyscalls = []string{} }},
		{name: "clone CLONE_NEWUSER", op: "clone-user", want: int(syscall.EPERM)},
		// The flag check is an argument filter, not part of the deny
		// list: an empty deny list keeps it.
		{name: "clone CLONE_NEWUSER with nothing denied", op: "clone-user", want: int(syscall.EPERM),
			policy: func(p *policy.Policy) { p.DenySyscalls = []string{} }},
		{name: "clone CLONE_NEWUSER with high bits", op: "clone-user-hibits", want: int(syscall.EPERM)},
		{name: "clone3 CLONE_NEWUSER", op: "clone3-user", want: int(syscall.ENOSYS)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := basePolicy(t)
			if tc.policy != nil {
				tc.policy(&p)
			}
			argv := probe(t, tc.op)
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, tc.want)
		})
	}
	for _, op := range []string{"unshare-user", "clone-user", "clone-user-hibits", "clone3-user"} {
		t.Run("control: host "+op, func(t *testing.T) {
			argv := probe(t, op)
			if code, _, stderr := hostRun(t, argv...); code != 0 {
				t.Errorf("host %q exit = %d (%s), want 0; stderr %q", argv, code, errnoName(code), stderr)
			}
		})
	}
}

// TestTIOCSTI checks that a sandboxed process cannot push input into a
// terminal with TIOCSTI, even with high bits set in the request (the
// kernel uses only the low 32 bits, CVE-2019-10063). The probe makes a pty
// it opened its controlling terminal (so the ioctl would pass the kernel's
// own check) and reports success only when the injected byte arrives. The
// control runs the same probe on the host. The pty grants are writable so
// that Landlock's device-ioctl right does not mask the filter.
func TestTIOCSTI(t *testing.T) {
	devs := existing("/dev/ptmx", "/dev/pts")
	if len(devs) != 2 {
		t.Fatalf("need /dev/ptmx and /dev/pts, found %q", devs)
	}
	for _, op := range []string{"tiocsti", "tiocsti-hibits"} {
		t.Run(op, func(t *testing.T) {
			p, _ := basePolicy(t)
			p.FsWritable = append(p.FsWritable, devs...)
			argv := probe(t, op)
			// Output not captured, so that the probe may take the pty as
			// its controlling terminal with TIOCSCTTY (opens are done by
			// the supervisor, which never acquires a terminal).
			var stdout, stderr bytes.Buffer
			res := run(t, p, argv, sandbox.Options{Stdout: sandbox.Writer(&stdout), Stderr: sandbox.Writer(&stderr)})
			res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
			wantExit(t, argv, res, int(syscall.EPERM))
		})
		t.Run(op+"/control: host", func(t *testing.T) {
			argv := probe(t, op)
			if code, _, stderr := hostRun(t, argv...); code != 0 {
				t.Errorf("host %q exit = %d (%s), want 0; stderr %q", argv, code, errnoName(code), stderr)
			}
		})
	}
}
