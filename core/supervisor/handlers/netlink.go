package handlers

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// Netlink virtualises NETLINK_ROUTE, so that the sandbox sees one network
// interface, lo, with 127.0.0.1/8 and ::1/128: enough for getifaddrs,
// if_nameindex and getaddrinfo(AI_ADDRCONFIG), and nothing of the host.
//
// socket(AF_NETLINK, SOCK_RAW or SOCK_DGRAM, NETLINK_ROUTE) is notified (the
// seccomp filter refuses the other netlink protocols) and answered with one
// end of an AF_UNIX SOCK_SEQPACKET pair: record boundaries are kept like
// netlink's, and a destination address given to sendto or sendmsg is
// ignored, as the kernel does on a connected seqpacket socket. A goroutine
// serves the other end: RTM_GETLINK and RTM_GETADDR dumps (and RTM_GETLINK
// of lo by index or name), an empty RTM_GETROUTE dump, EPERM for any
// change and EOPNOTSUPP for the rest. bind and getsockname on the fake
// socket, which the AF_UNIX socket would refuse or answer as AF_UNIX, are
// emulated: the socket reports a sockaddr_nl whose nl_pid is its port id,
// and replies carry that port id, which is what glibc checks. recvmsg and
// recvfrom are not notified (they are on every program's hot path): the
// source address they return is the responder's AF_UNIX address, chosen
// so that the bytes of nl_pid are zero, as for a message from the kernel
// (glibc drops messages whose source nl_pid is not 0). The fake sockets are recognised by inode, so dup, fork and
// fd passing keep them working; a fake socket ends when its last copy in
// the sandbox is closed.
type Netlink struct {
	index *procindex.Index

	mu     sync.Mutex
	socks  map[uint64]*nlSock // by inode of the child's end
	closed bool
	wg     sync.WaitGroup
	count  atomic.Int32
}

type nlSock struct {
	file   *os.File
	portid atomic.Uint32
}

// NewNetlink returns the responder of one sandbox.
func NewNetlink(ix *procindex.Index) *Netlink {
	return &Netlink{index: ix, socks: map[uint64]*nlSock{}}
}

// Register installs the socket, bind and getsockname handlers.
func (nl *Netlink) Register(s *supervisor.Supervisor, lookup func(string) (int, bool)) {
	for name, h := range map[string]supervisor.Handler{
		"socket": nl.socket, "bind": nl.bind, "getsockname": nl.getsockname,
	} {
		if nr, ok := lookup(name); ok {
			s.Handle(nr, h)
		}
	}
}

// Close ends every fake socket's responder.
func (nl *Netlink) Close() {
	nl.mu.Lock()
	nl.closed = true
	for _, sk := range nl.socks {
		sk.file.Close()
	}
	nl.mu.Unlock()
	nl.wg.Wait()
}

func (nl *Netlink) socket(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	a := n.Data.Args
	if uint32(a[0]) != unix.AF_NETLINK {
		return supervisor.Next
	}
	if uint32(a[2]) != unix.NETLINK_ROUTE {
		return supervisor.Errno(unix.EPROTONOSUPPORT)
	}
	typ := int(uint32(a[1]))
	base := typ &^ (unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC)
	if base != unix.SOCK_RAW && base != unix.SOCK_DGRAM {
		return supervisor.Errno(unix.ESOCKTNOSUPPORT)
	}
	e := EnsureMember(nl.index, int(n.Pid))
	if e == nil {
		return supervisor.Errno(unix.EPERM)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return supervisor.Errno(errnoOf(err))
	}
	child, ours := fds[0], fds[1]
	defer unix.Close(child)
	var st unix.Stat_t
	if err := unix.Fstat(child, &st); err != nil {
		unix.Close(ours)
		return supervisor.Errno(errnoOf(err))
	}
	if typ&unix.SOCK_NONBLOCK != 0 {
		if err := unix.SetNonblock(child, true); err != nil {
			unix.Close(ours)
			return supervisor.Errno(errnoOf(err))
		}
	}
	if err := unix.SetNonblock(ours, true); err != nil {
		unix.Close(ours)
		return supervisor.Errno(errnoOf(err))
	}
	if err := bindResponder(ours); err != nil {
		unix.Close(ours)
		return supervisor.Errno(errnoOf(err))
	}
	sk := &nlSock{file: os.NewFile(uintptr(ours), "netlink-responder")}
	sk.portid.Store(uint32(e.Key.Pid))
	nl.mu.Lock()
	if nl.closed {
		nl.mu.Unlock()
		sk.file.Close()
		return supervisor.Errno(unix.EPERM)
	}
	nl.socks[st.Ino] = sk
	nl.count.Add(1)
	nl.wg.Add(1)
	nl.mu.Unlock()
	go nl.serve(st.Ino, sk)

	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM) // the child's end closes; serve ends
	}
	return s.InjectFD(n.ID, child, typ&unix.SOCK_CLOEXEC != 0)
}

