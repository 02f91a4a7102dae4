// Package handlers holds the supervisor's syscall handlers, one file per
// concern. Each handler reads the target's memory at most once, checks the
// notification id before acting, and fails closed.
package handlers

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// Procs enforces max_processes: the number of live processes of the
// sandbox (threads excluded). fork, vfork and clone without CLONE_THREAD are
// notified (clone3 gets ENOSYS from the filter so libcs fall back to clone),
// and a fork is refused with EAGAIN when the sandbox is at its limit.
//
// Exits are credited through the pidfds of the process index, whoever
// reaps the process; wait calls play no part (counter laundering through
// waits was an upstream bug). The kernel does not tell the supervisor the
// pid of a child it continued, so children are discovered afterwards: pids
// are handed out in increasing order, and /proc/sys/kernel/ns_last_pid
// bounds the window of new pids to examine for parents in the sandbox.
// Until a fork's child is discovered it counts as pending.
type Procs struct {
	Index *procindex.Index

	mu      sync.Mutex
	max     int
	pending []pendingFork
}

type pendingFork struct {
	tid, tgid int
	at        time.Time
}

// NewProcs returns the accounting for a sandbox whose first process was
// just registered in ix, before it ran any code.
func NewProcs(ix *procindex.Index, max int) *Procs {
	return &Procs{Index: ix, max: max}
}

// SetMax changes the limit; it applies to the next fork.
func (p *Procs) SetMax(n int) {
	p.mu.Lock()
	p.max = n
	p.mu.Unlock()
}

// Max returns the current limit.
func (p *Procs) Max() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
}

// Register installs the fork handlers on s.
func (p *Procs) Register(s *supervisor.Supervisor, nrs ...int) {
	for _, nr := range nrs {
		s.Handle(nr, p.handleFork)
	}
}

func (p *Procs) handleFork(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	tid := int(n.Pid)
	p.mu.Lock()
	defer p.mu.Unlock()
	caller := EnsureMember(p.Index, tid)
	if caller == nil || !s.Valid(n.ID) {
		return supervisor.Errno(unix.EAGAIN)
	}
	// A thread is in one syscall at a time: its earlier forks are done.
	p.dropPendingOfTid(tid)
	p.discover()
	live := p.Index.LiveCount()
	if p.max > 0 && live+len(p.pending) >= p.max {
		return supervisor.Errno(unix.EAGAIN)
	}
	p.pending = append(p.pending, pendingFork{tid: tid, tgid: caller.Key.Pid, at: time.Now()})
	return supervisor.Allow
}

func (p *Procs) dropPendingOfTid(tid int) {
	out := p.pending[:0]
	for _, f := range p.pending {
		if f.tid != tid {
			out = append(out, f)
		}
	}
	p.pending = out
}

// discover registers the children created since the last look (see
// procindex.Discover) and settles pending forks: a discovered child settles
// one fork of its parent; a fork whose thread is no longer inside a
// fork-family syscall has completed (its child, if alive, was found).
func (p *Procs) discover() {
	for _, e := range p.Index.Discover() {
		p.settleOne(e.PPid)
	}
	out := p.pending[:0]
	for _, f := range p.pending {
		if forkInFlight(f) {
			out = append(out, f)
		}
	}
	p.pending = out
}

func (p *Procs) settleOne(tgid int) {
	for i, f := range p.pending {
		if f.tgid == tgid {
			p.pending = append(p.pending[:i], p.pending[i+1:]...)
			return
		}
	}
}

// forkInFlight reports whether the thread of a pending fork may still be
// inside it. /proc/<tid>/syscall names the syscall a blocked task is in, or
// says "running"; a running thread gets a short grace period.
func forkInFlight(f pendingFork) bool {
	var buf [64]byte
	fd, err := unix.Open("/proc/"+strconv.Itoa(f.tid)+"/syscall", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false // thread gone
	}
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil || n == 0 {
		return false
	}
	b := buf[:n]
	if b[0] < '0' || b[0] > '9' {
		return time.Since(f.at) < 20*time.Millisecond
	}
	nr := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		nr = nr*10 + int(c-'0')
	}
	return isForkNr(nr)
}

// EnsureMember returns the index entry of the process that owns thread tid,
// registering the process if it is new (procindex.Index.Member).
func EnsureMember(ix *procindex.Index, tid int) *procindex.Entry {
	return ix.Member(tid)
}
