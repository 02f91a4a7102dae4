package handlers

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// Net mediates the IP network operations of a sandbox: the host allowlist
// (net_allow_hosts), port remapping (port_remap) and a hook for dynamic
// policies.
//
// connect, sendto, sendmsg and sendmmsg to IP destinations, and binds under
// port remapping, are performed by the supervisor on a duplicate of the
// child's socket (pidfd_getfd on the calling thread) with the child's
// address copied once: the decision and the operation use the same bytes
// and the same socket, so a racing thread can change neither (attacks.md
// TOC-03). The supervisor is outside the child's Landlock domain, so it
// re-applies the TCP port lists itself (spec README 2.2): a connect to a
// port outside net_connect gets EACCES, a bind outside net_bind EACCES, as
// Landlock would have answered in the child.
//
// A call on a socket that is not IP (unix, the virtual netlink) whose
// address is not one an IP socket would accept (NULL, AF_UNIX ...) is
// continued: performing it here would escape the child's Landlock scopes
// (abstract unix sockets) and give the peer the supervisor's credentials.
// So is a TCP sendmsg without msg_name. Everything else that reaches these
// handlers is answered by the supervisor. What remains for a continued
// call is a double race: another thread would have to swap an IP datagram
// socket onto the fd number (dup2) and rewrite the address in memory, both
// within the notification's window. TCP cannot be reached that way: while
// connects are mediated the child's own Landlock domain allows no TCP
// connect at all (see MediatesConnect).
type Net struct {
	cfg   NetConfig
	index *procindex.Index
	ports portMap
}

// NetConfig is the static network policy of a sandbox.
type NetConfig struct {
	// Allowed, when non-nil, is the set of IP addresses the sandbox may
	// send to or connect to, IPv4 addresses unmapped; a destination
	// outside it gets ECONNREFUSED. nil leaves destinations unrestricted.
	Allowed map[netip.Addr]bool
	// ConnectTCP and BindTCP are the policy's net_connect and net_bind
	// port lists (sorted), re-checked for every operation the supervisor
	// performs.
	ConnectTCP, BindTCP []uint16
	// PortRemap gives the sandbox a private TCP port space: binds are
	// done on behalf, a port taken outside the sandbox is mapped to a free
	// one, and getsockname, getpeername and connects to loopback use the
	// sandbox's (virtual) port numbers.
	PortRemap bool
	// Hook, if set, sees every IP operation the supervisor is about to
	// perform, after the port rules and with the allowlist's verdict, and
	// decides.
	Hook NetHook
	// OnPortsChange, if set, runs after a new port mapping was made.
	OnPortsChange func()
}

// NetOp is the kind of operation a NetEvent describes.
type NetOp uint8

// Network operations.
const (
	NetConnect NetOp = iota + 1 // connect
	NetSend                     // sendto, sendmsg, sendmmsg with a destination
	NetBind                     // bind
)

func (o NetOp) String() string {
	switch o {
	case NetConnect:
		return "connect"
	case NetSend:
		return "send"
	case NetBind:
		return "bind"
	}
	return fmt.Sprintf("NetOp(%d)", uint8(o))
}

// NetEvent is one IP operation the supervisor is about to perform for the
// child.
type NetEvent struct {
	Op NetOp
	// Pid is the calling process (thread group), Tid the calling thread.
	Pid, Tid int
	// Proto is unix.IPPROTO_TCP, unix.IPPROTO_UDP, or the protocol of a
	// raw or ICMP socket.
	Proto int
	// Addr is the destination (connect, send) or the local address (bind)
	// as the kernel will use it: IPv4 unmapped, an unspecified destination
	// replaced by what it reaches. The port is the one the child named
	// (its virtual port under port remapping).
	Addr netip.AddrPort
	// Errno is the static policy's verdict: 0, or ECONNREFUSED for a
	// destination outside net_allow_hosts. Port rules are final and have
	// been applied already: an operation they deny never reaches a hook.
	Errno unix.Errno
}

// NetHook decides an operation: it returns 0 to let the supervisor perform
// it, or the errno the child gets. It may block; it runs in the goroutine
// of the notification.
type NetHook func(ev *NetEvent) unix.Errno

