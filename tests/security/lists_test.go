package security

// The syscall lists (allow_syscalls, deny_syscalls) against the calls the
// features route to the supervisor. A mediated call is performed, or
// answered, by the supervisor; if being mediated let a call past the
// lists, allow_syscalls would not be an allowlist and deny_syscalls not a
// deny list (README requirement 6). Filed under PRIV-06, the syscall-list
// surface of attacks.md.

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/core/seccomp"
)

// mediatedCall is one call a feature routes to the supervisor in
// mediatingPolicy, and how the probe makes it.
type mediatedCall struct {
	name string // the syscall
	args []string
	// key is the probe's key=errno line for the call, "" when the exit
	// status is the call's errno.
	key string
	// allowed is the result when the lists admit the call: the
	// supervisor's (or the kernel's) answer.
	allowed string
}

// mediatingPolicy turns on every mediation with a call the probe can make:
// file opens (always), connect (net_allow_hosts), listen's autobind
// (net_bind without port 0), sched_getaffinity (num_cpus), mremap
// (max_memory). It returns the policy and the calls.
func mediatingPolicy(t *testing.T) (policy.Policy, []mediatedCall, *tcpCanary) {
	t.Helper()
	p, w := basePolicy(t)
	canary := newTCPCanary(t, "tcp4", "127.0.0.1:0")
	p.NetAllowHosts = []string{"127.0.0.1"}
	p.NetConnect = []uint16{uint16(canary.port)}
	p.NumCPUs = 1
	p.MaxMemory = 64 << 20
	file := writeFile(t, filepath.Join(w, "f"), "content")
	nr := func(name string) string {
		n, ok := seccomp.Lookup(name)
		if !ok {
			t.Fatalf("no syscall %s here", name)
		}
		return strconv.Itoa(n)
	}
	calls := []mediatedCall{
		{name: "openat", args: []string{"read", file}, allowed: "ok"},
		{name: "connect", args: []string{"connect", "127.0.0.1", canary.portString()}, allowed: "ok"},
		// The supervisor refuses an autobind outside net_bind.
		{name: "listen", args: []string{"listen", "nobind", "0", filepath.Join(w, "ready")}, key: "listen", allowed: "EACCES"},
		// Null arguments: the supervisor's and the kernel's EINVAL/EFAULT
		// tell "answered" from the lists' EPERM without side effects.
		{name: "sched_getaffinity", args: []string{"sys", nr("sched_getaffinity")}, allowed: "EINVAL"},
		{name: "mremap", args: []string{"sys", nr("mremap")}, allowed: "EINVAL"},
	}
	return p, calls, canary
}

// everySyscallBut is an allowlist of every syscall of this architecture
// except leave, so that the probe runs as usual.
func everySyscallBut(leave string) []string {
	var out []string
	for nr := 0; nr < 1024; nr++ {
		if n := seccomp.Name(nr); n != "" && n != leave {
			out = append(out, n)
		}
	}
	return out
}

// outcome is the call's result: its key's errno name, or the exit status's.
func (c mediatedCall) outcome(r result) string {
	if c.key != "" {
		if v, ok := r.kv()[c.key]; ok {
			return v
		}
		return "no " + c.key + "= line"
	}
	return errnoName(r.code)
}

func TestPRIV06ListsOverMediation(t *testing.T) {
	p, calls, canary := mediatingPolicy(t)
	lists := []struct {
		name string
		set  func(p *policy.Policy, call string)
	}{
		{"allow_syscalls without the call", func(p *policy.Policy, call string) { p.AllowSyscalls = everySyscallBut(call) }},
		{"deny_syscalls with the call", func(p *policy.Policy, call string) { p.DenySyscalls = append(seccomp.DefaultDeny(), call) }},
	}
	for _, l := range lists {
		t.Run("PRIV-06/attack: mediated calls refused by "+l.name, func(t *testing.T) {
			attack(t, "PRIV-06")
			for _, c := range calls {
				q := p
				l.set(&q, c.name)
				base := canary.accepted.Load()
				r := inSandbox(t, q, sandbox.Options{}, c.args...)
				if got := c.outcome(r); got != "EPERM" {
					t.Errorf("%s: %v; want EPERM, the lists' refusal (the supervisor answers %s)", c.name, r, c.allowed)
				}
				if c.name == "connect" {
					canary.expect(t, base, 0, "connect refused by the lists")
				}
			}
		})
	}
	t.Run("PRIV-06/control: the same calls admitted by the lists reach the supervisor", func(t *testing.T) {
		control(t, "PRIV-06")
		for _, set := range []func(q *policy.Policy){
			func(q *policy.Policy) { q.AllowSyscalls = everySyscallBut("") },
			func(q *policy.Policy) { q.DenySyscalls = nil },
		} {
			for _, c := range calls {
				q := p
				set(&q)
				base := canary.accepted.Load()
				r := inSandbox(t, q, sandbox.Options{}, c.args...)
				if got := c.outcome(r); got != c.allowed {
					t.Errorf("%s: %v; want %s", c.name, r, c.allowed)
				}
				if c.name == "connect" {
					canary.expect(t, base, 1, "connect admitted by the lists")
				}
			}
		}
	})
}
