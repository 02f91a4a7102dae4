// Package supervisor answers the seccomp user notifications of one sandbox.
//
// The listener fd is registered with the Go runtime's poller, so a waiting
// supervisor holds a parked goroutine, not an OS thread. When the listener
// polls readable the loop receives one notification and dispatches it by
// syscall number. Handlers that can block (a policy callback, an on-behalf
// connect) are marked Async and run in their own goroutine, so a slow
// answer never stalls unrelated syscalls of the same sandbox.
//
// Every failure is answered with an error (fail closed): a handler that
// panics, returns an error, or a syscall nobody registered for.
package supervisor

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
)

// Notif is one received notification.
type Notif = kernel.Notif

// Kind says how a notification is answered.
type Kind uint8

// Response kinds.
const (
	// Deny fails the syscall with Errno.
	Deny Kind = iota
	// Continue lets the kernel run the syscall as the child asked. Only
	// for decisions that do not depend on the child's memory.
	Continue
	// Return makes the syscall return Val without running it.
	Return
	// Handled means the handler already answered (or the target is gone);
	// the loop sends nothing.
	Handled
	// Pass means the handler has no opinion: the next handler in the
	// syscall's chain decides. When every handler passes the syscall is
	// continued, so only handlers that judge nothing from the child's
	// memory may pass a call they did not look at.
	Pass
)

// Response is a handler's answer.
type Response struct {
	Kind  Kind
	Errno unix.Errno
	Val   int64
}

// Allow is the Continue response.
var Allow = Response{Kind: Continue}

// Errno returns a Deny response with e.
func Errno(e unix.Errno) Response { return Response{Kind: Deny, Errno: e} }

// Value returns a Return response with v.
func Value(v int64) Response { return Response{Kind: Return, Val: v} }

// Handler decides one notification. It runs on the loop goroutine unless
// registered as async; it must not keep n after returning.
type Handler func(s *Supervisor, n *Notif) Response

type entry struct {
	hs    []Handler
	async bool
}

// maxNr bounds the dispatch table; syscall numbers on x86_64 and arm64 are
// far below it.
const maxNr = 1024

// Supervisor serves one listener.
type Supervisor struct {
	fd    int
	file  *os.File
	table [maxNr]entry

	wg       sync.WaitGroup // async handlers
	done     chan struct{}
	err      error
	handled  atomic.Uint64
	failures atomic.Uint64

	// OnError, if set, receives handler failures (for logging); the
	// syscall has been denied already.
	OnError func(n *Notif, err error)
}

// New takes ownership of the listener fd.
func New(listener int) (*Supervisor, error) {
	if err := unix.SetNonblock(listener, true); err != nil {
		return nil, fmt.Errorf("supervisor: listener nonblock: %w", err)
	}
	// Best effort: wake the child on the supervisor's CPU (Linux 6.7).
	_ = kernel.NotifSetSyncWakeUp(listener)
	s := &Supervisor{fd: listener, done: make(chan struct{})}
	s.file = os.NewFile(uintptr(listener), "seccomp-listener")
	return s, nil
}

// Handle appends h to the chain of syscall nr. Handlers run in the order
// they were added; the first answer other than Pass wins.
func (s *Supervisor) Handle(nr int, h Handler) {
	s.table[nr].hs = append(s.table[nr].hs, h)
}

// HandleAsync appends h to the chain of nr and makes the whole chain run
// in its own goroutine per notification, because h may block.
func (s *Supervisor) HandleAsync(nr int, h Handler) {
	s.Handle(nr, h)
	s.table[nr].async = true
}

// Next is the response of a handler that leaves the decision to the next
// one in the chain.
var Next = Response{Kind: Pass}

// Fd returns the listener fd, for handlers that ADDFD.
func (s *Supervisor) Fd() int { return s.fd }

// Handled returns how many notifications were answered.
func (s *Supervisor) Handled() uint64 { return s.handled.Load() }

// Start runs the loop in a goroutine.
func (s *Supervisor) Start() {
	go s.loop()
}

// Done is closed when the loop has ended and every async handler returned.
func (s *Supervisor) Done() <-chan struct{} { return s.done }

// Err returns why the loop ended abnormally, once Done is closed.
func (s *Supervisor) Err() error { return s.err }

// Stop closes the listener. The kernel then fails pending and future
// notified syscalls with ENOSYS, so Stop is for tearing down a sandbox whose
// processes are being killed.
func (s *Supervisor) Stop() {
	s.file.Close()
}

