package policyfn

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
)

// The argv freeze.
//
// The callback sees the argv of execve and execveat, and decides on it. The
// kernel reads argv again when it runs the call, so another task that can
// write the caller's memory (a sibling thread, a CLONE_VM child, a process
// sharing a MAP_SHARED page) could change it between our read and the
// kernel's. So before argv is read every other task of the sandbox is
// stopped with PTRACE_SEIZE + PTRACE_INTERRUPT, and stays stopped until the
// kernel has copied argv: the caller itself is seized too (its interrupt
// stays pending while it waits for our answer), and the freeze ends when it
// traps on the way back to user space, after the exec succeeded or failed.
// Tasks created by a frozen task during the freeze are attached by the
// kernel (PTRACE_O_TRACEFORK/VFORK/CLONE) and start stopped.
//
// A task asleep in the kernel in a wait that the interrupt cannot break
// (state D: a disk read, our own notification wait) counts as frozen: it
// cannot run user code before it traps.
//
// ptrace is a relation between a tracee and one tracer *thread*, so every
// ptrace call of a sandbox is made from one locked OS thread, started at
// the first exec that needs it. When the sandbox ends that goroutine
// returns without unlocking: the thread exits and the kernel detaches
// whatever is still attached.
//
// If the freeze cannot be established the exec is denied (EPERM).

const seizeOptions = kernel.PtraceOTraceFork | kernel.PtraceOTraceVfork | kernel.PtraceOTraceClone

// Bounds of one freeze.
const (
	freezeTimeout  = 2 * time.Second  // to stop every task
	releaseTimeout = 10 * time.Second // for the caller to trap after our answer
	lingerPoll     = 2 * time.Millisecond
)

type freezer struct {
	index   *procindex.Index
	mainPid int

	// episode is held from a freeze until its release is complete, so
	// that one release never lets go of tasks a later freeze stopped.
	episode sync.Mutex

	mu      sync.Mutex
	started bool
	closed  bool
	reqs    chan func()
	quit    chan struct{}
	exited  chan struct{}

	// scanFrom is the last pid adoptOrphans examined.
	scanFrom int

	// Owned by the tracer thread.
	tid     int
	tracees map[int]*tracee
	active  bool // a freeze is established: leftover detaching waits
}

type tracee struct {
	stopped     bool
	gone        bool
	interrupted bool
}

func newFreezer(ix *procindex.Index, mainPid int) *freezer {
	return &freezer{index: ix, mainPid: mainPid, scanFrom: mainPid,
		reqs: make(chan func()), quit: make(chan struct{}), exited: make(chan struct{})}
}

// frozen is one established freeze; release ends it.
type frozen struct {
	f       *freezer
	caller  int
	trivial bool // nothing was stopped
	once    sync.Once
}

// release lets every frozen task go once the caller has trapped (its exec
// is over). It returns at once; the tracer thread does the waiting.
func (z *frozen) release() {
	z.once.Do(func() {
		if z.trivial {
			z.f.episode.Unlock()
			return
		}
		z.f.post(func() {
			z.f.releaseAll(z.caller)
			z.f.episode.Unlock()
		}, z.f.episode.Unlock)
	})
}

// noFreeze turns the freeze off, for the test that shows the race it
// closes (export_test.go); never set outside tests.
var noFreeze atomic.Bool

// errFreeze wraps every reason a freeze failed.
var errFreeze = errors.New("cannot freeze the sandbox's tasks")

// freeze stops every task of the sandbox but callerTid, which must be
// blocked in a held notification. When the caller is the only task nothing
// needs stopping and no thread is started.
func (f *freezer) freeze(callerTid int) (*frozen, error) {
	f.episode.Lock()
	if noFreeze.Load() {
		return &frozen{f: f, trivial: true}, nil
	}
	tids, err := f.tasks()
	if err != nil {
		f.episode.Unlock()
		return nil, fmt.Errorf("%w: %v", errFreeze, err)
	}
	if len(tids) == 1 && tids[0] == callerTid {
		return &frozen{f: f, trivial: true}, nil
	}
	if err := f.start(); err != nil {
		f.episode.Unlock()
		return nil, err
	}
	var ferr error
	if !f.do(func() { ferr = f.seizeAll(callerTid) }) {
		f.episode.Unlock()
		return nil, fmt.Errorf("%w: the sandbox is ending", errFreeze)
	}
	z := &frozen{f: f, caller: callerTid}
	if ferr != nil {
		z.release()
		return nil, fmt.Errorf("%w: %v", errFreeze, ferr)
	}
	return z, nil
}

// tasks lists the thread ids of every known process of the sandbox, after
// registering children created since the last look.
func (f *freezer) tasks() ([]int, error) {
	f.index.Discover()
	f.adoptOrphans()
	var tids []int
	for _, pid := range f.index.Pids() {
		names, err := readDirNames("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
				continue // exited
			}
			return nil, err
		}
		for _, n := range names {
			if tid, err := strconv.Atoi(n); err == nil {
				tids = append(tids, tid)
			}
		}
	}
	return tids, nil
}

