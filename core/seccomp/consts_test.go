package seccomp

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestConstants checks the spelled-out kernel constants against
// golang.org/x/sys/unix for the build architecture.
func TestConstants(t *testing.T) {
	tests := []struct {
		name      string
		got, want uint64
	}{
		{"SECCOMP_RET_KILL_PROCESS", retKillProcess, unix.SECCOMP_RET_KILL_PROCESS},
		{"SECCOMP_RET_ERRNO", retErrno, unix.SECCOMP_RET_ERRNO},
		{"SECCOMP_RET_USER_NOTIF", retUserNotif, unix.SECCOMP_RET_USER_NOTIF},
		{"SECCOMP_RET_ALLOW", retAllow, unix.SECCOMP_RET_ALLOW},
		{"SECCOMP_RET_DATA", retData, unix.SECCOMP_RET_DATA},
		{"BPF_MAXINSNS", maxInsns, unix.BPF_MAXINSNS},
		{"CLONE_THREAD", cloneThread, unix.CLONE_THREAD},
		{"namespace clone flags", cloneNamespaces, unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET},
		{"TIOCSCTTY", tiocSCTTY, unix.TIOCSCTTY},
		{"TIOCSPGRP", tiocSPGRP, unix.TIOCSPGRP},
		{"TIOCSTI", tiocSTI, unix.TIOCSTI},
		{"TIOCLINUX", tiocLINUX, unix.TIOCLINUX},
		{"TIOCCONS", tiocCONS, unix.TIOCCONS},
		{"TIOCNOTTY", tiocNOTTY, unix.TIOCNOTTY},
		{"TIOCSETD", tiocSETD, unix.TIOCSETD},
		{"PR_SET_DUMPABLE", prSetDumpable, unix.PR_SET_DUMPABLE},
		{"PR_SET_SECUREBITS", prSetSecurebits, unix.PR_SET_SECUREBITS},
		{"PR_SET_MM", prSetMM, unix.PR_SET_MM},
		{"PR_CAP_AMBIENT", prCapAmbient, unix.PR_CAP_AMBIENT},
		{"PR_CAP_AMBIENT_RAISE", prCapAmbientRaise, unix.PR_CAP_AMBIENT_RAISE},
		{"PR_SET_PTRACER", prSetPtracer, unix.PR_SET_PTRACER},
		{"SECCOMP_SET_MODE_FILTER", seccompSetModeFilter, unix.SECCOMP_SET_MODE_FILTER},
		{"SECCOMP_FILTER_FLAG_NEW_LISTENER", seccompFilterFlagNewListener, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
		{"AF_UNIX", afUnix, unix.AF_UNIX},
		{"AF_INET", afInet, unix.AF_INET},
		{"AF_INET6", afInet6, unix.AF_INET6},
		{"AF_NETLINK", afNetlink, unix.AF_NETLINK},
		{"SOCK_STREAM", sockStream, unix.SOCK_STREAM},
		{"SOCK_DGRAM", sockDgram, unix.SOCK_DGRAM},
		{"SOCK_RAW", sockRaw, unix.SOCK_RAW},
		{"SOCK_PACKET", sockPacket, unix.SOCK_PACKET},
		{"SOCK_NONBLOCK", sockNonblock, unix.SOCK_NONBLOCK},
		{"SOCK_CLOEXEC", sockCloexec, unix.SOCK_CLOEXEC},
		{"IPPROTO_TCP", ipprotoTCP, unix.IPPROTO_TCP},
		{"NETLINK_ROUTE", netlinkRoute, unix.NETLINK_ROUTE},
		{"SOL_SOCKET", solSocket, unix.SOL_SOCKET},
		{"SO_BINDTODEVICE", soBindToDevice, unix.SO_BINDTODEVICE},
		{"SO_BINDTOIFINDEX", soBindToIfindex, unix.SO_BINDTOIFINDEX},
		{"TCP_FASTOPEN_CONNECT", tcpFastopenConnect, unix.TCP_FASTOPEN_CONNECT},
		{"MSG_FASTOPEN", msgFastopen, unix.MSG_FASTOPEN},
		{"PRIO_PROCESS", prioProcess, unix.PRIO_PROCESS},
		{"PRIO_PGRP", prioPgrp, unix.PRIO_PGRP},
		{"AUDIT_ARCH_X86_64", uint64(archAMD64.audit), unix.AUDIT_ARCH_X86_64},
		{"AUDIT_ARCH_AARCH64", uint64(archARM64.audit), unix.AUDIT_ARCH_AARCH64},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

// TestInterfaceIoctls checks the spelled-out interface ioctls against the
// reference's list, taken from golang.org/x/sys/unix.
func TestInterfaceIoctls(t *testing.T) {
	if !slices.Equal(siocIfEnum, refSiocIfEnum) {
		t.Errorf("siocIfEnum = %#x, want %#x", siocIfEnum, refSiocIfEnum)
	}
}
