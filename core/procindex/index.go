// Package procindex keeps the set of processes that belong to one sandbox.
//
// The kernel names a process in a seccomp notification by its thread id,
// and ids are recycled (pid_max is 32768 on the machines we target). The
// index therefore keys each process by PidKey{pid, start time}, holds a
// pidfd for it, and removes an entry only when that pidfd reports the exit
// of the very same process. Per-process state hangs off the entry behind its
// own lock and goes away with it.
package procindex

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
)

// PidKey names a process uniquely: the pid plus its start time in clock
// ticks since boot (field 22 of /proc/<pid>/stat).
type PidKey struct {
	Pid   int
	Start uint64
}

// Entry is one process of the sandbox.
type Entry struct {
	Key   PidKey
	PPid  int
	pidfd *os.File
	fd    int

	// Mu guards State, which belongs to the handlers (cwd caches, memory
	// charged, ...).
	Mu    sync.Mutex
	State map[string]any

	// umask is the process's file-creation mask as the file mediation
	// last learnt it, with umaskKnown set; 0 means not known yet.
	umask atomic.Uint32

	exited chan struct{}
}

const umaskKnown = 1 << 31

// Umask returns the cached file-creation mask of the process, if known.
func (e *Entry) Umask() (uint32, bool) {
	v := e.umask.Load()
	return v &^ umaskKnown, v&umaskKnown != 0
}

// SetUmask records the process's file-creation mask (umask(2) sets it
// for the whole process, and fork and exec keep it).
func (e *Entry) SetUmask(m uint32) { e.umask.Store(m&0o777 | umaskKnown) }

// Pidfd returns the entry's pidfd, valid until the entry is removed.
func (e *Entry) Pidfd() int { return e.fd }

// Exited is closed when the process has exited.
func (e *Entry) Exited() <-chan struct{} { return e.exited }

// Index is the set of live processes of one sandbox.
type Index struct {
	mu      sync.RWMutex
	byPid   map[int]*Entry
	threads map[int]*Entry // tid -> entry of its thread group, for tid != pid
	closed  bool
	wg      sync.WaitGroup
	disc    discovery

	// OnExit, if set, runs (without the index lock) after an entry has
	// been removed because its process exited.
	OnExit func(*Entry)
}

// New returns an empty index.
func New() *Index {
	return &Index{byPid: make(map[int]*Entry), threads: make(map[int]*Entry)}
}

// ErrClosed is returned when registering into a closed index.
var ErrClosed = fmt.Errorf("procindex: closed")

// Register adds process pid, using pidfd if it is >= 0 (the index takes
// ownership) or opening one. ppid is recorded for lineage. Registering a
// pid that is already present with the same start time returns the
// existing entry.
func (ix *Index) Register(pid, ppid, pidfd int) (*Entry, error) {
	if pidfd < 0 {
		fd, err := kernel.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
		if err != nil {
			return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
		}
		pidfd = fd
	} else if err := unix.SetNonblock(pidfd, true); err != nil {
		unix.Close(pidfd)
		return nil, fmt.Errorf("pidfd nonblock: %w", err)
	}
	// The start time is read after the pidfd pins the process, so the key
	// cannot describe a different process than the pidfd.
	start, err := kernel.StartTime(pid)
	if err != nil {
		unix.Close(pidfd)
		return nil, fmt.Errorf("start time of %d: %w", pid, err)
	}
	key := PidKey{pid, start}
	ix.mu.Lock()
	if ix.closed {
		ix.mu.Unlock()
		unix.Close(pidfd)
		return nil, ErrClosed
	}
	if old, ok := ix.byPid[pid]; ok {
		if old.Key == key {
			ix.mu.Unlock()
			unix.Close(pidfd)
			return old, nil
		}
		// A recycled pid: the old process is gone even if its watcher has
		// not run yet. Closing its pidfd wakes that watcher.
		ix.removeLocked(old)
		defer old.pidfd.Close()
	}
	if !ix.disc.started.Load() {
		// The first member is registered before it runs: the discovery
		// window starts just above it (it is known already, and visiting
		// it after its exit, when the watcher has removed it, would cost a
		// /proc read for nothing).
		ix.startDiscovery(pid)
	}
	e := &Entry{Key: key, PPid: ppid, fd: pidfd, exited: make(chan struct{})}
	e.pidfd = os.NewFile(uintptr(pidfd), "pidfd")
	ix.byPid[pid] = e
	ix.wg.Add(1)
	ix.mu.Unlock()
	go ix.watch(e)
	return e, nil
}