// bindResponder gives the responder's end an abstract address of 10 bytes
// of which the 2nd to the 5th are zero. recvmsg and recvfrom on the
// child's end then return it as the source: 12 bytes, where a
// sockaddr_nl has its nl_pid, zero as for a message from the kernel.
// glibc checks exactly that (its buffer is not initialised otherwise).
func bindResponder(fd int) error {
	for range 16 {
		tag := rand.Uint32() | 1
		name := []byte{'@', 0, 0, 0, 0, 0, byte(tag), byte(tag >> 8), byte(tag >> 16), byte(tag >> 24)}
		err := unix.Bind(fd, &unix.SockaddrUnix{Name: string(name)})
		if err != unix.EADDRINUSE {
			return err
		}
	}
	return unix.EADDRINUSE
}

// fake returns the fake socket that the child's fd names, or nil.
func (nl *Netlink) fake(n *supervisor.Notif, fd int32) *nlSock {
	if nl.count.Load() == 0 || fd < 0 {
		return nil
	}
	e := EnsureMember(nl.index, int(n.Pid))
	if e == nil {
		return nil
	}
	dup, err := kernel.PidfdGetfd(e.Pidfd(), int(fd))
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	err = unix.Fstat(dup, &st)
	unix.Close(dup)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil
	}
	nl.mu.Lock()
	defer nl.mu.Unlock()
	return nl.socks[st.Ino]
}

// sockaddr_nl is {u16 family; u16 pad; u32 pid; u32 groups}.
const sockaddrNlSize = 12

func (nl *Netlink) bind(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	a := n.Data.Args
	sk := nl.fake(n, int32(uint32(a[0])))
	if sk == nil {
		return supervisor.Next
	}
	if int(uint32(a[2])) < sockaddrNlSize {
		return supervisor.Errno(unix.EINVAL)
	}
	var sa [sockaddrNlSize]byte
	if kernel.ReadMem(int(n.Pid), a[1], sa[:]) != nil {
		return supervisor.Errno(unix.EFAULT)
	}
	if binary.LittleEndian.Uint16(sa[0:]) != unix.AF_NETLINK {
		return supervisor.Errno(unix.EINVAL)
	}
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	if pid := binary.LittleEndian.Uint32(sa[4:]); pid != 0 {
		sk.portid.Store(pid)
	}
	return supervisor.Value(0)
}

func (nl *Netlink) getsockname(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	a := n.Data.Args
	sk := nl.fake(n, int32(uint32(a[0])))
	if sk == nil {
		return supervisor.Next
	}
	var lb [4]byte
	if kernel.ReadMem(int(n.Pid), a[2], lb[:]) != nil {
		return supervisor.Errno(unix.EFAULT)
	}
	l := int32(binary.LittleEndian.Uint32(lb[:]))
	if l < 0 {
		return supervisor.Errno(unix.EINVAL)
	}
	var sa [sockaddrNlSize]byte
	binary.LittleEndian.PutUint16(sa[0:], unix.AF_NETLINK)
	binary.LittleEndian.PutUint32(sa[4:], sk.portid.Load())
	binary.LittleEndian.PutUint32(lb[:], sockaddrNlSize)
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	if writeMem(int(n.Pid), a[1], sa[:min(int(l), sockaddrNlSize)]) != nil || writeMem(int(n.Pid), a[2], lb[:]) != nil {
		return supervisor.Errno(unix.EFAULT)
	}
	return supervisor.Value(0)
}

