package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// Network mediation: net_allow_hosts, port_remap, and the on-behalf path
// that other features (policy_fn) hook into. The handlers live in
// core/supervisor/handlers/net*.go; this file turns the policy into their
// configuration, resolves the host names, serves the synthetic /etc/hosts
// and /proc/net/tcp{,6}, and exposes the port mappings.

func init() {
	registerFeature(feature{name: "network", order: orderNetwork, prepare: prepareNet})
}

// NetHookFactory builds the hook of one sandbox once it exists.
type netHookFactory func(s *Sandbox) handlers.NetHook

// netHookProviders are the features that want to see and decide the IP
// operations the supervisor performs (policy_fn). A provider runs while a
// sandbox is prepared and returns nil when its feature is off for that
// policy; otherwise the network mediation is turned on (connect, send*,
// bind performed on behalf) and the factory's hook is consulted for each
// operation.
var netHookProviders struct {
	sync.Mutex
	list []func(b *buildCtx) netHookFactory
}

// registerNetHook adds a provider; call it from an init function.
//
// The hook sees every IP connect, send with a destination and bind the
// supervisor performs for the child (handlers.NetEvent: operation, pid,
// protocol, destination as the kernel will use it, the static verdict). It
// returns 0 to let the operation happen or the errno the child gets; it may
// block (it runs in the notification's own goroutine). It cannot allow
// what the static policy denied (port lists, net_allow_hosts): the event
// then carries that errno and the operation fails whatever the hook says.
func registerNetHook(provider func(b *buildCtx) netHookFactory) {
	netHookProviders.Lock()
	defer netHookProviders.Unlock()
	netHookProviders.list = append(netHookProviders.list, provider)
}

// resolveTimeout bounds the resolution of each net_allow_hosts name.
const resolveTimeout = 10 * time.Second

// netResolver resolves net_allow_hosts (tests replace it with one that
// never leaves the machine).
var netResolver = net.DefaultResolver

func prepareNet(b *buildCtx) (instance, error) {
	p := b.Policy
	netHookProviders.Lock()
	providers := append([]func(*buildCtx) netHookFactory(nil), netHookProviders.list...)
	netHookProviders.Unlock()
	var factories []netHookFactory
	for _, prov := range providers {
		if f := prov(b); f != nil {
			factories = append(factories, f)
		}
	}
	if p.NetAllowHosts == nil && !p.PortRemap && len(factories) == 0 {
		return nil, nil
	}
	in := &netInstance{factories: factories}
	in.cfg = handlers.NetConfig{
		ConnectTCP: p.NetConnect,
		BindTCP:    p.NetBind,
		PortRemap:  p.PortRemap,
	}
	if p.NetAllowHosts != nil {
		allowed, hosts, err := resolveHosts(p.NetAllowHosts)
		if err != nil {
			return nil, wrapKind(ErrSpawn, err)
		}
		in.cfg.Allowed = allowed
		b.AddVirtual("/etc/hosts", func(*Sandbox) ([]byte, error) { return hosts, nil })
	}
	if len(factories) > 0 {
		// A placeholder until install builds the real hook: NetSyscalls
		// only asks whether there is one.
		in.cfg.Hook = func(*handlers.NetEvent) unix.Errno { return unix.EPERM }
	}
	b.Notify(handlers.NetSyscalls(in.cfg)...)
	if handlers.MediatesConnect(in.cfg) && b.Landlock != nil && !b.Landlock.NoNetwork {
		// Every IP connect is performed by the supervisor, which applies
		// net_connect itself; in the child's own domain no TCP connect is
		// allowed, so that a call the supervisor continued (a socket it
		// saw as non-IP) cannot reach a TCP port by racing an fd swap.
		b.Landlock.ConnectTCP = []uint16{}
	}
	if p.PortRemap {
		for _, f := range []string{"tcp", "tcp6"} {
			b.AddVirtual("/proc/net/"+f, in.procNet(f))
		}
	}
	return in, nil
}

// resolveHosts resolves each name once (IP literals stand for themselves)
// and returns the allowed set, which also holds 127.0.0.1 and ::1 unless
// the list is empty, and the synthetic /etc/hosts: localhost and one line
// per resolved address of each name.
func resolveHosts(names []string) (map[netip.Addr]bool, []byte, error) {
	allowed := map[netip.Addr]bool{}
	if len(names) == 0 {
		return allowed, nil, nil
	}
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1 localhost\n::1 localhost\n")
	allowed[netip.AddrFrom4([4]byte{127, 0, 0, 1})] = true
	allowed[netip.IPv6Loopback()] = true
	for _, h := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		if ip, err := netip.ParseAddr(name); err == nil {
			allowed[ip.Unmap().WithZone("")] = true
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
		addrs, err := netResolver.LookupNetIP(ctx, "ip", name)
		cancel()
		if err == nil && len(addrs) == 0 {
			err = fmt.Errorf("no address")
		}
		if err != nil {
			return nil, nil, fmt.Errorf("net_allow_hosts: cannot resolve host %q: %w", h, err)
		}
		for _, a := range addrs {
			a = a.Unmap().WithZone("")
			allowed[a] = true
			fmt.Fprintf(&hosts, "%s %s\n", a, name)
		}
	}
	return allowed, []byte(hosts.String()), nil
}

