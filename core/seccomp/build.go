package seccomp

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// Config selects what the filter denies, allows and routes to the
// supervisor. The zero value is the default policy: attacks.md 3.2 denied,
// the argument filters of attacks.md 3.4 on, nothing notified.
//
// Precedence, highest first (see Build for the program layout):
//
//  1. a foreign architecture or an x32 number is killed;
//  2. clone3 fails with ENOSYS, whatever the lists say;
//  3. a denied syscall fails with EPERM: listed in Deny, or, in allowlist
//     mode, absent from Allow and Essential(). Deny and the allowlist win
//     over every notification (upstream let a notify entry override a deny
//     entry, original.md 2.1): a feature that wants a call mediated must
//     not thereby admit a call the user's lists refuse;
//  4. the argument filters refuse (EPERM) or notify specific argument
//     values;
//  5. Notify and NotifyForks route the call to the supervisor;
//  6. everything else is allowed.
type Config struct {
	// Deny lists syscalls that fail with EPERM. nil means DefaultDeny();
	// an empty, non-nil slice denies nothing by name. A name unknown on
	// every architecture is an error; a name that exists only on another
	// architecture is skipped (attacks.md 3.1). Denying a syscall of
	// Essential() is an error, since the sandbox could not start.
	Deny []string
	// Allow, when non-nil, switches to allowlist mode: every syscall that
	// is not in Allow or Essential() fails with EPERM. Deny still applies
	// on top. Notify, NotifyForks, NotifyPidTargets and VirtualNet do not
	// widen the allowlist: they only route calls the lists already allow,
	// so a call outside it fails with EPERM before the supervisor hears
	// of it, exactly like any other call outside it.
	Allow []string
	// Notify lists syscalls routed to the supervisor
	// (SECCOMP_RET_USER_NOTIF) once they pass the argument filters, for
	// example openat, openat2, connect or rename. A notified syscall that
	// is also denied, or outside the allowlist, stays denied.
	Notify []string
	// NotifyForks routes fork, vfork and every clone without CLONE_THREAD
	// to the supervisor, for process accounting. A clone with
	// CLONE_THREAD creates a thread, not a process, and is allowed (still
	// subject to the namespace-flag check).
	NotifyForks bool
	// NotifyPidTargets decides what happens to prlimit64, setpriority,
	// getpriority, sched_setaffinity, sched_setscheduler, sched_setparam,
	// sched_setattr and ioprio_set when they name an explicit, non-zero
	// pid (or process group): true routes them to the supervisor, which
	// must check the target is a member of the sandbox; false fails them
	// with EPERM. A zero pid (the caller itself) is always allowed
	// (attacks.md PRIV-04: a sandbox could set the host's RLIMIT_CPU).
	NotifyPidTargets bool
	// NoUDP fails socket(AF_INET or AF_INET6, SOCK_DGRAM) with EPERM,
	// which also covers ICMP ping sockets (attacks.md NET-04).
	NoUDP bool
	// NoRaw fails socket(AF_INET or AF_INET6, SOCK_RAW or SOCK_PACKET)
	// with EPERM; (AF_INET, SOCK_PACKET) is turned into an AF_PACKET
	// socket by __sock_create (attacks.md NET-09).
	NoRaw bool
	// CapturedTTY, set when the sandbox's output is captured, also denies
	// TIOCSCTTY, TIOCSPGRP and TIOCNOTTY, so that the child cannot take or
	// drop the caller's terminal (README requirement 5).
	CapturedTTY bool
	// VirtualNet is set when the supervisor virtualises the network
	// interfaces: socket(AF_NETLINK, *, NETLINK_ROUTE) is routed to the
	// supervisor (which answers with a fake rtnetlink socket) and the
	// interface-enumeration ioctls (SIOCGIF*, SIOCETHTOOL, SIOCGMIIPHY)
	// fail with EPERM (attacks.md 3.4).
	VirtualNet bool
}

// Program is a built filter.
type Program struct {
	// Instructions is the classic BPF program, ready for
	// seccomp(SECCOMP_SET_MODE_FILTER, flags, &sock_fprog). It is at most
	// BPF_MAXINSNS long.
	Instructions []unix.SockFilter
	// Arch is the AUDIT_ARCH_* value the program admits; any other
	// architecture is killed.
	Arch uint32
	// Skipped lists the names from the caller's Deny, Allow and Notify
	// lists that exist only on another architecture and were ignored.
	// Names of DefaultDeny() are never reported.
	Skipped []string
}

// SockFprog returns the struct sock_fprog that points at p.Instructions, as
// seccomp(2) expects it. The result refers to Go memory: it must be copied
// (with the instructions) before it crosses into C or a forked child.
func (p *Program) SockFprog() *unix.SockFprog {
	if len(p.Instructions) == 0 {
		return &unix.SockFprog{}
	}
	return &unix.SockFprog{Len: uint16(len(p.Instructions)), Filter: &p.Instructions[0]}
}

// defaultDeny is attacks.md section 3.2, table order.
var defaultDeny = []string{
	// Filesystem topology.
	"mount", "umount2", "pivot_root", "chroot",
	// The new mount API (missing from upstream's list).
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "open_tree_attr", "mount_setattr",
	// Namespaces.
	"unshare", "setns",
	// Cross-process inspection and control.
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "process_madvise", "process_mrelease",
	// High-risk kernel surfaces.
	"bpf", "perf_event_open", "userfaultfd",
	// io_uring bypasses seccomp notification entirely.
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	// Keyrings are not namespaced.
	"keyctl", "add_key", "request_key",
	// Kernel replacement and modules.
	"kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module", "delete_module",
	"create_module", "query_module", "get_kernel_syms",
	// Host-wide resource and accounting control.
	"swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	// Host identity.
	"sethostname", "setdomainname",
	// Time is not namespaced.
	"settimeofday", "clock_settime", "clock_adjtime", "stime",
	// Handle-based opens bypass path checks.
	"open_by_handle_at", "name_to_handle_at",
	// Direct hardware I/O and legacy modes.
	"iopl", "ioperm", "vm86", "vm86old",
	// Kernel information leaks and obsolete paths.
	"syslog", "lookup_dcookie", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl",
	// Filesystem-wide monitoring.
	"fanotify_init",
	// NUMA policy.
	"mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages", "set_mempolicy_home_node",
	// SysV IPC: the IPC namespace is shared with the host.
	"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
	"msgget", "msgsnd", "msgrcv", "msgctl",
	// POSIX message queues, same sharing problem.
	"mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
}

// DefaultDeny returns the default deny list, attacks.md section 3.2, as a
// fresh slice the caller may modify. It includes names that exist only on
// some architectures (stime, vm86 and vm86old are i386 calls; iopl and
// ioperm do not exist on arm64); Build skips those. personality is not in
// the list: the sandbox sets ADDR_NO_RANDOMIZE before installing the filter
// and an argument filter limits the values instead (attacks.md 3.4).
func DefaultDeny() []string {
	return append([]string(nil), defaultDeny...)
}

// essential lists what the child stub does after the filter is installed
// (architecture.md section 2, steps 8 to 10) plus what the kernel needs to
// run any process.
var essential = []string{
	"execve",          // step 10
	"exit",            // thread exit, and the stub's _exit(127)
	"exit_group",      // process exit
	"rt_sigreturn",    // return from any signal handler
	"restart_syscall", // kernel-driven restart of an interrupted sleep
	"rt_sigprocmask",  // the stub unblocks signals before exec
	"rt_sigaction",    // and resets their dispositions
	"read",            // the "go" byte from the supervisor
	"write",           // the listener fd number and {step, errno} reports
	"sendmsg",         // SCM_RIGHTS hand-off of the listener
	"recvmsg",         // its acknowledgement
	"recvfrom",        // recv() on the sync socket
	"close",           // closing the hand-off ends before exec
	"close_range",     // step 9
}

// Essential returns the syscalls allowlist mode always admits because the
// sandbox itself needs them between installing the filter and exec
// (architecture.md section 2), as a fresh slice. They may not be denied
// (Build fails), but they may be notified. Note that the hand-off happens
// before the supervisor holds the listener: routing sendmsg, read or write
// to the supervisor while the stub still uses them for the hand-off would
// deadlock, so core/spawn must not depend on a notified call before "go".
func Essential() []string {
	return append([]string(nil), essential...)
}

