package seccomp

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// sc builds the seccomp_data of a call on architecture a. Missing
// arguments are zero.
func sc(a *archSpec, name string, args ...uint64) Data {
	nr, ok := a.lookup(name)
	if !ok {
		panic("test uses unknown syscall " + name + " on " + a.name)
	}
	d := Data{Nr: int32(nr), Arch: a.audit, InstructionPointer: 0x7f0000001000}
	copy(d.Args[:], args)
	return d
}

// x86 is shorthand for calls on x86_64, the architecture the decision
// tables are written for (they run in the BPF interpreter on any host).
func x86(name string, args ...uint64) Data { return sc(archAMD64, name, args...) }

const hi = uint64(1) << 32 // a high-word bit the kernel ignores for int arguments

// atFdcwd is AT_FDCWD (-100) as the 64-bit register value a caller passes.
const atFdcwd = 0xffffffffffffff9c

type decideCase struct {
	name string
	d    Data
	want Action
}

// checkProgram verifies properties every generated program must have: it
// fits BPF_MAXINSNS, the interpreter accepts it, and it only loads 32-bit
// words at 4-aligned offsets inside seccomp_data (Data.vmInput relies on
// it, and so does the kernel's check in seccomp_check_filter).
func checkProgram(t testing.TB, p *Program) {
	t.Helper()
	if n := len(p.Instructions); n == 0 || n > maxInsns {
		t.Fatalf("len(Instructions) = %d, want 1..%d", n, maxInsns)
	}
	insns := make([]bpf.Instruction, len(p.Instructions))
	for i, f := range p.Instructions {
		insns[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}.Disassemble()
		if ld, ok := insns[i].(bpf.LoadAbsolute); ok && (ld.Size != 4 || ld.Off%4 != 0 || ld.Off >= seccompData) {
			t.Fatalf("instruction %d = %v, want 32-bit aligned load inside seccomp_data", i, ld)
		}
		if _, ok := insns[i].(bpf.RawInstruction); ok {
			t.Fatalf("instruction %d = %#v does not disassemble", i, f)
		}
	}
	if _, err := bpf.NewVM(insns); err != nil {
		t.Fatalf("bpf.NewVM(program) = %v", err)
	}
}

func runDecideTable(t *testing.T, a *archSpec, cfg Config, cases []decideCase) {
	t.Helper()
	p, err := build(cfg, a)
	if err != nil {
		t.Fatalf("build(%+v) = %v", cfg, err)
	}
	checkProgram(t, p)
	for _, tc := range cases {
		if got := p.Decide(tc.d); got != tc.want {
			t.Errorf("%s: Decide(%s) = %v, want %v", tc.name, tc.d, got, tc.want)
		}
		if got := reference(cfg, a, tc.d); got != tc.want {
			t.Errorf("%s: reference(%s) = %v, want %v", tc.name, tc.d, got, tc.want)
		}
	}
}

