package seccomp

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// This file holds the reference decision: what the filter must answer,
// written from attacks.md section 3 and the Config documentation, by name
// and with plain Go comparisons. It shares no code with build.go beyond the
// syscall tables, so FuzzProgram and TestDecide compare two independent
// readings of the specification.

// specDeny is attacks.md 3.2 as written there.
var specDeny = []string{
	"mount", "umount2", "pivot_root", "chroot",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "open_tree_attr", "mount_setattr",
	"unshare", "setns",
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "process_madvise", "process_mrelease",
	"bpf", "perf_event_open", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"keyctl", "add_key", "request_key",
	"kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms",
	"swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	"sethostname", "setdomainname",
	"settimeofday", "clock_settime", "clock_adjtime", "stime",
	"open_by_handle_at", "name_to_handle_at",
	"iopl", "ioperm", "vm86", "vm86old",
	"syslog", "lookup_dcookie", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl",
	"fanotify_init",
	"mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages", "set_mempolicy_home_node",
	"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl",
	"mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
}

// specEssential is the documented Essential() set.
var specEssential = []string{
	"execve", "exit", "exit_group", "rt_sigreturn", "restart_syscall", "rt_sigprocmask", "rt_sigaction",
	"read", "write", "sendmsg", "recvmsg", "recvfrom", "close", "close_range",
}

// Values the reference needs that golang.org/x/sys/unix does not define.
const (
	refPerLinux32    = 0x0008     // <linux/personality.h>
	refIoprioProcess = 1          // IOPRIO_WHO_PROCESS, <linux/ioprio.h>
	refIoprioPgrp    = 2          // IOPRIO_WHO_PGRP
	refIoprioUser    = 3          // IOPRIO_WHO_USER
	refX32Bit        = 0x40000000 // __X32_SYSCALL_BIT
	refNsFlags       = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
		unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET
)

// refSiocIfEnum are the interface-enumeration ioctls VirtualNet refuses.
var refSiocIfEnum = []uint32{
	unix.SIOCGIFNAME, unix.SIOCGIFCONF, unix.SIOCGIFFLAGS, unix.SIOCGIFADDR, unix.SIOCGIFDSTADDR,
	unix.SIOCGIFBRDADDR, unix.SIOCGIFNETMASK, unix.SIOCGIFMETRIC, unix.SIOCGIFMTU, unix.SIOCGIFHWADDR,
	unix.SIOCGIFINDEX, unix.SIOCGIFPFLAGS, unix.SIOCGIFCOUNT, unix.SIOCGIFTXQLEN, unix.SIOCETHTOOL,
	unix.SIOCGMIIPHY, unix.SIOCGIFMAP,
}

// bogusName is a name that exists on no architecture: Build must fail.
const bogusName = "no_such_syscall"

// referenceBuildFails reports whether Build must refuse c: a name unknown
// on every architecture, or a denied essential syscall.
func referenceBuildFails(c Config, a *archSpec) bool {
	for _, l := range [][]string{c.Deny, c.Allow, c.Notify} {
		if slices.Contains(l, bogusName) {
			return true
		}
	}
	for _, e := range specEssential {
		if slices.Contains(c.Deny, e) {
			if _, ok := a.lookup(e); ok {
				return true
			}
		}
	}
	return false
}

