package handlers

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func sin(ip string, port uint16) []byte {
	a := netip.MustParseAddr(ip)
	if a.Is4() {
		return encodeInet(unix.AF_INET, a, port)
	}
	return encodeInet(unix.AF_INET6, a, port)
}

func TestParseInet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     []byte
		ok    bool
		errno unix.Errno
		want  string
	}{
		{"v4", sin("127.0.0.2", 80), true, 0, "127.0.0.2:80"},
		{"v6", sin("::1", 443), true, 0, "[::1]:443"},
		{"mapped", sin("::ffff:127.0.0.2", 9), true, 0, "[::ffff:127.0.0.2]:9"},
		{"v4 short", sin("127.0.0.1", 1)[:15], true, unix.EINVAL, ""},
		{"v6 rfc2133", sin("::1", 1)[:24], true, 0, "[::1]:1"},
		{"v6 short", sin("::1", 1)[:23], true, unix.EINVAL, ""},
		{"unix", []byte{unix.AF_UNIX, 0, '/', 'x'}, false, 0, ""},
		{"empty", nil, false, 0, ""},
	} {
		a, ok, errno := parseInet(tc.b)
		if ok != tc.ok || errno != tc.errno {
			t.Errorf("%s: ok %v errno %v, want %v %v", tc.name, ok, errno, tc.ok, tc.errno)
			continue
		}
		if tc.want != "" {
			if got := netip.AddrPortFrom(a.ip, a.port).String(); got != tc.want {
				t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
			}
		}
	}
	a, _, _ := parseInet(sin("::ffff:127.0.0.2", 9))
	if a.canon() != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("canon of a mapped address = %s, want 127.0.0.2", a.canon())
	}
}

// TestResolveUnspecified: the destination the kernel makes of an
// unspecified address is written into the copy (attacks.md NET-05).
func TestResolveUnspecified(t *testing.T) {
	for _, tc := range []struct {
		dst, local string
		connect    bool
		want       string
	}{
		{"0.0.0.0", "", true, "127.0.0.1"},
		{"0.0.0.0", "0.0.0.0", false, "127.0.0.1"},
		{"0.0.0.0", "127.0.0.2", true, "127.0.0.2"},
		{"0.0.0.0", "::ffff:127.0.0.3", false, "127.0.0.3"},
		{"::ffff:0.0.0.0", "", true, "::ffff:127.0.0.1"},
		{"::ffff:0.0.0.0", "::ffff:127.0.0.5", true, "::ffff:127.0.0.5"},
		{"::", "", true, "::1"},
		{"::", "::ffff:127.0.0.9", true, "::ffff:127.0.0.1"},
		{"::", "::ffff:127.0.0.9", false, "::1"},
		{"127.0.0.7", "127.0.0.2", true, "127.0.0.7"},
	} {
		a, _, _ := parseInet(sin(tc.dst, 5))
		var local netip.Addr
		if tc.local != "" {
			local = netip.MustParseAddr(tc.local)
		}
		a.resolveUnspecified(local, tc.connect)
		b, _, _ := parseInet(a.b)
		if b.ip.String() != tc.want || b.port != 5 || b.family != a.family {
			t.Errorf("%s (local %q, connect %v) -> %s port %d, want %s", tc.dst, tc.local, tc.connect, b.ip, b.port, tc.want)
		}
	}
}

