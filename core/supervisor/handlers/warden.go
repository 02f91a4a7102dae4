package handlers

import (
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/landlock"
)

// warden runs file operations for the child on OS threads that are
// confined by the same Landlock filesystem rules as the child.
//
// The supervisor performs opens, renames and the like on the child's
// behalf so that the decision and the action use the same resolved
// object (no time-of-check-to-time-of-use gap). But the supervisor itself
// is not confined, and an on-behalf operation must never widen the policy
// (spec README 2.2). landlock_restrict_self without the TSYNC flag confines
// only the calling thread, so each warden thread restricts itself with the
// child's filesystem ruleset once and then serves requests forever: the
// kernel applies to the warden exactly the checks it would apply to the
// child. A warden thread is never unlocked, so it is destroyed when its
// goroutine returns.
type warden struct {
	rulesetFD int
	reqs      chan wardenReq
	mu        sync.Mutex
	idle      int
	threads   int
	wg        sync.WaitGroup
	closed    bool
}

type wardenReq struct {
	fn   func() (int, error)
	done chan wardenRes
}

type wardenRes struct {
	fd  int
	err error
}

// maxWardens bounds the threads per sandbox; more than one exists only
// while an operation blocks (opening a FIFO waits for its peer).
const maxWardens = 8

func newWarden(readable, writable []string) (*warden, error) {
	rs, err := landlock.Build(landlock.Config{Readable: readable, Writable: writable, NoNetwork: true, NoScopes: true, AllowDegraded: true})
	if err != nil {
		return nil, fmt.Errorf("warden ruleset: %w", err)
	}
	w := &warden{rulesetFD: rs.FD, reqs: make(chan wardenReq)}
	return w, nil
}

// run executes fn on a confined thread and returns its result.
func (w *warden) run(fn func() (int, error)) (int, error) {
	req := wardenReq{fn: fn, done: make(chan wardenRes, 1)}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return -1, unix.EPERM
	}
	if w.idle == 0 && w.threads < maxWardens {
		w.threads++
		w.idle++
		w.wg.Add(1)
		ready := make(chan error, 1)
		go w.thread(ready)
		if err := <-ready; err != nil {
			w.threads--
			w.idle--
			w.mu.Unlock()
			return -1, err
		}
	}
	w.mu.Unlock()
	w.reqs <- req
	r := <-req.done
	return r.fd, r.err
}

func (w *warden) thread(ready chan<- error) {
	defer w.wg.Done()
	runtime.LockOSThread()
	// Never unlocked: the thread carries a Landlock domain and must die
	// with this goroutine rather than return to the runtime's pool.
	if err := confineThread(w.rulesetFD); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for req := range w.reqs {
		w.mu.Lock()
		w.idle--
		w.mu.Unlock()
		fd, err := req.fn()
		req.done <- wardenRes{fd, err}
		w.mu.Lock()
		w.idle++
		w.mu.Unlock()
	}
}

// confineThread gives the calling thread its own umask (so creation modes
// follow the child's umask, applied by the caller) and the child's
// filesystem Landlock domain.
func confineThread(rulesetFD int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("warden: unshare(CLONE_FS): %w", err)
	}
	unix.Umask(0)
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("warden: prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(rulesetFD), 0, 0); e != 0 {
		return fmt.Errorf("warden: landlock_restrict_self: %w", e)
	}
	return nil
}

func (w *warden) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	close(w.reqs)
	w.mu.Unlock()
	w.wg.Wait()
	unix.Close(w.rulesetFD)
}
