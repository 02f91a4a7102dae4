package handlers

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw socket calls on byte-slice addresses: the supervisor passes the
// child's copied sockaddr to the kernel exactly as it was checked, which
// unix.Sockaddr values would re-encode.

// pidfdThread is PIDFD_THREAD (Linux 6.9, equal to O_EXCL): a pidfd for one
// thread, whose fd table pidfd_getfd then uses.
const pidfdThread = unix.O_EXCL

func errnoOr(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

func sysConnect(fd int, addr []byte) unix.Errno {
	var p unsafe.Pointer
	if len(addr) > 0 {
		p = unsafe.Pointer(&addr[0])
	}
	for {
		_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(p), uintptr(len(addr)))
		if e != unix.EINTR {
			return e
		}
	}
}

func sysBind(fd int, addr []byte) unix.Errno {
	var p unsafe.Pointer
	if len(addr) > 0 {
		p = unsafe.Pointer(&addr[0])
	}
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(p), uintptr(len(addr)))
	return e
}

// sysSockname calls getsockname (peer false) or getpeername (peer true) and
// returns the address bytes.
func sysSockname(fd int, peer bool) ([]byte, unix.Errno) {
	var buf [sockaddrStorage]byte
	l := uint32(len(buf))
	nr := uintptr(unix.SYS_GETSOCKNAME)
	if peer {
		nr = unix.SYS_GETPEERNAME
	}
	_, _, e := unix.Syscall(nr, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return nil, e
	}
	if int(l) > len(buf) {
		l = uint32(len(buf))
	}
	return append([]byte(nil), buf[:l]...), 0
}

// sysSendmsg sends one message built from name, data and control.
func sysSendmsg(fd int, name, data, control []byte, flags int) (int, unix.Errno) {
	var msg unix.Msghdr
	var iov unix.Iovec
	if len(name) > 0 {
		msg.Name = &name[0]
		msg.Namelen = uint32(len(name))
	}
	if len(data) > 0 {
		iov.Base = &data[0]
		iov.SetLen(len(data))
		msg.Iov = &iov
		msg.SetIovlen(1)
	}
	if len(control) > 0 {
		msg.Control = &control[0]
		msg.SetControllen(len(control))
	}
	for {
		r, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), 0
	}
}

// sockoptLen returns the length of a variable-size socket option (0 when
// it is unset or the socket does not know it).
func sockoptLen(fd, level, opt int) int {
	var buf [64]byte
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0
	}
	return int(l)
}

// pollOut waits until fd is writable, the notification stops being pending
// (valid returns false), or deadline passes (zero: none). It waits in
// slices so that a child killed meanwhile is noticed.
func pollOut(fd int, valid func() bool, deadline time.Time) (ready bool) {
	const slice = 100 * time.Millisecond
	for {
		wait := slice
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return false
			}
			wait = min(wait, left)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(pfd, int(wait/time.Millisecond)+1)
		if err == nil && n > 0 {
			return true
		}
		if err != nil && err != unix.EINTR {
			return true // let the operation report the error
		}
		if !valid() {
			return false
		}
	}
}

// sendTimeout returns the socket's SO_SNDTIMEO (0: none), which also bounds
// a blocking connect.
func sendTimeout(fd int) time.Duration {
	tv, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO)
	if err != nil {
		return 0
	}
	return time.Duration(tv.Sec)*time.Second + time.Duration(tv.Usec)*time.Microsecond
}