// maxScan bounds the pids adoptOrphans examines one by one; past it /proc
// is listed.
const maxScan = 4096

// adoptOrphans registers the processes of the sandbox's process group
// that the index does not know: the index finds children by their parent,
// and a child whose parent exited before it was found has been reparented
// out of the sandbox's tree. The main process leads its own group (unless
// the sandbox shares the caller's), and children stay in it unless they
// call setpgid or setsid. Only the pids allocated since the last look are
// examined (ns_last_pid).
func (f *freezer) adoptOrphans() {
	if f.mainPid <= 0 {
		return
	}
	if _, pgrp, ok := statIDs(f.mainPid); !ok || pgrp != f.mainPid {
		return // the main process does not lead a group of its own
	}
	last, err := kernel.LastPid()
	if err != nil {
		return
	}
	from := f.scanFrom
	f.scanFrom = last
	visit := func(pid int) {
		if pid == f.mainPid || f.index.Has(pid) {
			return
		}
		if ppid, pgrp, ok := statIDs(pid); ok && pgrp == f.mainPid {
			_, _ = f.index.Register(pid, ppid, -1)
		}
	}
	switch {
	case last == from:
	case last > from && last-from <= maxScan:
		for pid := from + 1; pid <= last; pid++ {
			visit(pid)
		}
	default:
		names, err := readDirNames("/proc")
		if err != nil {
			return
		}
		for _, n := range names {
			if pid, err := strconv.Atoi(n); err == nil {
				visit(pid)
			}
		}
	}
}

// statIDs returns the parent and the process group of pid from
// /proc/<pid>/stat.
func statIDs(pid int) (ppid, pgrp int, ok bool) {
	var buf [512]byte
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, false
	}
	n, _ := unix.Read(fd, buf[:])
	unix.Close(fd)
	if n <= 0 {
		return 0, 0, false
	}
	b := buf[:n]
	i := bytes.LastIndex(b, []byte(") "))
	if i < 0 {
		return 0, 0, false
	}
	// Fields 3 (state), 4 (ppid), 5 (pgrp).
	f := bytes.Fields(b[i+2:])
	if len(f) < 3 {
		return 0, 0, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgrp, err2 := strconv.Atoi(string(f[2]))
	return ppid, pgrp, err1 == nil && err2 == nil
}

func readDirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

func (f *freezer) start() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("%w: the sandbox is ending", errFreeze)
	}
	if f.started {
		return nil
	}
	f.started = true
	ready := make(chan struct{})
	go f.thread(ready)
	<-ready
	return nil
}

// thread is the tracer. It serves requests and, while some tracee could
// not be detached yet (it had not stopped), polls to detach it.
func (f *freezer) thread(ready chan<- struct{}) {
	runtime.LockOSThread()
	// Never unlocked: the thread is the tracer of what it seized, and its
	// exit is what detaches any leftover. The process's main thread is
	// never terminated by the runtime, so do not serve from it.
	if unix.Gettid() == unix.Getpid() {
		runtime.UnlockOSThread()
		go f.thread(ready)
		return
	}
	defer close(f.exited)
	f.tid = unix.Gettid()
	f.tracees = map[int]*tracee{}
	close(ready)
	var poll <-chan time.Time
	var t *time.Ticker
	for {
		select {
		case fn := <-f.reqs:
			fn()
		case <-poll:
			if !f.active {
				f.settle()
			}
		case <-f.quit:
			f.settle()
			return
		}
		if len(f.tracees) > 0 && t == nil {
			t = time.NewTicker(lingerPoll)
			poll = t.C
		} else if len(f.tracees) == 0 && t != nil {
			t.Stop()
			t, poll = nil, nil
		}
	}
}

// do runs fn on the tracer thread and waits; false if the freezer closed.
func (f *freezer) do(fn func()) bool {
	done := make(chan struct{})
	select {
	case f.reqs <- func() { fn(); close(done) }:
	case <-f.exited:
		return false
	}
	<-done
	return true
}

// post queues fn on the tracer thread without waiting; if the thread has
// exited, gone runs instead.
func (f *freezer) post(fn, gone func()) {
	go func() {
		select {
		case f.reqs <- fn:
		case <-f.exited:
			gone()
		}
	}()
}

func (f *freezer) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	if f.started {
		close(f.quit)
		<-f.exited
	}
}