func (nl *Netlink) serve(ino uint64, sk *nlSock) {
	defer nl.wg.Done()
	defer func() {
		nl.mu.Lock()
		if nl.socks[ino] == sk {
			delete(nl.socks, ino)
			nl.count.Add(-1)
		}
		nl.mu.Unlock()
		sk.file.Close()
	}()
	rc, err := sk.file.SyscallConn()
	if err != nil {
		return
	}

	buf := make([]byte, 64<<10)
	for {
		var got int
		var rerr error
		eof := false
		err := rc.Read(func(fd uintptr) bool {
			got, _, _, _, rerr = unix.Recvmsg(int(fd), buf, nil, 0)
			if rerr == unix.EAGAIN {
				return false
			}
			if rerr == nil && got == 0 {
				// EOF, or an empty record: the peer is gone only if
				// the socket says so.
				r, _ := kernel.PollIn(int(fd))
				eof = r&unix.POLLHUP != 0

			}
			return true
		})
		if err != nil || rerr != nil || eof {

			return
		}
		if got == 0 {
			continue
		}
		resp := nlAnswer(buf[:got], sk.portid.Load())

		if len(resp) == 0 {
			continue
		}
		var werr error
		err = rc.Write(func(fd uintptr) bool {
			werr = unix.Sendmsg(int(fd), resp, nil, nil, unix.MSG_NOSIGNAL)
			return werr != unix.EAGAIN
		})
		if err != nil || werr != nil {
			return
		}
	}
}

// Netlink and rtnetlink constants, <linux/netlink.h> and
// <linux/rtnetlink.h>.
const (
	nlmsgHdrLen = 16
	nlmsgError  = 2
	nlmsgDone   = 3

	nlmFRequest = 0x1
	nlmFMulti   = 0x2
	nlmFAck     = 0x4
	nlmFDump    = 0x300

	rtmNewLink  = 16
	rtmGetLink  = 18
	rtmNewAddr  = 20
	rtmGetAddr  = 22
	rtmGetRoute = 26

	iflaAddress   = 1
	iflaBroadcast = 2
	iflaIfname    = 3
	iflaMTU       = 4
	iflaTxqlen    = 13
	iflaOperstate = 16

	ifaAddress   = 1
	ifaLocal     = 2
	ifaLabel     = 3
	ifaCacheinfo = 6
	ifaFlags     = 8

	ifaFPermanent = 0x80
	rtScopeHost   = 254
	arphrdLoopbk  = 772
	loFlags       = unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING | 0x10000 // IFF_LOWER_UP
	loIndex       = 1
)

// nlAnswer answers every request message in one received record.
func nlAnswer(req []byte, portid uint32) []byte {
	var out []byte
	for len(req) >= nlmsgHdrLen {
		l := int(binary.LittleEndian.Uint32(req[0:]))
		if l < nlmsgHdrLen || l > len(req) {
			break
		}
		msg := req[:l]
		typ := binary.LittleEndian.Uint16(msg[4:])
		flags := binary.LittleEndian.Uint16(msg[6:])
		seq := binary.LittleEndian.Uint32(msg[8:])
		body := msg[nlmsgHdrLen:]
		h := nlHeader{seq: seq, pid: portid}
		switch {
		case flags&nlmFRequest == 0, typ < rtmNewLink:
			// Not a request, or a control message: nothing to answer.
		case typ == rtmGetLink && flags&nlmFDump == nlmFDump:
			out = h.appendLink(out, nlmFMulti)
			out = h.appendDone(out)
		case typ == rtmGetLink:
			if linkIsLo(body) {
				out = h.appendLink(out, 0)
				if flags&nlmFAck != 0 {
					out = h.appendError(out, 0, msg)
				}
			} else {
				out = h.appendError(out, unix.ENODEV, msg)
			}
		case typ == rtmGetAddr && flags&nlmFDump == nlmFDump:
			family := uint8(unix.AF_UNSPEC)
			if len(body) > 0 {
				family = body[0]
			}
			if family == unix.AF_UNSPEC || family == unix.AF_INET {
				out = h.appendAddr4(out)
			}
			if family == unix.AF_UNSPEC || family == unix.AF_INET6 {
				out = h.appendAddr6(out)
			}
			out = h.appendDone(out)
		case typ == rtmGetRoute && flags&nlmFDump == nlmFDump:
			out = h.appendDone(out)
		case typ%4 != 2:
			// RTM_NEW*, RTM_DEL*, RTM_SET*: no changes from inside.
			out = h.appendError(out, unix.EPERM, msg)
		default:
			out = h.appendError(out, unix.EOPNOTSUPP, msg)
		}
		req = req[min(nlmAlign(l), len(req)):]
	}
	return out
}

