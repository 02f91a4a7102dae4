package sandbox

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/seccomp"
	"github.com/sandlock/sandlock/core/spawn"
)

// compiled is a policy turned into kernel objects, built in the parent
// before the child exists.
type compiled struct {
	ruleset   *landlock.Ruleset
	filter    []unix.SockFilter
	rlimits   []spawn.Rlimit
	degraded  []string
	env       []string
	virtual   map[string]func(s *Sandbox) ([]byte, error)
	instances []instance
}

func (c *compiled) rulesetFD() int {
	if c.ruleset == nil {
		return -1
	}
	return c.ruleset.FD
}

// close releases what only the parent needed (the ruleset); feature
// instances belong to the sandbox once install ran.
func (c *compiled) close() {
	if c.ruleset != nil {
		c.ruleset.Close()
	}
}

// closeInstances releases every feature instance (failure paths).
func (c *compiled) closeInstances() {
	for _, in := range c.instances {
		in.close()
	}
	c.instances = nil
}

func compile(p *policy.Policy, o Options) (*compiled, error) {
	c := &compiled{}
	llc := landlock.Config{
		Readable:      p.FsReadable,
		Writable:      p.FsWritable,
		BindTCP:       p.NetBind,
		ConnectTCP:    p.NetConnect,
		AllowDegraded: p.AllowDegraded,
	}

	sc := seccomp.Config{
		Deny:        p.DenySyscalls,
		Allow:       p.AllowSyscalls,
		NoUDP:       p.NoUDP,
		NoRaw:       p.NoRawSockets,
		CapturedTTY: o.Stdout.IsCapture() || o.Stderr.IsCapture(),
	}
	if p.MaxOpenFiles > 0 {
		var cur unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &cur); err == nil && p.MaxOpenFiles > cur.Max && unix.Geteuid() != 0 {
			c.close()
			return nil, wrapKind(ErrPolicy, fmt.Errorf("max_open_files %d exceeds the hard limit %d this process may grant", p.MaxOpenFiles, cur.Max))
		}
		c.rlimits = append(c.rlimits, spawn.Rlimit{Resource: unix.RLIMIT_NOFILE, Cur: p.MaxOpenFiles, Max: p.MaxOpenFiles})
	}
	if p.NoCoredump {
		c.rlimits = append(c.rlimits, spawn.Rlimit{Resource: unix.RLIMIT_CORE})
	}
	b := &buildCtx{Policy: p, Options: &o, Seccomp: &sc, Rlimits: &c.rlimits, Landlock: &llc}
	for _, f := range allFeatures() {
		in, err := f.prepare(b)
		if err != nil {
			c.closeInstances()
			c.close()
			return nil, err
		}
		if in != nil {
			c.instances = append(c.instances, in)
		}
	}
	c.env = b.Env
	c.virtual = b.Virtual
	// The seccomp program is normally cached; when it is not (a new
	// policy, or the first spawn of a process such as the CLI) building it
	// costs a few hundred µs, spent beside the Landlock ruleset's.
	key := filterKey(sc)
	prog := cachedFilter(key)
	var pending chan builtFilter
	if prog == nil {
		pending = make(chan builtFilter, 1)
		go func() {
			p, err := buildFilter(sc, key)
			pending <- builtFilter{p, err}
		}()
	}
	rs, err := landlock.Build(llc)
	if err != nil {
		c.closeInstances()
		if errors.Is(err, landlock.ErrUnsupported) {
			return nil, wrapKind(ErrConfinement, err)
		}
		return nil, wrapKind(ErrPolicy, err)
	}
	c.ruleset = rs
	c.degraded = rs.Degraded
	if pending != nil {
		f := <-pending
		prog, err = f.p, f.err
	}
	if err != nil {
		c.closeInstances()
		c.close()
		return nil, wrapKind(ErrPolicy, err)
	}
	c.filter = prog.Instructions
	return c, nil
}

// install registers every feature's handlers. On error the caller tears
// down; instances are closed by the sandbox's cleanup either way.
func (c *compiled) install(s *Sandbox) error {
	insts := c.instances
	c.instances = nil // owned by the sandbox from here
	for _, in := range insts {
		in := in
		s.cleanup = append(s.cleanup, in.close)
	}
	for _, in := range insts {
		if err := in.install(s); err != nil {
			return err
		}
	}
	return nil
}

// The seccomp program depends only on the seccomp settings, and many
// sandboxes of one host share them: build each distinct program once.
var filterCache struct {
	sync.Mutex
	m map[string]*seccomp.Program
}

const maxCachedFilters = 64

type builtFilter struct {
	p   *seccomp.Program
	err error
}

func cachedFilter(key string) *seccomp.Program {
	filterCache.Lock()
	defer filterCache.Unlock()
	return filterCache.m[key]
}

// buildFilter builds the program of c, whose filterKey is key, and caches
// it.
func buildFilter(c seccomp.Config, key string) (*seccomp.Program, error) {
	p, err := seccomp.Build(c)
	if err != nil {
		return nil, err
	}
	filterCache.Lock()
	if filterCache.m == nil || len(filterCache.m) >= maxCachedFilters {
		filterCache.m = make(map[string]*seccomp.Program)
	}
	filterCache.m[key] = p
	filterCache.Unlock()
	return p, nil
}

// filterKey spells every field of c, telling nil and empty lists apart
// (nil Deny means the default list). It replaces fmt's %#v, which cost
// more than the rest of a cached lookup; TestFilterKeyCoversConfig fails
// when seccomp.Config gains a field this function does not know.
func filterKey(c seccomp.Config) string {
	var b strings.Builder
	list := func(l []string) {
		if l == nil {
			b.WriteString("-;")
			return
		}
		b.WriteString(strconv.Itoa(len(l)))
		b.WriteByte(':')
		for _, s := range l {
			// Length-prefixed, so no name can fake a separator.
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteByte('=')
			b.WriteString(s)
		}
		b.WriteByte(';')
	}
	list(c.Deny)
	list(c.Allow)
	list(c.Notify)
	for _, f := range [...]bool{c.NotifyForks, c.NotifyPidTargets, c.NoUDP, c.NoRaw, c.CapturedTTY, c.VirtualNet} {
		if f {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}
