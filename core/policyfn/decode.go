package policyfn

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
)

// Reading system call arguments from the target's memory. Every read is a
// private copy; callers check the notification id afterwards.

// Bounds of an argv read. The kernel refuses a string longer than
// MAX_ARG_STRLEN (32 pages) and, with the default 8 MiB stack, more than
// 2 MiB of arguments and environment, so an argv past these bounds could
// not be executed anyway: it is refused with E2BIG.
const (
	maxArgStrlen = 32 * 4096
	maxArgvBytes = 4 << 20
	maxArgc      = 1 << 18
)

// readArgv copies the NULL-terminated argv at addr of task tid.
func readArgv(tid int, addr uint64) ([]string, unix.Errno) {
	if addr == 0 {
		return nil, 0
	}
	var argv []string
	total := 0
	var ptrs [512]byte // 64 pointers per read, within one page
	buf := make([]byte, 0, 256)
	for {
		// Read up to the end of the page so that an array ending just
		// before an unmapped page still reads.
		n := len(ptrs)
		if rem := 4096 - int(addr%4096); rem < n {
			n = rem
		}
		n -= n % 8
		if n == 0 {
			n = 8
		}
		if err := kernel.ReadMem(tid, addr, ptrs[:n]); err != nil {
			return nil, unix.EFAULT
		}
		for i := 0; i < n; i += 8 {
			p := binary.LittleEndian.Uint64(ptrs[i:])
			if p == 0 {
				return argv, 0
			}
			if len(argv) >= maxArgc {
				return nil, unix.E2BIG
			}
			s, err := kernel.ReadString(tid, p, buf, maxArgStrlen)
			if err != nil {
				if err == unix.ENAMETOOLONG {
					return nil, unix.E2BIG
				}
				return nil, unix.EFAULT
			}
			total += len(s) + 1
			if total > maxArgvBytes {
				return nil, unix.E2BIG
			}
			argv = append(argv, string(s))
			buf = s[:0]
		}
		addr += uint64(n)
	}
}

// sockAddr is a decoded socket address.
type sockAddr struct {
	family uint16
	addr   netip.Addr // valid for AF_INET and AF_INET6
	port   uint16
}

// maxSockaddr is sizeof(struct sockaddr_storage).
const maxSockaddr = 128

// readSockaddr copies and decodes the sockaddr of length n at addr. A NULL
// address gives a zero sockAddr.
func readSockaddr(tid int, addr, n uint64) (sockAddr, unix.Errno) {
	var sa sockAddr
	if addr == 0 || n == 0 {
		return sa, 0
	}
	if n > maxSockaddr {
		n = maxSockaddr
	}
	var b [maxSockaddr]byte
	if err := kernel.ReadMem(tid, addr, b[:n]); err != nil {
		return sa, unix.EFAULT
	}
	if n < 2 {
		return sa, 0
	}
	sa.family = binary.LittleEndian.Uint16(b[:])
	switch sa.family {
	case unix.AF_INET:
		if n >= 8 {
			sa.port = binary.BigEndian.Uint16(b[2:])
			sa.addr = netip.AddrFrom4([4]byte(b[4:8]))
		}
	case unix.AF_INET6:
		if n >= 24 {
			sa.port = binary.BigEndian.Uint16(b[2:])
			sa.addr = netip.AddrFrom16([16]byte(b[8:24])).Unmap()
		}
	}
	return sa, 0
}

// struct msghdr on 64-bit Linux: msg_name at 0, msg_namelen (u32) at 8;
// struct mmsghdr is a msghdr and msg_len, 64 bytes.
const (
	msghdrSize  = 56
	mmsghdrSize = 64
	// uioMaxIOV is UIO_MAXIOV, the kernel's cap on sendmmsg's vlen.
	uioMaxIOV = 1024
)

func readMsgName(tid int, msghdr uint64) (sockAddr, unix.Errno) {
	var b [16]byte
	if err := kernel.ReadMem(tid, msghdr, b[:]); err != nil {
		return sockAddr{}, unix.EFAULT
	}
	name := binary.LittleEndian.Uint64(b[0:])
	nlen := uint64(binary.LittleEndian.Uint32(b[8:]))
	return readSockaddr(tid, name, nlen)
}

// destinations decodes the addresses a network call names: one for
// connect, bind, sendto and sendmsg, up to vlen for sendmmsg.
func destinations(name string, tid int, a [6]uint64) ([]sockAddr, unix.Errno) {
	switch name {
	case "connect", "bind":
		sa, e := readSockaddr(tid, a[1], a[2])
		return []sockAddr{sa}, e
	case "sendto":
		sa, e := readSockaddr(tid, a[4], a[5])
		return []sockAddr{sa}, e
	case "sendmsg":
		sa, e := readMsgName(tid, a[1])
		return []sockAddr{sa}, e
	case "sendmmsg":
		vlen := uint64(uint32(a[2]))
		if vlen > uioMaxIOV {
			vlen = uioMaxIOV
		}
		out := make([]sockAddr, 0, vlen)
		for i := uint64(0); i < vlen; i++ {
			sa, e := readMsgName(tid, a[1]+i*mmsghdrSize)
			if e != 0 {
				if i > 0 {
					break // the kernel stops at the first bad message too
				}
				return nil, e
			}
			out = append(out, sa)
		}
		return out, 0
	}
	return nil, 0
}

// startBrk returns field 47 (start_brk) of /proc/<pid>/stat, 0 if unknown.
func startBrk(pid int) uint64 {
	var b [1024]byte
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	n, _ := unix.Read(fd, b[:])
	unix.Close(fd)
	if n <= 0 {
		return 0
	}
	s := b[:n]
	i := lastIndex(s, ") ")
	if i < 0 {
		return 0
	}
	// After ") " comes field 3; start_brk is field 47.
	field := 3
	start := i + 2
	for j := start; j <= len(s); j++ {
		if j == len(s) || s[j] == ' ' {
			if field == 47 {
				v, _ := strconv.ParseUint(string(s[start:j]), 10, 64)
				return v
			}
			field++
			start = j + 1
		}
	}
	return 0
}

func lastIndex(b []byte, sep string) int {
	for i := len(b) - len(sep); i >= 0; i-- {
		if string(b[i:i+len(sep)]) == sep {
			return i
		}
	}
	return -1
}