// argFilter is the argument filter of one syscall (attacks.md 3.4). body
// runs with b.a empty: it emits the snippet's instructions, jumping to
// r.to(action) to return; falling off its end returns base, the action for
// "the argument filter passed".
type argFilter struct {
	name string
	body func(b *builder, r *rets, base Action)
}

// argFilters lists every argument-filtered syscall. A syscall that is
// denied gets no filter: it fails before its arguments are looked at.
var argFilters = []argFilter{
	{"clone", cloneBody},
	{"ioctl", ioctlBody},
	{"prctl", prctlBody},
	{"seccomp", seccompBody},
	{"socket", socketBody},
	{"socketpair", socketpairBody},
	{"setsockopt", setsockoptBody},
	// sendto/sendmsg/sendmmsg(..., unsigned int flags, ...): the index of
	// the flags argument.
	{"sendto", sendFlagsBody(3)},
	{"sendmsg", sendFlagsBody(2)},
	{"sendmmsg", sendFlagsBody(3)},
	// pid_t first argument.
	{"prlimit64", pidFirstBody},
	{"sched_setaffinity", pidFirstBody},
	{"sched_setscheduler", pidFirstBody},
	{"sched_setparam", pidFirstBody},
	{"sched_setattr", pidFirstBody},
	// (int which, int who).
	{"setpriority", whichWhoBody(prioProcess, prioPgrp)},
	{"getpriority", whichWhoBody(prioProcess, prioPgrp)},
	{"ioprio_set", whichWhoBody(ioprioWhoProcess, ioprioWhoPgrp)},
	{"personality", personalityBody},
}

// builder holds the resolved lists while a program is emitted. The lists
// are indexed by syscall number, up to the largest one of the architecture.
type builder struct {
	c      Config
	arch   *archSpec
	t      *archTables
	a      asm
	deny   []bool
	allow  []bool // nil outside allowlist mode
	notify []bool
}

// resolve marks the numbers of names in out. Unknown names are an error
// naming the list; names of other architectures are skipped and, when
// report is set, recorded in skipped.
func (b *builder) resolve(list string, names []string, report bool, skipped *[]string, out []bool) error {
	for _, n := range names {
		if nr, ok := b.arch.lookup(n); ok {
			out[nr] = true
			continue
		}
		if !otherArchName(n) {
			return fmt.Errorf("seccomp: unknown syscall %q in %s", n, list)
		}
		if report && !slices.Contains(*skipped, n) {
			*skipped = append(*skipped, n)
		}
	}
	return nil
}

// Build compiles c into a seccomp program for the architecture of the
// running binary (x86_64 or arm64). It is safe for concurrent use.
//
// # Layout
//
//  1. load arch; anything but the build architecture: KILL_PROCESS (covers
//     int 0x80, i386 and AArch32 compat calls);
//  2. load nr; on x86_64, nr & 0x40000000 (x32): KILL_PROCESS (upstream
//     lacked this check);
//  3. a binary search on nr (dispatch.go), over intervals of numbers that
//     share an action, that ends in one of the following;
//  4. for clone3: ERRNO(ENOSYS), so libc and Go fall back to clone, whose
//     flags are visible to BPF (attacks.md 3.3);
//  5. for an argument-filtered syscall that is not denied: its filter, which
//     ends in a return on every path (attacks.md 3.4);
//  6. for a denied syscall: ERRNO(EPERM); for a notified one (or fork and
//     vfork under NotifyForks): USER_NOTIF;
//  7. for anything else, including numbers that are no syscall: ALLOW, or
//     ERRNO(EPERM) in allowlist mode.
//
// Deny wins because a denied number gets neither an argument filter nor a
// notification. Every path that does not read arguments reads only arch and
// nr, so the kernel's per-syscall action cache (Linux 5.11,
// seccomp_cache_prepare) still short-cuts all plainly allowed syscalls.
func Build(c Config) (*Program, error) {
	if native == nil {
		return nil, errors.New("seccomp: no syscall table for this architecture (need amd64 or arm64)")
	}
	return build(c, native)
}