func TestDecideDefault(t *testing.T) {
	var cases []decideCase
	add := func(name string, d Data, want Action) { cases = append(cases, decideCase{name, d, want}) }

	// attacks.md 3.1: ABI checks.
	getpid := x86("getpid")
	for _, arch := range []uint32{unix.AUDIT_ARCH_I386, unix.AUDIT_ARCH_AARCH64, unix.AUDIT_ARCH_ARM, 0, ^uint32(0)} {
		d := getpid
		d.Arch = arch
		add("foreign arch", d, ActionKillProcess)
	}
	for _, n := range []uint32{refX32Bit | 39, refX32Bit, refX32Bit | 165, 0xffffffff} {
		add("x32 or negative nr", Data{Nr: int32(n), Arch: archAMD64.audit}, ActionKillProcess)
	}
	add("nr beyond the table", Data{Nr: 1000, Arch: archAMD64.audit}, ActionAllow)
	add("nr 0x80000000", Data{Nr: -0x80000000, Arch: archAMD64.audit}, ActionAllow)

	// attacks.md 3.3.
	add("clone3", x86("clone3", 0, 88), ActionENOSYS)

	// attacks.md 3.2: every entry that exists on x86_64.
	for _, n := range specDeny {
		if _, ok := archAMD64.lookup(n); ok {
			add("default deny", x86(n), ActionEPERM)
		}
	}
	for _, n := range []string{"getpid", "read", "openat", "openat2", "execve", "wait4", "waitid", "fork", "vfork", "memfd_create", "landlock_create_ruleset", "pidfd_open", "file_getattr"} {
		add("allowed", x86(n), ActionAllow)
	}

	// clone: namespace flags, threads, processes.
	threadFlags := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM)
	add("clone thread", x86("clone", threadFlags), ActionAllow)
	add("clone fork", x86("clone", uint64(unix.SIGCHLD)), ActionAllow)
	for _, f := range []uint64{unix.CLONE_NEWNS, unix.CLONE_NEWCGROUP, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWUSER, unix.CLONE_NEWPID, unix.CLONE_NEWNET} {
		add("clone namespace", x86("clone", f|uint64(unix.SIGCHLD)), ActionEPERM)
		add("clone thread namespace", x86("clone", f|threadFlags), ActionEPERM)
		add("clone namespace high bits", x86("clone", f|hi), ActionEPERM)
	}
	add("clone namespace bit in high word only", x86("clone", unix.CLONE_NEWUSER<<32), ActionAllow)

	// ioctl: the command's low 32 bits.
	for _, cmd := range []uint64{unix.TIOCSTI, unix.TIOCLINUX, unix.TIOCCONS, unix.TIOCSETD} {
		add("ioctl tty injection", x86("ioctl", 0, cmd), ActionEPERM)
		add("ioctl tty injection high bits", x86("ioctl", 0, cmd|hi), ActionEPERM)
		add("ioctl tty injection all high bits", x86("ioctl", 0, cmd|0xffffffff00000000), ActionEPERM)
		add("ioctl command in the wrong argument", x86("ioctl", cmd, 0, cmd), ActionAllow)
	}
	for _, cmd := range []uint64{unix.TIOCSCTTY, unix.TIOCSPGRP, unix.TIOCNOTTY, unix.TCGETS, unix.TIOCINQ, unix.TIOCGWINSZ} {
		add("ioctl without captured tty", x86("ioctl", 1, cmd), ActionAllow)
	}

	// prctl.
	for _, op := range []uint64{unix.PR_SET_DUMPABLE, unix.PR_SET_PTRACER, unix.PR_SET_SECUREBITS, unix.PR_SET_MM} {
		add("prctl denied option", x86("prctl", op, 1), ActionEPERM)
		add("prctl denied option high bits", x86("prctl", op|hi, 1), ActionEPERM)
	}
	add("prctl ambient raise", x86("prctl", unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, unix.CAP_SYS_ADMIN), ActionEPERM)
	add("prctl ambient raise high option bits", x86("prctl", unix.PR_CAP_AMBIENT|hi, unix.PR_CAP_AMBIENT_RAISE, 21), ActionEPERM)
	add("prctl ambient lower", x86("prctl", unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_LOWER, 21), ActionAllow)
	add("prctl ambient is_set", x86("prctl", unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_IS_SET, 21), ActionAllow)
	add("prctl ambient clear_all", x86("prctl", unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL), ActionAllow)
	// arg2 is an unsigned long: the kernel rejects 1<<32|2 with EINVAL.
	add("prctl ambient raise with high arg2", x86("prctl", unix.PR_CAP_AMBIENT, hi|unix.PR_CAP_AMBIENT_RAISE, 21), ActionAllow)
	add("prctl raise value for another option", x86("prctl", unix.PR_SET_NAME, unix.PR_CAP_AMBIENT_RAISE), ActionAllow)
	add("prctl no_new_privs", x86("prctl", unix.PR_SET_NO_NEW_PRIVS, 1), ActionAllow)
	add("prctl get_dumpable", x86("prctl", unix.PR_GET_DUMPABLE), ActionAllow)

	// seccomp.
	add("seccomp new listener", x86("seccomp", unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, 0x1000), ActionEPERM)
	add("seccomp new listener tsync", x86("seccomp", unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER|unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH, 0x1000), ActionEPERM)
	add("seccomp new listener high bits", x86("seccomp", unix.SECCOMP_SET_MODE_FILTER|hi, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER|hi, 0x1000), ActionEPERM)
	add("seccomp plain filter", x86("seccomp", unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000), ActionAllow)
	add("seccomp filter with log", x86("seccomp", unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_LOG, 0x1000), ActionAllow)
	add("seccomp strict with flag 8", x86("seccomp", unix.SECCOMP_SET_MODE_STRICT, 8), ActionAllow)
	add("seccomp get notif sizes", x86("seccomp", unix.SECCOMP_GET_NOTIF_SIZES, 0, 0x1000), ActionAllow)

	// socket.
	for _, c := range []struct {
		name       string
		d, t, p    uint64
		wantAction Action
	}{
		{"unix stream", unix.AF_UNIX, unix.SOCK_STREAM, 0, ActionAllow},
		{"unix dgram", unix.AF_UNIX, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC, 0, ActionAllow},
		{"inet tcp", unix.AF_INET, unix.SOCK_STREAM, 0, ActionAllow},
		{"inet tcp explicit", unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP, ActionAllow},
		{"inet tcp flags", unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC, unix.IPPROTO_TCP, ActionAllow},
		{"inet6 tcp", unix.AF_INET6, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, 0, ActionAllow},
		{"inet mptcp", unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_MPTCP, ActionEPERM},
		{"inet6 mptcp", unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_MPTCP, ActionEPERM},
		{"inet mptcp flags", unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_NONBLOCK, unix.IPPROTO_MPTCP, ActionEPERM},
		{"inet mptcp high bits", unix.AF_INET | hi, unix.SOCK_STREAM | hi, unix.IPPROTO_MPTCP | hi, ActionEPERM},
		{"inet tcp high protocol bits", unix.AF_INET, unix.SOCK_STREAM, hi, ActionAllow},
		{"inet sctp stream", unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_SCTP, ActionEPERM},
		{"inet sctp seqpacket", unix.AF_INET, unix.SOCK_SEQPACKET, unix.IPPROTO_SCTP, ActionEPERM},
		{"inet6 dccp", unix.AF_INET6, unix.SOCK_DCCP, 0, ActionEPERM},
		{"inet rdm", unix.AF_INET, unix.SOCK_RDM, 0, ActionEPERM},
		{"inet udp", unix.AF_INET, unix.SOCK_DGRAM, 0, ActionAllow},
		{"inet ping", unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP, ActionAllow},
		{"inet6 udp", unix.AF_INET6, unix.SOCK_DGRAM | unix.SOCK_NONBLOCK, unix.IPPROTO_UDP, ActionAllow},
		{"inet raw", unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP, ActionAllow},
		{"inet packet", unix.AF_INET, unix.SOCK_PACKET, 0, ActionAllow},
		{"netlink route", unix.AF_NETLINK, unix.SOCK_RAW | unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE, ActionAllow},
		{"netlink route dgram", unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_ROUTE, ActionAllow},
		{"netlink audit", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT, ActionEPERM},
		{"netlink generic", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_GENERIC, ActionEPERM},
		{"netlink kobject", unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_KOBJECT_UEVENT, ActionEPERM},
		{"netlink route high protocol bits", unix.AF_NETLINK, unix.SOCK_RAW, hi, ActionAllow},
		{"packet", unix.AF_PACKET, unix.SOCK_RAW, 0x0300, ActionEPERM},
		{"vsock", unix.AF_VSOCK, unix.SOCK_STREAM, 0, ActionEPERM},
		{"alg", unix.AF_ALG, unix.SOCK_SEQPACKET, 0, ActionEPERM},
		{"key", unix.AF_KEY, unix.SOCK_RAW, 2, ActionEPERM},
		{"xdp", unix.AF_XDP, unix.SOCK_RAW, 0, ActionEPERM},
		{"unspec", unix.AF_UNSPEC, unix.SOCK_STREAM, 0, ActionEPERM},
		{"inet in high word only", unix.AF_INET << 32, unix.SOCK_STREAM, 0, ActionEPERM},
	} {
		add("socket "+c.name, x86("socket", c.d, c.t, c.p), c.wantAction)
	}
	add("socketpair unix", x86("socketpair", unix.AF_UNIX, unix.SOCK_STREAM, 0, 0x1000), ActionAllow)
	add("socketpair unix high bits", x86("socketpair", unix.AF_UNIX|hi, unix.SOCK_STREAM, 0, 0x1000), ActionAllow)
	add("socketpair inet", x86("socketpair", unix.AF_INET, unix.SOCK_STREAM, 0, 0x1000), ActionEPERM)
	add("socketpair netlink", x86("socketpair", unix.AF_NETLINK, unix.SOCK_RAW, 0, 0x1000), ActionEPERM)

	// setsockopt.
	add("setsockopt tfo connect", x86("setsockopt", 3, unix.IPPROTO_TCP, unix.TCP_FASTOPEN_CONNECT, 0x1000, 4), ActionEPERM)
	add("setsockopt tfo connect high bits", x86("setsockopt", 3, unix.IPPROTO_TCP|hi, unix.TCP_FASTOPEN_CONNECT|hi, 0x1000, 4), ActionEPERM)
	add("setsockopt bindtodevice", x86("setsockopt", 3, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, 0x1000, 3), ActionEPERM)
	add("setsockopt bindtoifindex", x86("setsockopt", 3, unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX, 0x1000, 4), ActionEPERM)
	add("setsockopt nodelay", x86("setsockopt", 3, unix.IPPROTO_TCP, unix.TCP_NODELAY, 0x1000, 4), ActionAllow)
	add("setsockopt tfo server", x86("setsockopt", 3, unix.IPPROTO_TCP, unix.TCP_FASTOPEN, 0x1000, 4), ActionAllow)
	add("setsockopt reuseaddr", x86("setsockopt", 3, unix.SOL_SOCKET, unix.SO_REUSEADDR, 0x1000, 4), ActionAllow)
	add("setsockopt 30 at SOL_SOCKET", x86("setsockopt", 3, unix.SOL_SOCKET, 30, 0x1000, 4), ActionAllow)
	add("setsockopt 25 at IPPROTO_TCP", x86("setsockopt", 3, unix.IPPROTO_TCP, 25, 0x1000, 4), ActionAllow)
	add("setsockopt 25 at IPPROTO_IP", x86("setsockopt", 3, unix.IPPROTO_IP, 25, 0x1000, 4), ActionAllow)

	// MSG_FASTOPEN.
	add("sendto fastopen", x86("sendto", 3, 0x1000, 1, unix.MSG_FASTOPEN, 0x2000, 16), ActionEPERM)
	add("sendto fastopen nosignal", x86("sendto", 3, 0x1000, 1, unix.MSG_FASTOPEN|unix.MSG_NOSIGNAL|hi, 0x2000, 16), ActionEPERM)
	add("sendto plain", x86("sendto", 3, 0x1000, 1, unix.MSG_DONTWAIT, 0x2000, 16), ActionAllow)
	add("sendto fastopen in high word", x86("sendto", 3, 0x1000, 1, uint64(unix.MSG_FASTOPEN)<<32), ActionAllow)
	add("sendmsg fastopen", x86("sendmsg", 3, 0x1000, unix.MSG_FASTOPEN), ActionEPERM)
	add("sendmsg plain", x86("sendmsg", 3, 0x1000, 0, unix.MSG_FASTOPEN), ActionAllow)
	add("sendmmsg fastopen", x86("sendmmsg", 3, 0x1000, 2, unix.MSG_FASTOPEN), ActionEPERM)
	add("sendmmsg plain", x86("sendmmsg", 3, 0x1000, unix.MSG_FASTOPEN, 0), ActionAllow)

	// pid targets without the supervisor.
	for _, n := range []string{"prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr"} {
		add(n+" self", x86(n, 0, 7), ActionAllow)
		add(n+" self high bits", x86(n, hi, 7), ActionAllow)
		add(n+" other", x86(n, 1234, 7), ActionEPERM)
		add(n+" negative", x86(n, 0xffffffff, 7), ActionEPERM)
	}
	for _, n := range []string{"setpriority", "getpriority"} {
		add(n+" self", x86(n, unix.PRIO_PROCESS, 0, 19), ActionAllow)
		add(n+" own group", x86(n, unix.PRIO_PGRP, 0, 19), ActionAllow)
		add(n+" other", x86(n, unix.PRIO_PROCESS, 1234, 19), ActionEPERM)
		add(n+" other group", x86(n, unix.PRIO_PGRP, 1234, 19), ActionEPERM)
		add(n+" user", x86(n, unix.PRIO_USER, 0, 19), ActionEPERM)
		add(n+" invalid which", x86(n, 7, 0, 19), ActionEPERM)
		add(n+" self high bits", x86(n, unix.PRIO_PROCESS|hi, hi, 19), ActionAllow)
	}
	add("ioprio_set self", x86("ioprio_set", refIoprioProcess, 0, 7<<13), ActionAllow)
	add("ioprio_set own group", x86("ioprio_set", refIoprioPgrp, 0, 7<<13), ActionAllow)
	add("ioprio_set other", x86("ioprio_set", refIoprioProcess, 1, 7<<13), ActionEPERM)
	add("ioprio_set user", x86("ioprio_set", refIoprioUser, 0, 7<<13), ActionEPERM)
	add("ioprio_get other", x86("ioprio_get", refIoprioProcess, 1), ActionAllow)
	add("sched_getaffinity other", x86("sched_getaffinity", 1, 128, 0x1000), ActionAllow)

	// personality.
	add("personality linux", x86("personality", 0), ActionAllow)
	add("personality linux32", x86("personality", refPerLinux32), ActionAllow)
	add("personality query", x86("personality", 0xffffffff), ActionAllow)
	add("personality query high bits", x86("personality", 0xffffffffffffffff), ActionAllow)
	add("personality addr_no_randomize", x86("personality", 0x0040000), ActionEPERM)
	add("personality read_implies_exec", x86("personality", 0x0400000), ActionEPERM)
	add("personality mmap_page_zero", x86("personality", 0x0100000), ActionEPERM)
	add("personality read_implies_exec high bits", x86("personality", 0x0400000|hi), ActionEPERM)

	runDecideTable(t, archAMD64, Config{}, cases)
}

