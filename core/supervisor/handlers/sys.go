package handlers

import (
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw system-call helpers for the file mediation's hot path: paths are
// NUL-terminated byte slices owned by the caller, so no call allocates.

func openatRaw(dirfd int, path []byte, flags int, mode uint32) (int, unix.Errno) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])), uintptr(flags|unix.O_LARGEFILE), uintptr(mode), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), 0
	}
}

func openat2Raw(dirfd int, path []byte, how *unix.OpenHow) (int, unix.Errno) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT2, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])), uintptr(unsafe.Pointer(how)), unsafe.Sizeof(*how), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), 0
	}
}

func readlinkRaw(path []byte, buf []byte) (int, unix.Errno) {
	dirfd := unix.AT_FDCWD
	r, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

// appendProcPath appends "/proc/<pid>/<rest>" and a NUL to b.
func appendProcPath(b []byte, pid int, rest string) []byte {
	b = append(b, "/proc/"...)
	b = strconv.AppendInt(b, int64(pid), 10)
	if rest != "" {
		b = append(b, '/')
		b = append(b, rest...)
	}
	return append(b, 0)
}

// appendSelfFd appends "/proc/self/fd/<fd>" and a NUL to b.
func appendSelfFd(b []byte, fd int) []byte {
	b = append(b, "/proc/self/fd/"...)
	b = strconv.AppendInt(b, int64(fd), 10)
	return append(b, 0)
}

// fdPath returns the path of the object behind fd (the target of the
// /proc/self/fd magic link) in buf, without the " (deleted)" mark of an
// unlinked file; deleted reports that mark.
func fdPath(fd int, buf []byte) (p []byte, deleted bool, err unix.Errno) {
	var lp [40]byte
	n, e := readlinkRaw(appendSelfFd(lp[:0], fd), buf)
	if e != 0 {
		return nil, false, e
	}
	if n == len(buf) {
		return nil, false, unix.ENAMETOOLONG
	}
	p = buf[:n]
	const mark = " (deleted)"
	if len(p) > len(mark) && string(p[len(p)-len(mark):]) == mark {
		return p[:len(p)-len(mark)], true, 0
	}
	return p, false, 0
}

// writeMem copies data into the target's memory at addr.
func writeMem(pid int, addr uint64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	local := []unix.Iovec{{Base: &data[0]}}
	local[0].SetLen(len(data))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(data)}}
	n, err := unix.ProcessVMWritev(pid, local, remote, 0)
	if err != nil {
		return err
	}
	if n != len(data) {
		return unix.EFAULT
	}
	return nil
}

// sealedMemfd returns a memfd holding data, sealed against any change
// (F_SEAL_SEAL|WRITE|GROW|SHRINK), with its offset at 0.
func sealedMemfd(name string, data []byte) (int, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_NOEXEC_SEAL)
	if err == unix.EINVAL {
		// Kernels before 6.3 lack MFD_NOEXEC_SEAL.
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return -1, err
	}
	for off := 0; off < len(data); {
		n, err := unix.Pwrite(fd, data[off:], int64(off))
		if err != nil {
			unix.Close(fd)
			return -1, err
		}
		off += n
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_WRITE | unix.F_SEAL_GROW | unix.F_SEAL_SHRINK
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }
