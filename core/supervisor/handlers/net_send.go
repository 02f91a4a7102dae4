package handlers

import (
	"encoding/binary"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/supervisor"
)

// Sends with a destination: sendto, sendmsg and sendmmsg. The message
// (address, data, control data) is copied from the child once, judged, and
// sent by the supervisor on the duplicated socket.

const (
	// msghdrSize is sizeof(struct msghdr) on 64-bit Linux; mmsghdrSize
	// adds the unsigned int msg_len and padding.
	msghdrSize  = 56
	mmsghdrSize = 64
	// uioMaxIov is UIO_MAXIOV: more iovecs are EMSGSIZE, and sendmmsg
	// sends at most this many messages.
	uioMaxIov = 1024
	// maxDgram bounds a datagram copied for the child (IP limits one to
	// 64 KiB; UDP GSO batches stay below this too); more is EMSGSIZE.
	maxDgram = 256 << 10
	// maxStreamChunk bounds what one call copies for a stream socket; the
	// child sees a short count, as after a signal.
	maxStreamChunk = 1 << 20
	// maxControl bounds control data (the kernel's optmem_max is of that
	// order); more is ENOBUFS.
	maxControl = 64 << 10
)

// msghdr mirrors struct msghdr (64-bit).
type msghdr struct {
	name       uint64
	namelen    uint32
	_          uint32
	iov        uint64
	iovlen     uint64
	control    uint64
	controllen uint64
	_          int32 // msg_flags, ignored by send calls
	_          int32
}

func decodeMsghdr(b []byte) msghdr {
	le := binary.NativeEndian
	return msghdr{
		name: le.Uint64(b[0:]), namelen: le.Uint32(b[8:]),
		iov: le.Uint64(b[16:]), iovlen: le.Uint64(b[24:]),
		control: le.Uint64(b[32:]), controllen: le.Uint64(b[40:]),
	}
}

var _ [msghdrSize]byte = [unsafe.Sizeof(msghdr{})]byte{}

// message is a copied message.
type message struct {
	name    []byte // nil: none
	hasName bool
	iov     []unix.RemoteIovec
	total   int
	control []byte
}

// readName copies the msg_name of h, as copy_msghdr_from_user does: a
// NULL pointer or a zero length is no name, a length above
// sockaddr_storage is cut to it.
func readName(tid int, h *msghdr) ([]byte, unix.Errno) {
	if h.name == 0 || h.namelen == 0 {
		return nil, 0
	}
	return readAddr(tid, h.name, int(min(h.namelen, sockaddrStorage)))
}

// readMessage copies the name, the iovec array and the control data of h
// (the data itself is copied by load).
func readMessage(tid int, h *msghdr) (*message, unix.Errno) {
	msg := &message{}
	var errno unix.Errno
	if msg.name, errno = readName(tid, h); errno != 0 {
		return nil, errno
	}
	msg.hasName = msg.name != nil
	if h.iovlen > uioMaxIov {
		return nil, unix.EMSGSIZE
	}
	if h.iovlen > 0 {
		raw := make([]byte, 16*h.iovlen)
		if err := kernel.ReadMem(tid, h.iov, raw); err != nil {
			return nil, unix.EFAULT
		}
		for i := uint64(0); i < h.iovlen; i++ {
			base := binary.NativeEndian.Uint64(raw[16*i:])
			l := binary.NativeEndian.Uint64(raw[16*i+8:])
			if l > 1<<31 || msg.total+int(l) > 1<<31 {
				return nil, unix.EINVAL
			}
			if l > 0 {
				msg.iov = append(msg.iov, unix.RemoteIovec{Base: uintptr(base), Len: int(l)})
				msg.total += int(l)
			}
		}
	}
	if h.control != 0 && h.controllen > 0 {
		if h.controllen > maxControl {
			return nil, unix.ENOBUFS
		}
		msg.control = make([]byte, h.controllen)
		if err := kernel.ReadMem(tid, h.control, msg.control); err != nil {
			return nil, unix.EFAULT
		}
		if routingCmsg(msg.control) {
			return nil, unix.EPERM
		}
	}
	return msg, 0
}

// routingCmsg reports control messages that set per-packet IP options or
// an IPv6 routing header: the first hop of a source route receives the
// packet, not the checked destination.
func routingCmsg(b []byte) bool {
	for len(b) >= 16 {
		l := binary.NativeEndian.Uint64(b)
		level := int32(binary.NativeEndian.Uint32(b[8:]))
		typ := int32(binary.NativeEndian.Uint32(b[12:]))
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_RETOPTS:
			return true
		case level == unix.IPPROTO_IPV6 && (typ == unix.IPV6_RTHDR || typ == unix.IPV6_2292RTHDR):
			return true
		}
		if l < 16 || l > uint64(len(b)) {
			return false // the kernel stops (or fails) here too
		}
		step := (l + 7) &^ 7
		if step >= uint64(len(b)) {
			return false
		}
		b = b[step:]
	}
	return false
}

