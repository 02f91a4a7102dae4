package seccomp

import (
	"fmt"
	"slices"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// fuzzPools holds, per architecture, the names a fuzzed Config draws from
// and the syscall numbers fuzzed seccomp_data is steered towards.
type fuzzPool struct {
	names []string // interesting names first, then every other name, then foreign-only names and bogusName
	nrs   []int32
}

// interestingNames are the syscalls with special handling, listed first so
// that small fuzz values reach them.
var interestingNames = []string{
	"clone", "fork", "vfork", "clone3", "ioctl", "prctl", "seccomp", "socket", "socketpair", "setsockopt",
	"sendto", "sendmsg", "sendmmsg", "prlimit64", "setpriority", "getpriority", "sched_setaffinity",
	"sched_setscheduler", "sched_setparam", "sched_setattr", "ioprio_set", "personality",
	"execve", "exit", "exit_group", "read", "write", "close", "close_range", "recvmsg",
	"mount", "ptrace", "openat", "openat2", "getpid", "wait4", "file_getattr",
}

func newFuzzPool(a *archSpec) fuzzPool {
	var p fuzzPool
	seen := map[string]bool{}
	addName := func(n string) {
		if !seen[n] {
			seen[n] = true
			p.names = append(p.names, n)
		}
	}
	for _, n := range interestingNames {
		if _, ok := a.lookup(n); ok {
			addName(n)
		}
	}
	for _, n := range a.names() {
		addName(n)
	}
	// Names that exist only on other architectures: Build skips them.
	var foreign []string
	for _, t := range []*arch.Info{arch.X86_64, arch.AARCH64, arch.I386} {
		for n := range t.SyscallNames {
			if _, ok := a.lookup(n); !ok && !seen[n] {
				foreign = append(foreign, n)
				seen[n] = true
			}
		}
	}
	slices.Sort(foreign)
	p.names = append(p.names, foreign[:min(8, len(foreign))]...)
	p.names = append(p.names, bogusName)

	for _, n := range p.names {
		if nr, ok := a.lookup(n); ok {
			p.nrs = append(p.nrs, int32(nr))
		}
	}
	return p
}

var fuzzPools = map[*archSpec]fuzzPool{archAMD64: newFuzzPool(archAMD64), archARM64: newFuzzPool(archARM64)}

// argConsts are argument values the filters compare against, combined by
// shapeArg.
var argConsts = []uint32{
	0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 15, 16, 17, 25, 28, 30, 35, 47, 62, 99, 132, 262,
	unix.TIOCSTI, unix.TIOCLINUX, unix.TIOCCONS, unix.TIOCSETD, unix.TIOCSCTTY, unix.TIOCSPGRP, unix.TIOCNOTTY, unix.TCGETS,
	unix.SIOCGIFCONF, unix.SIOCGIFINDEX, unix.SIOCETHTOOL, unix.SIOCGIFMAP, unix.SIOCGSTAMP,
	unix.PR_SET_PTRACER, unix.CLONE_THREAD, unix.CLONE_NEWUSER, unix.CLONE_NEWNS, uint32(unix.SIGCHLD),
	unix.MSG_FASTOPEN, unix.SOCK_NONBLOCK, unix.SOCK_CLOEXEC, 0x0040000, 0x0400000, 0xffffffff, 0x80000000,
}

// shapeArg turns a fuzzed u64 into an argument that often hits a compared
// value: the low word is one or two constants combined, the high word is
// kept or cleared.
func shapeArg(x uint64) uint64 {
	lo := argConsts[int(x&0xff)%len(argConsts)]
	if x&0x100 != 0 {
		lo |= argConsts[int(x>>9&0xff)%len(argConsts)]
	}
	if x&0x20000 != 0 {
		lo ^= uint32(x >> 18 & 0x3f)
	}
	var high uint64
	if x&0x1000000 != 0 {
		high = x &^ 0xffffffff
	}
	return high | uint64(lo)
}

// decodeConfig derives a Config from fuzz bytes: a flag byte, then
// (list, index-high, index-low) triples naming entries of the pool.
func decodeConfig(b []byte) (Config, *archSpec) {
	var c Config
	a := archAMD64
	if len(b) == 0 {
		return c, a
	}
	flags := b[0]
	c.NotifyForks = flags&1 != 0
	c.NotifyPidTargets = flags&2 != 0
	c.NoUDP = flags&4 != 0
	c.NoRaw = flags&8 != 0
	c.CapturedTTY = flags&16 != 0
	if flags&32 != 0 {
		c.Allow = []string{}
	}
	if flags&64 != 0 {
		c.Deny = []string{}
	}
	if flags&128 != 0 {
		a = archARM64
	}
	// The flag byte is full: a length leaving one or two bytes after the
	// triples switches VirtualNet on.
	c.VirtualNet = (len(b)-1)%3 != 0
	pool := fuzzPools[a].names
	for rest := b[1:]; len(rest) >= 3; rest = rest[3:] {
		name := pool[(int(rest[1])<<8|int(rest[2]))%len(pool)]
		switch rest[0] % 3 {
		case 0:
			if c.Deny == nil {
				c.Deny = DefaultDeny()
			}
			c.Deny = append(c.Deny, name)
		case 1:
			if c.Allow != nil {
				c.Allow = append(c.Allow, name)
			}
		case 2:
			c.Notify = append(c.Notify, name)
		}
	}
	return c, a
}

// FuzzProgram compares the program built from a fuzzed Config, run in the
// x/net/bpf interpreter, with the reference decision, on the raw fuzzed
// seccomp_data and on two variants steered towards known syscalls and
// compared argument values.
func FuzzProgram(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzProgram.
	f.Add([]byte{0}, int32(165), uint32(unix.AUDIT_ARCH_X86_64), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, cfg []byte, nr int32, archID uint32, a0, a1, a2, a3, a4, a5 uint64) {
		c, a := decodeConfig(cfg)
		p, err := build(c, a)
		if wantErr := referenceBuildFails(c, a); wantErr != (err != nil) {
			t.Fatalf("build(%+v) error = %v, want error %v", c, err, wantErr)
		}
		if err != nil {
			return
		}
		checkProgram(t, p)

		args := [6]uint64{a0, a1, a2, a3, a4, a5}
		raw := Data{Nr: nr, Arch: archID, Args: args}
		pool := fuzzPools[a].nrs
		steered := Data{Nr: pool[int(uint32(nr))%len(pool)], Arch: a.audit, Args: args}
		if archID&0xff == 0xff {
			steered.Arch = archID // a foreign architecture with a real number
		}
		shaped := steered
		for i := range shaped.Args {
			shaped.Args[i] = shapeArg(args[i])
		}
		for _, d := range []Data{raw, steered, shaped} {
			if got, want := p.Decide(d), reference(c, a, d); got != want {
				t.Errorf("Decide(%s) = %v, want %v\nconfig %s", d, got, want, describe(c, a))
			}
		}
	})
}

// describe prints a Config compactly for fuzz failure messages.
func describe(c Config, a *archSpec) string {
	deny := "default"
	if c.Deny != nil {
		deny = fmt.Sprint(c.Deny)
	}
	allow := "off"
	if c.Allow != nil {
		allow = fmt.Sprint(c.Allow)
	}
	return fmt.Sprintf("%s deny=%s allow=%s notify=%v forks=%v pids=%v noudp=%v noraw=%v tty=%v vnet=%v",
		a.name, deny, allow, c.Notify, c.NotifyForks, c.NotifyPidTargets, c.NoUDP, c.NoRaw, c.CapturedTTY, c.VirtualNet)
}
