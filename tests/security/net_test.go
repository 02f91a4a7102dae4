package security

// Network bypasses (attacks.md 1.4). Every destination is a loopback
// canary the test owns. The plain Landlock TCP connect rule on 127.0.0.1
// is core/sandbox TestTCPConnect; NET-06 (pathname unix sockets), NET-08's
// virtualisation, NET-11 and the host-allowlist variants are pending.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/core/seccomp"
)

// otherPort is a port number next to p, for "another port listed".
func otherPort(p int) uint16 {
	if p == 65535 {
		return uint16(p - 1)
	}
	return uint16(p + 1)
}

// TestNET01OtherLoopback: with net_connect naming another port, connects
// to a canary on [::1] and on 127.0.0.2 fail with EACCES.
func TestNET01OtherLoopback(t *testing.T) {
	canaries := []struct {
		host string
		c    *tcpCanary
	}{
		{"127.0.0.2", newTCPCanary(t, "tcp4", "127.0.0.2:0")},
		{"::1", newTCPCanary(t, "tcp6", "[::1]:0")},
	}
	t.Run("NET-01/attack: connect to a port that is not listed", func(t *testing.T) {
		attack(t, "NET-01")
		for _, c := range canaries {
			p, _ := basePolicy(t)
			p.NetConnect = []uint16{otherPort(c.c.port)}
			base := c.c.accepted.Load()
			wantCode(t, inSandbox(t, p, sandbox.Options{}, "connect", c.host, c.c.portString()), unix.EACCES)
			c.c.expect(t, base, 0, c.host)
		}
	})
	t.Run("NET-01/control: the port listed", func(t *testing.T) {
		control(t, "NET-01")
		for _, c := range canaries {
			p, _ := basePolicy(t)
			p.NetConnect = []uint16{uint16(c.c.port)}
			base := c.c.accepted.Load()
			wantCode(t, inSandbox(t, p, sandbox.Options{}, "connect", c.host, c.c.portString()), 0)
			c.c.expect(t, base, 1, c.host)
		}
	})
}

// TestNET02NonTCPStreams: MPTCP connects past Landlock's TCP rules on this
// kernel (attacks.md 0); SCTP and SMC stream sockets likewise. The filter
// refuses the socket itself, even with the port allowed.
func TestNET02NonTCPStreams(t *testing.T) {
	c := newTCPCanary(t, "tcp4", "127.0.0.1:0")
	socks := [][]string{
		{"2", "1", "132"},  // AF_INET SOCK_STREAM IPPROTO_SCTP
		{"2", "5", "132"},  // AF_INET SOCK_SEQPACKET (SCTP)
		{"10", "1", "262"}, // AF_INET6 MPTCP
		{"43", "1", "0"},   // AF_SMC
	}
	t.Run("NET-02/attack: MPTCP connect to the canary", func(t *testing.T) {
		attack(t, "NET-02")
		for _, allowed := range [][]uint16{nil, {uint16(c.port)}} {
			p, _ := basePolicy(t)
			p.NetConnect = allowed
			base := c.accepted.Load()
			wantCode(t, inSandbox(t, p, sandbox.Options{}, "mptcp", "127.0.0.1", c.portString()), unix.EPERM)
			c.expect(t, base, 0, "MPTCP")
			for _, s := range socks {
				wantCode(t, inSandbox(t, p, sandbox.Options{}, append([]string{"socket"}, s...)...), unix.EPERM)
			}
		}
	})
	t.Run("NET-02/control: MPTCP from the host, TCP with the port listed", func(t *testing.T) {
		control(t, "NET-02")
		base := c.accepted.Load()
		wantCode(t, onHost(t, hostOpts{}, "mptcp", "127.0.0.1", c.portString()), 0)
		c.expect(t, base, 1, "MPTCP from the host")
		p, _ := basePolicy(t)
		p.NetConnect = []uint16{uint16(c.port)}
		base = c.accepted.Load()
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "connect", "127.0.0.1", c.portString()), 0)
		c.expect(t, base, 1, "TCP with the port listed")
		for _, s := range socks {
			if r := onHost(t, hostOpts{}, append([]string{"socket"}, s...)...); r.code == int(unix.EPERM) {
				t.Errorf("%v; the host's own answer must differ from the filter's EPERM", r)
			}
		}
	})
}

