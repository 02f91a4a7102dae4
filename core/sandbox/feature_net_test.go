package sandbox_test

// Real-kernel tests of the network mediation (net_allow_hosts, the port
// lists on the on-behalf path, UDP, port_remap). Every listener and every
// destination is a loopback address (127.0.0.0/8 or ::1); "forbidden"
// destinations are canary listeners that count what reaches them, and each
// negative case has a control that succeeds.

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/core/supervisor/handlers"
	"github.com/sandlock/sandlock/internal/testprobe"
)

//go:embed testdata/netprobe.c
var netProbeSource []byte

var netProbeBuild = &testprobe.Probe{
	Name: "netprobe", Source: netProbeSource, What: "the network probe", Flags: []string{"-pthread"},
}

// netProbe returns the argv of the network probe for op and its arguments.
func netProbe(t *testing.T, args ...string) []string {
	t.Helper()
	return netProbeBuild.ArgvIn(t, mainProbe.Dir, args...)
}

// tcpCanary is a loopback listener that counts accepted connections and
// greets each with "hi".
type tcpCanary struct {
	ln    net.Listener
	port  string
	count atomic.Int64
}

func newTCPCanary(t *testing.T, addr string) *tcpCanary {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	c := &tcpCanary{ln: ln}
	_, c.port, _ = net.SplitHostPort(ln.Addr().String())
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.count.Add(1)
			_, _ = conn.Write([]byte("hi"))
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

// tcpCanaryPair listens on the same free port of two loopback addresses,
// so that port rules cannot tell them apart.
func tcpCanaryPair(t *testing.T, a, b string) (*tcpCanary, *tcpCanary) {
	t.Helper()
	for i := 0; i < 20; i++ {
		first := newTCPCanary(t, net.JoinHostPort(a, "0"))
		ln, err := net.Listen("tcp", net.JoinHostPort(b, first.port))
		if err != nil {
			first.ln.Close()
			continue
		}
		ln.Close()
		return first, newTCPCanary(t, net.JoinHostPort(b, first.port))
	}
	t.Fatalf("no common free port on %s and %s", a, b)
	return nil, nil
}

// udpCanary counts and keeps the datagrams it receives.
type udpCanary struct {
	conn *net.UDPConn
	port string
	mu   sync.Mutex
	got  []string
}

func newUDPCanary(t *testing.T, addr string) *udpCanary {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		t.Fatalf("listen udp %s: %v", addr, err)
	}
	c := &udpCanary{conn: conn}
	_, c.port, _ = net.SplitHostPort(conn.LocalAddr().String())
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			c.mu.Lock()
			c.got = append(c.got, string(buf[:n]))
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return c
}

