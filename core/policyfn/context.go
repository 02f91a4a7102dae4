package policyfn

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Limits is what the sandbox lets the callback change at run time. The
// sandbox facade implements it; each method takes effect for the next
// system call the handlers see.
type Limits interface {
	// MaxProcesses returns the live process limit; ok is false when the
	// sandbox does not count processes (max_processes 0).
	MaxProcesses() (n int, ok bool)
	// SetMaxProcesses changes the live process limit.
	SetMaxProcesses(n int) error
	// MaxMemory returns the live memory limit; ok is false when the
	// sandbox does not account memory.
	MaxMemory() (bytes uint64, ok bool)
	// SetMaxMemory changes the live memory limit.
	SetMaxMemory(bytes uint64) error
	// DenyPath adds path to the objects no process of the sandbox may
	// open, execute, create, link or rename, recognised on the resolved
	// object; AllowPath removes a path DenyPath added (never one of the
	// policy's own fs_denied).
	DenyPath(path string) error
	AllowPath(path string) error
}

// Errors of the Context methods.
var (
	// ErrExpired: the Context was used after its callback returned, or
	// after the sandbox ended.
	ErrExpired = errors.New("policy context used outside its callback or after the sandbox ended")
	// ErrRestricted: a grant after a restrict of the same resource.
	ErrRestricted = errors.New("grant refused: the resource was restricted earlier")
	// ErrCeiling: a grant above what the sandbox started with.
	ErrCeiling = errors.New("grant refused: above the ceiling fixed at start")
	// ErrUnsupported: the sandbox does not enforce the resource.
	ErrUnsupported = errors.New("not enforced in this sandbox")
	// ErrInvalid: a malformed argument (an IP address that does not parse,
	// a relative path, a zero limit).
	ErrInvalid = errors.New("invalid argument")
)

// Context is what a callback may act on during one call: the live network,
// process and memory limits of its sandbox and the set of denied paths.
// Changes take effect for the next system call the supervisor examines.
//
// Grants only ever reach back to the ceiling fixed when the sandbox
// started, and a grant is refused once the same resource was restricted,
// so a callback can narrow a sandbox but never widen it beyond its policy.
type Context struct {
	e       *Engine
	expired atomic.Bool
}

// NewContext returns a Context bound to e that stays valid until e is
// closed; for bindings that enforce the per-call validity themselves.
func (e *Engine) NewContext() *Context { return &Context{e: e} }

func (c *Context) check() error {
	if c == nil || c.e == nil || c.expired.Load() || c.e.closed.Load() {
		return ErrExpired
	}
	return nil
}

func (c *Context) expire() { c.expired.Store(true) }

// ParseIPs parses IP address strings; one that does not parse is an error
// naming it (nothing is silently skipped).
func ParseIPs(ips []string) ([]netip.Addr, error) {
	out := make([]netip.Addr, 0, len(ips))
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: IP address %q: %v", ErrInvalid, s, err)
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}

// RestrictNetwork replaces the addresses the sandbox may reach (connect,
// sendto, sendmsg, sendmmsg to IPv4 and IPv6 destinations) by ips, within
// the ceiling. An empty list blocks every IP destination. It also refuses
// later GrantNetwork calls.
func (c *Context) RestrictNetwork(ips ...string) error {
	if err := c.check(); err != nil {
		return err
	}
	addrs, err := ParseIPs(ips)
	if err != nil {
		return err
	}
	c.e.net.restrict(addrs)
	return nil
}

// GrantNetwork adds ips to the addresses the sandbox may reach. Refused
// after RestrictNetwork, and for an address outside the ceiling (the
// policy's allowlist, when it has one).
func (c *Context) GrantNetwork(ips ...string) error {
	if err := c.check(); err != nil {
		return err
	}
	addrs, err := ParseIPs(ips)
	if err != nil {
		return err
	}
	return c.e.net.grant(addrs)
}

// RestrictPidNetwork gives process pid its own list of reachable
// addresses (within the ceiling and the live list), replacing any earlier
// one. An empty list blocks every IP destination for that process.
func (c *Context) RestrictPidNetwork(pid int, ips ...string) error {
	if err := c.check(); err != nil {
		return err
	}
	if pid <= 0 {
		return fmt.Errorf("%w: pid %d", ErrInvalid, pid)
	}
	addrs, err := ParseIPs(ips)
	if err != nil {
		return err
	}
	c.e.net.restrictPid(pid, addrs)
	return nil
}

// ClearPidOverride removes the list RestrictPidNetwork gave pid; the
// sandbox-wide list applies to it again.
func (c *Context) ClearPidOverride(pid int) error {
	if err := c.check(); err != nil {
		return err
	}
	c.e.net.clearPid(pid)
	return nil
}

// RestrictMaxProcesses lowers the process limit to n (a higher n changes
// nothing) and refuses later grants.
func (c *Context) RestrictMaxProcesses(n int) error {
	if err := c.check(); err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("%w: max_processes %d", ErrInvalid, n)
	}
	return c.e.procs.restrict(uint64(n), c.e.limits)
}

// GrantMaxProcesses raises the process limit to n, up to the ceiling (the
// policy's max_processes). Refused after RestrictMaxProcesses.
func (c *Context) GrantMaxProcesses(n int) error {
	if err := c.check(); err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("%w: max_processes %d", ErrInvalid, n)
	}
	return c.e.procs.grant(uint64(n), c.e.limits)
}