func TestDecideConfigs(t *testing.T) {
	threadFlags := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS)
	tests := []struct {
		name  string
		cfg   Config
		cases []decideCase
	}{
		{
			name: "deny list replaces the default",
			cfg:  Config{Deny: []string{"getpid", "uname"}},
			cases: []decideCase{
				{"listed", x86("getpid"), ActionEPERM},
				{"listed", x86("uname", 0x1000), ActionEPERM},
				{"default entry no longer denied", x86("mount"), ActionAllow},
				{"default entry no longer denied", x86("ptrace"), ActionAllow},
				{"argument filters stay", x86("socket", unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_MPTCP), ActionEPERM},
				{"clone3 stays ENOSYS", x86("clone3"), ActionENOSYS},
			},
		},
		{
			name: "empty deny list",
			cfg:  Config{Deny: []string{}},
			cases: []decideCase{
				{"mount", x86("mount"), ActionAllow},
				{"tiocsti", x86("ioctl", 0, unix.TIOCSTI|hi), ActionEPERM},
			},
		},
		{
			name: "deny list with a foreign-only name",
			cfg:  Config{Deny: []string{"stime", "getuid"}},
			cases: []decideCase{
				{"getuid", x86("getuid"), ActionEPERM},
				{"time", x86("time"), ActionAllow},
			},
		},
		{
			name: "allowlist mode",
			cfg:  Config{Allow: []string{"getpid", "brk", "mmap", "mount", "socket", "prlimit64", "uname"}, Notify: []string{"openat", "uname"}},
			cases: []decideCase{
				{"allowed", x86("getpid"), ActionAllow},
				{"allowed", x86("mmap", 0, 4096), ActionAllow},
				{"essential", x86("execve"), ActionAllow},
				{"essential", x86("exit_group"), ActionAllow},
				{"essential", x86("write", 1), ActionAllow},
				{"essential", x86("close_range", 3, 0xffffffff), ActionAllow},
				{"essential with argument filter", x86("sendmsg", 3, 0x1000, 0), ActionAllow},
				{"essential with argument filter", x86("sendmsg", 3, 0x1000, unix.MSG_FASTOPEN), ActionEPERM},
				{"notified but not allowed", x86("openat", atFdcwd, 0x1000), ActionEPERM},
				{"allowed and notified", x86("uname", 0x1000), ActionUserNotif},
				{"not listed", x86("getuid"), ActionEPERM},
				{"not listed", x86("open", 0x1000), ActionEPERM},
				{"not listed argument-filtered", x86("ioctl", 0, unix.TCGETS), ActionEPERM},
				{"not listed clone thread", x86("clone", threadFlags), ActionEPERM},
				{"not listed fork", x86("fork"), ActionEPERM},
				{"deny wins over allow", x86("mount"), ActionEPERM},
				{"allowed socket", x86("socket", unix.AF_INET, unix.SOCK_STREAM, 0), ActionAllow},
				{"allowed socket argument filter", x86("socket", unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_MPTCP), ActionEPERM},
				{"allowed prlimit self", x86("prlimit64", 0, unix.RLIMIT_NOFILE), ActionAllow},
				{"allowed prlimit other", x86("prlimit64", 99, unix.RLIMIT_NOFILE), ActionEPERM},
				{"clone3", x86("clone3"), ActionENOSYS},
				{"nr beyond the table", Data{Nr: 1000, Arch: archAMD64.audit}, ActionEPERM},
				{"foreign arch", Data{Nr: 39, Arch: unix.AUDIT_ARCH_I386}, ActionKillProcess},
			},
		},
		{
			name: "empty allowlist",
			cfg:  Config{Allow: []string{}},
			cases: []decideCase{
				{"essential", x86("read", 0), ActionAllow},
				{"essential", x86("rt_sigreturn"), ActionAllow},
				{"anything else", x86("getpid"), ActionEPERM},
				{"anything else", x86("mmap"), ActionEPERM},
			},
		},
		{
			name: "allowlist does not admit forks through NotifyForks",
			cfg:  Config{Allow: []string{"getpid"}, NotifyForks: true, NotifyPidTargets: true},
			cases: []decideCase{
				{"fork", x86("fork"), ActionEPERM},
				{"clone fork", x86("clone", uint64(unix.SIGCHLD)), ActionEPERM},
				{"clone thread", x86("clone", threadFlags), ActionEPERM},
				{"prlimit other", x86("prlimit64", 99), ActionEPERM},
			},
		},
		{
			// Every feature's notification at once: none admits a call
			// the allowlist leaves out (the supervisor would perform it
			// on the child's behalf), and the refusal is the allowlist's
			// own EPERM. Essential calls stay notified.
			name: "allowlist refuses what features notify",
			cfg: Config{
				Allow:       []string{"getpid", "socket", "clone", "uname"},
				Notify:      []string{"openat", "openat2", "connect", "listen", "bind", "mmap", "mremap", "brk", "sched_getaffinity", "uname", "execve", "sendmsg", "sendto"},
				NotifyForks: true, NotifyPidTargets: true, VirtualNet: true,
			},
			cases: []decideCase{
				{"openat", x86("openat", atFdcwd, 0x1000), ActionEPERM},
				{"openat2", x86("openat2", atFdcwd, 0x1000, 0x2000, 24), ActionEPERM},
				{"connect", x86("connect", 3, 0x1000, 16), ActionEPERM},
				{"listen", x86("listen", 3, 16), ActionEPERM},
				{"bind", x86("bind", 3, 0x1000, 16), ActionEPERM},
				{"mmap", x86("mmap", 0, 4096), ActionEPERM},
				{"mremap", x86("mremap", 0x1000, 4096, 8192), ActionEPERM},
				{"brk", x86("brk", 0x1000), ActionEPERM},
				{"sched_getaffinity", x86("sched_getaffinity", 0, 128, 0x1000), ActionEPERM},
				{"sendto is not essential", x86("sendto", 3, 0x1000, 1, 0), ActionEPERM},
				{"fork under NotifyForks", x86("fork"), ActionEPERM},
				{"prlimit64 under NotifyPidTargets", x86("prlimit64", 99), ActionEPERM},
				{"ioctl under VirtualNet", x86("ioctl", 3, unix.SIOCGIFCONF), ActionEPERM},
				{"never notified, same refusal", x86("getuid"), ActionEPERM},
				{"allowed and notified", x86("uname", 0x1000), ActionUserNotif},
				{"allowed", x86("getpid"), ActionAllow},
				{"allowed clone fork, notified", x86("clone", uint64(unix.SIGCHLD)), ActionUserNotif},
				{"allowed socket, netlink route notified", x86("socket", unix.AF_NETLINK, unix.SOCK_RAW, 0), ActionUserNotif},
				{"essential execve stays notified", x86("execve", 0x1000, 0x2000, 0x3000), ActionUserNotif},
				{"essential sendmsg stays notified", x86("sendmsg", 3, 0x1000, 0), ActionUserNotif},
				{"essential sendmsg filter wins", x86("sendmsg", 3, 0x1000, unix.MSG_FASTOPEN), ActionEPERM},
				{"essential write", x86("write", 1, 0x1000, 1), ActionAllow},
			},
		},
		{
			// Deny wins over notification too (original.md 2.1), also for
			// the calls that notification routes by argument.
			name: "deny list refuses what features notify",
			cfg: Config{
				Deny:        []string{"openat", "connect", "listen", "mmap", "sched_getaffinity", "fork", "clone", "socket", "prlimit64"},
				Notify:      []string{"openat", "connect", "listen", "mmap", "sched_getaffinity", "socket"},
				NotifyForks: true, NotifyPidTargets: true, VirtualNet: true,
			},
			cases: []decideCase{
				{"openat", x86("openat", atFdcwd, 0x1000), ActionEPERM},
				{"connect", x86("connect", 3, 0x1000, 16), ActionEPERM},
				{"listen", x86("listen", 3, 16), ActionEPERM},
				{"mmap", x86("mmap", 0, 4096), ActionEPERM},
				{"sched_getaffinity", x86("sched_getaffinity", 0, 128, 0x1000), ActionEPERM},
				{"fork under NotifyForks", x86("fork"), ActionEPERM},
				{"clone fork under NotifyForks", x86("clone", uint64(unix.SIGCHLD)), ActionEPERM},
				{"socket netlink route under VirtualNet", x86("socket", unix.AF_NETLINK, unix.SOCK_RAW, 0), ActionEPERM},
				{"prlimit64 under NotifyPidTargets", x86("prlimit64", 99), ActionEPERM},
				{"not denied", x86("getpid"), ActionAllow},
				{"default list replaced", x86("mount"), ActionAllow},
			},
		},
		{
			name: "allowlist with forks allowed and notified",
			cfg:  Config{Allow: []string{"clone", "fork", "vfork"}, NotifyForks: true},
			cases: []decideCase{
				{"fork", x86("fork"), ActionUserNotif},
				{"vfork", x86("vfork"), ActionUserNotif},
				{"clone fork", x86("clone", uint64(unix.SIGCHLD)), ActionUserNotif},
				{"clone thread", x86("clone", threadFlags), ActionAllow},
				{"clone namespace", x86("clone", unix.CLONE_NEWNET|uint64(unix.SIGCHLD)), ActionEPERM},
			},
		},
		{
			name: "notify routing",
			cfg:  Config{Notify: []string{"openat", "openat2", "rename", "connect", "mount", "socket", "ioctl", "sendmsg", "clone3"}},
			cases: []decideCase{
				{"openat", x86("openat", atFdcwd, 0x1000), ActionUserNotif},
				{"openat2", x86("openat2", atFdcwd, 0x1000, 0x2000, 24), ActionUserNotif},
				{"rename", x86("rename", 0x1000, 0x2000), ActionUserNotif},
				{"connect", x86("connect", 3, 0x1000, 16), ActionUserNotif},
				{"deny wins over notify", x86("mount"), ActionEPERM},
				{"clone3 stays ENOSYS", x86("clone3"), ActionENOSYS},
				{"socket passes filter", x86("socket", unix.AF_INET, unix.SOCK_STREAM, 0), ActionUserNotif},
				{"socket netlink route", x86("socket", unix.AF_NETLINK, unix.SOCK_RAW, 0), ActionUserNotif},
				{"socket filter wins", x86("socket", unix.AF_PACKET, unix.SOCK_RAW, 0), ActionEPERM},
				{"ioctl passes filter", x86("ioctl", 0, unix.TCGETS), ActionUserNotif},
				{"ioctl filter wins", x86("ioctl", 0, unix.TIOCSTI|hi), ActionEPERM},
				{"sendmsg passes filter", x86("sendmsg", 3, 0x1000, unix.MSG_NOSIGNAL), ActionUserNotif},
				{"sendmsg filter wins", x86("sendmsg", 3, 0x1000, unix.MSG_FASTOPEN), ActionEPERM},
				{"not notified", x86("open", 0x1000), ActionAllow},
				{"fork not notified", x86("fork"), ActionAllow},
			},
		},
		{
			name: "NotifyForks",
			cfg:  Config{NotifyForks: true},
			cases: []decideCase{
				{"fork", x86("fork"), ActionUserNotif},
				{"vfork", x86("vfork"), ActionUserNotif},
				{"clone fork", x86("clone", uint64(unix.SIGCHLD)), ActionUserNotif},
				{"clone vfork style", x86("clone", unix.CLONE_VM|unix.CLONE_VFORK|uint64(unix.SIGCHLD)), ActionUserNotif},
				{"clone pidfd", x86("clone", unix.CLONE_PIDFD|uint64(unix.SIGCHLD)), ActionUserNotif},
				{"clone thread", x86("clone", threadFlags), ActionAllow},
				{"clone thread high bits", x86("clone", threadFlags|hi), ActionAllow},
				{"clone thread bit only in high word", x86("clone", uint64(unix.CLONE_THREAD)<<32), ActionUserNotif},
				{"clone namespace", x86("clone", unix.CLONE_NEWUSER|uint64(unix.SIGCHLD)), ActionEPERM},
				{"clone thread namespace", x86("clone", unix.CLONE_NEWNET|threadFlags), ActionEPERM},
				{"clone3", x86("clone3"), ActionENOSYS},
				{"wait4", x86("wait4", 0xffffffff, 0, 0), ActionAllow},
				{"waitid", x86("waitid", unix.P_ALL, 0, 0x1000, unix.WEXITED), ActionAllow},
				{"execve", x86("execve"), ActionAllow},
			},
		},
		{
			name: "NotifyForks with fork denied",
			cfg:  Config{NotifyForks: true, Deny: []string{"fork", "vfork"}},
			cases: []decideCase{
				{"fork", x86("fork"), ActionEPERM},
				{"vfork", x86("vfork"), ActionEPERM},
				{"clone fork", x86("clone", uint64(unix.SIGCHLD)), ActionUserNotif},
			},
		},
		{
			name: "NotifyForks with clone notified anyway",
			cfg:  Config{NotifyForks: true, Notify: []string{"clone"}},
			cases: []decideCase{
				{"clone thread", x86("clone", threadFlags), ActionUserNotif},
				{"clone fork", x86("clone", uint64(unix.SIGCHLD)), ActionUserNotif},
				{"clone namespace", x86("clone", unix.CLONE_NEWPID), ActionEPERM},
			},
		},
		{
			name: "NotifyForks with clone denied",
			cfg:  Config{NotifyForks: true, Deny: []string{"clone"}},
			cases: []decideCase{
				{"clone thread", x86("clone", threadFlags), ActionEPERM},
				{"fork", x86("fork"), ActionUserNotif},
			},
		},
		{
			name: "NotifyPidTargets",
			cfg:  Config{NotifyPidTargets: true},
			cases: []decideCase{
				{"prlimit64 self", x86("prlimit64", 0, unix.RLIMIT_CPU), ActionAllow},
				{"prlimit64 other", x86("prlimit64", 4321, unix.RLIMIT_CPU), ActionUserNotif},
				{"prlimit64 other via high bits", x86("prlimit64", 4321|hi, unix.RLIMIT_CPU), ActionUserNotif},
				{"sched_setaffinity tid", x86("sched_setaffinity", 77, 8, 0x1000), ActionUserNotif},
				{"sched_setscheduler other", x86("sched_setscheduler", 77, unix.SCHED_IDLE), ActionUserNotif},
				{"sched_setparam other", x86("sched_setparam", 77, 0x1000), ActionUserNotif},
				{"sched_setattr other", x86("sched_setattr", 77, 0x1000, 0), ActionUserNotif},
				{"sched_setattr self", x86("sched_setattr", 0, 0x1000, 0), ActionAllow},
				{"setpriority other", x86("setpriority", unix.PRIO_PROCESS, 77, 19), ActionUserNotif},
				{"setpriority group", x86("setpriority", unix.PRIO_PGRP, 77, 19), ActionUserNotif},
				{"setpriority user", x86("setpriority", unix.PRIO_USER, 77, 19), ActionEPERM},
				{"setpriority user self", x86("setpriority", unix.PRIO_USER, 0, 19), ActionEPERM},
				{"getpriority other", x86("getpriority", unix.PRIO_PROCESS, 77), ActionUserNotif},
				{"ioprio_set other", x86("ioprio_set", refIoprioProcess, 77, 7<<13), ActionUserNotif},
				{"ioprio_set user", x86("ioprio_set", refIoprioUser, 0, 7<<13), ActionEPERM},
			},
		},
		{
			name: "NotifyPidTargets with prlimit64 denied",
			cfg:  Config{NotifyPidTargets: true, Deny: []string{"prlimit64"}},
			cases: []decideCase{
				{"prlimit64 self", x86("prlimit64", 0, unix.RLIMIT_CPU), ActionEPERM},
				{"prlimit64 other", x86("prlimit64", 4321, unix.RLIMIT_CPU), ActionEPERM},
				{"sched_setparam other", x86("sched_setparam", 77, 0x1000), ActionUserNotif},
			},
		},
		{
			name: "NoUDP and NoRaw",
			cfg:  Config{NoUDP: true, NoRaw: true},
			cases: []decideCase{
				{"inet udp", x86("socket", unix.AF_INET, unix.SOCK_DGRAM, 0), ActionEPERM},
				{"inet6 udp flags", x86("socket", unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP), ActionEPERM},
				{"inet ping", x86("socket", unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP), ActionEPERM},
				{"inet udp high bits", x86("socket", unix.AF_INET|hi, unix.SOCK_DGRAM|hi, 0), ActionEPERM},
				{"inet raw", x86("socket", unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP), ActionEPERM},
				{"inet6 raw", x86("socket", unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW), ActionEPERM},
				{"inet packet", x86("socket", unix.AF_INET, unix.SOCK_PACKET, 0x0300), ActionEPERM},
				{"inet tcp", x86("socket", unix.AF_INET, unix.SOCK_STREAM, 0), ActionAllow},
				{"unix dgram", x86("socket", unix.AF_UNIX, unix.SOCK_DGRAM, 0), ActionAllow},
				{"netlink raw", x86("socket", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE), ActionAllow},
			},
		},
		{
			name: "NoUDP with socket notified",
			cfg:  Config{NoUDP: true, Notify: []string{"socket"}},
			cases: []decideCase{
				{"udp denied, not notified", x86("socket", unix.AF_INET, unix.SOCK_DGRAM, 0), ActionEPERM},
				{"tcp notified", x86("socket", unix.AF_INET, unix.SOCK_STREAM, 0), ActionUserNotif},
				{"raw notified", x86("socket", unix.AF_INET, unix.SOCK_RAW, 1), ActionUserNotif},
			},
		},
		{
			name: "VirtualNet",
			cfg:  Config{VirtualNet: true},
			cases: []decideCase{
				{"netlink route notified", x86("socket", unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE), ActionUserNotif},
				{"netlink audit denied", x86("socket", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT), ActionEPERM},
				{"unix allowed", x86("socket", unix.AF_UNIX, unix.SOCK_STREAM, 0), ActionAllow},
				{"siocgifconf", x86("ioctl", 3, unix.SIOCGIFCONF), ActionEPERM},
				{"siocgifindex high bits", x86("ioctl", 3, unix.SIOCGIFINDEX|hi), ActionEPERM},
				{"siocethtool", x86("ioctl", 3, unix.SIOCETHTOOL), ActionEPERM},
				{"siocgstamp", x86("ioctl", 3, unix.SIOCGSTAMP), ActionAllow},
				{"fionread", x86("ioctl", 3, 0x541B), ActionAllow},
			},
		},
		{
			name: "CapturedTTY without VirtualNet",
			cfg:  Config{CapturedTTY: true},
			cases: []decideCase{
				{"siocgifconf", x86("ioctl", 3, unix.SIOCGIFCONF), ActionAllow},
				{"netlink route", x86("socket", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE), ActionAllow},
			},
		},
		{
			name: "CapturedTTY",
			cfg:  Config{CapturedTTY: true},
			cases: []decideCase{
				{"tiocsctty", x86("ioctl", 0, unix.TIOCSCTTY, 1), ActionEPERM},
				{"tiocspgrp", x86("ioctl", 0, unix.TIOCSPGRP, 0x1000), ActionEPERM},
				{"tiocnotty", x86("ioctl", 0, unix.TIOCNOTTY), ActionEPERM},
				{"tiocnotty high bits", x86("ioctl", 0, unix.TIOCNOTTY|hi), ActionEPERM},
				{"tiocsti", x86("ioctl", 0, unix.TIOCSTI), ActionEPERM},
				{"tcgets", x86("ioctl", 0, unix.TCGETS, 0x1000), ActionAllow},
				{"tiocgpgrp", x86("ioctl", 0, unix.TIOCGPGRP, 0x1000), ActionAllow},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runDecideTable(t, archAMD64, tt.cfg, tt.cases) })
	}
}