// NewNet returns the mediation for cfg; ix is the sandbox's process index.
func NewNet(cfg NetConfig, ix *procindex.Index) *Net {
	m := &Net{cfg: cfg, index: ix}
	m.ports.v2r = map[uint16]uint16{}
	m.ports.r2v = map[uint16]uint16{}
	return m
}

// egress reports whether destinations are judged.
func (c *NetConfig) egress() bool { return c.Allowed != nil || c.Hook != nil }

// NetSyscalls returns the syscalls cfg needs notified.
func NetSyscalls(cfg NetConfig) []string {
	var out []string
	if cfg.egress() || cfg.PortRemap {
		out = append(out, "connect")
	}
	if cfg.egress() {
		out = append(out, "sendto", "sendmsg", "sendmmsg")
	}
	if cfg.PortRemap || cfg.Hook != nil {
		out = append(out, "bind")
	}
	if cfg.PortRemap {
		out = append(out, "getsockname", "getpeername")
	}
	return out
}

// MediatesConnect reports whether every IP connect goes through the
// supervisor under cfg. The child's own Landlock domain may then refuse
// every TCP connect: only a continued call on a socket the supervisor saw
// as non-IP could still reach the kernel from the child.
func MediatesConnect(cfg NetConfig) bool { return cfg.egress() || cfg.PortRemap }

// Register installs the handlers cfg needs.
func (m *Net) Register(s *supervisor.Supervisor, lookup func(string) (int, bool)) {
	handlers := map[string]supervisor.Handler{
		"connect": m.connect, "sendto": m.sendto, "sendmsg": m.sendmsg, "sendmmsg": m.sendmmsg,
		"bind": m.bind, "getsockname": m.getsockname, "getpeername": m.getpeername,
	}
	for _, name := range NetSyscalls(m.cfg) {
		nr, ok := lookup(name)
		if !ok {
			continue
		}
		switch name {
		case "getsockname", "getpeername":
			s.Handle(nr, handlers[name])
		case "bind":
			if m.cfg.Hook != nil {
				s.HandleAsync(nr, handlers[name])
			} else {
				s.Handle(nr, handlers[name])
			}
		default:
			// A connect or send may block (a blocking socket, a hook).
			s.HandleAsync(nr, handlers[name])
		}
	}
}

// netCall is one mediated call: the calling thread and a duplicate of the
// socket it named.
type netCall struct {
	m     *Net
	s     *supervisor.Supervisor
	n     *supervisor.Notif
	tid   int
	pidfd int // of the thread
	sock  int // our duplicate
	// domain, typ and proto describe the socket (SO_DOMAIN, SO_TYPE,
	// SO_PROTOCOL).
	domain, typ, proto int
}

// begin duplicates the child's socket fd. Memory the handler read before
// is vouched for by the validity check made here.
func (m *Net) begin(s *supervisor.Supervisor, n *supervisor.Notif, fd int) (*netCall, unix.Errno) {
	c := &netCall{m: m, s: s, n: n, tid: int(n.Pid), pidfd: -1, sock: -1}
	pfd, err := kernel.PidfdOpen(c.tid, pidfdThread)
	if err == unix.EINVAL {
		// Before Linux 6.9 a pidfd names a process; its fd table is the
		// one of every thread that did not unshare it.
		if st, serr := kernel.ReadTaskStatus(c.tid); serr == nil {
			pfd, err = kernel.PidfdOpen(st.Tgid, 0)
		}
	}
	if err != nil {
		return nil, unix.ESRCH
	}
	c.pidfd = pfd
	// The thread id named the caller when the notification was made; a
	// still pending notification proves the pidfd names that thread.
	if !s.Valid(n.ID) {
		c.close()
		return nil, unix.ESRCH
	}
	sock, err := kernel.PidfdGetfd(pfd, fd)
	if err != nil {
		c.close()
		if err == unix.EBADF {
			return nil, unix.EBADF
		}
		return nil, errnoOf(err)
	}
	c.sock = sock
	if c.domain, err = unix.GetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil {
		c.close()
		return nil, errnoOf(err) // ENOTSOCK for a file
	}
	c.typ, _ = unix.GetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_TYPE)
	c.proto, _ = unix.GetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	return c, 0
}