func (s *Supervisor) loop() {
	defer func() {
		s.wg.Wait()
		s.file.Close()
		close(s.done)
	}()
	rc, err := s.file.SyscallConn()
	if err != nil {
		s.err = err
		return
	}
	var n Notif
	finished := false
	err = rc.Read(func(fd uintptr) bool {
		for {
			rev, err := kernel.PollIn(int(fd))
			if err != nil {
				s.err = fmt.Errorf("poll listener: %w", err)
				finished = true
				return true
			}
			if rev&unix.POLLIN != 0 {
				if err := kernel.NotifRecv(int(fd), &n); err != nil {
					// ENOENT: the target died between poll and recv.
					if err == unix.ENOENT {
						continue
					}
					s.err = fmt.Errorf("SECCOMP_IOCTL_NOTIF_RECV: %w", err)
					finished = true
					return true
				}
				s.dispatch(&n)
				continue
			}
			if rev&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
				// POLLHUP: every task that used the filter is gone.
				finished = true
				return true
			}
			return false // wait for the poller
		}
	})
	if err != nil && !finished && !errors.Is(err, os.ErrClosed) {
		s.err = err
	}
}

func (s *Supervisor) dispatch(n *Notif) {
	nr := int(n.Data.Nr)
	var e entry
	if nr >= 0 && nr < maxNr {
		e = s.table[nr]
	}
	if len(e.hs) == 0 {
		s.fail(n, fmt.Errorf("no handler for syscall %d", nr))
		s.respond(n.ID, Errno(unix.ENOSYS))
		return
	}
	if !e.async {
		s.respond(n.ID, s.chain(e.hs, n))
		return
	}
	cp := *n
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.respond(cp.ID, s.chain(e.hs, &cp))
	}()
}

func (s *Supervisor) chain(hs []Handler, n *Notif) Response {
	for _, h := range hs {
		if r := s.call(h, n); r.Kind != Pass {
			return r
		}
	}
	return Allow
}

// call runs a handler, turning a panic into a denial.
func (s *Supervisor) call(h Handler, n *Notif) (r Response) {
	defer func() {
		if p := recover(); p != nil {
			s.fail(n, fmt.Errorf("handler panic: %v", p))
			r = Errno(unix.EPERM)
		}
	}()
	r = h(s, n)
	if r.Kind == Deny && r.Errno == 0 {
		r.Errno = unix.EPERM
	}
	return r
}

func (s *Supervisor) fail(n *Notif, err error) {
	s.failures.Add(1)
	if s.OnError != nil {
		s.OnError(n, err)
	}
}

func (s *Supervisor) respond(id uint64, r Response) {
	if r.Kind == Handled {
		s.handled.Add(1)
		return
	}
	resp := kernel.NotifResp{ID: id}
	switch r.Kind {
	case Continue:
		resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
	case Return:
		resp.Val = r.Val
	default:
		resp.Error = -int32(r.Errno)
	}
	// ENOENT: the target was killed or its syscall interrupted; nothing
	// to answer.
	_ = kernel.NotifSend(s.fd, &resp)
	s.handled.Add(1)
}

// Valid reports whether notification id is still pending; handlers call it
// after reading the target's memory and before acting on what they read.
func (s *Supervisor) Valid(id uint64) bool { return kernel.NotifIDValid(s.fd, id) }

// InjectFD installs fd in the target and makes the new fd number the
// syscall's result.
//
// It does not use SECCOMP_ADDFD_FLAG_SEND, although that answers in one
// step: the kernel marks the notification replied (result 0) when it
// queues the request, and if a signal interrupts the supervisor's ioctl
// before the target has taken the fd (a Go preemption signal, SIGSTOP of
// the host) it withdraws the request but not the reply, so the target's
// open returns 0, its own stdin. Measured on Linux 6.18 with the host
// stopped and continued at random: about 1 spawn in 7 failed to load libc
// ("file too short", read from /dev/null). A plain ADDFD is withdrawn
// whole or completed whole, and the answer follows it.
func (s *Supervisor) InjectFD(id uint64, fd int, cloexec bool) Response {
	a := kernel.NotifAddfd{ID: id, Srcfd: uint32(fd)}
	if cloexec {
		a.Newfdflags = unix.O_CLOEXEC
	}
	nfd, err := kernel.NotifAddFD(s.fd, &a)
	if err != nil {
		if err == unix.ENOENT {
			return Response{Kind: Handled}
		}
		// Fail closed: never fall back to Continue.
		return Errno(err.(unix.Errno))
	}
	return Value(int64(nfd))
}