// TestDecideARM64 builds arm64 programs (in the interpreter, on any host):
// no x32 check, AArch32 compat calls killed, names of other architectures
// skipped.
func TestDecideARM64(t *testing.T) {
	arm := func(name string, args ...uint64) Data { return sc(archARM64, name, args...) }
	var cases []decideCase
	for _, n := range specDeny {
		if _, ok := archARM64.lookup(n); ok {
			cases = append(cases, decideCase{"default deny", arm(n), ActionEPERM})
		}
	}
	cases = append(cases,
		decideCase{"aarch32 compat", Data{Nr: 20, Arch: unix.AUDIT_ARCH_ARM}, ActionKillProcess},
		decideCase{"x86_64 arch", Data{Nr: 39, Arch: unix.AUDIT_ARCH_X86_64}, ActionKillProcess},
		decideCase{"x32 bit is just an unknown number", Data{Nr: refX32Bit | 172, Arch: archARM64.audit}, ActionAllow},
		decideCase{"clone3", arm("clone3"), ActionENOSYS},
		decideCase{"clone fork notified", arm("clone", uint64(unix.SIGCHLD)), ActionUserNotif},
		decideCase{"clone namespace", arm("clone", unix.CLONE_NEWUSER), ActionEPERM},
		decideCase{"mptcp", arm("socket", unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_MPTCP), ActionEPERM},
		decideCase{"tiocsti high bits", arm("ioctl", 0, unix.TIOCSTI|hi), ActionEPERM},
		decideCase{"openat", arm("openat", atFdcwd, 0x1000), ActionAllow},
		decideCase{"getpid", arm("getpid"), ActionAllow},
	)
	runDecideTable(t, archARM64, Config{NotifyForks: true}, cases)
}

