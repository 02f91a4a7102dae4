package sandbox

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/seccomp"
	"github.com/sandlock/sandlock/core/spawn"
	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// compiled is a policy turned into kernel objects, built in the parent
// before the child exists.
type compiled struct {
	ruleset  *landlock.Ruleset
	filter   []unix.SockFilter
	rlimits  []spawn.Rlimit
	degraded []string
	fsDeny   *handlers.FsDeny
}

func (c *compiled) rulesetFD() int {
	if c.ruleset == nil {
		return -1
	}
	return c.ruleset.FD
}

func (c *compiled) close() {
	if c.ruleset != nil {
		c.ruleset.Close()
	}
}

// fsDenySyscalls are mediated when fs_denied is set: every call that opens,
// creates, removes, renames, links or executes by path.
var fsDenySyscalls = []string{
	"open", "creat", "openat", "openat2",
	"rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
	"unlink", "unlinkat", "rmdir", "mkdir", "mkdirat", "mknod", "mknodat",
	"truncate", "execve", "execveat",
}

// pidTargetArgs gives, for each syscall that can tune another process by
// pid, which argument holds the pid.
var pidTargetArgs = map[string]int{
	"prlimit64":          0,
	"setpriority":        1,
	"getpriority":        1,
	"sched_setaffinity":  0,
	"sched_setscheduler": 0,
	"sched_setparam":     0,
	"sched_setattr":      0,
	"ioprio_set":         1,
}

func compile(p *policy.Policy, o Options) (*compiled, error) {
	c := &compiled{}
	rs, err := landlock.Build(landlock.Config{
		Readable:      p.FsReadable,
		Writable:      p.FsWritable,
		BindTCP:       p.NetBind,
		ConnectTCP:    p.NetConnect,
		AllowDegraded: p.AllowDegraded,
	})
	if err != nil {
		if errors.Is(err, landlock.ErrUnsupported) {
			return nil, wrapKind(ErrConfinement, err)
		}
		return nil, wrapKind(ErrPolicy, err)
	}
	c.ruleset = rs
	c.degraded = rs.Degraded

	sc := seccomp.Config{
		Deny:             p.DenySyscalls,
		Allow:            p.AllowSyscalls,
		NotifyForks:      p.MaxProcesses > 0,
		NotifyPidTargets: true,
		NoUDP:            p.NoUDP,
		NoRaw:            p.NoRawSockets,
		CapturedTTY:      o.Stdout.IsCapture() || o.Stderr.IsCapture(),
	}
	if len(p.FsDenied) > 0 {
		sc.Notify = append(sc.Notify, fsDenySyscalls...)
		fd, err := handlers.NewFsDeny(p.FsDenied, p.FsReadable, p.FsWritable)
		if err != nil {
			c.close()
			return nil, wrapKind(ErrPolicy, err)
		}
		c.fsDeny = fd
	}
	prog, err := buildFilter(sc)
	if err != nil {
		c.close()
		if c.fsDeny != nil {
			c.fsDeny.Close()
		}
		return nil, wrapKind(ErrPolicy, err)
	}
	c.filter = prog.Instructions

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
	return c, nil
}

// install registers the supervisor's handlers for the compiled policy.
func (c *compiled) install(s *Sandbox, p *policy.Policy) error {
	if p.MaxProcesses > 0 {
		procs := handlers.NewProcs(s.index, p.MaxProcesses)
		var nrs []int
		for _, name := range []string{"fork", "vfork", "clone"} {
			if nr, ok := seccomp.Lookup(name); ok {
				nrs = append(nrs, nr)
			}
		}
		procs.Register(s.sup, nrs...)
		s.procs = procs
	}
	pt := &handlers.PidTarget{Index: s.index, Arg: map[int]int{}}
	for name, arg := range pidTargetArgs {
		if nr, ok := seccomp.Lookup(name); ok {
			pt.Arg[nr] = arg
		}
	}
	pt.Register(s.sup)
	if c.fsDeny != nil {
		fd := c.fsDeny
		c.fsDeny = nil // owned by the sandbox from here
		if err := fd.Start(s.index); err != nil {
			fd.Close()
			return wrapKind(ErrConfinement, err)
		}
		fd.Register(s.sup, seccomp.Lookup)
		s.cleanup = append(s.cleanup, fd.Close)
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

func buildFilter(c seccomp.Config) (*seccomp.Program, error) {
	key := fmt.Sprintf("%q|%q|%q|%v|%v|%v|%v|%v|%v|%v", c.Deny, c.Allow, c.Notify, c.Deny == nil, c.Allow == nil,
		c.NotifyForks, c.NotifyPidTargets, c.NoUDP, c.NoRaw, c.CapturedTTY)
	filterCache.Lock()
	p := filterCache.m[key]
	filterCache.Unlock()
	if p != nil {
		return p, nil
	}
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