// load copies the message's data: at most limit bytes.
func (msg *message) load(tid int, limit int) ([]byte, unix.Errno) {
	n := min(msg.total, limit)
	if n == 0 {
		return nil, 0
	}
	data := make([]byte, n)
	local := []unix.Iovec{{Base: &data[0]}}
	local[0].SetLen(n)
	var remote []unix.RemoteIovec
	left := n
	for _, v := range msg.iov {
		if left == 0 {
			break
		}
		if v.Len > left {
			v.Len = left
		}
		remote = append(remote, v)
		left -= v.Len
	}
	got, err := unix.ProcessVMReadv(tid, local, remote, 0)
	if err != nil || got != n {
		return nil, unix.EFAULT
	}
	return data, 0
}

// sendMessage judges and sends one copied message; it returns what the
// child's call returns.
func (c *netCall) sendMessage(msg *message, flags int) (int, unix.Errno) {
	name := msg.name
	if c.typ == unix.SOCK_STREAM {
		// TCP ignores the address (Fast Open, which would use it, is
		// refused by the filter): nothing to judge.
		name = nil
	} else {
		a, has, errno := c.dest(name, NetSend)
		if errno != 0 {
			return 0, errno
		}
		if has {
			if errno := c.judge(NetSend, &a); errno != 0 {
				return 0, errno
			}
		} else {
			if sockFamily(name) == unix.AF_UNSPEC && c.domain == unix.AF_INET6 {
				name = nil // udpv6: AF_UNSPEC means no address
			}
			if c.sourceRouted() {
				return 0, unix.EPERM
			}
		}
	}
	limit := maxDgram
	if c.typ == unix.SOCK_STREAM {
		limit = maxStreamChunk
	} else if msg.total > maxDgram {
		return 0, unix.EMSGSIZE
	}
	data, errno := msg.load(c.tid, limit)
	if errno != 0 {
		return 0, errno
	}
	if !c.valid() {
		return 0, unix.EINTR
	}
	return c.send(name, data, msg.control, flags)
}

// send performs the send with the child's blocking semantics: a blocking
// socket (no O_NONBLOCK on the shared file, no MSG_DONTWAIT) waits for
// room, in slices, bounded by SO_SNDTIMEO; a stream sends everything. The
// supervisor never takes SIGPIPE itself: the child's thread gets it when
// its call would have raised it.
func (c *netCall) send(name, data, control []byte, flags int) (int, unix.Errno) {
	childFlags := flags
	// MSG_ZEROCOPY would let the kernel read our buffer after the call,
	// when the runtime may have reused it: the data is always copied.
	flags &^= unix.MSG_ZEROCOPY
	flags |= unix.MSG_NOSIGNAL
	fl, err := unix.FcntlInt(uintptr(c.sock), unix.F_GETFL, 0)
	if err != nil {
		return 0, errnoOf(err)
	}
	blocking := fl&unix.O_NONBLOCK == 0 && flags&unix.MSG_DONTWAIT == 0
	var deadline time.Time
	if blocking {
		if t := sendTimeout(c.sock); t > 0 {
			deadline = time.Now().Add(t)
		}
		flags |= unix.MSG_DONTWAIT
	}
	sent := 0
	for {
		n, e := sysSendmsg(c.sock, name, data[sent:], control, flags)
		switch {
		case e == 0:
			sent += n
			if c.typ != unix.SOCK_STREAM || sent >= len(data) || !blocking {
				return sent, 0
			}
			control = nil // ancillary data goes with the first part only
			continue
		case e == unix.EAGAIN && blocking:
			if pollOut(c.sock, c.valid, deadline) {
				continue
			}
			if sent > 0 {
				return sent, 0
			}
			return 0, unix.EAGAIN
		}
		if sent > 0 {
			return sent, 0
		}
		if e == unix.EPIPE && childFlags&unix.MSG_NOSIGNAL == 0 {
			_ = pidfdSignal(c.pidfd, unix.SIGPIPE)
		}
		return 0, e
	}
}

func pidfdSignal(pidfd int, sig unix.Signal) error {
	_, _, e := unix.Syscall6(unix.SYS_PIDFD_SEND_SIGNAL, uintptr(pidfd), uintptr(sig), 0, 0, 0, 0)
	return errnoOr(e)
}

