package security

// Namespaces and privilege (attacks.md 1.6). unshare(CLONE_NEWUSER),
// clone(CLONE_NEWUSER) and clone3(CLONE_NEWUSER) are core/sandbox
// TestNamespaceCreation; the deny-list rows (mount API, setns, pivot_root,
// chroot, ptrace family, PRIV-06) are TestDenyTable.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/sandbox"
)

var nsNames = []string{"user", "mnt", "net", "ipc", "uts", "pid_for_children", "cgroup", "time_for_children"}

// hostNS returns this process's namespace links.
func hostNS(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, n := range nsNames {
		l, err := os.Readlink("/proc/self/ns/" + n)
		if err != nil {
			t.Fatal(err)
		}
		m[n] = l
	}
	return m
}

// TestPRIV01Namespaces: every namespace kind through unshare (with
// CLONE_NEWUSER so that the control works unprivileged, and alone) and
// through clone with high bits; the canary is the namespaces the probe is
// in afterwards.
func TestPRIV01Namespaces(t *testing.T) {
	const newuser = 0x10000000
	kinds := map[string]uint64{"mnt": 0x20000, "net": 0x40000000, "ipc": 0x8000000, "uts": 0x4000000,
		"pid": 0x20000000, "cgroup": 0x2000000, "time": 0x80}
	ns := hostNS(t)
	p, _ := basePolicy(t)
	p = withProc(p)
	t.Run("PRIV-01/attack: unshare and clone into new namespaces", func(t *testing.T) {
		attack(t, "PRIV-01")
		for k, f := range kinds {
			for _, flags := range []uint64{f, f | newuser, f | newuser | hi} {
				r := inSandbox(t, p, sandbox.Options{}, "unshare", fmt.Sprintf("%#x", flags))
				wantCode(t, r, unix.EPERM)
				got := r.kv()
				for _, n := range nsNames {
					if got["ns_"+n] != ns[n] {
						t.Errorf("unshare %s (%#x): %v; namespace %s = %s, want the host's %s", k, flags, r, n, got["ns_"+n], ns[n])
					}
				}
			}
			if k != "time" {
				wantCode(t, inSandbox(t, p, sandbox.Options{}, "clone", fmt.Sprintf("%#x", f|newuser|hi)), unix.EPERM)
			}
		}
	})
	t.Run("PRIV-01/control: the same on the host", func(t *testing.T) {
		control(t, "PRIV-01")
		for k, f := range kinds {
			// unshare's flags are a full unsigned long (high bits are
			// EINVAL); clone's are truncated to 32 bits.
			r := onHost(t, hostOpts{}, "unshare", fmt.Sprintf("%#x", f|newuser))
			wantCode(t, r, 0)
			if r.kv()["ns_user"] == ns["user"] {
				t.Errorf("unshare %s: %v; the user namespace did not change", k, r)
			}
			if k != "time" { // 0x80 is part of clone's exit-signal byte
				wantCode(t, onHost(t, hostOpts{}, "clone", fmt.Sprintf("%#x", f|newuser|hi)), 0)
			}
		}
	})
}

