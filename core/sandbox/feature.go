package sandbox

import (
	"sort"
	"sync"

	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/seccomp"
	"github.com/sandlock/sandlock/core/spawn"
)

// A feature turns one concern of the policy (process accounting, fs_denied,
// /proc virtualisation, network mediation ...) into seccomp settings,
// child setup and supervisor handlers. Each lives in its own file and
// registers itself with registerFeature from an init function, so that
// concerns do not edit each other's code.
type feature struct {
	// name identifies the feature in errors.
	name string
	// order places the feature's handlers in each syscall's chain: lower
	// runs first (virtual files before on-behalf opens, for instance).
	order int
	// prepare looks at the policy in the parent, before the child exists.
	// It returns nil when the policy does not use the feature; otherwise
	// it adjusts b (seccomp settings, rlimits, environment) and returns
	// the per-sandbox part that installs handlers once the supervisor
	// exists.
	prepare func(b *buildCtx) (instance, error)
}

// instance is one feature's part of one sandbox.
type instance interface {
	// install registers handlers on s.sup and starts helpers; it runs
	// after the child handed over its listener and before it execs.
	install(s *Sandbox) error
	// close releases what prepare and install acquired; it runs once the
	// sandbox has ended (or failed to start) and must tolerate a missing
	// install.
	close()
}

// buildCtx is what features may change while a sandbox is prepared.
type buildCtx struct {
	Policy  *policy.Policy
	Options *Options
	Seccomp *seccomp.Config
	Rlimits *[]spawn.Rlimit
	// Landlock is the child's ruleset configuration, built after every
	// feature prepared (the network mediation narrows its TCP rules).
	Landlock *landlock.Config
	// Env entries (KEY=VALUE) appended after the policy's environment.
	Env []string
	// Virtual maps an absolute path to the generator of the synthetic
	// content the child sees when it opens that path for reading
	// (/proc/meminfo under max_memory, /etc/hosts under a host allowlist,
	// /etc/hostname ...). The file-mediation feature serves them; the
	// generator runs on each open, with the sandbox for context.
	Virtual map[string]func(s *Sandbox) ([]byte, error)
}

// AddVirtual registers synthetic content for path.
func (b *buildCtx) AddVirtual(path string, gen func(s *Sandbox) ([]byte, error)) {
	if b.Virtual == nil {
		b.Virtual = make(map[string]func(s *Sandbox) ([]byte, error))
	}
	b.Virtual[path] = gen
}

// Notify adds syscalls to the notified set, once each. It never admits a
// call: one that deny_syscalls or allow_syscalls refuses stays refused in
// the filter itself (seccomp.Config), so features need not filter.
func (b *buildCtx) Notify(names ...string) {
	have := make(map[string]bool, len(b.Seccomp.Notify))
	for _, n := range b.Seccomp.Notify {
		have[n] = true
	}
	for _, n := range names {
		if !have[n] {
			b.Seccomp.Notify = append(b.Seccomp.Notify, n)
			have[n] = true
		}
	}
}

var features struct {
	sync.Mutex
	list []feature
}

func registerFeature(f feature) {
	features.Lock()
	defer features.Unlock()
	features.list = append(features.list, f)
	sort.SliceStable(features.list, func(i, j int) bool { return features.list[i].order < features.list[j].order })
}

func allFeatures() []feature {
	features.Lock()
	defer features.Unlock()
	return append([]feature(nil), features.list...)
}

// lookupNr resolves a syscall name for handler registration; names the
// architecture lacks are skipped by the caller.
func lookupNr(name string) (int, bool) { return seccomp.Lookup(name) }

// handlerOrder values, so that chains are built in a known order.
const (
	orderProcs     = 10
	orderPidTarget = 20
	orderVirtual   = 40 // synthetic files and answers (/proc, hostname, hosts)
	orderNetwork   = 50
	orderPolicyFn  = 60
	orderFsDeny    = 80 // on-behalf file operations decide last
)