// watch waits, in the runtime's poller (no thread blocked), for the pidfd
// to become readable, which happens when the process exits.
func (ix *Index) watch(e *Entry) {
	defer ix.wg.Done()
	rc, err := e.pidfd.SyscallConn()
	if err == nil {
		err = rc.Read(func(fd uintptr) bool {
			r, _ := kernel.PollIn(int(fd))
			return r != 0
		})
	}
	ix.mu.Lock()
	removed := false
	if cur, ok := ix.byPid[e.Key.Pid]; ok && cur == e {
		ix.removeLocked(e)
		removed = true
	}
	ix.mu.Unlock()
	select {
	case <-e.exited:
	default:
		close(e.exited)
	}
	e.pidfd.Close()
	if removed && err == nil && ix.OnExit != nil {
		ix.OnExit(e)
	}
}

func (ix *Index) removeLocked(e *Entry) {
	delete(ix.byPid, e.Key.Pid)
	for tid, te := range ix.threads {
		if te == e {
			delete(ix.threads, tid)
		}
	}
}

// Lookup returns the entry of the process whose thread group contains tid,
// or nil. Thread ids other than the group leader are resolved once through
// /proc and cached.
func (ix *Index) Lookup(tid int) *Entry {
	ix.mu.RLock()
	e := ix.byPid[tid]
	if e == nil {
		e = ix.threads[tid]
	}
	ix.mu.RUnlock()
	if e != nil {
		return e
	}
	st, err := kernel.ReadTaskStatus(tid)
	if err != nil || st.Tgid == tid {
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	e = ix.byPid[st.Tgid]
	if e != nil {
		ix.threads[tid] = e
	}
	return e
}

// Member returns the entry of the process that owns thread tid,
// registering the process if it is new: the supervisor calls it for the
// sender of a notification, and any task that raises a notification on
// the sandbox's listener carries the sandbox's filter, so it is a member.
func (ix *Index) Member(tid int) *Entry {
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

// Has reports whether pid is a registered process.
func (ix *Index) Has(pid int) bool {
	ix.mu.RLock()
	_, ok := ix.byPid[pid]
	ix.mu.RUnlock()
	return ok
}

// Len returns the number of entries, including processes that exited but
// whose watcher has not yet run.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byPid)
}

// LiveCount counts the registered processes that have not exited, polling
// every pidfd in one system call so the answer is exact at this instant even
// if a watcher has not run yet (a parent that just reaped a child must be
// able to fork again at once).
func (ix *Index) LiveCount() int {
	ix.mu.RLock()
	pfds := make([]unix.PollFd, 0, len(ix.byPid))
	for _, e := range ix.byPid {
		pfds = append(pfds, unix.PollFd{Fd: int32(e.fd), Events: unix.POLLIN})
	}
	ix.mu.RUnlock()
	if len(pfds) == 0 {
		return 0
	}
	for {
		_, err := unix.Poll(pfds, 0)
		if err != unix.EINTR {
			break
		}
	}
	n := 0
	for _, p := range pfds {
		if p.Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) == 0 {
			n++
		}
	}
	return n
}

// Pids returns the pids of all registered processes.
func (ix *Index) Pids() []int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]int, 0, len(ix.byPid))
	for pid := range ix.byPid {
		out = append(out, pid)
	}
	return out
}

// Signal sends sig to every registered process through its pidfd, which
// cannot reach a recycled pid.
func (ix *Index) Signal(sig unix.Signal) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, e := range ix.byPid {
		_ = kernel.PidfdSendSignal(e.fd, sig)
	}
}

// Prune drops entries whose process is gone without their watcher having
// run, and returns how many it dropped. It is the slow safety net behind
// the watchers.
func (ix *Index) Prune() int {
	ix.mu.Lock()
	var dead []*Entry
	for _, e := range ix.byPid {
		if r, _ := kernel.PollIn(e.fd); r != 0 {
			dead = append(dead, e)
		}
	}
	for _, e := range dead {
		ix.removeLocked(e)
	}
	ix.mu.Unlock()
	return len(dead)
}