// TestNET03FastOpen: TCP Fast Open connects implicitly, which Landlock's
// connect hook does not see (attacks.md 0): sendto/sendmsg with
// MSG_FASTOPEN (also with high flag bits) and TCP_FASTOPEN_CONNECT.
func TestNET03FastOpen(t *testing.T) {
	c := newTCPCanary(t, "tcp4", "127.0.0.1:0")
	modes := []string{"sendto", "sendto-hi", "sendmsg", "sockopt"}
	t.Run("NET-03/attack: TCP Fast Open to the canary", func(t *testing.T) {
		attack(t, "NET-03")
		p, _ := basePolicy(t)
		base := c.accepted.Load()
		for _, m := range modes {
			wantCode(t, inSandbox(t, p, sandbox.Options{}, "tfo", m, c.portString()), unix.EPERM)
		}
		c.expect(t, base, 0, "TFO")
	})
	t.Run("NET-03/control: TCP Fast Open from the host", func(t *testing.T) {
		control(t, "NET-03")
		for _, m := range modes {
			base := c.accepted.Load()
			wantCode(t, onHost(t, hostOpts{}, "tfo", m, c.portString()), 0)
			c.expect(t, base, 1, "TFO "+m+" from the host")
		}
	})
}

// TestNET04UDP: under no_udp every UDP path to a canary fails at socket()
// and nothing arrives; a ping socket is refused the same way.
func TestNET04UDP(t *testing.T) {
	u4 := newUDPCanary(t, "udp4", "127.0.0.2:0")
	u6 := newUDPCanary(t, "udp6", "[::1]:0")
	type dst struct {
		host string
		c    *udpCanary
	}
	dsts := []dst{{"127.0.0.2", u4}, {"::1", u6}}
	modes := []string{"sendto", "sendmsg", "sendmmsg", "connect"}
	t.Run("NET-04/attack: UDP under no_udp", func(t *testing.T) {
		attack(t, "NET-04")
		p, _ := basePolicy(t)
		p.NoUDP = true
		for _, d := range dsts {
			base := d.c.got.Load()
			for _, m := range modes {
				wantCode(t, inSandbox(t, p, sandbox.Options{}, "udp", m, d.host, strconv.Itoa(d.c.port)), unix.EPERM)
			}
			expectCount(t, &d.c.got, base, 0, "datagrams at "+d.host)
		}
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "ping"), unix.EPERM)
	})
	t.Run("NET-04/control: UDP allowed", func(t *testing.T) {
		control(t, "NET-04")
		p, _ := basePolicy(t)
		for _, d := range dsts {
			for _, m := range modes {
				base := d.c.got.Load()
				wantCode(t, inSandbox(t, p, sandbox.Options{}, "udp", m, d.host, strconv.Itoa(d.c.port)), 0)
				expectCount(t, &d.c.got, base, 1, m+" datagrams at "+d.host)
			}
		}
	})
}

// TestNET05PortAliases: spellings of the canary's port on other local
// addresses (0.0.0.0, ::, a v4-mapped address on an AF_INET6 socket)
// are still that port for the Landlock rule.
func TestNET05PortAliases(t *testing.T) {
	c4 := newTCPCanary(t, "tcp4", "127.0.0.1:0")
	c6 := newTCPCanary(t, "tcp6", "[::1]:"+c4.portString())
	allowed := otherPort(c4.port)
	hosts := []string{"0.0.0.0", "::ffff:127.0.0.1", "::", "::1", "127.0.0.1"}
	total := func() int64 { return c4.accepted.Load() + c6.accepted.Load() }
	var n atomic.Int64
	t.Run("NET-05/attack: aliases of a port that is not listed", func(t *testing.T) {
		attack(t, "NET-05")
		p, _ := basePolicy(t)
		p.NetConnect = []uint16{allowed}
		base := total()
		for _, h := range hosts {
			wantCode(t, inSandbox(t, p, sandbox.Options{}, "connect", h, c4.portString()), unix.EACCES)
		}
		n.Store(total() - base)
		expectCount(t, &n, 0, 0, "connections accepted by the canaries")
	})
	t.Run("NET-05/control: the same aliases with the port listed", func(t *testing.T) {
		control(t, "NET-05")
		p, _ := basePolicy(t)
		p.NetConnect = []uint16{uint16(c4.port)}
		base := total()
		for _, h := range hosts {
			wantCode(t, inSandbox(t, p, sandbox.Options{}, "connect", h, c4.portString()), 0)
		}
		time.Sleep(100 * time.Millisecond)
		if got := total() - base; got < int64(len(hosts)) {
			t.Errorf("canaries accepted %d connections, want %d", got, len(hosts))
		}
	})
}

