package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Exit describes how a process ended, from waitid's siginfo.
type Exit struct {
	Code   int // exit status when Signal == 0
	Signal int // terminating signal, 0 if the process exited
	Core   bool
}

// Offsets in siginfo_t for SIGCHLD on 64-bit Linux: si_code at 8, si_pid at
// 16, si_uid at 20, si_status at 24 (<asm-generic/siginfo.h>).
const (
	siCodeOff   = 8
	siStatusOff = 24
	cldExited   = 1
	cldKilled   = 2
	cldDumped   = 3
)

// WaitPidfd reaps the process behind pidfd with waitid(P_PIDFD). With
// WNOHANG it returns ok=false while the process runs.
func WaitPidfd(pidfd int, options int) (e Exit, ok bool, err error) {
	var info unix.Siginfo
	for {
		err = unix.Waitid(unix.P_PIDFD, pidfd, &info, options|unix.WEXITED, nil)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return e, false, err
	}
	b := (*[128]byte)(unsafe.Pointer(&info))
	code := *(*int32)(unsafe.Pointer(&b[siCodeOff]))
	status := int(*(*int32)(unsafe.Pointer(&b[siStatusOff])))
	pid := *(*int32)(unsafe.Pointer(&b[16]))
	if pid == 0 {
		return e, false, nil // WNOHANG and still running
	}
	switch code {
	case cldExited:
		e.Code = status
	case cldKilled:
		e.Signal = status
	case cldDumped:
		e.Signal = status
		e.Core = true
	default:
		e.Signal = status
	}
	return e, true, nil
}

// LastPid reads /proc/sys/kernel/ns_last_pid: the last pid the kernel
// handed out in our pid namespace. Pids are allocated upwards (with
// wrap-around), so a child created after this read has a larger pid, which
// lets the process accounting look at a handful of new pids instead of
// scanning all of /proc.
func LastPid() (int, error) {
	var b [32]byte
	fd, err := unix.Open("/proc/sys/kernel/ns_last_pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	n, err := unix.Read(fd, b[:])
	unix.Close(fd)
	if err != nil {
		return 0, err
	}
	v := 0
	for _, c := range b[:n] {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int(c-'0')
	}
	return v, nil
}

// PidMax reads /proc/sys/kernel/pid_max.
func PidMax() int {
	b, err := readSmall("/proc/sys/kernel/pid_max")
	if err != nil {
		return 1 << 22
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int(c-'0')
	}
	if v == 0 {
		return 1 << 22
	}
	return v
}

func readSmall(path string) ([]byte, error) {
	var b [64]byte
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	n, err := unix.Read(fd, b[:])
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}
