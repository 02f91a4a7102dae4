package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PidfdOpen opens a pidfd for pid with close-on-exec set by the kernel.
func PidfdOpen(pid int, flags int) (int, error) {
	for {
		r, _, e := unix.Syscall(unix.SYS_PIDFD_OPEN, uintptr(pid), uintptr(flags), 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// PidfdGetfd duplicates fd targetfd of the process behind pidfd.
func PidfdGetfd(pidfd, targetfd int) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_PIDFD_GETFD, uintptr(pidfd), uintptr(targetfd), 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// PidfdSendSignal sends sig to the process behind pidfd; unlike kill(2) it
// cannot hit a recycled pid.
func PidfdSendSignal(pidfd int, sig unix.Signal) error {
	_, _, e := unix.Syscall6(unix.SYS_PIDFD_SEND_SIGNAL, uintptr(pidfd), uintptr(sig), 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// ErrPartialRead is returned when the target's memory ends before the data.
var ErrPartialRead = errors.New("short read of target memory")

// ReadMem copies len(buf) bytes at addr of pid with process_vm_readv.
func ReadMem(pid int, addr uint64, buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	n, err := readv(pid, addr, buf)
	if err != nil {
		return err
	}
	if n != len(buf) {
		return ErrPartialRead
	}
	return nil
}

// ReadString copies a NUL-terminated string of at most max bytes from the
// target into buf (reused by the caller) and returns it without the NUL.
// It reads straight into buf's spare capacity, never across a page
// boundary, so a string that ends just before an unmapped page still
// reads; the first read is short (most paths are) so that a call touches
// few cache lines on both sides.
func ReadString(pid int, addr uint64, buf []byte, max int) ([]byte, error) {
	const page = 4096
	const first = 256
	buf = buf[:0]
	for len(buf) < max {
		n := page - int(addr%page)
		if len(buf) == 0 && n > first {
			n = first
		}
		if rem := max - len(buf); n > rem {
			n = rem
		}
		buf = slices.Grow(buf, n) // allocates only for a caller's short buffer
		chunk := buf[len(buf) : len(buf)+n]
		got, err := readv(pid, addr, chunk)
		if err != nil {
			return nil, err
		}
		if got == 0 {
			return nil, ErrPartialRead
		}
		if i := bytes.IndexByte(chunk[:got], 0); i >= 0 {
			return buf[:len(buf)+i], nil
		}
		buf = buf[:len(buf)+got]
		addr += uint64(got)
	}
	return nil, unix.ENAMETOOLONG
}

// readv is one process_vm_readv of len(b) bytes at addr of pid into b,
// without the slice headers unix.ProcessVMReadv takes.
func readv(pid int, addr uint64, b []byte) (int, error) {
	local := unix.Iovec{Base: &b[0]}
	local.SetLen(len(b))
	remote := unix.RemoteIovec{Base: uintptr(addr), Len: len(b)}
	r, _, e := unix.Syscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid), uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote)), 1, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// StartTime returns field 22 (starttime, clock ticks since boot) of
// /proc/<pid>/stat. Together with the pid it names a process uniquely even
// after the pid is recycled. The comm field may contain spaces and ')', so
// parsing starts after the last ") ".
func StartTime(pid int) (uint64, error) {
	_, st, err := StatPpidStart(pid)
	return st, err
}

// StatPpidStart returns the parent pid and start time of pid.
func StatPpidStart(pid int) (ppid int, start uint64, err error) {
	var b [512]byte
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, err
	}
	n, err := unix.Read(fd, b[:])
	unix.Close(fd)
	if err != nil {
		return 0, 0, err
	}
	return parseStat(b[:n])
}

func parseStat(b []byte) (ppid int, start uint64, err error) {
	i := bytes.LastIndex(b, []byte(") "))
	if i < 0 {
		return 0, 0, fmt.Errorf("parse stat: no comm terminator")
	}
	// After ") " come fields 3 (state) onward.
	fields := bytes.Fields(b[i+2:])
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("parse stat: %d fields", len(fields))
	}
	p, err := strconv.Atoi(string(fields[1]))
	if err != nil {
		return 0, 0, fmt.Errorf("parse stat ppid: %w", err)
	}
	s, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse stat starttime: %w", err)
	}
	return p, s, nil
}

// pollfd helpers kept here so the supervisor's hot path does not allocate.

// PollIn polls one fd without blocking and returns its revents.
func PollIn(fd int) (int16, error) {
	pfd := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, _, e := unix.Syscall(unix.SYS_POLL, uintptr(unsafe.Pointer(&pfd[0])), 1, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return pfd[0].Revents, nil
	}
}
