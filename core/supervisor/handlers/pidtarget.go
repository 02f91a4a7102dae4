package handlers

import (
	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// PidTarget answers the syscalls that tune another process by pid
// (prlimit64, setpriority, getpriority, sched_set*, ioprio_set). The filter
// lets pid 0 (the caller itself) through and notifies the rest; Landlock
// does not cover these (attacks.md PRIV-04: a sandbox could otherwise set
// the host's RLIMIT_CPU or renice it), so only members of the sandbox may
// be targeted.
type PidTarget struct {
	Index *procindex.Index
	// Arg is the index of the pid argument for each syscall number.
	Arg map[int]int
}

// Register installs the handler for every syscall in Arg.
func (p *PidTarget) Register(s *supervisor.Supervisor) {
	for nr := range p.Arg {
		s.Handle(nr, p.handle)
	}
}

func (p *PidTarget) handle(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	i, ok := p.Arg[int(n.Data.Nr)]
	if !ok {
		return supervisor.Errno(unix.EPERM)
	}
	// pid arguments are C ints: only the low 32 bits count.
	target := int(int32(n.Data.Args[i]))
	if target <= 0 {
		return supervisor.Errno(unix.EPERM)
	}
	// The caller is a member by construction (only members carry the
	// filter), and a child made by a continued fork is unknown to the
	// index until discovered: without these two steps a fresh child got
	// ESRCH for its own pid until something else ran a discovery.
	if target != int(n.Pid) && p.Index.Lookup(target) == nil {
		p.Index.Discover()
		if p.Index.Lookup(target) == nil {
			// ESRCH, not EPERM: from inside, processes outside do not exist.
			return supervisor.Errno(unix.ESRCH)
		}
	}
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	return supervisor.Allow
}