func (c *netCall) close() {
	if c.sock >= 0 {
		unix.Close(c.sock)
		c.sock = -1
	}
	if c.pidfd >= 0 {
		unix.Close(c.pidfd)
		c.pidfd = -1
	}
}

func (c *netCall) valid() bool { return c.s.Valid(c.n.ID) }

func (c *netCall) inet() bool { return c.domain == unix.AF_INET || c.domain == unix.AF_INET6 }

// protocol names the socket's transport for port rules and events. Every
// IP stream socket is TCP to the port rules, whatever its protocol number
// (a host may upgrade protocol 0 to MPTCP behind the filter's back).
func (c *netCall) protocol() int {
	switch c.typ {
	case unix.SOCK_STREAM:
		return unix.IPPROTO_TCP
	case unix.SOCK_DGRAM:
		if c.proto == 0 {
			return unix.IPPROTO_UDP
		}
	}
	return c.proto
}

// ipCapable reports whether an IP socket may read an address of family fam
// as an IP destination: AF_INET and AF_INET6, and AF_UNSPEC, which UDP and
// raw IPv4 sockets take for AF_INET (udp_sendmsg, raw_sendmsg, inet_bind).
func ipCapable(fam uint16) bool {
	return fam == unix.AF_INET || fam == unix.AF_INET6 || fam == unix.AF_UNSPEC
}

// dest decodes the destination the kernel would take from name on this
// socket. has is false when name names none (empty, an AF_UNSPEC
// disconnect, or a family the socket refuses: the kernel then fails the
// call itself).
func (c *netCall) dest(name []byte, op NetOp) (a inetAddr, has bool, errno unix.Errno) {
	if len(name) == 0 {
		return a, false, 0
	}
	fam := sockFamily(name)
	if fam == unix.AF_UNSPEC {
		if op == NetConnect {
			return a, false, 0 // disconnect
		}
		if op == NetSend && c.domain == unix.AF_INET6 && c.typ == unix.SOCK_DGRAM && c.protocol() == unix.IPPROTO_UDP {
			return a, false, 0 // udpv6_sendmsg: no address
		}
		// Read as the socket's own family, as UDP, raw and bind on IPv4
		// (and raw IPv6) sockets do; the bytes themselves stay as they are.
		b := append([]byte(nil), name...)
		binary.NativeEndian.PutUint16(b, uint16(c.domain))
		a, _, errno = parseInet(b)
		if errno != 0 {
			return a, false, 0 // too short: the kernel refuses it
		}
		a.b = name
		return a, true, 0
	}
	a, ok, errno := parseInet(name)
	if !ok {
		return a, false, 0
	}
	return a, errno == 0, errno
}

// judge applies the policy to destination (or bound address) a of op. On
// success a has been rewritten to what the kernel must use: an explicit
// address for an unspecified one and, for connects, the real port of a
// remapped one.
func (c *netCall) judge(op NetOp, a *inetAddr) unix.Errno {
	m := c.m
	if op != NetBind && a.canon().IsUnspecified() {
		var local netip.Addr
		if b, e := sysSockname(c.sock, false); e == 0 {
			if ap, ok := decodeSockname(b); ok {
				local = ap.Addr()
			}
		}
		a.resolveUnspecified(local, op == NetConnect)
	}
	ip := a.canon()
	proto := c.protocol()
	if proto == unix.IPPROTO_TCP {
		switch {
		case op == NetConnect && !portIn(m.cfg.ConnectTCP, a.port):
			return unix.EACCES
		case op == NetBind && !portIn(m.cfg.BindTCP, a.port):
			return unix.EACCES
		}
	}
	var errno unix.Errno
	if op != NetBind && m.cfg.Allowed != nil && !m.cfg.Allowed[ip] {
		errno = unix.ECONNREFUSED
	}
	if m.cfg.Hook != nil {
		ev := &NetEvent{Op: op, Tid: c.tid, Pid: c.tid, Proto: proto, Addr: netip.AddrPortFrom(ip, a.port), Errno: errno}
		if e := EnsureMember(m.index, c.tid); e != nil {
			ev.Pid = e.Key.Pid
		}
		errno = m.cfg.Hook(ev)
	}
	if errno != 0 {
		return errno
	}
	if op != NetBind && c.sourceRouted() {
		return unix.EPERM
	}
	if op == NetConnect && m.cfg.PortRemap && proto == unix.IPPROTO_TCP && isLocalDest(ip) {
		if r, ok := m.ports.real(a.port); ok {
			a.setPort(r)
		}
	}
	return 0
}