// RestrictMaxMemory lowers the memory limit to bytes and refuses later
// grants.
func (c *Context) RestrictMaxMemory(bytes uint64) error {
	if err := c.check(); err != nil {
		return err
	}
	if bytes == 0 {
		return fmt.Errorf("%w: max_memory 0", ErrInvalid)
	}
	return c.e.mem.restrict(bytes, c.e.limits)
}

// GrantMaxMemory raises the memory limit to bytes, up to the ceiling (the
// policy's max_memory). Refused after RestrictMaxMemory.
func (c *Context) GrantMaxMemory(bytes uint64) error {
	if err := c.check(); err != nil {
		return err
	}
	if bytes == 0 {
		return fmt.Errorf("%w: max_memory 0", ErrInvalid)
	}
	return c.e.mem.grant(bytes, c.e.limits)
}

// DenyPath makes path (absolute) unreachable for the sandbox's next system
// calls: opening, executing, creating, linking or renaming it fails with
// EACCES. The object is recognised after resolution (another spelling, a
// symlink or a hard link reaches the same denial).
func (c *Context) DenyPath(path string) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.e.limits == nil {
		return fmt.Errorf("deny_path: %w", ErrUnsupported)
	}
	return c.e.limits.DenyPath(path)
}

// AllowPath undoes an earlier DenyPath of path; the policy's own fs_denied
// entries stay denied.
func (c *Context) AllowPath(path string) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.e.limits == nil {
		return fmt.Errorf("allow_path: %w", ErrUnsupported)
	}
	return c.e.limits.AllowPath(path)
}

// limitState is one numeric resource (max_processes, max_memory) with its
// ceiling and the one-way restrict.
type limitState struct {
	mu         sync.Mutex
	name       string
	procs      bool   // max_processes, else max_memory
	ceiling    uint64 // 0: the policy does not limit the resource
	restricted bool
}

func (l *limitState) current(lim Limits) (uint64, bool) {
	if lim == nil {
		return 0, false
	}
	if l.procs {
		n, ok := lim.MaxProcesses()
		return uint64(n), ok
	}
	return lim.MaxMemory()
}

func (l *limitState) set(lim Limits, v uint64) error {
	if l.procs {
		return lim.SetMaxProcesses(int(v))
	}
	return lim.SetMaxMemory(v)
}

func (l *limitState) restrict(v uint64, lim Limits) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, ok := l.current(lim)
	if !ok || l.ceiling == 0 {
		return fmt.Errorf("restrict %s: %w (the sandbox does not enforce %s)", l.name, ErrUnsupported, l.name)
	}
	l.restricted = true
	if v >= cur {
		return nil
	}
	return l.set(lim, v)
}

func (l *limitState) grant(v uint64, lim Limits) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, ok := l.current(lim)
	if !ok || l.ceiling == 0 {
		return fmt.Errorf("grant %s: %w (the sandbox does not enforce %s)", l.name, ErrUnsupported, l.name)
	}
	if l.restricted {
		return fmt.Errorf("grant %s %d: %w", l.name, v, ErrRestricted)
	}
	if v > l.ceiling {
		return fmt.Errorf("grant %s %d: %w (%d)", l.name, v, ErrCeiling, l.ceiling)
	}
	if v <= cur {
		return nil
	}
	return l.set(lim, v)
}

// netState is the live network policy of one sandbox.
type netState struct {
	mu sync.RWMutex
	// ceiling is the set of addresses the policy allows; nil when the
	// policy does not restrict destinations.
	ceiling map[netip.Addr]bool
	// live is the sandbox-wide list once restricted (or granted); nil
	// means "the ceiling".
	live       map[netip.Addr]bool
	restricted bool
	perPid     map[int]map[netip.Addr]bool
	// active is set once any restriction exists, so that the common case
	// (no restriction) costs one atomic load per call.
	active atomic.Bool
}

func toSet(addrs []netip.Addr) map[netip.Addr]bool {
	m := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		m[a] = true
	}
	return m
}

func (n *netState) inCeiling(a netip.Addr) bool {
	return n.ceiling == nil || n.ceiling[a]
}

func (n *netState) restrict(addrs []netip.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		if n.inCeiling(a) && (n.live == nil || n.live[a]) {
			m[a] = true
		}
	}
	n.live = m
	n.restricted = true
	n.active.Store(true)
}

func (n *netState) grant(addrs []netip.Addr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.restricted {
		return fmt.Errorf("grant_network: %w", ErrRestricted)
	}
	for _, a := range addrs {
		if !n.inCeiling(a) {
			return fmt.Errorf("grant_network %s: %w", a, ErrCeiling)
		}
	}
	if n.live == nil {
		// Nothing was narrowed: every address of the ceiling is allowed.
		return nil
	}
	for _, a := range addrs {
		n.live[a] = true
	}
	return nil
}

func (n *netState) restrictPid(pid int, addrs []netip.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.perPid == nil {
		n.perPid = make(map[int]map[netip.Addr]bool)
	}
	n.perPid[pid] = toSet(addrs)
	n.active.Store(true)
}

func (n *netState) clearPid(pid int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.perPid, pid)
}

// allowed reports whether process pid may reach a.
func (n *netState) allowed(pid int, a netip.Addr) bool {
	if !n.active.Load() && n.ceiling == nil {
		return true
	}
	a = a.Unmap()
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.inCeiling(a) {
		return false
	}
	if n.live != nil && !n.live[a] {
		return false
	}
	if m, ok := n.perPid[pid]; ok && !m[a] {
		return false
	}
	return true
}
