// Package spawn starts a confined child process.
//
// Everything is prepared in the parent, in Go: the Landlock ruleset fd, the
// seccomp program, argv and envp as C arrays, the rlimits and the cpu mask.
// The child runs only the C function in child.c, which performs one raw
// system call per step and reports failures on a SOCK_SEQPACKET socket.
//
// The child is cloned with CLONE_VM on a separate stack, like os/exec's
// vfork-style spawn, so the cost does not grow with the host's heap; but
// unlike vfork the parent thread is not suspended, because the child must
// hand its seccomp listener back and wait for the supervisor before exec.
//
// All clones happen on one dedicated, locked OS thread that never exits:
// PR_SET_PDEATHSIG fires when the *thread* that created the child exits, and
// the thread calling into the library (a Python or C thread) may be
// short-lived.
package spawn

/*
#cgo CFLAGS: -O2 -Wall -Wextra -fno-stack-protector
#include <stdlib.h>
#include "child.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
)

// Rlimit is one resource limit applied in the child.
type Rlimit struct {
	Resource int
	Cur, Max uint64
}

// Plan describes the child to start.
type Plan struct {
	Path        string   // command; looked up in SearchPath when it has no '/'
	SearchPath  string   // PATH used for the lookup
	Argv        []string // argv[0] included
	Env         []string // KEY=VALUE
	Stdio       [3]int   // fds for 0/1/2, -1 keeps the host's
	RulesetFD   int      // Landlock ruleset, -1 for none
	Filter      []unix.SockFilter
	Rlimits     []Rlimit
	NoRandomize bool
	NoTHP       bool
	CPUs        []int // cpu_cores pinning; nil = leave
	Cwd         string
	NewPgrp     bool
}

// Step names, indexed by enum sl_step.
var stepNames = [...]string{
	C.SL_STEP_OK:            "ok",
	C.SL_STEP_SIGNALS:       "reset signal handlers",
	C.SL_STEP_STDIO:         "dup2 stdio",
	C.SL_STEP_SETPGID:       "setpgid",
	C.SL_STEP_PDEATHSIG:     "prctl(PR_SET_PDEATHSIG)",
	C.SL_STEP_PARENT_GONE:   "parent exited",
	C.SL_STEP_RLIMIT:        "prlimit",
	C.SL_STEP_PERSONALITY:   "personality(ADDR_NO_RANDOMIZE)",
	C.SL_STEP_THP:           "prctl(PR_SET_THP_DISABLE)",
	C.SL_STEP_AFFINITY:      "sched_setaffinity",
	C.SL_STEP_CHDIR:         "chdir",
	C.SL_STEP_CLOSE_FDS:     "close_range",
	C.SL_STEP_NO_NEW_PRIVS:  "prctl(PR_SET_NO_NEW_PRIVS)",
	C.SL_STEP_LANDLOCK:      "landlock_restrict_self",
	C.SL_STEP_SECCOMP:       "seccomp(SECCOMP_SET_MODE_FILTER)",
	C.SL_STEP_SEND_LISTENER: "send seccomp listener",
	C.SL_STEP_WAIT_GO:       "wait for supervisor",
	C.SL_STEP_SIGMASK:       "rt_sigprocmask",
	C.SL_STEP_EXEC:          "execve",
}

// StepError is a failure of one child step before exec.
type StepError struct {
	Step  string
	Errno unix.Errno
}

func (e *StepError) Error() string {
	return fmt.Sprintf("child step %s: %v", e.Step, e.Errno)
}

func (e *StepError) Unwrap() error { return e.Errno }

// IsConfinement reports whether the failed step is one that confines the
// child (Landlock, seccomp, no_new_privs), as opposed to process setup.
func (e *StepError) IsConfinement() bool {
	switch e.Step {
	case stepNames[C.SL_STEP_LANDLOCK], stepNames[C.SL_STEP_SECCOMP], stepNames[C.SL_STEP_NO_NEW_PRIVS]:
		return true
	}
	return false
}

const stackSize = 64 << 10

// Child is a started child blocked before exec, waiting for Go.
type Child struct {
	Pid      int
	Pidfd    int // owned by the caller after Start returns
	Listener int // seccomp listener, -1 without a filter; owned by the caller

	sock *os.File // parent end of the report socket, in the poller
	mem  *region
	done bool
	// ExecErr is set by Go when execve failed (the child exits 127).
	ExecErr unix.Errno
}

// region is one anonymous mapping that holds everything the child reads
// through the shared address space: the plan, its strings and arrays at the
// bottom and the child's stack at the top. It is Go-invisible memory (the
// GC never scans or moves it), filled by plain copies instead of one C
// allocation per string, and given back to a small pool once the child has
// left our address space, so that a spawn normally costs neither mmap nor
// munmap (whose TLB shootdown reaches every CPU running one of our
// threads).
type region struct {
	mem  []byte
	used int
	plan *C.struct_sl_plan
}

// regionSize fits the stack plus a plan of common size (argv, a full
// environment, a seccomp program); larger plans get a mapping of their own.
const regionSize = stackSize + 64<<10

var regionPool struct {
	sync.Mutex
	free []*region
}

// maxPooledRegions bounds the memory kept for reuse; more concurrent spawns
// than this simply map and unmap.
const maxPooledRegions = 4

func getRegion(data int) (*region, error) {
	size := regionSize
	if need := stackSize + data; need > size {
		pg := os.Getpagesize()
		size = (need + pg - 1) / pg * pg
	} else {
		regionPool.Lock()
		if n := len(regionPool.free); n > 0 {
			r := regionPool.free[n-1]
			regionPool.free = regionPool.free[:n-1]
			regionPool.Unlock()
			r.used = 0
			return r, nil
		}
		regionPool.Unlock()
	}
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_STACK)
	if err != nil {
		return nil, err
	}
	return &region{mem: mem}, nil
}

// put returns the region to the pool (or unmaps it); the child must no
// longer use the parent's memory.
func (r *region) put() {
	r.plan = nil
	if len(r.mem) == regionSize {
		regionPool.Lock()
		if len(regionPool.free) < maxPooledRegions {
			regionPool.free = append(regionPool.free, r)
			regionPool.Unlock()
			return
		}
		regionPool.Unlock()
	}
	unix.Munmap(r.mem)
}

// stack returns the child's stack: everything above the data.
func (r *region) stack() []byte { return r.mem[len(r.mem)-stackSize:] }

// alloc reserves n zeroed bytes, 16-byte aligned, below the stack.
func (r *region) alloc(n int) unsafe.Pointer {
	off := (r.used + 15) &^ 15
	if off+n > len(r.mem)-stackSize {
		panic("sandlock: spawn region too small") // planSize undercounted
	}
	b := r.mem[off : off+n]
	clear(b)
	r.used = off + n
	return unsafe.Pointer(&b[0])
}

func (r *region) cstring(s string) *C.char {
	p := r.alloc(len(s) + 1)
	copy(unsafe.Slice((*byte)(p), len(s)), s)
	return (*C.char)(p)
}

func (r *region) cstrings(ss []string) **C.char {
	arr := (**C.char)(r.alloc((len(ss) + 1) * int(unsafe.Sizeof(uintptr(0)))))
	sl := unsafe.Slice(arr, len(ss)+1)
	for i, s := range ss {
		sl[i] = r.cstring(s)
	}
	return arr
}

// planSize bounds what build allocates in the region (each piece padded to
// the 16-byte alignment of alloc).
func (p *Plan) planSize() int {
	n := int(unsafe.Sizeof(C.struct_sl_plan{})) + 16
	str := func(s string) int { return len(s) + 1 + 15 }
	n += str(p.Path) + str(p.SearchPath) + str(p.Cwd)
	for _, l := range [][]string{p.Argv, p.Env} {
		n += (len(l)+1)*int(unsafe.Sizeof(uintptr(0))) + 15
		for _, s := range l {
			n += str(s)
		}
	}
	n += len(p.Filter)*int(unsafe.Sizeof(unix.SockFilter{})) + 15
	n += int(unsafe.Sizeof(unix.CPUSet{})) + 15
	return n
}

func hasNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

func (p *Plan) check() error {
	if len(p.Argv) == 0 {
		return errors.New("spawn: empty argv")
	}
	if p.Path == "" {
		return errors.New("spawn: empty command")
	}
	for _, l := range [][]string{{p.Path, p.SearchPath, p.Cwd}, p.Argv, p.Env} {
		for _, s := range l {
			if hasNUL(s) {
				return fmt.Errorf("spawn: %q contains a NUL byte", s)
			}
		}
	}
	if len(p.Rlimits) > C.SL_MAX_RLIMITS {
		return fmt.Errorf("spawn: at most %d rlimits", C.SL_MAX_RLIMITS)
	}
	if len(p.Filter) > 0xffff {
		return errors.New("spawn: seccomp program too long")
	}
	return nil
}

func (p *Plan) build(m *region, parentPid int, sock int) error {
	cp := (*C.struct_sl_plan)(m.alloc(int(unsafe.Sizeof(C.struct_sl_plan{}))))
	m.plan = cp
	cp.path = m.cstring(p.Path)
	cp.search_path = m.cstring(p.SearchPath)
	cp.argv = m.cstrings(p.Argv)
	cp.envp = m.cstrings(p.Env)
	for i := 0; i < 3; i++ {
		cp.stdio[i] = C.int32_t(p.Stdio[i])
	}
	cp.sock = C.int32_t(sock)
	cp.ruleset_fd = C.int32_t(p.RulesetFD)
	if n := len(p.Filter); n > 0 {
		f := m.alloc(n * int(unsafe.Sizeof(unix.SockFilter{})))
		copy(unsafe.Slice((*unix.SockFilter)(f), n), p.Filter)
		cp.filter = f
		cp.filter_len = C.uint16_t(n)
	}
	cp.nrlimits = C.int32_t(len(p.Rlimits))
	for i, r := range p.Rlimits {
		cp.rlimits[i].resource = C.int32_t(r.Resource)
		cp.rlimits[i].cur = C.uint64_t(r.Cur)
		cp.rlimits[i].max = C.uint64_t(r.Max)
	}
	if p.NoRandomize {
		// Read the current persona so only ADDR_NO_RANDOMIZE is added.
		cur, _, _ := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
		cp.set_personality = 1
		cp.personality = C.uint64_t(cur | addrNoRandomize)
	}
	if p.NoTHP {
		cp.thp_disable = 1
	}
	if len(p.CPUs) > 0 {
		var set unix.CPUSet
		for _, c := range p.CPUs {
			if c < 0 || c >= len(set)*64 {
				return fmt.Errorf("spawn: cpu %d out of range", c)
			}
			set.Set(c)
		}
		a := m.alloc(int(unsafe.Sizeof(set)))
		*(*unix.CPUSet)(a) = set
		cp.affinity = a
		cp.affinity_len = C.uint32_t(unsafe.Sizeof(set))
	}
	if p.Cwd != "" {
		cp.cwd = m.cstring(p.Cwd)
	}
	cp.parent_pid = C.int32_t(parentPid)
	if p.NewPgrp {
		cp.new_pgrp = 1
	}
	return nil
}

// The spawner thread: one locked OS thread, started on first use, that
// never unlocks and so never exits (see the package comment).
type spawnReq struct {
	plan  *C.struct_sl_plan
	stack []byte
	pid   int
	pidfd C.int
	done  chan struct{}
}

var (
	spawnOnce sync.Once
	spawnCh   chan *spawnReq
)

func spawner() {
	runtime.LockOSThread()
	for r := range spawnCh {
		r.pid = int(C.sl_spawn(r.plan, unsafe.Pointer(&r.stack[0]), C.size_t(len(r.stack)), &r.pidfd))
		close(r.done)
	}
}

// cloneChild clones the child on the spawner thread.
func cloneChild(plan *C.struct_sl_plan, stack []byte) (pid int, pidfd int, err error) {
	spawnOnce.Do(func() {
		spawnCh = make(chan *spawnReq)
		go spawner()
	})
	req := &spawnReq{plan: plan, stack: stack, done: make(chan struct{})}
	spawnCh <- req
	<-req.done
	if req.pid < 0 {
		return 0, -1, fmt.Errorf("clone: %w", unix.Errno(-req.pid))
	}
	return req.pid, int(req.pidfd), nil
}

// Start clones the child and returns once it has confined itself and handed
// over its seccomp listener; the child then waits for Go. On error the child
// has been reaped.
func Start(p *Plan) (*Child, error) {
	c, err := Clone(p)
	if err != nil {
		return nil, err
	}
	if err := c.Confined(); err != nil {
		return nil, err
	}
	return c, nil
}

// Clone starts the child and returns as soon as it exists, while it
// confines itself, so that the caller's preparations that need only the
// pid overlap the child's steps. Confined (or Abort) must follow.
func Clone(p *Plan) (*Child, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	m, err := getRegion(p.planSize())
	if err != nil {
		return nil, fmt.Errorf("spawn: mmap: %w", err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		m.put()
		return nil, fmt.Errorf("spawn: socketpair: %w", err)
	}
	parentEnd, childEnd := fds[0], fds[1]
	if err := p.build(m, os.Getpid(), childEnd); err != nil {
		m.put()
		unix.Close(parentEnd)
		unix.Close(childEnd)
		return nil, err
	}
	pid, pidfd, err := cloneChild(m.plan, m.stack())
	unix.Close(childEnd)
	if err != nil {
		m.put()
		unix.Close(parentEnd)
		return nil, fmt.Errorf("spawn: %w", err)
	}
	if err := unix.SetNonblock(parentEnd, true); err != nil {
		panic(err) // cannot fail on a fresh socket
	}
	return &Child{
		Pid:      pid,
		Pidfd:    pidfd,
		Listener: -1,
		sock:     os.NewFile(uintptr(parentEnd), "sandlock-spawn"),
		mem:      m,
	}, nil
}

// Confined waits until the child has confined itself and takes its seccomp
// listener (Listener). On error the child has been killed and reaped, and
// its pidfd closed.
func (c *Child) Confined() error {
	rep, lfd, err := c.recv()
	if err == nil && rep.step != C.SL_STEP_OK {
		err = &StepError{Step: stepName(int(rep.step)), Errno: unix.Errno(rep.err)}
	}
	if err == nil && lfd < 0 && rep.err >= 0 {
		// The OK report carries the listener's fd number in the child
		// (child.c step 14), -1 without a filter.
		if lfd, err = kernel.PidfdGetfd(c.Pidfd, int(rep.err)); err != nil {
			lfd = -1
			e, _ := err.(unix.Errno)
			err = &StepError{Step: stepName(C.SL_STEP_SEND_LISTENER), Errno: e}
		}
	}
	if err != nil {
		if lfd >= 0 {
			unix.Close(lfd)
		}
		c.Abort()
		return fmt.Errorf("spawn: %w", err)
	}
	c.Listener = lfd
	return nil
}

func stepName(s int) string {
	if s >= 0 && s < len(stepNames) && stepNames[s] != "" {
		return stepNames[s]
	}
	return fmt.Sprintf("step %d", s)
}

type report struct{ step, err int32 }

// recv reads one report (and an SCM_RIGHTS fd, if any) through the runtime
// poller, so that a waiting spawn holds no OS thread. io.EOF means the child
// closed its end: exec succeeded or it died.
func (c *Child) recv() (report, int, error) {
	var rep report
	fd := -1
	var buf [8]byte
	var oob [24]byte // CmsgSpace(4) on 64-bit
	var n, oobn int
	var rerr error
	rc, err := c.sock.SyscallConn()
	if err != nil {
		return rep, -1, fmt.Errorf("read child report: %w", err)
	}
	err = rc.Read(func(s uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(s), buf[:], oob[:], unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return rep, -1, fmt.Errorf("read child report: %w", err)
	}
	if oobn > 0 {
		msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
		if perr == nil {
			for _, m := range msgs {
				if fds, e := unix.ParseUnixRights(&m); e == nil {
					for _, f := range fds {
						if fd < 0 {
							fd = f
						} else {
							unix.Close(f)
						}
					}
				}
			}
		}
	}
	if n == 0 {
		return rep, fd, errEOF
	}
	if n != 8 {
		return rep, fd, fmt.Errorf("read child report: %d bytes", n)
	}
	rep.step = int32(uint32(buf[0]) | uint32(buf[1])<<8 | uint32(buf[2])<<16 | uint32(buf[3])<<24)
	rep.err = int32(uint32(buf[4]) | uint32(buf[5])<<8 | uint32(buf[6])<<16 | uint32(buf[7])<<24)
	return rep, fd, nil
}

var errEOF = errors.New("child closed the report socket")

// Go lets the child continue to exec and returns once it has left the
// parent's address space (exec succeeded, or the child exited). ExecErr is
// set when execve failed; the child then exits with status 127.
func (c *Child) Go() error {
	if c.done {
		return errors.New("spawn: Go called twice")
	}
	_, err := c.sock.Write([]byte{'g'})
	if err != nil {
		c.release()
		return fmt.Errorf("spawn: start child: %w", err)
	}
	for {
		rep, fd, err := c.recv()
		if fd >= 0 {
			unix.Close(fd)
		}
		if err == errEOF {
			break
		}
		if err != nil {
			// Without EOF we cannot know the child stopped using the
			// stack: kill it and wait for the exit to be sure.
			kill(c.Pidfd)
			waitExit(c.Pidfd)
			c.release()
			return err
		}
		if rep.step == C.SL_STEP_EXEC {
			c.ExecErr = unix.Errno(rep.err)
		}
	}
	c.release()
	return nil
}

// Abort kills a child that has not been released and reaps it.
func (c *Child) Abort() {
	if c.done {
		return
	}
	kill(c.Pidfd)
	waitExit(c.Pidfd)
	c.release()
	unix.Close(c.Pidfd)
	c.Pidfd = -1
	if c.Listener >= 0 {
		unix.Close(c.Listener)
		c.Listener = -1
	}
}

func (c *Child) release() {
	if c.done {
		return
	}
	c.done = true
	c.sock.Close()
	c.mem.put()
}

func kill(pidfd int) {
	unix.Syscall6(unix.SYS_PIDFD_SEND_SIGNAL, uintptr(pidfd), uintptr(unix.SIGKILL), 0, 0, 0, 0)
}

// waitExit reaps the child behind pidfd (blocking); used only on failure
// paths where the child is known to be dying.
func waitExit(pidfd int) {
	// The status of a child we killed ourselves is not interesting.
	_, _, _ = kernel.WaitPidfd(pidfd, 0)
}

// addrNoRandomize is ADDR_NO_RANDOMIZE from <linux/personality.h>.
const addrNoRandomize = 0x0040000