func nlmAlign(n int) int { return (n + 3) &^ 3 }

// linkIsLo reports whether an RTM_GETLINK request (ifinfomsg then
// attributes) names lo, by index or by IFLA_IFNAME.
func linkIsLo(body []byte) bool {
	if len(body) < 16 {
		return false
	}
	if idx := int32(binary.LittleEndian.Uint32(body[4:])); idx != 0 {
		return idx == loIndex
	}
	attrs := body[16:]
	for len(attrs) >= 4 {
		l := int(binary.LittleEndian.Uint16(attrs[0:]))
		t := binary.LittleEndian.Uint16(attrs[2:])
		if l < 4 || l > len(attrs) {
			break
		}
		if t == iflaIfname {
			name := attrs[4:l]
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			return string(name) == "lo"
		}
		attrs = attrs[min(nlmAlign(l), len(attrs)):]
	}
	return false
}

type nlHeader struct{ seq, pid uint32 }

// begin appends a header whose length is patched by end.
func (h nlHeader) begin(b []byte, typ, flags uint16) ([]byte, int) {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = binary.LittleEndian.AppendUint32(b, h.seq)
	b = binary.LittleEndian.AppendUint32(b, h.pid)
	return b, start
}

func end(b []byte, start int) []byte {
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start))
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func attr(b []byte, typ uint16, data []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(4+len(data)))
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func (h nlHeader) appendDone(b []byte) []byte {
	b, s := h.begin(b, nlmsgDone, nlmFMulti)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return end(b, s)
}

// appendError appends NLMSG_ERROR for req (errno 0 is an acknowledgement).
func (h nlHeader) appendError(b []byte, errno unix.Errno, req []byte) []byte {
	b, s := h.begin(b, nlmsgError, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(-int32(errno)))
	b = append(b, req[:nlmsgHdrLen]...)
	return end(b, s)
}

func (h nlHeader) appendLink(b []byte, flags uint16) []byte {
	b, s := h.begin(b, rtmNewLink, flags)
	b = append(b, unix.AF_UNSPEC, 0)
	b = binary.LittleEndian.AppendUint16(b, arphrdLoopbk)
	b = binary.LittleEndian.AppendUint32(b, loIndex)
	b = binary.LittleEndian.AppendUint32(b, loFlags)
	b = binary.LittleEndian.AppendUint32(b, 0) // ifi_change
	b = attr(b, iflaIfname, []byte("lo\x00"))
	b = attr(b, iflaTxqlen, u32(1000))
	b = attr(b, iflaOperstate, []byte{0}) // IF_OPER_UNKNOWN, as lo reports
	b = attr(b, iflaMTU, u32(65536))
	b = attr(b, iflaAddress, make([]byte, 6))
	b = attr(b, iflaBroadcast, make([]byte, 6))
	return end(b, s)
}

func cacheinfo() []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0xffffffff) // preferred
	b = binary.LittleEndian.AppendUint32(b, 0xffffffff)    // valid
	b = binary.LittleEndian.AppendUint32(b, 0)             // cstamp
	return binary.LittleEndian.AppendUint32(b, 0)          // tstamp
}

func (h nlHeader) appendAddr4(b []byte) []byte {
	b, s := h.begin(b, rtmNewAddr, nlmFMulti)
	b = append(b, unix.AF_INET, 8, ifaFPermanent, rtScopeHost)
	b = binary.LittleEndian.AppendUint32(b, loIndex)
	lo := []byte{127, 0, 0, 1}
	b = attr(b, ifaAddress, lo)
	b = attr(b, ifaLocal, lo)
	b = attr(b, ifaLabel, []byte("lo\x00"))
	b = attr(b, ifaFlags, u32(ifaFPermanent))
	b = attr(b, ifaCacheinfo, cacheinfo())
	return end(b, s)
}

func (h nlHeader) appendAddr6(b []byte) []byte {
	b, s := h.begin(b, rtmNewAddr, nlmFMulti)
	b = append(b, unix.AF_INET6, 128, ifaFPermanent, rtScopeHost)
	b = binary.LittleEndian.AppendUint32(b, loIndex)
	b = attr(b, ifaAddress, []byte{15: 1})
	b = attr(b, ifaCacheinfo, cacheinfo())
	b = attr(b, ifaFlags, u32(ifaFPermanent))
	return end(b, s)
}
