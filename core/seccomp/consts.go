package seccomp

// Kernel constants the filter compares against. They are spelled out here
// rather than taken from golang.org/x/sys/unix because unix only defines the
// values of the architecture being compiled, while the program builder emits
// filters for every architecture in archs (the tests build the arm64 filter on
// amd64). All of them have the same value on x86_64 and arm64 (both use the
// asm-generic ioctl, socket and fcntl numbering); consts_test.go checks each
// one against x/sys/unix for the build architecture.

// seccomp_data layout, from <linux/seccomp.h>:
//
//	struct seccomp_data {
//		int   nr;                   // offset 0
//		__u32 arch;                 // offset 4
//		__u64 instruction_pointer;  // offset 8
//		__u64 args[6];              // offset 16 + 8*i
//	};
//
// The structure is in host byte order. Both supported architectures are
// little-endian, so the low 32 bits of args[i] sit at 16+8*i and the high 32
// bits at 20+8*i.
const (
	offNr       = 0
	offArch     = 4
	offArgs     = 16
	seccompData = 64 // sizeof(struct seccomp_data)
)

// Return values, from <linux/seccomp.h>.
const (
	retKillProcess = 0x80000000
	retErrno       = 0x00050000
	retUserNotif   = 0x7fc00000
	retAllow       = 0x7fff0000
	retData        = 0x0000ffff
)

// maxInsns is BPF_MAXINSNS from <linux/bpf_common.h>: the kernel refuses a
// longer classic program with EINVAL (seccomp_check_filter, bpf_check_classic).
const maxInsns = 4096

// x32SyscallBit is __X32_SYSCALL_BIT from <asm/unistd.h> (x86 only).
const x32SyscallBit = 0x40000000

// Clone flags, from <linux/sched.h>.
const (
	cloneThread = 0x00010000
	// cloneNamespaces is CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|
	// CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET (attacks.md 3.4).
	// CLONE_NEWTIME (0x80) overlaps CSIGNAL and is only accepted by clone3
	// and unshare, both of which are refused elsewhere.
	cloneNamespaces = 0x7E020000
)

// Terminal ioctls, from <asm-generic/ioctls.h>.
const (
	tiocSCTTY = 0x540E
	tiocSPGRP = 0x5410
	tiocSTI   = 0x5412
	tiocLINUX = 0x541C
	tiocCONS  = 0x541D
	tiocNOTTY = 0x5422
	tiocSETD  = 0x5423
)

// Interface-enumeration ioctls, from <linux/sockios.h>: SIOCGIFNAME,
// SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR, SIOCGIFBRDADDR,
// SIOCGIFNETMASK, SIOCGIFMETRIC, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX,
// SIOCGIFPFLAGS, SIOCGIFCOUNT, SIOCGIFTXQLEN, SIOCETHTOOL, SIOCGMIIPHY and
// SIOCGIFMAP.
var siocIfEnum = []uint32{
	0x8910, 0x8912, 0x8913, 0x8915, 0x8917, 0x8919, 0x891b, 0x891d, 0x8921,
	0x8927, 0x8933, 0x8935, 0x8938, 0x8942, 0x8946, 0x8947, 0x8970,
}

// prctl options, from <linux/prctl.h>.
const (
	prSetDumpable     = 4
	prSetSecurebits   = 28
	prSetMM           = 35
	prCapAmbient      = 47
	prCapAmbientRaise = 2
	prSetPtracer      = 0x59616d61
)

// seccomp(2) operation and flag, from <linux/seccomp.h>.
const (
	seccompSetModeFilter         = 1
	seccompFilterFlagNewListener = 1 << 3
)

// Socket families, types, protocols and options, from <linux/socket.h>,
// <linux/net.h>, <asm-generic/fcntl.h>, <linux/in.h>, <linux/netlink.h>,
// <linux/tcp.h> and <asm-generic/socket.h>.
const (
	afUnix    = 1
	afInet    = 2
	afInet6   = 10
	afNetlink = 16

	sockStream   = 1
	sockDgram    = 2
	sockRaw      = 3
	sockPacket   = 10
	sockNonblock = 0x800   // O_NONBLOCK
	sockCloexec  = 0x80000 // O_CLOEXEC

	ipprotoTCP   = 6
	netlinkRoute = 0

	solSocket          = 1
	soBindToDevice     = 25
	soBindToIfindex    = 62
	tcpFastopenConnect = 30

	msgFastopen = 0x20000000
)

// Targets of setpriority/getpriority, from <linux/resource.h>, and of
// ioprio_set, from <linux/ioprio.h>.
const (
	prioProcess = 0
	prioPgrp    = 1

	ioprioWhoProcess = 1
	ioprioWhoPgrp    = 2
)

// personality(2) values, from <linux/personality.h>.
const (
	perLinux         = 0x0000
	perLinux32       = 0x0008
	personalityQuery = 0xffffffff
)
