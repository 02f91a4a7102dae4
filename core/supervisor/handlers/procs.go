// Package handlers holds the supervisor's syscall handlers, one file per
// concern. Each handler reads the target's memory at most once, checks the
// notification id before acting, and fails closed.
package handlers

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
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

	mu       sync.Mutex
	max      int
	pending  []pendingFork
	scanFrom int // every pid <= scanFrom (mod wrap) was examined
	pidMax   int
}

type pendingFork struct {
	tid, tgid int
	at        time.Time
}

// NewProcs returns the accounting for a sandbox whose first process was
// just registered in ix, before it ran any code.
func NewProcs(ix *procindex.Index, max int) *Procs {
	last, _ := kernel.LastPid()
	return &Procs{Index: ix, max: max, scanFrom: last, pidMax: kernel.PidMax()}
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

// discover registers children created since the last scan whose parent is
// in the sandbox, and settles pending forks: a discovered child settles one
// fork of its parent; a fork whose thread is no longer inside a fork-family
// syscall has completed (its child, if any, was in the window).
func (p *Procs) discover() {
	last, err := kernel.LastPid()
	if err != nil {
		return
	}
	from := p.scanFrom
	p.scanFrom = last
	visit := func(pid int) {
		if p.Index.Has(pid) {
			return
		}
		st, err := kernel.ReadTaskStatus(pid)
		if err != nil || st.Tgid != pid || !p.Index.Has(st.PPid) {
			return
		}
		if _, err := p.Index.Register(pid, st.PPid, -1); err != nil {
			return
		}
		// Re-check the parent after the pidfd pinned the process: the pid
		// could have been recycled between the two reads.
		if st2, err := kernel.ReadTaskStatus(pid); err != nil || st2.PPid != st.PPid {
			return
		}
		p.settleOne(st.PPid)
	}
	switch {
	case last == from:
	case last > from && last-from <= 4096:
		for pid := from + 1; pid <= last; pid++ {
			visit(pid)
		}
	case last < from && (p.pidMax-from)+last <= 4096:
		for pid := from + 1; pid < p.pidMax; pid++ {
			visit(pid)
		}
		for pid := 1; pid <= last; pid++ {
			visit(pid)
		}
	default:
		// Too many pids went by: scan all of /proc.
		ents, err := readProcPids()
		if err == nil {
			for _, pid := range ents {
				visit(pid)
			}
		}
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

func readProcPids() ([]int, error) {
	fd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var pids []int
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil {
			return pids, err
		}
		if n == 0 {
			return pids, nil
		}
		var names []string
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
		for _, s := range names {
			if v, err := strconv.Atoi(s); err == nil {
				pids = append(pids, v)
			}
		}
	}
}

// EnsureMember returns the index entry of the process that owns thread tid,
// registering the process if it is new. Any task that raises a notification
// on this listener carries the sandbox's filter, so it is a member.
func EnsureMember(ix *procindex.Index, tid int) *procindex.Entry {
	if e := ix.Lookup(tid); e != nil {
		return e
	}
	st, err := kernel.ReadTaskStatus(tid)
	if err != nil {
		return nil
	}
	e, err := ix.Register(st.Tgid, st.PPid, -1)
	if err != nil {
		return nil
	}
	return e
}