// sourceRouted reports whether the socket carries IP options or an IPv6
// routing header, whose first hop, not the checked destination, receives
// the packets (loose source routing).
func (c *netCall) sourceRouted() bool {
	if sockoptLen(c.sock, unix.IPPROTO_IP, unix.IP_OPTIONS) > 0 {
		return true
	}
	return c.domain == unix.AF_INET6 && sockoptLen(c.sock, unix.IPPROTO_IPV6, unix.IPV6_RTHDR) > 0
}

func portIn(ports []uint16, p uint16) bool {
	_, ok := slices.BinarySearch(ports, p)
	return ok
}

func respond(e unix.Errno) supervisor.Response {
	if e != 0 {
		return supervisor.Errno(e)
	}
	return supervisor.Value(0)
}

// readAddr copies an address argument of length l from the child.
func readAddr(tid int, ptr uint64, l int) ([]byte, unix.Errno) {
	b := make([]byte, l)
	if err := kernel.ReadMem(tid, ptr, b); err != nil {
		return nil, unix.EFAULT
	}
	return b, 0
}

// connect(fd, addr, addrlen).
func (m *Net) connect(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	return m.onBehalf(s, n, NetConnect, sysConnect, func(c *netCall, name []byte, _ inetAddr, _ bool) unix.Errno {
		return c.connectAs(name)
	})
}

// onBehalf performs connect or bind(fd, addr, addrlen) on our duplicate of
// the socket: the address is copied once, the destination it names, if any
// (has), is judged under op, and perform does the call with those same
// bytes. For a non-IP socket open decides, with direct.
func (m *Net) onBehalf(s *supervisor.Supervisor, n *supervisor.Notif, op NetOp,
	direct func(sock int, name []byte) unix.Errno,
	perform func(c *netCall, name []byte, a inetAddr, has bool) unix.Errno) supervisor.Response {
	l := int(int32(n.Data.Args[2]))
	if l < 2 || l > sockaddrStorage {
		// Refused by the kernel whatever the memory holds (EINVAL).
		return supervisor.Next
	}
	c, name, resp, done := m.open(s, n, int(int32(n.Data.Args[0])), n.Data.Args[1], l, direct)
	if done {
		return resp
	}
	defer c.close()
	a, has, errno := c.dest(name, op)
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	if has {
		if errno := c.judge(op, &a); errno != 0 {
			return supervisor.Errno(errno)
		}
	}
	return respond(perform(c, name, a, has))
}

// open copies the address argument (ptr, l) of a call on socket fd and
// duplicates the socket, the start of every call that names one address.
// A non-IP socket is decided here (done, with resp): an address no IP
// socket would read either is left to the kernel; one an IP socket would
// read (ipCapable) names no destination the kernel could reach through
// this socket, so direct answers it on our copy. Otherwise the caller
// closes c.
func (m *Net) open(s *supervisor.Supervisor, n *supervisor.Notif, fd int, ptr uint64, l int,
	direct func(sock int, name []byte) unix.Errno) (c *netCall, name []byte, resp supervisor.Response, done bool) {
	name, errno := readAddr(int(n.Pid), ptr, l)
	if errno != 0 {
		return nil, nil, supervisor.Errno(errno), true
	}
	c, errno = m.begin(s, n, fd)
	if errno != 0 {
		return nil, nil, supervisor.Errno(errno), true
	}
	if c.inet() {
		return c, name, supervisor.Response{}, false
	}
	resp = supervisor.Next
	if ipCapable(sockFamily(name)) {
		resp = respond(direct(c.sock, name))
	}
	c.close()
	return nil, nil, resp, true
}

