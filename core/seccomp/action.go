package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Action is a seccomp filter return value (SECCOMP_RET_* in
// <linux/seccomp.h>, seccomp(2) "Filter return values"): the action in the
// high 16 bits, its data (an errno for ERRNO) in the low 16 bits.
type Action uint32

const (
	// ActionKillProcess kills the whole process with SIGSYS. The filter
	// uses it only for ABI violations: a foreign architecture or an x32
	// syscall number (attacks.md 3.1).
	ActionKillProcess Action = retKillProcess
	// ActionUserNotif suspends the caller and hands the syscall to the
	// supervisor holding the listener fd (SECCOMP_RET_USER_NOTIF, Linux
	// 5.0). Without a listener the kernel answers ENOSYS.
	ActionUserNotif Action = retUserNotif
	// ActionAllow lets the syscall run.
	ActionAllow Action = retAllow
	// ActionEPERM is Errno(EPERM), the filter's ordinary refusal (what
	// Docker returns, attacks.md 3.1).
	ActionEPERM Action = retErrno | Action(unix.EPERM)
	// ActionENOSYS is Errno(ENOSYS), used for clone3 so that libc and the
	// Go runtime fall back to clone, whose flags the filter can inspect
	// (attacks.md 3.3).
	ActionENOSYS Action = retErrno | Action(unix.ENOSYS)
)

// Errno returns the action that fails a syscall with e
// (SECCOMP_RET_ERRNO | e). Only the low 16 bits of e are kept, as the kernel
// does.
func Errno(e unix.Errno) Action {
	return Action(retErrno | uint32(e)&retData)
}

// Errno reports the errno carried by an ERRNO action; ok is false for any
// other action.
func (a Action) Errno() (e unix.Errno, ok bool) {
	if uint32(a)&^retData != retErrno {
		return 0, false
	}
	return unix.Errno(uint32(a) & retData), true
}

// String returns the kernel's name for the action, such as "ALLOW" or
// "ERRNO(EPERM)".
func (a Action) String() string {
	switch a {
	case ActionKillProcess:
		return "KILL_PROCESS"
	case ActionUserNotif:
		return "USER_NOTIF"
	case ActionAllow:
		return "ALLOW"
	}
	if e, ok := a.Errno(); ok {
		if n := unix.ErrnoName(e); n != "" {
			return "ERRNO(" + n + ")"
		}
		return fmt.Sprintf("ERRNO(%d)", uint32(e))
	}
	return fmt.Sprintf("Action(%#x)", uint32(a))
}