// TestNET07AbstractUnix: a host listener on an abstract name is out of
// reach (Landlock's abstract-unix scope).
func TestNET07AbstractUnix(t *testing.T) {
	name := fmt.Sprintf("sandlock-security-%d-%d", os.Getpid(), time.Now().UnixNano())
	ln, err := net.Listen("unix", "@"+name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Run("NET-07/attack: connect to a host abstract socket", func(t *testing.T) {
		attack(t, "NET-07")
		p, _ := basePolicy(t)
		base := accepted.Load()
		for _, pol := range []policy.Policy{p, fsDenyActive(t, p)} {
			wantCode(t, inSandbox(t, pol, sandbox.Options{}, "abstract", name), unix.EPERM)
		}
		expectCount(t, &accepted, base, 0, "connections accepted by the abstract listener")
	})
	t.Run("NET-07/control: connect from the host", func(t *testing.T) {
		control(t, "NET-07")
		base := accepted.Load()
		wantCode(t, onHost(t, hostOpts{}, "abstract", name), 0)
		expectCount(t, &accepted, base, 1, "connections accepted by the abstract listener")
	})
}

// socketCase is one socket(2) triple and whether the kernel itself needs a
// capability for it (then an unprivileged host answers EPERM too).
type socketCase struct {
	name             string
	domain, typ, pro int
	capGated         bool
}

// checkSockets runs the socket cases: the attack expects the filter's
// EPERM; the control expects the host kernel to answer otherwise or, for
// capability-gated families run without the capability, the filter to
// discriminate by family (the same call as an AF_INET TCP socket is
// allowed by the very program the sandbox runs).
func checkSockets(t *testing.T, id string, cases []socketCase) {
	t.Run(id+"/attack: socket families and protocols", func(t *testing.T) {
		attack(t, id)
		p, _ := basePolicy(t)
		for _, c := range cases {
			r := inSandbox(t, p, sandbox.Options{}, "socket", strconv.Itoa(c.domain), strconv.Itoa(c.typ), strconv.Itoa(c.pro))
			wantCode(t, r, unix.EPERM)
		}
	})
	t.Run(id+"/control: the same sockets outside the filter", func(t *testing.T) {
		control(t, id)
		p, _ := basePolicy(t)
		prog := programFor(t, p, true)
		for _, c := range cases {
			r := onHost(t, hostOpts{}, "socket", strconv.Itoa(c.domain), strconv.Itoa(c.typ), strconv.Itoa(c.pro))
			if r.code != int(unix.EPERM) {
				continue
			}
			if !c.capGated || isRoot {
				t.Errorf("%s: %v; the host's own answer must differ from the filter's EPERM", c.name, r)
				continue
			}
			got := prog.Decide(x86(t, "socket", uint64(c.domain), uint64(c.typ), uint64(c.pro)))
			tcp := prog.Decide(x86(t, "socket", unix.AF_INET, unix.SOCK_STREAM, 0))
			if got != seccomp.ActionEPERM || tcp != seccomp.ActionAllow {
				t.Errorf("%s: filter verdict %v (TCP: %v), want ERRNO(EPERM) (ALLOW)", c.name, got, tcp)
			}
		}
	})
}

// TestNET08Netlink: netlink families other than NETLINK_ROUTE.
func TestNET08Netlink(t *testing.T) {
	checkSockets(t, "NET-08", []socketCase{
		{"NETLINK_SOCK_DIAG", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_SOCK_DIAG, false},
		{"NETLINK_AUDIT", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT, false},
		{"NETLINK_KOBJECT_UEVENT", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_KOBJECT_UEVENT, false},
		{"NETLINK_NETFILTER", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER, false},
		{"NETLINK_XFRM", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_XFRM, false},
		{"NETLINK_GENERIC", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_GENERIC, false},
	})
	t.Run("NET-08/control: NETLINK_ROUTE stays allowed", func(t *testing.T) {
		control(t, "NET-08")
		p, _ := basePolicy(t)
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "socket", "16", "3", "0"), 0)
	})
}