// TestPRIV02NoNewPrivs: NO_NEW_PRIVS cannot be cleared and a setuid
// program gains nothing: as root, a setuid-nobody copy of the probe keeps
// euid 0; unprivileged, the setuid-root passwd cannot read /etc/shadow
// (passwd -S fails). What a root caller keeps is logged (PRIV-02 asks for
// it to be documented; dropping it is pending).
func TestPRIV02NoNewPrivs(t *testing.T) {
	p, _ := basePolicy(t)
	p = withProc(p)
	dir := tempDir(t)
	setuid := ""
	if isRoot {
		setuid = copyFile(t, attacker.Bin, filepath.Join(dir, "setuid-probe"), 0o755)
		if err := os.Chown(setuid, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(setuid, 0o4755|os.ModeSetuid); err != nil {
			t.Fatal(err)
		}
		p.FsReadable = append(p.FsReadable, dir)
	}
	passwd := "/usr/bin/passwd"
	user := ""
	if u, err := userName(); err == nil {
		user = u
	}
	t.Run("PRIV-02/attack: clear NO_NEW_PRIVS, run a setuid program", func(t *testing.T) {
		attack(t, "PRIV-02")
		r := inSandbox(t, p, sandbox.Options{}, "nnp")
		wantKey(t, r, "clear", "EINVAL")
		wantKey(t, r, "nnp", "1")
		if isRoot {
			t.Logf("a root caller keeps CapEff=%s CapBnd=%s in the sandbox", r.kv()["capeff"], r.kv()["capbnd"])
			res := runIn(t, p, []string{setuid, "ids"}, sandbox.Options{})
			if !strings.Contains(string(res.Stdout), "euid=0 ") {
				t.Errorf("setuid-nobody probe in the sandbox: %q; want euid 0 (no transition)", res.Stdout)
			}
			return
		}
		res := runIn(t, p, []string{passwd, "-S"}, sandbox.Options{})
		// With the setuid bit passwd reads /etc/shadow and prints the
		// password-aging fields; without it, only what /etc/passwd says.
		if shadowRead(string(res.Stdout)) {
			t.Errorf("passwd -S in the sandbox = exit %d, stdout %q: it read /etc/shadow, the setuid bit took effect", res.ExitCode, res.Stdout)
		}
	})
	t.Run("PRIV-02/control: the same on the host", func(t *testing.T) {
		control(t, "PRIV-02")
		r := onHost(t, hostOpts{}, "nnp")
		wantKey(t, r, "nnp", "0")
		if isRoot {
			out, err := exec.Command(setuid, "ids").Output()
			if err != nil || !strings.Contains(string(out), "euid=65534") {
				t.Errorf("setuid-nobody probe on the host: %q, %v; want euid 65534", out, err)
			}
			return
		}
		out, err := exec.Command(passwd, "-S").Output()
		if err != nil || !shadowRead(string(out)) || (user != "" && !strings.HasPrefix(string(out), user+" ")) {
			t.Errorf("passwd -S on the host = %q, %v; want the full status line of %s (read from /etc/shadow)", out, err, user)
		}
	})
}

// shadowRead reports whether a passwd -S line carries the aging fields
// that only /etc/shadow holds.
func shadowRead(out string) bool { return len(strings.Fields(out)) >= 7 }

func userName() (string, error) {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return "", err
	}
	uid := strconv.Itoa(os.Getuid())
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[2] == uid {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("uid %s not in /etc/passwd", uid)
}

// TestPRIV03Undumpable: prctl(PR_SET_DUMPABLE, 0) is refused; an
// execute-only binary (the kernel marks it undumpable when its user cannot
// read it) still cannot get a denied file: mediated calls fail closed when
// the supervisor cannot read the caller's memory.
func TestPRIV03Undumpable(t *testing.T) {
	p, w := basePolicy(t)
	sec := secret("priv03")
	denied := writeFile(t, filepath.Join(w, "denied"), sec)
	ok := writeFile(t, filepath.Join(w, "ok"), "ok-content")
	xdir := tempDir(t)
	xonly := copyFile(t, attacker.Bin, filepath.Join(xdir, "xonly"), 0o111)
	p.FsReadable = append(p.FsReadable, xdir)
	t.Run("PRIV-03/attack: become undumpable", func(t *testing.T) {
		attack(t, "PRIV-03")
		r := inSandbox(t, p, sandbox.Options{}, "dumpable")
		wantKey(t, r, "set", "EPERM")
		wantKey(t, r, "get", "1")
		q := p
		q.FsDenied = []string{denied}
		res := runIn(t, q, []string{xonly, "read", denied}, sandbox.Options{})
		if res.Success() || strings.Contains(string(res.Stdout), sec) {
			t.Errorf("execute-only probe read the denied file: exit %d stdout %q", res.ExitCode, res.Stdout)
		}
		if c := unix.Errno(res.ExitCode); c != unix.EACCES && c != unix.EFAULT && c != unix.ESRCH && c != unix.EPERM {
			t.Errorf("execute-only probe: exit %d (%s), want EACCES, EFAULT, ESRCH or EPERM; stderr %q", res.ExitCode, errnoName(res.ExitCode), res.Stderr)
		}
	})
	t.Run("PRIV-03/control: on the host", func(t *testing.T) {
		control(t, "PRIV-03")
		r := onHost(t, hostOpts{}, "dumpable")
		wantKey(t, r, "set", "ok")
		wantKey(t, r, "get", "0")
		// The execute-only binary works and reads when nothing mediates
		// its calls. (In a sandbox an unprivileged supervisor cannot read
		// such a process's memory, so every mediated call fails closed.)
		out, err := exec.Command(xonly, "read", ok).Output()
		if err != nil || string(out) != "ok-content" {
			t.Errorf("execute-only probe on the host: %q, %v", out, err)
		}
	})
}

// tuneState is what PRIV-04 can change on a victim.
type tuneState struct {
	limits, nice, policy, cpus string
	ioprio                     int
}

func tuneOf(t *testing.T, pid int) tuneState {
	t.Helper()
	var s tuneState
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			s.limits = strings.Join(strings.Fields(line), " ")
		}
	}
	s.nice = statField(t, pid, 19)
	s.policy = statField(t, pid, 41)
	s.cpus = statusField(t, pid, "Cpus_allowed_list")
	io, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, 1 /* IOPRIO_WHO_PROCESS */, uintptr(pid), 0)
	if e != 0 {
		t.Fatal(e)
	}
	s.ioprio = int(io)
	return s
}

