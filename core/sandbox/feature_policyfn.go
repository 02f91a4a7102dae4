package sandbox

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policyfn"
	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// policy_fn: a callback that sees the intercepted system calls and decides
// the held ones (package policyfn).
//
// The engine wraps every handler chain of the sandbox, so its feature
// installs after all the others. The network mediation performs connect,
// send and bind on behalf of the child whenever there is a callback, and
// asks the engine right before it acts (a net hook), so that the verdict
// and the callback's network restrictions apply to the address actually
// used.

// orderPolicyFnWrap places the feature after every other: it wraps the
// chains they built.
const orderPolicyFnWrap = 1000

func init() {
	registerFeature(feature{name: "policy_fn", order: orderPolicyFnWrap, prepare: func(b *buildCtx) (instance, error) {
		if b.Options.PolicyFn == nil {
			return nil, nil
		}
		b.Notify(policyfn.HeldSyscalls...)
		return &policyFnInstance{cb: b.Options.PolicyFn, timeout: b.Options.PolicyFnTimeout,
			maxProcs: b.Policy.MaxProcesses, maxMem: b.Policy.MaxMemory}, nil
	}})
	registerNetHook(func(b *buildCtx) netHookFactory {
		if b.Options.PolicyFn == nil {
			return nil
		}
		return func(s *Sandbox) handlers.NetHook {
			return func(ev *handlers.NetEvent) unix.Errno {
				in := s.policyFn
				if in == nil || in.engine == nil {
					return unix.EPERM
				}
				return in.engine.CheckNet(ev.Tid, ev.Addr.Addr(), ev.Addr.Port(), ev.Errno)
			}
		}
	})
}

// gatedNetSyscalls are performed by the network mediation, which asks the
// engine itself.
var gatedNetSyscalls = []string{"connect", "sendto", "sendmsg", "sendmmsg", "bind"}

type policyFnInstance struct {
	cb       policyfn.Callback
	timeout  time.Duration
	maxProcs int
	maxMem   uint64
	engine   *policyfn.Engine
}

func (in *policyFnInstance) install(s *Sandbox) error {
	cfg := policyfn.Config{
		Callback:     in.cb,
		Timeout:      in.timeout,
		Index:        s.index,
		MainPid:      s.pid,
		Limits:       sandboxLimits{s},
		MaxProcesses: uint64(max(in.maxProcs, 0)),
		MaxMemory:    in.maxMem,
	}
	gated := false
	if v, ok := sandboxNets.Load(s); ok {
		ni := v.(*netInstance)
		gated = ni.cfg.Hook != nil
		if allowed := ni.cfg.Allowed; allowed != nil {
			cfg.NetCeiling = make([]netip.Addr, 0, len(allowed))
			for a := range allowed {
				cfg.NetCeiling = append(cfg.NetCeiling, a)
			}
		}
	}
	e, err := policyfn.New(cfg)
	if err != nil {
		return wrapKind(ErrSpawn, fmt.Errorf("policy_fn: %w", err))
	}
	in.engine = e
	if gated {
		for _, name := range gatedNetSyscalls {
			if nr, ok := lookupNr(name); ok {
				e.Gate(nr)
			}
		}
	}
	e.Install(s.sup, lookupNr)
	s.policyFn = in
	return nil
}

func (in *policyFnInstance) close() {
	if in.engine != nil {
		in.engine.Close()
	}
}

// PolicyStats returns the counters of the sandbox's policy callback; ok is
// false when it has none.
func (s *Sandbox) PolicyStats() (st policyfn.Stats, ok bool) {
	if s.policyFn == nil || s.policyFn.engine == nil {
		return st, false
	}
	return s.policyFn.engine.Stats(), true
}

// PolicyAuditLog returns the last events the callback answered with
// Audit, oldest first.
func (s *Sandbox) PolicyAuditLog() []policyfn.Event {
	if s.policyFn == nil || s.policyFn.engine == nil {
		return nil
	}
	return s.policyFn.engine.AuditLog()
}

// sandboxLimits is what the callback's Context changes.
type sandboxLimits struct{ s *Sandbox }

func (l sandboxLimits) MaxProcesses() (int, bool) {
	if l.s.procs == nil {
		return 0, false
	}
	return l.s.procs.Max(), true
}

func (l sandboxLimits) SetMaxProcesses(n int) error { return l.s.SetMaxProcesses(n) }

func (l sandboxLimits) MaxMemory() (uint64, bool) { return l.s.MaxMemory() }

func (l sandboxLimits) SetMaxMemory(bytes uint64) error { return l.s.SetMaxMemory(bytes) }

// pathDenier is the part of handlers.Files the callback's Context uses.
type pathDenier interface {
	DenyPath(path string) error
	AllowPath(path string) error
}

func (l sandboxLimits) DenyPath(path string) error {
	if l.s.paths == nil {
		return fmt.Errorf("deny_path: %w", policyfn.ErrUnsupported)
	}
	if err := l.s.paths.DenyPath(path); err != nil {
		return fmt.Errorf("%w: %v", policyfn.ErrInvalid, err)
	}
	return nil
}

func (l sandboxLimits) AllowPath(path string) error {
	if l.s.paths == nil {
		return fmt.Errorf("allow_path: %w", policyfn.ErrUnsupported)
	}
	if err := l.s.paths.AllowPath(path); err != nil {
		return fmt.Errorf("%w: %v", policyfn.ErrInvalid, err)
	}
	return nil
}
