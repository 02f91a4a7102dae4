package handlers

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Socket addresses as the kernel reads them (struct sockaddr_in and
// sockaddr_in6 from <linux/in.h> and <linux/in6.h>). The supervisor copies
// the child's address once, decides on the copy, and hands the very same
// bytes (possibly rewritten) to the kernel, so a racing thread cannot change
// what was checked.

const (
	// sockaddrStorage is sizeof(struct sockaddr_storage): longer addresses
	// are EINVAL (move_addr_to_kernel) for connect, bind and sendto.
	sockaddrStorage = 128
	// sinLen is sizeof(struct sockaddr_in); shorter is EINVAL.
	sinLen = 16
	// sin6LenRFC2133 is SIN6_LEN_RFC2133, the shortest sockaddr_in6 the
	// kernel accepts (without sin6_scope_id).
	sin6LenRFC2133 = 24
)

// inetAddr is a decoded AF_INET or AF_INET6 socket address. b is the
// child's address, copied; rewrites change b, which is what the kernel gets.
type inetAddr struct {
	b      []byte
	family uint16
	// ip is the address as written: 4 bytes for AF_INET, 16 (possibly
	// IPv4-mapped) for AF_INET6.
	ip   netip.Addr
	port uint16
}

// sockFamily returns the sa_family of a copied address (host byte order).
func sockFamily(b []byte) uint16 {
	if len(b) < 2 {
		return unix.AF_UNSPEC
	}
	return binary.NativeEndian.Uint16(b)
}

// parseInet decodes b as an IP socket address. ok is false for other
// families; errno is EINVAL for an IP family whose length the kernel would
// refuse.
func parseInet(b []byte) (a inetAddr, ok bool, errno unix.Errno) {
	switch sockFamily(b) {
	case unix.AF_INET:
		if len(b) < sinLen {
			return a, true, unix.EINVAL
		}
		a = inetAddr{b: b, family: unix.AF_INET, port: binary.BigEndian.Uint16(b[2:4]),
			ip: netip.AddrFrom4([4]byte(b[4:8]))}
		return a, true, 0
	case unix.AF_INET6:
		if len(b) < sin6LenRFC2133 {
			return a, true, unix.EINVAL
		}
		a = inetAddr{b: b, family: unix.AF_INET6, port: binary.BigEndian.Uint16(b[2:4]),
			ip: netip.AddrFrom16([16]byte(b[8:24]))}
		return a, true, 0
	}
	return a, false, 0
}

// canon is the address a decision is made on: IPv4-mapped IPv6 addresses
// are the IPv4 address they reach.
func (a *inetAddr) canon() netip.Addr { return a.ip.Unmap() }

// setIP rewrites the address, keeping the family: an IPv4 address written
// into an AF_INET6 address becomes IPv4-mapped.
func (a *inetAddr) setIP(ip netip.Addr) {
	if a.family == unix.AF_INET {
		v4 := ip.Unmap().As4()
		copy(a.b[4:8], v4[:])
		a.ip = netip.AddrFrom4(v4)
		return
	}
	v6 := ip.As16() // IPv4 becomes ::ffff:a.b.c.d
	copy(a.b[8:24], v6[:])
	a.ip = netip.AddrFrom16(v6)
}

// setPort rewrites the port.
func (a *inetAddr) setPort(p uint16) {
	binary.BigEndian.PutUint16(a.b[2:4], p)
	a.port = p
}

var (
	loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback6 = netip.IPv6Loopback()
)

// resolveUnspecified replaces an unspecified destination by what the kernel
// makes of it, so that the decision and the operation use one explicit
// address (attacks.md NET-05):
//
//   - IPv4 0.0.0.0, also written ::ffff:0.0.0.0, is routed to the socket's
//     bound source address, or to 127.0.0.1 when it has none
//     (__ip_route_output_key);
//   - IPv6 :: is ::1 (tcp_v6_connect, udpv6_sendmsg), or ::ffff:127.0.0.1
//     for a connect on a socket bound to an IPv4-mapped address
//     (__ip6_datagram_connect).
//
// local is the socket's bound address (invalid when unknown).
func (a *inetAddr) resolveUnspecified(local netip.Addr, connect bool) {
	switch ip := a.canon(); {
	case ip.Is4() && ip.IsUnspecified():
		dst := loopback4
		if l := local.Unmap(); l.Is4() && !l.IsUnspecified() {
			dst = l
		}
		a.setIP(dst)
	case ip.Is6() && ip.IsUnspecified():
		if connect && local.Is4In6() {
			a.setIP(netip.AddrFrom16(loopback4.As16()))
		} else {
			a.setIP(loopback6)
		}
	}
}

// encodeInet builds the sockaddr of ip:port in family fam.
func encodeInet(fam uint16, ip netip.Addr, port uint16) []byte {
	var b []byte
	if fam == unix.AF_INET {
		b = make([]byte, sinLen)
	} else {
		b = make([]byte, 28)
	}
	binary.NativeEndian.PutUint16(b, fam)
	a := inetAddr{b: b, family: fam}
	a.setIP(ip)
	a.setPort(port)
	return b
}

// decodeSockname decodes what getsockname or getpeername returned.
func decodeSockname(b []byte) (netip.AddrPort, bool) {
	a, ok, errno := parseInet(b)
	if !ok || errno != 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.ip, a.port), true
}

// isLocalDest reports whether ip (canonical) is an address of this host
// that port remapping applies to: the loopback ranges.
func isLocalDest(ip netip.Addr) bool {
	return ip.IsLoopback()
}

func putNative32(b []byte, v uint32) { binary.NativeEndian.PutUint32(b, v) }