// TestNotifyNeverWidensLists notifies every syscall, with every
// notification switch on, next to a short allowlist and next to a deny
// list, on both architectures: every number outside the allowlist (and not
// essential), or in the deny list, must get exactly the action of a number
// nobody notifies, EPERM, whatever its arguments; a notified call the
// lists admit still reaches the supervisor.
func TestNotifyNeverWidensLists(t *testing.T) {
	for _, a := range []*archSpec{archAMD64, archARM64} {
		every := a.names()
		allow := []string{"getpid", "uname", "socket", "clone", "prlimit64"}
		deny := []string{"openat", "connect", "listen", "mmap", "brk", "sched_getaffinity", "socket", "clone", "prlimit64"}
		if _, ok := a.lookup("fork"); ok {
			deny = append(deny, "fork")
		}
		switches := Config{Notify: every, NotifyForks: true, NotifyPidTargets: true, VirtualNet: true, CapturedTTY: true}
		allowCfg, denyCfg := switches, switches
		allowCfg.Allow = allow
		denyCfg.Deny = deny
		// Argument vectors that reach each path of the argument filters
		// that notify: fork-style clone, netlink route socket, pid target.
		argv := [][]uint64{{}, {uint64(unix.SIGCHLD)}, {unix.AF_NETLINK, unix.SOCK_RAW, 0}, {99, 0}, {0, 99}}
		for _, tc := range []struct {
			name    string
			cfg     Config
			refused func(name string) bool
		}{
			{"allowlist", allowCfg, func(n string) bool { return !slices.Contains(allow, n) && !slices.Contains(specEssential, n) }},
			{"deny list", denyCfg, func(n string) bool { return slices.Contains(deny, n) }},
		} {
			t.Run(a.name+" "+tc.name, func(t *testing.T) {
				p, err := build(tc.cfg, a)
				if err != nil {
					t.Fatal(err)
				}
				for nr, n := range a.tables().byNr {
					if n == "" || n == "clone3" {
						continue
					}
					for _, args := range argv {
						d := Data{Nr: int32(nr), Arch: a.audit}
						copy(d.Args[:], args)
						got := p.Decide(d)
						if tc.refused(n) && got != ActionEPERM {
							t.Errorf("Decide(%s) = %v, want ERRNO(EPERM): notified but refused by the lists", d, got)
						}
						if !tc.refused(n) && got == ActionAllow {
							t.Errorf("Decide(%s) = ALLOW, want USER_NOTIF or an argument-filter refusal: notified and admitted", d)
						}
					}
				}
				if got := p.Decide(sc(a, "uname")); tc.name == "allowlist" && got != ActionUserNotif {
					t.Errorf("Decide(uname) = %v, want USER_NOTIF (allowed and notified)", got)
				}
			})
		}
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; "" means success
		skipped []string
	}{
		{name: "default", cfg: Config{}},
		{name: "unknown in Deny", cfg: Config{Deny: []string{"getpid", "frobnicate"}}, wantErr: `"frobnicate" in Deny`},
		{name: "unknown in Allow", cfg: Config{Allow: []string{"opneat"}}, wantErr: `"opneat" in Allow`},
		{name: "unknown in Notify", cfg: Config{Notify: []string{"openat", "Openat"}}, wantErr: `"Openat" in Notify`},
		{name: "empty name", cfg: Config{Notify: []string{""}}, wantErr: `"" in Notify`},
		{name: "essential denied", cfg: Config{Deny: []string{"execve"}}, wantErr: "cannot deny execve"},
		{name: "essential denied among others", cfg: Config{Deny: append(DefaultDeny(), "close_range")}, wantErr: "cannot deny close_range"},
		{name: "essential notified", cfg: Config{Notify: []string{"close", "read"}}},
		{name: "foreign-only names skipped", cfg: Config{Deny: []string{"vm86", "getpid", "vm86"}, Allow: []string{"waitpid"}, Notify: []string{"socketcall"}}, skipped: []string{"vm86", "socketcall", "waitpid"}},
		{name: "duplicates", cfg: Config{Deny: []string{"getpid", "getpid"}, Notify: []string{"openat", "openat"}}},
		{name: "syscall newer than the go-seccomp-bpf tables", cfg: Config{Deny: []string{"file_setattr"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := build(tt.cfg, archAMD64)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("build(%+v) = %v, want error containing %q", tt.cfg, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("build(%+v) = %v, want success", tt.cfg, err)
			}
			checkProgram(t, p)
			got := slices.Clone(p.Skipped)
			slices.Sort(got)
			want := slices.Clone(tt.skipped)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("build(%+v).Skipped = %v, want %v", tt.cfg, got, want)
			}
		})
	}
}