// TestPRIV04HostTuning: the sandbox tunes a host process by pid (a sleep
// the test started): rlimits, nice, scheduler, affinity, I/O priority, and
// the user-wide forms. Landlock does not hook these.
func TestPRIV04HostTuning(t *testing.T) {
	modes := []string{"prlimit", "prlimit-hi", "setprio", "setprio-pgrp", "affinity", "sched", "sched-attr", "sched-param", "ioprio", "ioprio-pgrp"}
	const unusedUID = "4242424"
	t.Run("PRIV-04/attack: tune a host process", func(t *testing.T) {
		attack(t, "PRIV-04")
		p, _ := basePolicy(t)
		v := newVictim(t)
		before := tuneOf(t, v.pid)
		for _, m := range modes {
			wantCode(t, inSandbox(t, p, sandbox.Options{}, "tune", m, v.pidString()), unix.ESRCH, unix.EPERM)
		}
		for _, m := range []string{"setprio-user", "ioprio-user"} {
			wantCode(t, inSandbox(t, p, sandbox.Options{}, "tune", m, unusedUID), unix.EPERM)
		}
		if after := tuneOf(t, v.pid); after != before {
			t.Errorf("victim tuned from outside: before %+v, after %+v", before, after)
		}
		v.alive(t)
	})
	t.Run("PRIV-04/control: tune it from the host", func(t *testing.T) {
		control(t, "PRIV-04")
		for _, m := range modes {
			v := newVictim(t)
			before := tuneOf(t, v.pid)
			wantCode(t, onHost(t, hostOpts{}, "tune", m, v.pidString()), 0)
			if after := tuneOf(t, v.pid); after == before && m != "sched-param" && (m != "affinity" || strings.Contains(before.cpus, "-") || strings.Contains(before.cpus, ",")) {
				t.Errorf("%s: the victim did not change (%+v)", m, after)
			}
		}
		for _, m := range []string{"setprio-user", "ioprio-user"} {
			if r := onHost(t, hostOpts{}, "tune", m, unusedUID); r.code == int(unix.EPERM) {
				t.Errorf("%v; the host kernel's answer must differ from the filter's", r)
			}
		}
	})
}

// canary is a victim process of the ptrace family: the probe's "canary"
// operation holding a secret in memory and in a memfd.
type canary struct {
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	pid        int
	addr, fd   string
	len        string
	secret     string
	stdout     *bufio.Reader
	terminated bool
}

func newCanary(t *testing.T) *canary {
	t.Helper()
	c := &canary{secret: secret("priv05")}
	c.cmd = exec.Command(attacker.Bin, "canary", c.secret)
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.pid = c.cmd.Process.Pid
	t.Cleanup(func() { c.stop(t) })
	c.stdout = bufio.NewReader(out)
	line, err := c.stdout.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "addr":
			c.addr = v
		case "fd":
			c.fd = v
		case "len":
			c.len = v
		}
	}
	return c
}

// stop ends the canary and returns the secret it holds at that time.
func (c *canary) stop(t *testing.T) string {
	if c.terminated {
		return ""
	}
	c.terminated = true
	c.stdin.Close()
	done := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(c.stdout)
		done <- string(b)
	}()
	var out string
	select {
	case out = <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		out = <-done
	}
	_ = c.cmd.Wait()
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "secret="))
}

// TestPRIV05Ptrace: the ptrace family against a host process of the same
// user that even invites ptrace (PR_SET_PTRACER_ANY): attach, seize,
// TRACEME, process_vm_readv/writev, pidfd_getfd and kcmp.
func TestPRIV05Ptrace(t *testing.T) {
	t.Run("PRIV-05/attack: ptrace family against a host process", func(t *testing.T) {
		attack(t, "PRIV-05")
		p, _ := basePolicy(t)
		c := newCanary(t)
		pid := strconv.Itoa(c.pid)
		for _, op := range [][]string{
			{"ptrace", "attach", pid}, {"ptrace", "seize", pid}, {"ptrace", "traceme", "0"},
			{"vm", "read", pid, c.addr, c.len}, {"vm", "write", pid, c.addr, c.len},
			{"getfd", pid, c.fd}, {"kcmp", pid},
		} {
			r := inSandbox(t, p, sandbox.Options{}, op...)
			wantCode(t, r, unix.EPERM)
			noLeak(t, r, c.secret)
		}
		if tp := statusField(t, c.pid, "TracerPid"); tp != "0" {
			t.Errorf("canary TracerPid = %s, want 0", tp)
		}
		if got := c.stop(t); got != c.secret {
			t.Errorf("canary secret after the attack = %q, want %q", got, c.secret)
		}
	})
	t.Run("PRIV-05/control: the same from the host", func(t *testing.T) {
		control(t, "PRIV-05")
		c := newCanary(t)
		pid := strconv.Itoa(c.pid)
		for _, op := range [][]string{{"ptrace", "attach", pid}, {"ptrace", "seize", pid}, {"ptrace", "traceme", "0"}, {"kcmp", pid}} {
			wantCode(t, onHost(t, hostOpts{}, op...), 0)
		}
		for _, op := range [][]string{{"vm", "read", pid, c.addr, c.len}, {"getfd", pid, c.fd}} {
			r := onHost(t, hostOpts{}, op...)
			wantCode(t, r, 0)
			if !strings.Contains(r.stdout, c.secret) {
				t.Errorf("%v; want the canary's secret", r)
			}
		}
		wantCode(t, onHost(t, hostOpts{}, "vm", "write", pid, c.addr, c.len), 0)
		if got := c.stop(t); got == c.secret {
			t.Error("process_vm_writev from the host did not change the canary's memory")
		}
	})
}