// netInstance is the network mediation of one sandbox.
type netInstance struct {
	cfg       handlers.NetConfig
	factories []netHookFactory

	mu       sync.Mutex
	net      *handlers.Net
	sb       *Sandbox
	watchers []func([]PortMapping)
}

// sandboxNets finds the mediation of a running sandbox (Ports, WatchPorts)
// without a field in Sandbox.
var sandboxNets sync.Map // *Sandbox -> *netInstance

func (in *netInstance) install(s *Sandbox) error {
	cfg := in.cfg
	if len(in.factories) > 0 {
		hooks := make([]handlers.NetHook, 0, len(in.factories))
		for _, f := range in.factories {
			if h := f(s); h != nil {
				hooks = append(hooks, h)
			}
		}
		cfg.Hook = chainHooks(hooks)
	}
	cfg.OnPortsChange = in.portsChanged
	m := handlers.NewNet(cfg, s.index)
	m.Register(s.sup, lookupNr)
	in.mu.Lock()
	in.net, in.sb = m, s
	in.mu.Unlock()
	sandboxNets.Store(s, in)
	return nil
}

// chainHooks runs hooks in order; a static denial stays whatever they say.
func chainHooks(hooks []handlers.NetHook) handlers.NetHook {
	return func(ev *handlers.NetEvent) unix.Errno {
		static := ev.Errno
		for _, h := range hooks {
			if e := h(ev); e != 0 && ev.Errno == 0 {
				ev.Errno = e
			}
		}
		if static != 0 {
			return static
		}
		return ev.Errno
	}
}

func (in *netInstance) close() {
	in.mu.Lock()
	s := in.sb
	in.net, in.sb, in.watchers = nil, nil, nil
	in.mu.Unlock()
	if s != nil {
		sandboxNets.Delete(s)
	}
}

func (in *netInstance) ports() []PortMapping {
	in.mu.Lock()
	m := in.net
	in.mu.Unlock()
	if m == nil {
		return nil
	}
	var out []PortMapping
	for _, pm := range m.Ports() {
		out = append(out, PortMapping{Proto: "tcp", Virtual: pm.Virtual, Real: pm.Real})
	}
	return out
}

func (in *netInstance) portsChanged() {
	in.mu.Lock()
	ws := slices.Clone(in.watchers)
	in.mu.Unlock()
	if len(ws) == 0 {
		return
	}
	pm := in.ports()
	for _, w := range ws {
		w(pm)
	}
}

// procNet serves /proc/net/<file> under port remapping: the host's table
// cut to the sandbox's own sockets, with the ports it knows.
func (in *netInstance) procNet(file string) func(s *Sandbox) ([]byte, error) {
	return func(s *Sandbox) ([]byte, error) {
		in.mu.Lock()
		m := in.net
		in.mu.Unlock()
		if m == nil {
			return nil, fmt.Errorf("network mediation not running")
		}
		// The supervisor shares the child's network namespace.
		table, err := os.ReadFile("/proc/net/" + file)
		if err != nil {
			return nil, err
		}
		s.index.Discover()
		return m.FilterProcNetTCP(table, handlers.SocketInodes(s.Pids())), nil
	}
}

// PortMapping is one port of a sandbox's private port space (port_remap).
type PortMapping struct {
	// Proto is "tcp".
	Proto string `json:"proto"`
	// Virtual is the port the sandbox bound and sees (getsockname,
	// /proc/net/tcp); Real is the port the host sees, which clients
	// outside the sandbox connect to. They are equal when the port was
	// free on the host.
	Virtual uint16 `json:"virtual"`
	Real    uint16 `json:"real"`
}

// Ports returns the port mappings of a running sandbox with port_remap, by
// virtual port; nil without port_remap or once the sandbox has ended.
func (s *Sandbox) Ports() []PortMapping {
	v, ok := sandboxNets.Load(s)
	if !ok {
		return nil
	}
	return v.(*netInstance).ports()
}

// WatchPorts calls f with the current port mappings now and again after
// each new mapping, until the sandbox ends. f must not block; it may run
// on a supervisor goroutine. Without port_remap it is never called.
func (s *Sandbox) WatchPorts(f func([]PortMapping)) {
	v, ok := sandboxNets.Load(s)
	if !ok {
		return
	}
	in := v.(*netInstance)
	in.mu.Lock()
	if in.net == nil || !in.cfg.PortRemap {
		in.mu.Unlock()
		return
	}
	in.watchers = append(in.watchers, f)
	in.mu.Unlock()
	f(in.ports())
}