func TestCheckSize(t *testing.T) {
	tests := []struct {
		n       int
		wantErr bool
	}{
		{1, false}, {maxInsns, false}, {maxInsns + 1, true},
	}
	for _, tt := range tests {
		if err := checkSize(tt.n); (err != nil) != tt.wantErr {
			t.Errorf("checkSize(%d) = %v, want error %v", tt.n, err, tt.wantErr)
		}
	}
}

// sizeBound is what TestProgramSizes allows any configuration: well under
// BPF_MAXINSNS, since the kernel's install cost grows with the length.
const sizeBound = 1024

// alternating is the worst case for the dispatch: in allowlist mode, every
// syscall number takes another action than its neighbours (allowed,
// notified, denied in turn), so every number is its own interval. A
// notified number must be allowed too: the allowlist refuses the others.
func alternating(a *archSpec) Config {
	c := Config{Allow: []string{}, Deny: []string{}, NotifyForks: true, NotifyPidTargets: true, CapturedTTY: true}
	for nr, n := range a.tables().byNr {
		switch {
		case n == "":
		case nr%3 == 0:
			c.Allow = append(c.Allow, n)
		case nr%3 == 1:
			c.Allow = append(c.Allow, n)
			c.Notify = append(c.Notify, n)
		}
	}
	return c
}

