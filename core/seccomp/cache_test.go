package seccomp

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// constAllow follows the kernel's seccomp_is_const_allow (kernel/seccomp.c,
// Linux 5.11): when a filter is installed, the kernel runs it for every
// syscall number with only nr and arch known, to find the numbers it may
// allow without running the filter again. Loading anything else, or an
// instruction outside the few it emulates, gives up (not cacheable). It
// returns whether the number is cached as allowed and how many instructions
// the emulation executed.
func constAllow(p []unix.SockFilter, arch, nr uint32) (allow bool, steps int) {
	var acc uint32
	for pc := 0; pc < len(p); pc++ {
		steps++
		in := p[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case offNr:
				acc = nr
			case offArch:
				acc = arch
			default:
				return false, steps
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K == retAllow, steps
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var res bool
			switch in.Code &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				res = acc == in.K
			case unix.BPF_JGE:
				res = acc >= in.K
			case unix.BPF_JGT:
				res = acc > in.K
			case unix.BPF_JSET:
				res = acc&in.K != 0
			}
			if res {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			acc &= in.K
		default:
			return false, steps
		}
	}
	return false, steps // ran off the end
}

// argFiltered are the syscalls whose decision depends on their arguments
// (attacks.md 3.4), from the reference.
var argFiltered = []string{
	"clone", "ioctl", "prctl", "seccomp", "socket", "socketpair", "setsockopt", "sendto", "sendmsg", "sendmmsg",
	"prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr",
	"setpriority", "getpriority", "ioprio_set", "personality",
}

// TestActionCache checks that the kernel can cache every plainly allowed
// syscall (the dispatch reads only nr and arch) and nothing else, and that
// its emulation at install time walks a short path for every number: the
// dispatch is a binary search, not a chain.
func TestActionCache(t *testing.T) {
	every := archAMD64.names()
	tests := []struct {
		name     string
		cfg      Config
		arch     *archSpec
		maxSteps int
	}{
		{"default x86_64", Config{}, archAMD64, 16},
		{"default aarch64", Config{}, archARM64, 16},
		{"sandbox", installConfigs["sandbox"], archAMD64, 16},
		{"allowlist", installConfigs["allowlist"], archAMD64, 16},
		{"every switch", Config{NotifyForks: true, NotifyPidTargets: true, NoUDP: true, NoRaw: true, CapturedTTY: true, VirtualNet: true}, archAMD64, 16},
		{"allow every syscall", Config{Allow: every, Deny: []string{}}, archAMD64, 16},
		{"notify every other syscall", Config{Notify: everyOther(every), Deny: []string{}}, archAMD64, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := build(tt.cfg, tt.arch)
			if err != nil {
				t.Fatalf("build = %v", err)
			}
			total, worst := 0, 0
			n := len(tt.arch.tables().byNr) + 16 // the kernel stops at NR_syscalls
			for nr := range n {
				allow, steps := constAllow(p.Instructions, tt.arch.audit, uint32(nr))
				total += steps
				worst = max(worst, steps)
				name := tt.arch.nameOf(nr)
				want := !slices.Contains(argFiltered, name) &&
					reference(tt.cfg, tt.arch, Data{Nr: int32(nr), Arch: tt.arch.audit}) == ActionAllow
				if allow != want {
					t.Errorf("nr %d (%s) cached as allowed = %v, want %v", nr, name, allow, want)
				}
			}
			t.Logf("%d instructions; cache emulation: %d steps for %d numbers, longest %d", len(p.Instructions), total, n, worst)
			if worst > tt.maxSteps {
				t.Errorf("longest emulated path = %d instructions, want at most %d", worst, tt.maxSteps)
			}
		})
	}
}

// everyOther returns every second name of names: the worst case for the
// dispatch, every number its own interval.
func everyOther(names []string) []string {
	var out []string
	for i, n := range names {
		if i%2 == 0 {
			out = append(out, n)
		}
	}
	return out
}