// TestDestAFUnspec: an AF_UNSPEC address is read as the socket's family
// where the kernel does (UDP and raw IPv4 sends, binds), and as no address
// for connect (a disconnect) and IPv6 UDP sends.
func TestDestAFUnspec(t *testing.T) {
	name := sin("127.0.0.2", 53)
	binary.NativeEndian.PutUint16(name, unix.AF_UNSPEC)
	udp4 := &netCall{domain: unix.AF_INET, typ: unix.SOCK_DGRAM}
	if a, has, errno := udp4.dest(name, NetSend); !has || errno != 0 || a.canon().String() != "127.0.0.2" || a.port != 53 {
		t.Errorf("UDPv4 send: %v %v %v %d, want 127.0.0.2:53", has, errno, a.canon(), a.port)
	}
	if _, has, _ := udp4.dest(name, NetConnect); has {
		t.Errorf("connect with AF_UNSPEC has a destination; it is a disconnect")
	}
	udp6 := &netCall{domain: unix.AF_INET6, typ: unix.SOCK_DGRAM}
	if _, has, _ := udp6.dest(append(name, make([]byte, 12)...), NetSend); has {
		t.Errorf("UDPv6 send with AF_UNSPEC has a destination; udpv6_sendmsg ignores it")
	}
	if sockFamily(name) != unix.AF_UNSPEC {
		t.Errorf("dest changed the child's bytes")
	}
}

func TestRoutingCmsg(t *testing.T) {
	cmsg := func(level, typ int32, data int) []byte {
		l := 16 + data
		b := make([]byte, (l+7)&^7)
		binary.NativeEndian.PutUint64(b, uint64(l))
		binary.NativeEndian.PutUint32(b[8:], uint32(level))
		binary.NativeEndian.PutUint32(b[12:], uint32(typ))
		return b
	}
	pktinfo := cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, 12)
	if routingCmsg(pktinfo) {
		t.Errorf("IP_PKTINFO reported as routing")
	}
	for _, c := range [][]byte{
		cmsg(unix.IPPROTO_IP, unix.IP_RETOPTS, 8),
		cmsg(unix.IPPROTO_IPV6, unix.IPV6_RTHDR, 24),
		append(slices.Clone(pktinfo), cmsg(unix.IPPROTO_IPV6, unix.IPV6_2292RTHDR, 24)...),
	} {
		if !routingCmsg(c) {
			t.Errorf("routing control message not found in %x", c)
		}
	}
}

func TestNetSyscalls(t *testing.T) {
	hook := func(*NetEvent) unix.Errno { return 0 }
	for _, tc := range []struct {
		cfg  NetConfig
		want string
	}{
		{NetConfig{}, ""},
		{NetConfig{Allowed: map[netip.Addr]bool{}}, "connect sendto sendmsg sendmmsg"},
		{NetConfig{PortRemap: true}, "connect bind getsockname getpeername"},
		{NetConfig{Hook: hook}, "connect sendto sendmsg sendmmsg bind"},
	} {
		if got := strings.Join(NetSyscalls(tc.cfg), " "); got != tc.want {
			t.Errorf("NetSyscalls(%+v) = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

func TestFilterProcNetTCP(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:A2F1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:C350 0100007F:A2F1 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 100 0 0 10 0
`
	m := NewNet(NetConfig{PortRemap: true}, nil)
	m.ports.add(8080, 0xA2F1) // 8080 is really 41713
	got := string(m.FilterProcNetTCP([]byte(table), map[uint64]bool{222: true, 333: true}))
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("filtered table:\n%s\nwant the header and 2 rows", got)
	}
	if !strings.HasPrefix(lines[1], "   0: 0100007F:1F90 00000000:0000 0A") || !strings.Contains(lines[1], " 222 ") {
		t.Errorf("row of the remapped listener: %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "   1: 0100007F:C350 0100007F:1F90 01") {
		t.Errorf("row of a connection to it: %q", lines[2])
	}
}

func TestHexLoopback(t *testing.T) {
	for h, want := range map[string]bool{
		"0100007F":                         true,
		"0200007F":                         true,
		"0100000A":                         false,
		"00000000000000000000000001000000": true,  // ::1
		"0000000000000000FFFF00000100007F": true,  // ::ffff:127.0.0.1
		"0000000000000000FFFF00000100000A": false, // ::ffff:10.0.0.1
		"00000000000000000000000000000000": false,
	} {
		if got := hexLoopback([]byte(h)); got != want {
			t.Errorf("hexLoopback(%s) = %v, want %v", h, got, want)
		}
	}
}