// TestProgramSizes builds the largest configurations, logs the sizes quoted
// in the package's report, checks them against sizeBound and compares every
// syscall number (with zero arguments) with the reference.
func TestProgramSizes(t *testing.T) {
	every := archAMD64.names()
	all := Config{NotifyForks: true, NotifyPidTargets: true, NoUDP: true, NoRaw: true, CapturedTTY: true, VirtualNet: true}
	tests := []struct {
		name string
		cfg  Config
		arch *archSpec
	}{
		{"default x86_64", Config{}, archAMD64},
		{"default aarch64", Config{}, archARM64},
		{"every switch x86_64", all, archAMD64},
		{"deny every syscall but essentials", Config{Deny: slices.DeleteFunc(slices.Clone(every), func(n string) bool { return slices.Contains(specEssential, n) })}, archAMD64},
		{"allow every syscall", Config{Allow: every, Deny: []string{}}, archAMD64},
		{"notify every syscall", Config{Notify: every, Deny: []string{}}, archAMD64},
		{"notify every other syscall", Config{Notify: everyOther(every), Deny: []string{}}, archAMD64},
		{"alternating x86_64", alternating(archAMD64), archAMD64},
		{"alternating aarch64", alternating(archARM64), archARM64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := build(tt.cfg, tt.arch)
			if err != nil {
				t.Fatalf("build = %v", err)
			}
			checkProgram(t, p)
			t.Logf("%s: %d instructions", tt.name, len(p.Instructions))
			if len(p.Instructions) > sizeBound {
				t.Errorf("%d instructions, want at most %d", len(p.Instructions), sizeBound)
			}
			decide := decider(t, p)
			for nr := range len(tt.arch.tables().byNr) + 2 {
				d := Data{Nr: int32(nr), Arch: tt.arch.audit}
				if got, want := decide(d), reference(tt.cfg, tt.arch, d); got != want {
					t.Errorf("Decide(%s) = %v, want %v", d, got, want)
				}
			}
		})
	}
}