func build(c Config, a *archSpec) (*Program, error) {
	p := &Program{Arch: a.audit}
	t := a.tables()
	n := len(t.byNr)
	lists := make([]bool, 3*n)
	b := &builder{c: c, arch: a, t: t, deny: lists[:n:n], notify: lists[n : 2*n : 2*n]}

	if c.Deny == nil {
		for _, nr := range t.defaultDeny {
			b.deny[nr] = true
		}
	} else if err := b.resolve("Deny", c.Deny, true, &p.Skipped, b.deny); err != nil {
		return nil, err
	}
	if err := b.resolve("Notify", c.Notify, true, &p.Skipped, b.notify); err != nil {
		return nil, err
	}
	for _, e := range t.essential {
		if e.nr >= 0 && b.deny[e.nr] {
			return nil, fmt.Errorf("seccomp: cannot deny %s: the sandbox needs it to start (see Essential)", e.name)
		}
	}
	if c.Allow != nil {
		b.allow = lists[2*n:]
		if err := b.resolve("Allow", c.Allow, true, &p.Skipped, b.allow); err != nil {
			return nil, err
		}
		for _, e := range t.essential {
			if e.nr >= 0 {
				b.allow[e.nr] = true
			}
		}
	}

	def := actLeaf(ActionAllow)
	if b.allow != nil {
		def = actLeaf(ActionEPERM)
	}
	leaves := make([]leaf, n)
	for nr := range leaves {
		switch {
		case nr == t.clone3:
			leaves[nr] = actLeaf(ActionENOSYS)
		case b.denied(nr):
			leaves[nr] = actLeaf(ActionEPERM)
		case b.notify[nr]:
			leaves[nr] = actLeaf(ActionUserNotif)
		case c.NotifyForks && (nr == t.fork || nr == t.vfork):
			leaves[nr] = actLeaf(ActionUserNotif)
		case b.allow != nil && b.allow[nr]:
			leaves[nr] = actLeaf(ActionAllow)
		default:
			leaves[nr] = def
		}
	}
	e := &emitter{}
	for i, f := range argFilters {
		nr := t.filtered[i]
		if nr < 0 || nr == t.clone3 || b.denied(nr) {
			continue
		}
		code, err := b.snippet(f, b.base(nr))
		if err != nil {
			return nil, err
		}
		// Syscalls with the same filter share its instructions.
		idx := slices.IndexFunc(e.snippets, func(s []unix.SockFilter) bool { return slices.Equal(s, code) })
		if idx < 0 {
			idx = len(e.snippets)
			e.snippets = append(e.snippets, slices.Clone(code))
		}
		leaves[nr] = leaf{code: idx}
	}

	p.Instructions = e.program(a, leaves, def)
	if err := checkSize(len(p.Instructions)); err != nil {
		return nil, err
	}
	return p, nil
}

// snippet assembles the argument filter f of a syscall whose action, once
// the filter passes, is base.
func (b *builder) snippet(f argFilter, base Action) ([]unix.SockFilter, error) {
	b.a.reset()
	r := &b.a.rets
	r.to(base) // flushed first: body's fall-through
	f.body(b, r, base)
	r.flush()
	return b.a.finish()
}

// checkSize enforces BPF_MAXINSNS; seccomp(2) would fail with EINVAL.
func checkSize(n int) error {
	if n > maxInsns {
		return fmt.Errorf("seccomp: program has %d instructions, more than BPF_MAXINSNS (%d)", n, maxInsns)
	}
	return nil
}

// denied reports whether nr fails with EPERM before any argument is looked
// at: listed in Deny, or outside the allowlist. Being notified does not
// count: the supervisor would perform the call on the child's behalf, so
// admitting it here would widen the user's lists.
func (b *builder) denied(nr int) bool {
	if b.deny[nr] {
		return true
	}
	return b.allow != nil && !b.allow[nr]
}

// base is the action for a syscall that passed its argument filter.
func (b *builder) base(nr int) Action {
	if b.notify[nr] {
		return ActionUserNotif
	}
	return ActionAllow
}

// pidAction is the action for an explicit non-zero pid target.
func (b *builder) pidAction() Action {
	if b.c.NotifyPidTargets {
		return ActionUserNotif
	}
	return ActionEPERM
}

