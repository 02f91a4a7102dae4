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

	sock  *os.File
	mem   *cmem
	stack []byte
	done  bool
	// ExecErr is set by Go when execve failed (the child exits 127).
	ExecErr unix.Errno
}

// cmem owns the C allocations the child reads through the shared address
// space; they must outlive the child's use of the parent's memory.
type cmem struct {
	ptrs []unsafe.Pointer
	plan *C.struct_sl_plan
}

func (m *cmem) alloc(n int) unsafe.Pointer {
	p := C.calloc(1, C.size_t(n))
	if p == nil {
		panic("sandlock: out of C memory")
	}
	m.ptrs = append(m.ptrs, p)
	return p
}

func (m *cmem) cstring(s string) *C.char {
	p := (*C.char)(m.alloc(len(s) + 1))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(p)), len(s)), s)
	return p
}

func (m *cmem) cstrings(ss []string) **C.char {
	arr := (**C.char)(m.alloc((len(ss) + 1) * int(unsafe.Sizeof(uintptr(0)))))
	sl := unsafe.Slice(arr, len(ss)+1)
	for i, s := range ss {
		sl[i] = m.cstring(s)
	}
	return arr
}

func (m *cmem) free() {
	for _, p := range m.ptrs {
		C.free(p)
	}
	m.ptrs = nil
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
	all := append(append([]string{p.Path, p.SearchPath, p.Cwd}, p.Argv...), p.Env...)
	for _, s := range all {
		if hasNUL(s) {
			return fmt.Errorf("spawn: %q contains a NUL byte", s)
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

func (p *Plan) build(parentPid int, sock int) (*cmem, error) {
	m := &cmem{}
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
				m.free()
				return nil, fmt.Errorf("spawn: cpu %d out of range", c)
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
	return m, nil
}

// The spawner thread: one locked OS thread, started on first use, that
// never unlocks and so never exits (see the package comment).
type spawnReq struct {
	plan  *C.struct_sl_plan
	stack []byte
	pid   int
	pidfd C.int
	err   error
	done  chan struct{}
}

var (
	spawnOnce sync.Once
	spawnCh   chan *spawnReq
)

func spawner() {
	runtime.LockOSThread()
	for r := range spawnCh {
		pid := C.sl_spawn(r.plan, unsafe.Pointer(&r.stack[0]), C.size_t(len(r.stack)), &r.pidfd)
		if pid < 0 {
			r.err = fmt.Errorf("clone: %w", unix.Errno(-pid))
		}
		r.pid = int(pid)
		close(r.done)
	}
}

// Start clones the child and returns once it has confined itself and handed
// over its seccomp listener; the child then waits for Go. On error the child
// has been reaped.
func Start(p *Plan) (*Child, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("spawn: socketpair: %w", err)
	}
	parentEnd, childEnd := fds[0], fds[1]
	m, err := p.build(os.Getpid(), childEnd)
	if err != nil {
		unix.Close(parentEnd)
		unix.Close(childEnd)
		return nil, err
	}
	// The stack is Go-invisible anonymous memory: the GC never scans or
	// moves it, and it is unmapped only after the child left our mm.
	stack, err := unix.Mmap(-1, 0, stackSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_STACK)
	if err != nil {
		m.free()
		unix.Close(parentEnd)
		unix.Close(childEnd)
		return nil, fmt.Errorf("spawn: mmap stack: %w", err)
	}
	spawnOnce.Do(func() {
		spawnCh = make(chan *spawnReq)
		go spawner()
	})
	req := &spawnReq{plan: m.plan, stack: stack, done: make(chan struct{})}
	spawnCh <- req
	<-req.done
	unix.Close(childEnd)
	if req.err != nil {
		m.free()
		unix.Munmap(stack)
		unix.Close(parentEnd)
		return nil, fmt.Errorf("spawn: %w", req.err)
	}
	if err := unix.SetNonblock(parentEnd, true); err != nil {
		panic(err) // cannot fail on a fresh socket
	}
	c := &Child{
		Pid:      req.pid,
		Pidfd:    int(req.pidfd),
		Listener: -1,
		sock:     os.NewFile(uintptr(parentEnd), "sandlock-spawn"),
		mem:      m,
		stack:    stack,
	}
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
		return nil, fmt.Errorf("spawn: %w", err)
	}
	c.Listener = lfd
	return c, nil
}

func stepName(s int) string {
	if s >= 0 && s < len(stepNames) && stepNames[s] != "" {
		return stepNames[s]
	}
	return fmt.Sprintf("step %d", s)
}

type report struct{ step, err int32 }

// recv reads one report (and an SCM_RIGHTS fd, if any) through the runtime
// poller. io.EOF means the child closed its end: exec succeeded or it died.
func (c *Child) recv() (report, int, error) {
	var rep report
	fd := -1
	var buf [8]byte
	oob := make([]byte, unix.CmsgSpace(4))
	rc, err := c.sock.SyscallConn()
	if err != nil {
		return rep, -1, err
	}
	var n, oobn int
	var rerr error
	err = rc.Read(func(s uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(s), buf[:], oob, unix.MSG_CMSG_CLOEXEC)
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
	c.mem.free()
	unix.Munmap(c.stack)
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
