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

// fsDenySyscalls are mediated when fs_denied is set: every call that opens,
// creates, removes, renames, links or executes by path.
var fsDenySyscalls = []string{
	"open", "creat", "openat", "openat2",
	"rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
	"unlink", "unlinkat", "rmdir", "mkdir", "mkdirat", "mknod", "mknodat",
	"truncate", "execve", "execveat",
}

// fs_denied: carve-outs enforced on the resolved object.
func init() {
	registerFeature(feature{name: "fs_denied", order: orderFsDeny, prepare: func(b *buildCtx) (instance, error) {
		if len(b.Policy.FsDenied) == 0 {
			return nil, nil
		}
		b.Notify(fsDenySyscalls...)
		fd, err := handlers.NewFsDeny(b.Policy.FsDenied, b.Policy.FsReadable, b.Policy.FsWritable)
		if err != nil {
			return nil, wrapKind(ErrPolicy, err)
		}
		return &fsDenyInstance{fd: fd}, nil
	}})
}

type fsDenyInstance struct{ fd *handlers.FsDeny }

func (f *fsDenyInstance) install(s *Sandbox) error {
	if err := f.fd.Start(s.index); err != nil {
		return wrapKind(ErrConfinement, err)
	}
	f.fd.Register(s.sup, lookupNr)
	return nil
}

func (f *fsDenyInstance) close() { f.fd.Close() }