// jeqAny jumps to to when A equals any of ks and falls through otherwise.
func (b *builder) jeqAny(ks []uint32, to label) {
	for _, k := range ks {
		b.a.jeq(k, to, fall)
	}
}

// clone(flags, ...): the kernel uses lower_32_bits(clone_flags)
// (kernel/fork.c). Namespace flags: EPERM. Without CLONE_THREAD the call
// creates a process: notified under NotifyForks.
func cloneBody(b *builder, r *rets, base Action) {
	a := &b.a
	a.loadArgLo(0)
	a.jset(cloneNamespaces, r.to(ActionEPERM), fall)
	if b.c.NotifyForks && base != ActionUserNotif {
		a.jset(cloneThread, fall, r.to(ActionUserNotif))
	}
}

// ioctl(fd, unsigned int cmd, arg): only the low 32 bits of cmd reach the
// driver, so TIOCSTI | 1<<32 is TIOCSTI (CVE-2017-5226, CVE-2019-10063;
// attacks.md 3.4).
func ioctlBody(b *builder, r *rets, base Action) {
	b.a.loadArgLo(1)
	b.jeqAny([]uint32{tiocSTI, tiocLINUX, tiocCONS, tiocSETD}, r.to(ActionEPERM))
	if b.c.CapturedTTY {
		b.jeqAny([]uint32{tiocSCTTY, tiocSPGRP, tiocNOTTY}, r.to(ActionEPERM))
	}
	if b.c.VirtualNet {
		b.jeqAny(siocIfEnum, r.to(ActionEPERM))
	}
}

// prctl(int option, unsigned long arg2, ...): keep the supervisor able to
// read memory (DUMPABLE), no ptrace exceptions (PTRACER), no capability
// games (SECUREBITS, MM, ambient raise). arg2 is a full unsigned long
// compared against PR_CAP_AMBIENT_RAISE by cap_task_prctl, so all 64 bits
// are compared.
func prctlBody(b *builder, r *rets, base Action) {
	a := &b.a
	a.loadArgLo(0)
	b.jeqAny([]uint32{prSetDumpable, prSetPtracer, prSetSecurebits, prSetMM}, r.to(ActionEPERM))
	a.jeq(prCapAmbient, fall, r.to(base))
	a.loadArgHi(1)
	a.jeq(0, fall, r.to(base))
	a.loadArgLo(1)
	a.jeq(prCapAmbientRaise, r.to(ActionEPERM), fall)
}

// seccomp(unsigned int op, unsigned int flags, ...): a nested listener could
// CONTINUE what ours must emulate (attacks.md 3.4).
func seccompBody(b *builder, r *rets, base Action) {
	a := &b.a
	a.loadArgLo(0)
	a.jeq(seccompSetModeFilter, fall, r.to(base))
	a.loadArgLo(1)
	a.jset(seccompFilterFlagNewListener, r.to(ActionEPERM), fall)
}

// socketBody filters socket(int domain, int type, int protocol) (attacks.md
// 3.4, NET-02, NET-09). Landlock's TCP rules see only TCP: MPTCP, SCTP and
// DCCP connect past them [probe], so an AF_INET/AF_INET6 socket must be TCP
// (SOCK_STREAM with protocol 0 or IPPROTO_TCP), UDP (SOCK_DGRAM, unless
// NoUDP) or raw (SOCK_RAW/SOCK_PACKET, unless NoRaw); other types
// (SOCK_SEQPACKET is SCTP, SOCK_DCCP) are refused. The type is compared
// after masking SOCK_NONBLOCK and SOCK_CLOEXEC. Netlink is limited to
// NETLINK_ROUTE; families other than unix, inet, inet6 and netlink
// (AF_PACKET, AF_VSOCK, AF_ALG, AF_UNSPEC...) are refused.
func socketBody(b *builder, r *rets, base Action) {
	a := &b.a
	inet, netlink, stream := a.newLabel(), a.newLabel(), a.newLabel()
	deny := r.to(ActionEPERM)
	a.loadArgLo(0)
	a.jeq(afUnix, r.to(base), fall)
	a.jeq(afInet, inet, fall)
	a.jeq(afInet6, inet, fall)
	a.jeq(afNetlink, netlink, deny)

	a.bind(inet)
	a.loadArgLo(1)
	a.and(^uint32(sockNonblock | sockCloexec))
	dgram, raw := base, base
	if b.c.NoUDP {
		dgram = ActionEPERM
	}
	if b.c.NoRaw {
		raw = ActionEPERM
	}
	a.jeq(sockStream, stream, fall)
	a.jeq(sockDgram, r.to(dgram), fall)
	a.jeq(sockRaw, r.to(raw), fall)
	a.jeq(sockPacket, r.to(raw), deny)

	a.bind(stream)
	a.loadArgLo(2)
	a.jeq(0, r.to(base), fall)
	a.jeq(ipprotoTCP, r.to(base), deny)

	a.bind(netlink)
	a.loadArgLo(2)
	if b.c.VirtualNet {
		a.jeq(netlinkRoute, r.to(ActionUserNotif), deny)
		return
	}
	a.jeq(netlinkRoute, fall, deny)
}