func (c *udpCanary) received() []string {
	// Datagrams already sent may still be on their way to the reader.
	time.Sleep(50 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func udpCanaryPair(t *testing.T, a, b string) (*udpCanary, *udpCanary) {
	t.Helper()
	for i := 0; i < 20; i++ {
		first := newUDPCanary(t, net.JoinHostPort(a, "0"))
		ua, _ := net.ResolveUDPAddr("udp", net.JoinHostPort(b, first.port))
		conn, err := net.ListenUDP("udp", ua)
		if err != nil {
			first.conn.Close()
			continue
		}
		conn.Close()
		return first, newUDPCanary(t, net.JoinHostPort(b, first.port))
	}
	t.Fatalf("no common free UDP port on %s and %s", a, b)
	return nil, nil
}

func ports(t *testing.T, ps ...string) []uint16 {
	t.Helper()
	out, err := policy.ParsePorts(ps)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// netRun runs the network probe and checks its exit status.
func netRun(t *testing.T, p policy.Policy, want int, args ...string) *sandbox.Result {
	t.Helper()
	argv := netProbe(t, args...)
	res := run(t, p, argv, sandbox.Options{})
	wantExit(t, argv, res, want)
	return res
}

const (
	eACCES       = int(unix.EACCES)
	eCONNREFUSED = int(unix.ECONNREFUSED)
)

// TestNetPortsWithHostAllowlist: the port lists stay in force when the
// supervisor connects on the child's behalf (the case the original got
// wrong, attacks.md NET-01).
func TestNetPortsWithHostAllowlist(t *testing.T) {
	allowed := newTCPCanary(t, "127.0.0.1:0")
	other := newTCPCanary(t, "127.0.0.1:0")
	for _, hosts := range [][]string{nil, {"127.0.0.1"}, {"localhost"}} {
		t.Run(fmt.Sprintf("hosts=%q", hosts), func(t *testing.T) {
			p, _ := basePolicy(t)
			p.NetAllowHosts = hosts
			p.NetConnect = ports(t, allowed.port)
			before := other.count.Load()
			res := netRun(t, p, 0, "connect", "127.0.0.1", allowed.port)
			if !strings.Contains(string(res.Stdout), "read hi") {
				t.Errorf("allowed port: stdout %q, want the greeting", res.Stdout)
			}
			netRun(t, p, eACCES, "connect", "127.0.0.1", other.port)
			netRun(t, p, eACCES, "connect-nb", "127.0.0.1", other.port)
			if n := other.count.Load() - before; n != 0 {
				t.Errorf("the unlisted port accepted %d connections", n)
			}
			// Control: the same port once listed.
			p.NetConnect = ports(t, allowed.port, other.port)
			netRun(t, p, 0, "connect", "127.0.0.1", other.port)
			if other.count.Load() == before {
				t.Errorf("control: the listed port was not reached")
			}
		})
	}
}

// TestNetHostAllowlist: an allowlist of 127.0.0.1 refuses 127.0.0.2 and
// every spelling that reaches it, for the process and its grandchildren
// (attacks.md NET-05).
func TestNetHostAllowlist(t *testing.T) {
	ok, forbidden := tcpCanaryPair(t, "127.0.0.1", "127.0.0.2")
	p, _ := basePolicy(t)
	p.NetAllowHosts = []string{"127.0.0.1"}
	p.NetConnect = ports(t, ok.port)

	netRun(t, p, 0, "connect", "127.0.0.1", ok.port)
	netRun(t, p, 0, "connect", "0.0.0.0", ok.port) // reaches 127.0.0.1
	netRun(t, p, 0, "connect", "::ffff:127.0.0.1", ok.port, "6")
	netRun(t, p, 0, "connect-nb", "127.0.0.1", ok.port)
	netRun(t, p, 0, "fork-connect", "127.0.0.1", ok.port)
	netRun(t, p, eCONNREFUSED, "connect", "127.0.0.2", forbidden.port)
	netRun(t, p, eCONNREFUSED, "connect-nb", "127.0.0.2", forbidden.port)
	netRun(t, p, eCONNREFUSED, "connect", "::ffff:127.0.0.2", forbidden.port, "6")
	netRun(t, p, eCONNREFUSED, "fork-connect", "127.0.0.2", forbidden.port)
	if n := forbidden.count.Load(); n != 0 {
		t.Fatalf("127.0.0.2 accepted %d connections under an allowlist of 127.0.0.1", n)
	}
	if ok.count.Load() < 5 {
		t.Errorf("127.0.0.1 accepted %d connections, want 5", ok.count.Load())
	}

	// Control: listing 127.0.0.2 reaches it.
	p.NetAllowHosts = []string{"127.0.0.1", "127.0.0.2"}
	netRun(t, p, 0, "fork-connect", "127.0.0.2", forbidden.port)
	if forbidden.count.Load() != 1 {
		t.Errorf("control: 127.0.0.2 accepted %d connections, want 1", forbidden.count.Load())
	}

	// An empty list allows nothing, not even loopback.
	p.NetAllowHosts = []string{}
	netRun(t, p, eCONNREFUSED, "connect", "127.0.0.1", ok.port)
}

// TestNetIPv6Loopback: ::1 is implicitly allowed with a host list, and ::
// is what it reaches (::1).
func TestNetIPv6Loopback(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatalf("IPv6 loopback is part of the test environment: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := basePolicy(t)
	p.NetAllowHosts = []string{"127.0.0.1"}
	p.NetConnect = ports(t, port)
	netRun(t, p, 0, "connect", "::1", port)
	netRun(t, p, 0, "connect", "::", port)
	p.NetAllowHosts = []string{}
	netRun(t, p, eCONNREFUSED, "connect", "::1", port)
	netRun(t, p, eCONNREFUSED, "connect", "::", port)
}

// TestNetRaceConnect: a thread flips the address between an allowed and a
// forbidden host while the main thread connects 10^4 times; the forbidden
// listener must never see a connection (attacks.md TOC-03). The control
// (no allowlist) shows that the flip does reach both listeners.
func TestNetRaceConnect(t *testing.T) {
	if testing.Short() {
		t.Skip("race loop skipped in -short mode")
	}
	ok, forbidden := tcpCanaryPair(t, "127.0.0.1", "127.0.0.2")
	p, _ := basePolicy(t)
	p.NetAllowHosts = []string{"127.0.0.1"}
	p.NetConnect = ports(t, ok.port)
	res := netRun(t, p, 0, "race-connect", "127.0.0.1", "127.0.0.2", ok.port, "10000")
	var nok, nref, nother int
	if _, err := fmt.Sscanf(string(res.Stdout), "ok %d refused %d other %d", &nok, &nref, &nother); err != nil {
		t.Fatalf("probe output %q: %v", res.Stdout, err)
	}
	t.Logf("with the allowlist: %s", strings.TrimSpace(string(res.Stdout)))
	if n := forbidden.count.Load(); n != 0 {
		t.Fatalf("the forbidden listener accepted %d connections", n)
	}
	if nok == 0 || nref == 0 || nother != 0 {
		t.Errorf("ok %d refused %d other %d: want both outcomes and nothing else", nok, nref, nother)
	}

	// Control: without the allowlist the flipped address reaches both.
	p.NetAllowHosts = nil
	res = netRun(t, p, 0, "race-connect", "127.0.0.1", "127.0.0.2", ok.port, "2000")
	t.Logf("control: %s", strings.TrimSpace(string(res.Stdout)))
	if forbidden.count.Load() == 0 {
		t.Errorf("control: the flip never reached 127.0.0.2, so the race is not exercised")
	}
}

// TestNetUDP: datagrams go through the same check (sendto, sendmsg, a
// connected socket, sendmmsg with one forbidden entry; attacks.md NET-04).
func TestNetUDP(t *testing.T) {
	ok, forbidden := udpCanaryPair(t, "127.0.0.1", "127.0.0.2")
	p, _ := basePolicy(t)
	p.NetAllowHosts = []string{"127.0.0.1"}
	for _, how := range []string{"sendto", "sendmsg", "connect"} {
		netRun(t, p, 0, "udp", how, "127.0.0.1", ok.port, how)
		netRun(t, p, eCONNREFUSED, "udp", how, "127.0.0.2", forbidden.port, how)
		netRun(t, p, eCONNREFUSED, "udp", how, "::ffff:127.0.0.2", forbidden.port, how)
	}
	res := netRun(t, p, 0, "sendmmsg", "127.0.0.1", ok.port, "127.0.0.2", forbidden.port, "127.0.0.1", ok.port)
	if got := strings.TrimSpace(string(res.Stdout)); got != "sent 1 2 999 999" {
		t.Errorf("sendmmsg [allowed, forbidden, allowed]: %q, want %q", got, "sent 1 2 999 999")
	}
	netRun(t, p, eCONNREFUSED, "sendmmsg", "127.0.0.2", forbidden.port, "127.0.0.1", ok.port)
	if got := forbidden.received(); len(got) != 0 {
		t.Fatalf("the forbidden host received %q", got)
	}
	want := []string{"sendto", "sendmsg", "connect", "m0"}
	if got := ok.received(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the allowed host received %q, want %q", got, want)
	}

	// Control: with 127.0.0.2 listed every entry is sent.
	p.NetAllowHosts = []string{"127.0.0.1", "127.0.0.2"}
	res = netRun(t, p, 0, "sendmmsg", "127.0.0.1", ok.port, "127.0.0.2", forbidden.port, "127.0.0.1", ok.port)
	if got := strings.TrimSpace(string(res.Stdout)); got != "sent 3 2 2 2" {
		t.Errorf("control sendmmsg: %q, want %q", got, "sent 3 2 2 2")
	}
	if got := forbidden.received(); len(got) != 1 {
		t.Errorf("control: 127.0.0.2 received %q, want one datagram", got)
	}

	// no_udp still refuses the socket itself.
	p.NoUDP = true
	netRun(t, p, int(unix.EPERM), "udp", "sendto", "127.0.0.1", ok.port, "x")
}

// TestNetResolveFailure: a name that does not resolve fails the spawn with
// an error naming it.
func TestNetResolveFailure(t *testing.T) {
	p, _ := basePolicy(t)
	p.NetAllowHosts = []string{"127.0.0.1", "sandlock-unresolvable.invalid"}
	_, err := sandbox.Run(p, []string{"/bin/true"}, sandbox.Options{})
	if err == nil || !errors.Is(err, sandbox.ErrSpawn) || !strings.Contains(err.Error(), "sandlock-unresolvable.invalid") {
		t.Fatalf("Run = %v, want a spawn error naming the host", err)
	}
}

// TestNetEtcHosts: the synthetic /etc/hosts of a host allowlist.
func TestNetEtcHosts(t *testing.T) {
	p, _ := basePolicy(t)
	p.NetAllowHosts = []string{"localhost", "127.0.0.3"}
	sb, err := sandbox.Spawn(p, []string{"/bin/sleep", "5"}, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Wait()
	defer sb.Kill()
	b, ok, err := sandbox.VirtualFileForTest(sb, "/etc/hosts")
	if !ok || err != nil {
		t.Fatalf("/etc/hosts: registered %v, err %v", ok, err)
	}
	for _, line := range []string{"127.0.0.1 localhost\n", "::1 localhost\n"} {
		if !strings.Contains(string(b), line) {
			t.Errorf("/etc/hosts = %q, want a line %q", b, line)
		}
	}
	if strings.Contains(string(b), "127.0.0.3") || strings.Contains(string(b), "runsc") {
		t.Errorf("/etc/hosts = %q: IP literals and other hosts' names have no line", b)
	}

	p.NetAllowHosts = []string{}
	sb2, err := sandbox.Spawn(p, []string{"/bin/sleep", "5"}, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb2.Wait()
	defer sb2.Kill()
	if b, ok, err := sandbox.VirtualFileForTest(sb2, "/etc/hosts"); !ok || err != nil || len(b) != 0 {
		t.Errorf("empty allowlist: /etc/hosts = %q (registered %v, %v), want empty", b, ok, err)
	}
}

// TestNetHook: the hook sees the operation as the kernel will perform it
// and decides; it cannot allow what the static policy denies.
func TestNetHook(t *testing.T) {
	ok, other := tcpCanaryPair(t, "127.0.0.1", "127.0.0.2")
	var mu sync.Mutex
	var events []handlers.NetEvent
	sandbox.RegisterNetHookForTest("nethook-test", func(ev *handlers.NetEvent) unix.Errno {
		mu.Lock()
		events = append(events, *ev)
		mu.Unlock()
		if ev.Addr.Addr().String() == "127.0.0.2" {
			return unix.EHOSTUNREACH
		}
		return 0
	})
	p, _ := basePolicy(t)
	p.NetConnect = ports(t, ok.port)
	o := sandbox.Options{Name: "nethook-test"}
	for _, tc := range []struct {
		host string
		want int
	}{{"127.0.0.1", 0}, {"0.0.0.0", 0}, {"127.0.0.2", int(unix.EHOSTUNREACH)}} {
		argv := netProbe(t, "connect", tc.host, ok.port)
		wantExit(t, argv, run(t, p, argv, o), tc.want)
	}
	p.NetAllowHosts = []string{"127.0.0.3"}
	argv := netProbe(t, "connect", "127.0.0.2", other.port)
	wantExit(t, argv, run(t, p, argv, o), eCONNREFUSED)
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 4 {
		t.Fatalf("hook saw %d events, want 4: %+v", len(events), events)
	}
	if e := events[1]; e.Op != handlers.NetConnect || e.Proto != unix.IPPROTO_TCP || e.Addr.String() != "127.0.0.1:"+ok.port || e.Pid <= 0 {
		t.Errorf("event for 0.0.0.0 = %+v, want a TCP connect to 127.0.0.1:%s", e, ok.port)
	}
	if e := events[3]; e.Errno != unix.ECONNREFUSED {
		t.Errorf("event outside the allowlist = %+v, want Errno ECONNREFUSED", e)
	}
	if other.count.Load() != 0 {
		t.Errorf("127.0.0.2 accepted %d connections", other.count.Load())
	}
}

// spawnHold starts "netprobe bind-hold" and returns the sandbox, the port
// it reported from getsockname, and the writer that ends it when closed.
func spawnHold(t *testing.T, p policy.Policy, host, port string) (*sandbox.Sandbox, string, io.WriteCloser) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	sb, err := sandbox.Spawn(p, netProbe(t, "bind-hold", host, port), sandbox.Options{
		Stdin: sandbox.Reader(inR), Stdout: sandbox.Writer(outW), Stderr: sandbox.Capture(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		inW.Close()
		if _, ok, _ := sb.WaitTimeout(5 * time.Second); !ok {
			sb.Kill()
		}
		sb.Wait()
		outW.Close()
	})
	line := make(chan string, 1)
	go func() {
		buf := make([]byte, 64)
		n, _ := outR.Read(buf)
		line <- string(buf[:n])
		_, _ = io.Copy(io.Discard, outR)
	}()
	select {
	case l := <-line:
		got, ok := strings.CutPrefix(strings.TrimSpace(l), "port ")
		if !ok {
			_, se := sb.Output()
			t.Fatalf("bind-hold said %q; stderr %q", l, se)
		}
		return sb, got, inW
	case <-time.After(10 * time.Second):
		_, se := sb.Output()
		t.Fatalf("bind-hold did not report its port; stderr %q", se)
	}
	return nil, "", nil
}

func hostGreeting(t *testing.T, port uint16) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(int(port)), 5*time.Second)
	if err != nil {
		t.Fatalf("host connect to real port %d: %v", port, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

// TestNetPortRemap: two sandboxes both bind 8080 and both see 8080; the
// host reaches each through its real port.
func TestNetPortRemap(t *testing.T) {
	p, _ := basePolicy(t)
	p.PortRemap = true
	p.NetBind = []uint16{8080}
	a, pa, _ := spawnHold(t, p, "127.0.0.1", "8080")
	b, pb, _ := spawnHold(t, p, "127.0.0.1", "8080")
	if pa != "8080" || pb != "8080" {
		t.Fatalf("getsockname ports %s and %s, want 8080 in both sandboxes", pa, pb)
	}
	ma, mb := a.Ports(), b.Ports()
	if len(ma) != 1 || len(mb) != 1 || ma[0].Virtual != 8080 || mb[0].Virtual != 8080 || ma[0].Real == mb[0].Real {
		t.Fatalf("mappings %+v and %+v: want 8080 mapped to two different real ports", ma, mb)
	}
	for _, m := range []sandbox.PortMapping{ma[0], mb[0]} {
		if got := hostGreeting(t, m.Real); got != "hi" {
			t.Errorf("real port %d answered %q, want hi", m.Real, got)
		}
	}
	// /proc/net/tcp shows each sandbox only its own listener, at 8080.
	for _, sb := range []*sandbox.Sandbox{a, b} {
		tab, ok, err := sandbox.VirtualFileForTest(sb, "/proc/net/tcp")
		if !ok || err != nil {
			t.Fatalf("/proc/net/tcp: registered %v, %v", ok, err)
		}
		lines := strings.Split(strings.TrimSpace(string(tab)), "\n")
		if len(lines) != 2 || !strings.Contains(lines[1], "0100007F:1F90") || !strings.HasPrefix(strings.TrimSpace(lines[1]), "0:") {
			t.Errorf("/proc/net/tcp of the sandbox:\n%s\nwant the header and one row for 127.0.0.1:8080", tab)
		}
	}
	// Controls of the bind list: a port outside net_bind is refused on
	// the on-behalf path too.
	netRun(t, p, eACCES, "bind-hold", "127.0.0.1", "8081")
}

// TestNetPortRemapSelfConnect: inside the sandbox, a connect to its own
// virtual port reaches its listener even when the host holds that port.
func TestNetPortRemapSelfConnect(t *testing.T) {
	host := newTCPCanary(t, "127.0.0.1:0")
	p, _ := basePolicy(t)
	p.PortRemap = true
	p.NetBind = ports(t, host.port)
	p.NetConnect = ports(t, host.port)
	res := netRun(t, p, 0, "self-connect", host.port)
	want := fmt.Sprintf("local %s peer %s", host.port, host.port)
	if got := strings.TrimSpace(string(res.Stdout)); got != want {
		t.Errorf("self-connect: %q, want %q", got, want)
	}
	if host.count.Load() != 0 {
		t.Errorf("the host's listener on the same port got %d connections", host.count.Load())
	}
}

// TestNetRedis: a real redis-server runs in a sandbox with a host
// allowlist and port remapping, and redis-benchmark from the host reaches
// it through the real port.
func TestNetRedis(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (apt-get install redis-server redis-tools; .ci/run installs it): %v", err)
	}
	bench, err := exec.LookPath("redis-benchmark")
	if err != nil {
		t.Fatalf("redis-benchmark is not installed (apt-get install redis-tools; .ci/run installs it): %v", err)
	}
	p, dir := basePolicy(t)
	p.NetAllowHosts = []string{"127.0.0.1"}
	p.PortRemap = true
	p.NetBind = []uint16{6390}
	sb, err := sandbox.Spawn(p, []string{server, "--port", "6390", "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--protected-mode", "no"}, sandbox.Options{Stdout: sandbox.Capture(), Stderr: sandbox.Capture()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		sb.Kill()
		sb.Wait()
	}()
	var real uint16
	if !eventually(10*time.Second, func() bool {
		for _, m := range sb.Ports() {
			if m.Virtual == 6390 {
				real = m.Real
			}
		}
		if real == 0 {
			return false
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(int(real)), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		so, se := sb.Output()
		t.Fatalf("redis-server did not come up (port %d); stdout %s stderr %s", real, so, se)
	}
	out, err := exec.Command(bench, "-h", "127.0.0.1", "-p", strconv.Itoa(int(real)), "-t", "set,get", "-n", "20000", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v: %s", err, out)
	}
	text := string(out)
	for _, op := range []string{"SET:", "GET:"} {
		if !strings.Contains(text, op) || !strings.Contains(text, "requests per second") {
			t.Errorf("redis-benchmark output lacks %s results:\n%s", op, text)
		}
	}
	t.Logf("redis-benchmark against the sandboxed server (real port %d):\n%s", real, text)
}

// TestNetAllowlistMode: the mediation does not widen allow_syscalls: a
// connect the allowlist leaves out stays denied even though the network
// feature routes connect to the supervisor.
func TestNetAllowlistMode(t *testing.T) {
	ln := newTCPCanary(t, "127.0.0.1:0")
	p, _ := basePolicy(t)
	p.NetAllowHosts = []string{"127.0.0.1"}
	p.NetConnect = ports(t, ln.port)
	base := []string{"execve", "arch_prctl", "brk", "exit_group", "getrandom", "mprotect", "mmap", "munmap",
		"prlimit64", "readlink", "readlinkat", "rseq", "set_robust_list", "set_tid_address", "newfstatat",
		"fstat", "socket", "read", "write", "close", "futex"}
	p.AllowSyscalls = base
	netRun(t, p, int(unix.EPERM), "connect", "127.0.0.1", ln.port)
	if ln.count.Load() != 0 {
		t.Fatalf("a connect outside the allowlist reached the listener")
	}
	// Control: listed, it is mediated as usual.
	p.AllowSyscalls = append(slices.Clone(base), "connect")
	netRun(t, p, 0, "connect", "127.0.0.1", ln.port)
	netRun(t, p, eCONNREFUSED, "connect", "127.0.0.2", ln.port)
	if ln.count.Load() != 1 {
		t.Errorf("control: %d connections, want 1", ln.count.Load())
	}
}
