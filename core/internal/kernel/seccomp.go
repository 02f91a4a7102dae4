// Package kernel holds the Linux ABI structures and thin syscall wrappers the
// engine needs beyond golang.org/x/sys/unix: the seccomp user-notification
// ioctls, pidfd helpers and child-memory access.
//
// Every structure here mirrors a kernel UAPI header; the comment on each says
// which one so that a reviewer can check the layout.
package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// SeccompData mirrors struct seccomp_data from <linux/seccomp.h>.
type SeccompData struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// Notif mirrors struct seccomp_notif (<linux/seccomp.h>, Linux 5.0); 80 bytes,
// which SECCOMP_GET_NOTIF_SIZES confirms on the machines we target.
type Notif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  SeccompData
}

// NotifResp mirrors struct seccomp_notif_resp (24 bytes).
type NotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// NotifAddfd mirrors struct seccomp_notif_addfd (Linux 5.9; SEND flag 5.14).
type NotifAddfd struct {
	ID         uint64
	Flags      uint32
	Srcfd      uint32
	Newfd      uint32
	Newfdflags uint32
}

// Sizes of the notification structures; checked in tests against the kernel.
const (
	NotifSize = int(unsafe.Sizeof(Notif{}))
	RespSize  = int(unsafe.Sizeof(NotifResp{}))
)

// SeccompGetNotifSizes is SECCOMP_GET_NOTIF_SIZES from <linux/seccomp.h>.
const SeccompGetNotifSizes = 3

// NotifSizes mirrors struct seccomp_notif_sizes.
type NotifSizes struct {
	Notif     uint16
	Resp      uint16
	SeccompDa uint16
}

// GetNotifSizes asks the kernel for the notification structure sizes.
func GetNotifSizes() (NotifSizes, error) {
	var s NotifSizes
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, SeccompGetNotifSizes, 0, uintptr(unsafe.Pointer(&s)))
	if e != 0 {
		return s, e
	}
	return s, nil
}

func ioctlPtr(fd int, req uintptr, p unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(p))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// NotifRecv receives one notification. The caller must only call it when the
// listener polled readable: the ioctl blocks otherwise, whatever O_NONBLOCK says.
func NotifRecv(fd int, n *Notif) error {
	*n = Notif{} // the kernel rejects a non-zeroed buffer with EINVAL
	return ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(n))
}

// NotifSend answers a notification. ENOENT means the target died or was
// interrupted: the answer is moot, and callers treat it as success.
func NotifSend(fd int, r *NotifResp) error {
	return ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(r))
}

// NotifIDValid reports whether the notification id still names a live,
// waiting syscall. It must be checked after reading the target's memory and
// before acting on what was read (seccomp_unotify(2), "pid reuse").
func NotifIDValid(fd int, id uint64) bool {
	return ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)) == nil
}

// NotifAddFD installs srcfd in the target and returns the fd number it got
// there (with SECCOMP_ADDFD_FLAG_SEND it would also be the syscall's result;
// Supervisor.InjectFD explains why that flag is not used).
func NotifAddFD(fd int, a *NotifAddfd) (int, error) {
	for {
		r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_ADDFD, uintptr(unsafe.Pointer(a)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// NotifSetSyncWakeUp asks the kernel to wake the target on the CPU of the
// supervisor (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.7). Best effort.
func NotifSetSyncWakeUp(fd int) error {
	// The flags travel in the ioctl argument itself, not behind a pointer.
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	if e != 0 {
		return e
	}
	return nil
}