// socketpair(int domain, ...): only AF_UNIX needs it (Chromium rule).
func socketpairBody(b *builder, r *rets, base Action) {
	b.a.loadArgLo(0)
	b.a.jeq(afUnix, fall, r.to(ActionEPERM))
}

// setsockopt(fd, int level, int optname, ...): TCP_FASTOPEN_CONNECT makes
// the next connect implicit, out of Landlock's sight ([LL#41]);
// SO_BINDTODEVICE and its sibling SO_BINDTOIFINDEX escape routing policy as
// root.
func setsockoptBody(b *builder, r *rets, base Action) {
	a := &b.a
	tcp, sol := a.newLabel(), a.newLabel()
	a.loadArgLo(1)
	a.jeq(ipprotoTCP, tcp, fall)
	a.jeq(solSocket, sol, r.to(base))
	a.bind(tcp)
	a.loadArgLo(2)
	a.jeq(tcpFastopenConnect, r.to(ActionEPERM), r.to(base))
	a.bind(sol)
	a.loadArgLo(2)
	b.jeqAny([]uint32{soBindToDevice, soBindToIfindex}, r.to(ActionEPERM))
}

// sendFlagsBody filters sendto/sendmsg/sendmmsg(..., unsigned int flags,
// ...), flags being argument arg: MSG_FASTOPEN connects implicitly, which
// Landlock's connect hook does not see ([LL#41], attacks.md 0).
func sendFlagsBody(arg int) func(b *builder, r *rets, base Action) {
	return func(b *builder, r *rets, base Action) {
		b.a.loadArgLo(arg)
		b.a.jset(msgFastopen, r.to(ActionEPERM), fall)
	}
}

// pidFirstBody filters a pid_t first argument: 0 is the caller itself;
// anything else may be the host (attacks.md 0: prlimit64 on the parent
// succeeded).
func pidFirstBody(b *builder, r *rets, base Action) {
	b.a.loadArgLo(0)
	b.a.jeq(0, fall, r.to(b.pidAction()))
}

// whichWhoBody filters (int which, int who), process and pgrp being the
// "which" values of the process and process-group forms: PRIO_USER /
// IOPRIO_WHO_USER would reach every process of the uid, so only those two
// forms are admitted, and only for who == 0 without the supervisor.
func whichWhoBody(process, pgrp uint32) func(b *builder, r *rets, base Action) {
	return func(b *builder, r *rets, base Action) {
		a := &b.a
		who := a.newLabel()
		a.loadArgLo(0)
		a.jeq(process, who, fall)
		a.jeq(pgrp, who, r.to(ActionEPERM))
		a.bind(who)
		a.loadArgLo(1)
		a.jeq(0, fall, r.to(b.pidAction()))
	}
}

// personality(unsigned int): PER_LINUX, PER_LINUX32 and the query
// 0xffffffff only; READ_IMPLIES_EXEC, MMAP_PAGE_ZERO and the emulation
// personalities are refused (Docker rule, attacks.md 3.4).
func personalityBody(b *builder, r *rets, base Action) {
	a := &b.a
	a.loadArgLo(0)
	a.jeq(perLinux, r.to(base), fall)
	a.jeq(perLinux32, r.to(base), fall)
	a.jeq(personalityQuery, fall, r.to(ActionEPERM))
}