func TestActionString(t *testing.T) {
	tests := []struct {
		a    Action
		want string
	}{
		{ActionAllow, "ALLOW"},
		{ActionKillProcess, "KILL_PROCESS"},
		{ActionUserNotif, "USER_NOTIF"},
		{ActionEPERM, "ERRNO(EPERM)"},
		{ActionENOSYS, "ERRNO(ENOSYS)"},
		{Errno(unix.EACCES), "ERRNO(EACCES)"},
		{Errno(0x1ffff), "ERRNO(65535)"},
		{Action(0x00030000), "Action(0x30000)"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("Action(%#x).String() = %q, want %q", uint32(tt.a), got, tt.want)
		}
	}
	if e, ok := ActionEPERM.Errno(); !ok || e != unix.EPERM {
		t.Errorf("ActionEPERM.Errno() = %v, %v, want EPERM, true", e, ok)
	}
	if _, ok := ActionAllow.Errno(); ok {
		t.Errorf("ActionAllow.Errno() ok = true, want false")
	}
}

func TestLookupName(t *testing.T) {
	if native == nil {
		t.Skip("no syscall table for this GOARCH")
	}
	tests := []struct {
		name string
		nr   int
	}{
		{"read", unix.SYS_READ},
		{"mount", unix.SYS_MOUNT},
		{"clone3", unix.SYS_CLONE3},
		{"openat2", unix.SYS_OPENAT2},
		{"open_tree_attr", unix.SYS_OPEN_TREE_ATTR},
		{"file_getattr", unix.SYS_FILE_GETATTR},
		{"file_setattr", unix.SYS_FILE_SETATTR},
		{"listns", unix.SYS_LISTNS},
	}
	for _, tt := range tests {
		if nr, ok := Lookup(tt.name); !ok || nr != tt.nr {
			t.Errorf("Lookup(%q) = %d, %v, want %d, true", tt.name, nr, ok, tt.nr)
		}
		if got := Name(tt.nr); got != tt.name {
			t.Errorf("Name(%d) = %q, want %q", tt.nr, got, tt.name)
		}
	}
	for _, n := range []string{"", "stime", "no_such_syscall"} {
		if nr, ok := Lookup(n); ok {
			t.Errorf("Lookup(%q) = %d, true, want false", n, nr)
		}
	}
	if got := Name(100000); got != "" {
		t.Errorf("Name(100000) = %q, want \"\"", got)
	}
}

func TestDataString(t *testing.T) {
	tests := []struct {
		d    Data
		want string
	}{
		{x86("ioctl", 0, unix.TIOCSTI|hi), "ioctl(0x0, 0x100005412)"},
		{x86("getpid"), "getpid()"},
		{Data{Nr: 3, Arch: unix.AUDIT_ARCH_I386}, "syscall_0x3()[arch=0x40000003]"},
	}
	for _, tt := range tests {
		if native != archAMD64 && tt.d.Arch == archAMD64.audit {
			continue // the arch suffix depends on the host
		}
		if got := tt.d.String(); got != tt.want {
			t.Errorf("Data.String() = %q, want %q", got, tt.want)
		}
	}
}

// TestBuildConcurrent builds from several goroutines on an architecture
// whose tables are not computed yet (run with -race): the lazy tables are
// built once, and every build yields the same program.
func TestBuildConcurrent(t *testing.T) {
	fresh := &archSpec{name: archAMD64.name, audit: archAMD64.audit, x32Bit: archAMD64.x32Bit, info: archAMD64.info}
	want, err := build(Config{}, archAMD64)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]*Program, 8)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = build(Config{}, fresh) })
	}
	wg.Wait()
	for i, p := range got {
		if errs[i] != nil {
			t.Fatalf("build %d = %v", i, errs[i])
		}
		if !slices.Equal(p.Instructions, want.Instructions) {
			t.Errorf("build %d differs from the program built on archAMD64", i)
		}
	}
}
