package sandbox_test

// allow_syscalls and deny_syscalls against the calls the features route to
// the supervisor (file mediation, network mediation, the listen autobind
// check, num_cpus, max_memory, max_processes): a call the lists refuse must
// fail exactly as a call nobody mediates does, not be performed on the
// child's behalf. Each attack has a control in which the list admits the
// call and it succeeds.

import (
	_ "embed"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/core/seccomp"
	"github.com/sandlock/sandlock/internal/testprobe"
)

//go:embed testdata/listsprobe.c
var listsProbeSource []byte

var listsProbeBuild = &testprobe.Probe{Name: "listsprobe", Source: listsProbeSource, What: "the syscall-list probe"}

func listsProbe(t *testing.T, args ...string) []string {
	t.Helper()
	return listsProbeBuild.ArgvIn(t, mainProbe.Dir, args...)
}

// everySyscallBut is an allowlist of every syscall of the running
// architecture except names, so that the probe runs as usual and only the
// call under test is left out.
func everySyscallBut(names ...string) []string {
	var out []string
	for nr := 0; nr < 1024; nr++ {
		if n := seccomp.Name(nr); n != "" && !slices.Contains(names, n) {
			out = append(out, n)
		}
	}
	return out
}

// listCase is one mediated call: setup makes a feature route it to the
// supervisor and returns the probe's arguments; the control prints
// wantOut.
type listCase struct {
	name    string // the syscall under test
	setup   func(t *testing.T, p *policy.Policy) []string
	wantOut string // the control's stdout, "" to ignore
}

func listCases() []listCase {
	cases := []listCase{
		{name: "openat", setup: func(t *testing.T, p *policy.Policy) []string {
			// File mediation is on in every sandbox.
			return []string{"open", listsProbeBuild.Bin}
		}},
		{name: "connect", setup: func(t *testing.T, p *policy.Policy) []string {
			// net_allow_hosts makes every connect go through the
			// supervisor, which performs it on the child's behalf.
			ln := newTCPCanary(t, "127.0.0.1:0")
			p.NetAllowHosts = []string{"127.0.0.1"}
			p.NetConnect = ports(t, ln.port)
			return []string{"connect", ln.port}
		}},
		{name: "listen", setup: func(t *testing.T, p *policy.Policy) []string {
			// Port 0 is bindable, so the control's autobind succeeds;
			// the mediated variant is TestSyscallListsListenMediated.
			p.NetBind = []uint16{0}
			return []string{"listen"}
		}},
		{name: "sched_getaffinity", wantOut: "1\n", setup: func(t *testing.T, p *policy.Policy) []string {
			p.NumCPUs = 1 // answered by the supervisor
			return []string{"affinity"}
		}},
		{name: "mremap", setup: func(t *testing.T, p *policy.Policy) []string {
			p.MaxMemory = 64 << 20 // accounted by the supervisor
			return []string{"mremap"}
		}},
	}
	if _, ok := seccomp.Lookup("fork"); ok {
		cases = append(cases, listCase{name: "fork", setup: func(t *testing.T, p *policy.Policy) []string {
			p.MaxProcesses = 8 // counted by the supervisor
			return []string{"fork"}
		}})
	}
	return cases
}

// listsRun runs the probe under c's policy with allow or deny applied and
// returns the result.
func listsRun(t *testing.T, c listCase, lists func(p *policy.Policy)) (*sandbox.Result, []string) {
	t.Helper()
	p, _ := basePolicy(t)
	// The probe is built on first use; ArgvIn fails the test otherwise.
	_ = listsProbe(t)
	p.FsReadable = append(p.FsReadable, listsProbeBuild.Dir)
	argv := listsProbe(t, c.setup(t, &p)...)
	lists(&p)
	return run(t, p, argv, sandbox.Options{}), argv
}

// refusal is how the lists refuse a call nobody mediates (sysinfo): the
// errno every refused mediated call must match.
func refusal(t *testing.T, lists func(p *policy.Policy)) int {
	t.Helper()
	p, _ := basePolicy(t)
	_ = listsProbe(t)
	p.FsReadable = append(p.FsReadable, listsProbeBuild.Dir)
	lists(&p)
	argv := listsProbe(t, "sysinfo")
	res := run(t, p, argv, sandbox.Options{})
	wantExit(t, argv, res, int(unix.EPERM))
	return res.ExitCode
}

// TestSyscallListsAllowlist: a mediated call left out of allow_syscalls
// fails with the allowlist's EPERM, like sysinfo; listed, it succeeds.
func TestSyscallListsAllowlist(t *testing.T) {
	want := refusal(t, func(p *policy.Policy) { p.AllowSyscalls = everySyscallBut("sysinfo") })
	for _, c := range listCases() {
		t.Run(c.name, func(t *testing.T) {
			res, argv := listsRun(t, c, func(p *policy.Policy) { p.AllowSyscalls = everySyscallBut(c.name) })
			wantExit(t, argv, res, want)
			if len(res.Stdout) != 0 {
				t.Errorf("Run(%q) outside the allowlist printed %q: the supervisor answered", argv, res.Stdout)
			}
			t.Run("control: allowed", func(t *testing.T) {
				res, argv := listsRun(t, c, func(p *policy.Policy) { p.AllowSyscalls = everySyscallBut() })
				wantExit(t, argv, res, 0)
				if c.wantOut != "" && string(res.Stdout) != c.wantOut {
					t.Errorf("Run(%q) = %q, want %q (the supervisor's answer)", argv, res.Stdout, c.wantOut)
				}
			})
		})
	}
}

// TestSyscallListsDenylist: a mediated call in deny_syscalls fails with
// EPERM, like sysinfo, and is never performed on the child's behalf; with
// the default deny list it succeeds.
func TestSyscallListsDenylist(t *testing.T) {
	want := refusal(t, func(p *policy.Policy) { p.DenySyscalls = append(seccomp.DefaultDeny(), "sysinfo") })
	for _, c := range listCases() {
		t.Run(c.name, func(t *testing.T) {
			res, argv := listsRun(t, c, func(p *policy.Policy) { p.DenySyscalls = append(seccomp.DefaultDeny(), c.name) })
			wantExit(t, argv, res, want)
			t.Run("control: default deny list", func(t *testing.T) {
				res, argv := listsRun(t, c, func(p *policy.Policy) { p.DenySyscalls = nil })
				wantExit(t, argv, res, 0)
				if c.wantOut != "" && string(res.Stdout) != c.wantOut {
					t.Errorf("Run(%q) = %q, want %q (the supervisor's answer)", argv, res.Stdout, c.wantOut)
				}
			})
		})
	}
}

// TestSyscallListsListenMediated: without port 0 in net_bind, listen on
// an unbound socket is mediated (the supervisor refuses the autobind with
// EACCES); left out of the allowlist it gets the allowlist's EPERM
// instead, before the supervisor sees it.
func TestSyscallListsListenMediated(t *testing.T) {
	c := listCase{name: "listen", setup: func(t *testing.T, p *policy.Policy) []string { return []string{"listen"} }}
	res, argv := listsRun(t, c, func(p *policy.Policy) { p.AllowSyscalls = everySyscallBut("listen") })
	wantExit(t, argv, res, int(unix.EPERM))
	t.Run("control: allowed, mediated", func(t *testing.T) {
		res, argv := listsRun(t, c, func(p *policy.Policy) { p.AllowSyscalls = everySyscallBut() })
		wantExit(t, argv, res, int(unix.EACCES))
	})
}