// seizeAll attaches to and interrupts every task, repeating the listing
// until no new task shows up, then waits until each has stopped (or sleeps
// where it cannot run user code).
func (f *freezer) seizeAll(caller int) error {
	f.active = true
	deadline := time.Now().Add(freezeTimeout)
	for round := 0; ; round++ {
		tids, err := f.tasks()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			t := f.tracees[tid]
			if t == nil || t.gone {
				if err := kernel.PtraceSeize(tid, seizeOptions); err != nil {
					switch {
					case err == unix.ESRCH || taskState(tid) == 'Z' || taskState(tid) == 'X' || taskState(tid) == 0:
						continue // exiting
					case err == unix.EPERM && tracerOf(tid) == f.tid:
						// Attached by the kernel at its creation by a
						// frozen task; its first stop is on the way.
					default:
						return fmt.Errorf("ptrace(PTRACE_SEIZE, %d): %w", tid, err)
					}
				}
				t = &tracee{}
				f.tracees[tid] = t
				fresh++
			}
			if !t.stopped && !t.interrupted {
				if err := unix.PtraceInterrupt(tid); err != nil && err != unix.ESRCH {
					return fmt.Errorf("ptrace(PTRACE_INTERRUPT, %d): %w", tid, err)
				}
				t.interrupted = true
			}
		}
		if fresh == 0 && round > 0 {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("tasks keep appearing")
		}
	}
	pause := 20 * time.Microsecond
	for {
		f.collect()
		waiting := 0
		for tid, t := range f.tracees {
			if tid == caller || t.stopped || t.gone {
				continue
			}
			switch taskState(tid) {
			case 'D', 'T', 't', 'Z', 'X', 0:
				// Asleep where the interrupt cannot reach, stopped, or
				// gone: cannot run user code before it traps.
				continue
			}
			waiting++
		}
		if waiting == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d task(s) did not stop within %v", waiting, freezeTimeout)
		}
		time.Sleep(pause)
		if pause < time.Millisecond {
			pause *= 2
		}
	}
}

// collect takes every pending wait report of the tracees.
func (f *freezer) collect() {
	const base = unix.WNOHANG | unix.WALL | unix.WNOTHREAD
	for tid, t := range f.tracees {
		if t.gone {
			continue
		}
		for {
			w, err := kernel.WaitTask(tid, unix.WSTOPPED|unix.WEXITED|unix.WNOWAIT|base)
			if err != nil {
				// ECHILD: no longer our tracee (it exec'd from a non-leader
				// thread and took the leader's id, or was released).
				t.gone = true
				break
			}
			if w.Pid == 0 {
				break
			}
			if w.Exited {
				// The sandbox's main process is reaped by the sandbox
				// (the same thread group as us is its parent); any other
				// tracee must be reaped here, or an exec waiting for its
				// dead sibling threads would never finish.
				if tid != f.mainPid {
					_, _ = kernel.WaitTask(tid, unix.WEXITED|base)
				}
				t.gone = true
				break
			}
			if !w.Stopped {
				// A continued report: consume it.
				_, _ = kernel.WaitTask(tid, unix.WCONTINUED|base)
				continue
			}
			_, _ = kernel.WaitTask(tid, unix.WSTOPPED|base)
			t.stopped = true
			switch w.Status >> 8 {
			case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE:
				if msg, err := unix.PtraceGetEventMsg(tid); err == nil && msg > 0 {
					if _, ok := f.tracees[int(msg)]; !ok {
						f.tracees[int(msg)] = &tracee{interrupted: true}
					}
				}
			}
			break
		}
	}
}

// releaseAll waits for the caller to trap (or go away), then detaches
// every stopped tracee; the others linger until they stop.
func (f *freezer) releaseAll(caller int) {
	deadline := time.Now().Add(releaseTimeout)
	pause := 20 * time.Microsecond
	for {
		f.collect()
		t := f.tracees[caller]
		if t == nil || t.stopped || t.gone {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(pause)
		if pause < time.Millisecond {
			pause *= 2
		}
	}
	f.settle()
	f.active = false
}

// settle detaches the stopped tracees and forgets the gone ones.
func (f *freezer) settle() {
	f.collect()
	for tid, t := range f.tracees {
		switch {
		case t.gone:
			delete(f.tracees, tid)
		case t.stopped:
			if err := unix.PtraceDetach(tid); err == nil || taskState(tid) == 0 {
				delete(f.tracees, tid)
			} else {
				t.stopped = false
			}
		}
	}
}

// taskState returns the state letter of /proc/<tid>/stat, 0 if the task is
// gone.
func taskState(tid int) byte {
	var buf [256]byte
	fd, err := unix.Open("/proc/"+strconv.Itoa(tid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	n, _ := unix.Read(fd, buf[:])
	unix.Close(fd)
	if n <= 0 {
		return 0
	}
	b := buf[:n]
	i := bytes.LastIndex(b, []byte(") "))
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// tracerOf returns the TracerPid of /proc/<tid>/status (the tracer's thread
// id), 0 if none or unknown.
func tracerOf(tid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte("\nTracerPid:"))
	if i < 0 {
		return 0
	}
	rest := b[i+len("\nTracerPid:"):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	n, _ := strconv.Atoi(string(bytes.TrimSpace(rest)))
	return n
}