// connectAs connects our duplicate with the child's blocking semantics:
// the duplicate shares the open file description, so a non-blocking socket
// answers at once (EINPROGRESS ...). A blocking TCP connect is started
// non-blocking and waited for here, in slices, so that a child killed
// meanwhile does not keep the supervisor waiting; SO_SNDTIMEO bounds it as
// it bounds the kernel's wait (EINPROGRESS on expiry).
func (c *netCall) connectAs(name []byte) unix.Errno {
	if c.typ != unix.SOCK_STREAM {
		return sysConnect(c.sock, name)
	}
	fl, err := unix.FcntlInt(uintptr(c.sock), unix.F_GETFL, 0)
	if err != nil {
		return errnoOf(err)
	}
	if fl&unix.O_NONBLOCK != 0 {
		return sysConnect(c.sock, name)
	}
	timeout := sendTimeout(c.sock)
	if _, err := unix.FcntlInt(uintptr(c.sock), unix.F_SETFL, fl|unix.O_NONBLOCK); err != nil {
		return errnoOf(err)
	}
	e := sysConnect(c.sock, name)
	_, _ = unix.FcntlInt(uintptr(c.sock), unix.F_SETFL, fl)
	if e != unix.EINPROGRESS {
		return e
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if !pollOut(c.sock, c.valid, deadline) {
		return unix.EINPROGRESS // timed out, or nobody waits any more
	}
	soerr, err := unix.GetsockoptInt(c.sock, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return errnoOf(err)
	}
	return unix.Errno(soerr)
}

// bind(fd, addr, addrlen): on behalf for IP sockets, with the net_bind
// port list and, for TCP under port remapping, the sandbox's port space.
func (m *Net) bind(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	return m.onBehalf(s, n, NetBind, sysBind, (*netCall).bindAs)
}

// bindAs binds our duplicate to name, through the sandbox's port space for
// a TCP port under port remapping.
func (c *netCall) bindAs(name []byte, a inetAddr, has bool) unix.Errno {
	if !has || !c.m.cfg.PortRemap || c.protocol() != unix.IPPROTO_TCP || a.port == 0 {
		return sysBind(c.sock, name)
	}
	return c.m.bindRemapped(c, &a)
}

// getsockname(fd, addr, addrlen) and getpeername: the sandbox's port
// numbers for remapped TCP ports.
func (m *Net) getsockname(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	return m.sockname(s, n, false)
}

func (m *Net) getpeername(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	return m.sockname(s, n, true)
}

func (m *Net) sockname(s *supervisor.Supervisor, n *supervisor.Notif, peer bool) supervisor.Response {
	// The answer depends on no policy: whatever cannot be translated is
	// left to the kernel.
	c, errno := m.begin(s, n, int(int32(n.Data.Args[0])))
	if errno != 0 {
		return supervisor.Next
	}
	defer c.close()
	if !c.inet() || c.typ != unix.SOCK_STREAM {
		return supervisor.Next
	}
	b, e := sysSockname(c.sock, peer)
	if e != 0 {
		return supervisor.Next
	}
	a, ok, errno := parseInet(b)
	if !ok || errno != 0 || (peer && !isLocalDest(a.canon())) {
		return supervisor.Next
	}
	v, ok := m.ports.virtual(a.port)
	if !ok || v == a.port {
		return supervisor.Next
	}
	a.setPort(v)
	// move_addr_to_user: read *addrlen, copy at most that much, store the
	// full length.
	var lb [4]byte
	if err := kernel.ReadMem(c.tid, n.Data.Args[2], lb[:]); err != nil {
		return supervisor.Errno(unix.EFAULT)
	}
	ulen := int32(binary.NativeEndian.Uint32(lb[:]))
	if ulen < 0 {
		return supervisor.Errno(unix.EINVAL)
	}
	if !c.valid() {
		return supervisor.Errno(unix.EINTR)
	}
	out := b[:min(int(ulen), len(b))]
	if len(out) > 0 {
		if err := netWriteMem(c.tid, n.Data.Args[1], out); err != nil {
			return supervisor.Errno(unix.EFAULT)
		}
	}
	binary.NativeEndian.PutUint32(lb[:], uint32(len(b)))
	if err := netWriteMem(c.tid, n.Data.Args[2], lb[:]); err != nil {
		return supervisor.Errno(unix.EFAULT)
	}
	return supervisor.Value(0)
}

// netWriteMem copies b to addr in the child.
func netWriteMem(tid int, addr uint64, b []byte) error {
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
	n, err := unix.ProcessVMWritev(tid, local, remote, 0)
	if err != nil {
		return err
	}
	if n != len(b) {
		return kernel.ErrPartialRead
	}
	return nil
}