// Close stops every watcher and closes every pidfd. The index accepts no
// more registrations.
func (ix *Index) Close() {
	ix.mu.Lock()
	ix.closed = true
	var all []*Entry
	for _, e := range ix.byPid {
		all = append(all, e)
	}
	ix.byPid = map[int]*Entry{}
	ix.threads = map[int]*Entry{}
	ix.mu.Unlock()
	for _, e := range all {
		// Closing the file wakes the watcher's poller wait with an error.
		e.pidfd.Close()
	}
	ix.wg.Wait()
}

// Discovery of children the supervisor was not told about.
//
// A child created by a continued fork is invisible to the supervisor until
// it makes a notified syscall itself. Pids are handed out in increasing
// order (with wrap-around), so the pids allocated since the last look are
// few, and /proc/sys/kernel/ns_last_pid says where allocation stands.
// Discover examines that window and registers every process whose parent is
// a member.

type discovery struct {
	mu       sync.Mutex
	scanFrom int
	started  atomic.Bool
}

func (ix *Index) startDiscovery(firstPid int) {
	d := &ix.disc
	if !d.mu.TryLock() {
		return // a Discover is running and will set the window itself
	}
	defer d.mu.Unlock()
	if !d.started.Load() {
		d.scanFrom = firstPid
		d.started.Store(true)
	}
}

// maxWindow is how many new pids are examined one by one; past it, /proc is
// listed instead.
const maxWindow = 4096

// Discover registers the new children of members and returns them.
func (ix *Index) Discover() []*Entry {
	d := &ix.disc
	d.mu.Lock()
	defer d.mu.Unlock()
	last, err := kernel.LastPid()
	if err != nil {
		return nil
	}
	if !d.started.Load() {
		// Nothing was registered yet: there is no parent to look for.
		d.scanFrom = last
		d.started.Store(true)
		return nil
	}
	from := d.scanFrom
	d.scanFrom = last
	pidMax := 0
	if last < from {
		// Allocation wrapped around: read where it wraps only now, which
		// spares every sandbox a read and follows a changed pid_max.
		pidMax = kernel.PidMax()
	}
	var found []*Entry
	self := os.Getpid()
	visit := func(pid int) {
		if ix.Has(pid) {
			return
		}
		// The host's own new threads take ids from the same counter (the
		// Go runtime starts threads while sandboxes run) and are never
		// members: a signal-0 probe tells them apart for much less than
		// the /proc read below.
		if unix.Tgkill(self, pid, 0) == nil {
			return
		}
		st, err := kernel.ReadTaskStatus(pid)
		if err != nil || st.Tgid != pid || !ix.Has(st.PPid) {
			return
		}
		e, err := ix.Register(pid, st.PPid, -1)
		if err != nil {
			return
		}
		// Re-check the parent now that a pidfd pins the process: the pid
		// may have been recycled between the two reads.
		if st2, err := kernel.ReadTaskStatus(pid); err != nil || st2.PPid != st.PPid {
			return
		}
		found = append(found, e)
	}
	switch {
	case last == from:
	case last > from && last-from <= maxWindow:
		for pid := from + 1; pid <= last; pid++ {
			visit(pid)
		}
	case last < from && (pidMax-from)+last <= maxWindow:
		for pid := from + 1; pid < pidMax; pid++ {
			visit(pid)
		}
		for pid := 1; pid <= last; pid++ {
			visit(pid)
		}
	default:
		for _, pid := range procPids() {
			visit(pid)
		}
	}
	// Children of children found in this pass had their parent unknown
	// when first visited; a second pass over what is left is cheap.
	if len(found) > 0 {
		for _, pid := range procPidsAbove(from, last, pidMax) {
			visit(pid)
		}
	}
	return found
}

func procPidsAbove(from, last, pidMax int) []int {
	var out []int
	if last >= from {
		if last-from > maxWindow {
			return procPids()
		}
		for p := from + 1; p <= last; p++ {
			out = append(out, p)
		}
		return out
	}
	if (pidMax-from)+last > maxWindow {
		return procPids()
	}
	for p := from + 1; p < pidMax; p++ {
		out = append(out, p)
	}
	for p := 1; p <= last; p++ {
		out = append(out, p)
	}
	return out
}

func procPids() []int {
	f, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	out := make([]int, 0, len(names))
	for _, n := range names {
		if v, err := strconv.Atoi(n); err == nil {
			out = append(out, v)
		}
	}
	return out
}