// reference returns the action the filter built from c must take for d.
func reference(c Config, a *archSpec, d Data) Action {
	// attacks.md 3.1 steps 1 and 2: ABI violations are killed.
	if d.Arch != a.audit {
		return ActionKillProcess
	}
	if a == archAMD64 && uint32(d.Nr)&refX32Bit != 0 {
		return ActionKillProcess
	}
	name := a.nameOf(int(d.Nr)) // "" for a number that is no syscall
	// attacks.md 3.3: clone3 always fails with ENOSYS.
	if name == "clone3" {
		return ActionENOSYS
	}
	in := func(list []string) bool { return name != "" && slices.Contains(list, name) }

	deny := c.Deny
	if deny == nil {
		deny = specDeny
	}
	// Deny wins over everything below; in allowlist mode, what is not
	// allowed or essential is denied, whether a feature notifies it or
	// not.
	if in(deny) {
		return ActionEPERM
	}
	if c.Allow != nil && !in(c.Allow) && !in(specEssential) {
		return ActionEPERM
	}

	base := ActionAllow
	if in(c.Notify) {
		base = ActionUserNotif
	}
	lo := func(i int) uint32 { return uint32(d.Args[i]) }
	pidTarget := func(pid uint32) Action {
		switch {
		case pid == 0:
			return base
		case c.NotifyPidTargets:
			return ActionUserNotif
		default:
			return ActionEPERM
		}
	}

	// attacks.md 3.4, comparing the bits the kernel reads.
	switch name {
	case "clone":
		if lo(0)&refNsFlags != 0 {
			return ActionEPERM
		}
		if c.NotifyForks && lo(0)&unix.CLONE_THREAD == 0 {
			return ActionUserNotif
		}
	case "fork", "vfork":
		if c.NotifyForks {
			return ActionUserNotif
		}
	case "ioctl":
		switch lo(1) {
		case unix.TIOCSTI, unix.TIOCLINUX, unix.TIOCCONS, unix.TIOCSETD:
			return ActionEPERM
		case unix.TIOCSCTTY, unix.TIOCSPGRP, unix.TIOCNOTTY:
			if c.CapturedTTY {
				return ActionEPERM
			}
		}
		if c.VirtualNet && slices.Contains(refSiocIfEnum, lo(1)) {
			return ActionEPERM
		}
	case "prctl":
		switch lo(0) {
		case unix.PR_SET_DUMPABLE, unix.PR_SET_PTRACER, unix.PR_SET_SECUREBITS, unix.PR_SET_MM:
			return ActionEPERM
		case unix.PR_CAP_AMBIENT:
			if d.Args[1] == unix.PR_CAP_AMBIENT_RAISE {
				return ActionEPERM
			}
		}
	case "seccomp":
		if lo(0) == unix.SECCOMP_SET_MODE_FILTER && lo(1)&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
			return ActionEPERM
		}
	case "socket":
		typ := lo(1) &^ (unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC)
		switch lo(0) {
		case unix.AF_UNIX:
		case unix.AF_INET, unix.AF_INET6:
			switch typ {
			case unix.SOCK_STREAM:
				if lo(2) != 0 && lo(2) != unix.IPPROTO_TCP {
					return ActionEPERM
				}
			case unix.SOCK_DGRAM:
				if c.NoUDP {
					return ActionEPERM
				}
			case unix.SOCK_RAW, unix.SOCK_PACKET:
				if c.NoRaw {
					return ActionEPERM
				}
			default:
				return ActionEPERM
			}
		case unix.AF_NETLINK:
			if lo(2) != unix.NETLINK_ROUTE {
				return ActionEPERM
			}
			if c.VirtualNet {
				return ActionUserNotif
			}
		default:
			return ActionEPERM
		}
	case "socketpair":
		if lo(0) != unix.AF_UNIX {
			return ActionEPERM
		}
	case "setsockopt":
		if lo(1) == unix.IPPROTO_TCP && lo(2) == unix.TCP_FASTOPEN_CONNECT {
			return ActionEPERM
		}
		if lo(1) == unix.SOL_SOCKET && (lo(2) == unix.SO_BINDTODEVICE || lo(2) == unix.SO_BINDTOIFINDEX) {
			return ActionEPERM
		}
	case "sendto", "sendmmsg":
		if lo(3)&unix.MSG_FASTOPEN != 0 {
			return ActionEPERM
		}
	case "sendmsg":
		if lo(2)&unix.MSG_FASTOPEN != 0 {
			return ActionEPERM
		}
	case "prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr":
		return pidTarget(lo(0))
	case "setpriority", "getpriority":
		if lo(0) != unix.PRIO_PROCESS && lo(0) != unix.PRIO_PGRP {
			return ActionEPERM
		}
		return pidTarget(lo(1))
	case "ioprio_set":
		if lo(0) != refIoprioProcess && lo(0) != refIoprioPgrp {
			return ActionEPERM
		}
		return pidTarget(lo(1))
	case "personality":
		if lo(0) != 0 && lo(0) != refPerLinux32 && lo(0) != 0xffffffff {
			return ActionEPERM
		}
	}
	return base
}

// TestSpecLists pins DefaultDeny and Essential to the lists above.
func TestSpecLists(t *testing.T) {
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"DefaultDeny", DefaultDeny(), specDeny},
		{"Essential", Essential(), specEssential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("%s() = %v, want %v", tt.name, tt.got, tt.want)
			}
			tt.got[0] = "mutated"
			if again := map[string][]string{"DefaultDeny": DefaultDeny(), "Essential": Essential()}[tt.name]; again[0] == "mutated" {
				t.Errorf("%s() returned shared storage", tt.name)
			}
		})
	}
	if slices.Contains(DefaultDeny(), "personality") {
		t.Errorf("DefaultDeny() contains personality, want it argument-filtered instead")
	}
}
