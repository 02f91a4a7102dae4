package sandbox

import (
	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// Process accounting: max_processes.
func init() {
	registerFeature(feature{name: "max_processes", order: orderProcs, prepare: func(b *buildCtx) (instance, error) {
		if b.Policy.MaxProcesses <= 0 {
			return nil, nil
		}
		b.Seccomp.NotifyForks = true
		return &procsInstance{max: b.Policy.MaxProcesses}, nil
	}})
}

type procsInstance struct{ max int }

func (p *procsInstance) install(s *Sandbox) error {
	procs := handlers.NewProcs(s.index, p.max)
	var nrs []int
	for _, name := range []string{"fork", "vfork", "clone"} {
		if nr, ok := lookupNr(name); ok {
			nrs = append(nrs, nr)
		}
	}
	procs.Register(s.sup, nrs...)
	s.procs = procs
	return nil
}

func (p *procsInstance) close() {}

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

// Calls that tune a process by pid: only members of the sandbox.
func init() {
	registerFeature(feature{name: "pid_targets", order: orderPidTarget, prepare: func(b *buildCtx) (instance, error) {
		b.Seccomp.NotifyPidTargets = true
		return pidTargetInstance{}, nil
	}})
}

type pidTargetInstance struct{}

func (pidTargetInstance) install(s *Sandbox) error {
	pt := &handlers.PidTarget{Index: s.index, Arg: map[int]int{}}
	for name, arg := range pidTargetArgs {
		if nr, ok := lookupNr(name); ok {
			pt.Arg[nr] = arg
		}
	}
	pt.Register(s.sup)
	return nil
}

func (pidTargetInstance) close() {}

// fs_denied is part of the file mediation: feature_files.go.