// TestNET09Families: socket families a sandbox never needs.
func TestNET09Families(t *testing.T) {
	checkSockets(t, "NET-09", []socketCase{
		{"AF_PACKET", unix.AF_PACKET, unix.SOCK_RAW, 0, true},
		{"AF_INET SOCK_RAW", unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP, true},
		{"AF_INET SOCK_PACKET", unix.AF_INET, unix.SOCK_PACKET, 0, true},
		{"AF_VSOCK", unix.AF_VSOCK, unix.SOCK_STREAM, 0, false},
		{"AF_ALG", unix.AF_ALG, unix.SOCK_SEQPACKET, 0, false},
		{"AF_KEY", unix.AF_KEY, unix.SOCK_RAW, 2, false},
		{"AF_XDP", unix.AF_XDP, unix.SOCK_RAW, 0, true},
		{"AF_BLUETOOTH", unix.AF_BLUETOOTH, unix.SOCK_RAW, 0, false},
		{"AF_TIPC", unix.AF_TIPC, unix.SOCK_SEQPACKET, 0, false},
		{"AF_RDS", unix.AF_RDS, unix.SOCK_SEQPACKET, 0, false},
		{"AF_CAN", unix.AF_CAN, unix.SOCK_RAW, 1, false},
	})
	t.Run("NET-09/attack: socketpair(AF_INET)", func(t *testing.T) {
		attack(t, "NET-09")
		p, _ := basePolicy(t)
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "socketpair", "2", "1"), unix.EPERM)
	})
	t.Run("NET-09/control: socketpair(AF_UNIX) and raw sockets with no_raw_sockets off", func(t *testing.T) {
		control(t, "NET-09")
		p, _ := basePolicy(t)
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "socketpair", "1", "1"), 0)
		p.NoRawSockets = false
		want := []unix.Errno{0}
		if !isRoot {
			want = []unix.Errno{unix.EPERM} // the kernel's CAP_NET_RAW check
		}
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "socket", "2", "3", "1"), want...)
		if !isRoot {
			v := programFor(t, p, true).Decide(x86(t, "socket", unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP))
			if v != seccomp.ActionAllow {
				t.Errorf("raw socket with no_raw_sockets off: filter verdict %v, want ALLOW", v)
			}
		}
	})
}

// listenAttempt runs "probe listen mode port ready" in a sandbox and, when
// the probe publishes a listening port, connects to it from the host. It
// returns the probe's result and whether the host's connection went
// through.
func listenAttempt(t *testing.T, p policy.Policy, w, mode, port string) (result, bool) {
	t.Helper()
	ready := filepath.Join(w, "ready-"+mode)
	os.Remove(ready)
	argv := probe(t, "listen", mode, port, ready)
	type ran struct {
		res *sandbox.Result
		err error
	}
	done := make(chan ran, 1)
	go func() {
		res, err := sandbox.Run(p, argv, sandbox.Options{Timeout: 10 * time.Second})
		done <- ran{res, err}
	}()
	connected := false
	deadline := time.After(15 * time.Second)
	for {
		select {
		case d := <-done:
			if d.err != nil {
				t.Fatalf("sandbox.Run(%q): %v", argv, d.err)
			}
			return result{argv: argv, code: d.res.ExitCode, signal: d.res.Signal, stdout: string(d.res.Stdout), stderr: string(d.res.Stderr)}, connected
		case <-deadline:
			t.Fatal("listen probe did not finish")
		case <-time.After(10 * time.Millisecond):
		}
		if connected {
			continue
		}
		b, err := os.ReadFile(ready)
		if err != nil || !strings.HasSuffix(string(b), "\n") {
			continue
		}
		host := "127.0.0.1"
		if mode == "bind6" {
			host = "::1"
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strings.TrimSpace(string(b))), time.Second)
		if err == nil {
			connected = true
			c.Close()
		}
	}
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestNET10BindListen: with net_bind empty the sandbox must not get a
// listening TCP socket by any route: bind to a port on 0.0.0.0 or ::,
// bind to port 0, listen() without bind (the kernel then picks an
// ephemeral port itself) or MPTCP. The canary is the host connecting to
// whatever port the probe publishes.
func TestNET10BindListen(t *testing.T) {
	port := strconv.Itoa(freePort(t))
	for _, modes := range [][]string{{"bind4", "bind6", "bind0", "mptcp"}, {"nobind"}} {
		name := "bind to a port, port 0, MPTCP"
		if modes[0] == "nobind" {
			name = "listen without bind (kernel autobind)"
		}
		t.Run("NET-10/attack: "+name+" with net_bind empty", func(t *testing.T) {
			attack(t, "NET-10")
			p, w := basePolicy(t)
			for _, m := range modes {
				r, connected := listenAttempt(t, p, w, m, port)
				if connected || r.kv()["listen"] == "ok" {
					t.Errorf("%s: %v; the sandbox got a listening socket (host connected: %v)", m, r, connected)
				}
			}
		})
	}
	t.Run("NET-10/control: the port listed in net_bind", func(t *testing.T) {
		control(t, "NET-10")
		p, w := basePolicy(t)
		n, _ := strconv.Atoi(port)
		p.NetBind = []uint16{0, uint16(n)}
		for _, m := range []string{"bind4", "bind0"} {
			r, connected := listenAttempt(t, p, w, m, port)
			if !connected || r.kv()["accepted"] != "1" {
				t.Errorf("%s: %v; want the host's connection accepted (connected: %v)", m, r, connected)
			}
		}
	})
}