// sendto(fd, buf, len, flags, dest_addr, addrlen).
func (m *Net) sendto(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	a := &n.Data.Args
	fd := int(int32(a[0]))
	l := int(int32(a[5]))
	// No address (a NULL pointer or a zero length, both in registers):
	// the connected peer, which a mediated connect chose. A length above
	// sockaddr_storage is EINVAL before any address is read.
	if a[4] == 0 || l == 0 || l < 0 || l > sockaddrStorage {
		return supervisor.Next
	}
	c, name, resp, done := m.open(s, n, fd, a[4], l, refuseIPAddr)
	if done {
		return resp
	}
	defer c.close()
	size := a[2]
	if size > 1<<31 {
		size = 1 << 31
	}
	msg := &message{name: name, hasName: true, total: int(size)}
	if size > 0 {
		msg.iov = []unix.RemoteIovec{{Base: uintptr(a[1]), Len: int(size)}}
	}
	sent, errno := c.sendMessage(msg, int(uint32(a[3])))
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	return supervisor.Value(int64(sent))
}

// refuseIPAddr answers a send to an IP address on a non-IP socket: unix
// and netlink sockets refuse it.
func refuseIPAddr(int, []byte) unix.Errno { return unix.EINVAL }

// sendmsg(fd, msg, flags).
func (m *Net) sendmsg(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	a := &n.Data.Args
	tid := int(n.Pid)
	var hb [msghdrSize]byte
	if err := kernel.ReadMem(tid, a[1], hb[:]); err != nil {
		return supervisor.Errno(unix.EFAULT)
	}
	h := decodeMsghdr(hb[:])
	name, errno := readName(tid, &h)
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	c, errno := m.begin(s, n, int(int32(a[0])))
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	defer c.close()
	if !c.inet() {
		if name == nil || !ipCapable(sockFamily(name)) {
			return supervisor.Next
		}
		return supervisor.Errno(unix.EINVAL)
	}
	if name == nil && c.typ == unix.SOCK_STREAM {
		// TCP ignores msg_name: nothing the memory says matters.
		return supervisor.Next
	}
	msg, errno := readMessage(tid, &h)
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	// The name the decision uses is the one read first.
	msg.name, msg.hasName = name, name != nil
	sent, errno := c.sendMessage(msg, int(uint32(a[2])))
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	return supervisor.Value(int64(sent))
}

// sendmmsg(fd, msgvec, vlen, flags): entry after entry, like the kernel;
// an entry refused stops the call, which returns the number sent before it
// (or the error when it is the first), and msg_len is set for each sent
// entry (attacks.md NET-04).
func (m *Net) sendmmsg(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	a := &n.Data.Args
	tid := int(n.Pid)
	vec := a[1]
	vlen := min(uint32(a[2]), uioMaxIov)
	flags := int(uint32(a[3]))
	c, errno := m.begin(s, n, int(int32(a[0])))
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	defer c.close()
	if vlen == 0 {
		return supervisor.Value(0)
	}
	// Read every header first: a non-IP socket whose entries name no IP
	// address is left to the kernel, as are TCP messages without names.
	hdrs := make([]byte, int(vlen)*mmsghdrSize)
	if err := kernel.ReadMem(tid, vec, hdrs); err != nil {
		if err := kernel.ReadMem(tid, vec, hdrs[:mmsghdrSize]); err != nil {
			return supervisor.Errno(unix.EFAULT)
		}
		// Only part of the vector is readable: the kernel stops at the
		// first bad entry, so do we.
		vlen = 1
		for vlen < uint32(len(hdrs)/mmsghdrSize) && kernel.ReadMem(tid, vec+uint64(vlen)*mmsghdrSize, hdrs[vlen*mmsghdrSize:(vlen+1)*mmsghdrSize]) == nil {
			vlen++
		}
	}
	names := make([][]byte, vlen)
	anyName, ipName := false, false
	for i := range vlen {
		h := decodeMsghdr(hdrs[i*mmsghdrSize:])
		nm, errno := readName(tid, &h)
		if errno != 0 {
			if i == 0 {
				return supervisor.Errno(errno)
			}
			vlen = i
			break
		}
		names[i] = nm
		if nm != nil {
			anyName = true
			if ipCapable(sockFamily(nm)) {
				ipName = true
			}
		}
	}
	if !c.inet() {
		if !ipName {
			return supervisor.Next
		}
		return supervisor.Errno(unix.EINVAL)
	}
	if !anyName && c.typ == unix.SOCK_STREAM {
		return supervisor.Next
	}
	sent := uint32(0)
	var first unix.Errno
	for i := range vlen {
		h := decodeMsghdr(hdrs[i*mmsghdrSize:])
		msg, errno := readMessage(tid, &h)
		if errno == 0 {
			msg.name, msg.hasName = names[i], names[i] != nil
			var k int
			k, errno = c.sendMessage(msg, flags)
			if errno == 0 {
				var lb [4]byte
				binary.NativeEndian.PutUint32(lb[:], uint32(k))
				if netWriteMem(tid, vec+uint64(i)*mmsghdrSize+msghdrSize, lb[:]) != nil {
					sent++
					break
				}
				sent++
				continue
			}
		}
		first = errno
		break
	}
	if sent == 0 && first != 0 {
		return supervisor.Errno(first)
	}
	return supervisor.Value(int64(sent))
}
