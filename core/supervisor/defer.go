package supervisor

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
)

// Defer hands the rest of a notification to its own goroutine. It is for a
// handler registered inline (Handle) that is cheap in the common case and
// finds out only while it runs that it may block (an open that waits for a
// FIFO's peer, work for a helper thread): answering inline saves the hand-off
// to another thread that an async chain costs on every call. fn's answer is
// sent when it returns (Pass counts as a failure: there is no chain left to
// pass to), and the supervisor's end waits for it like for an async chain.
// The handler returns Defer's result at once.
func (s *Supervisor) Defer(n *Notif, fn Handler) Response {
	cp := *n
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		r := s.call(fn, &cp)
		switch r.Kind {
		case Handled:
			return
		case Pass:
			s.fail(&cp, errors.New("deferred handler passed"))
			r = Errno(unix.EPERM)
		}
		resp := kernel.NotifResp{ID: cp.ID}
		switch r.Kind {
		case Continue:
			resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
		case Return:
			resp.Val = r.Val
		default:
			resp.Error = -int32(r.Errno)
		}
		_ = kernel.NotifSend(s.fd, &resp)
	}()
	return Response{Kind: Handled}
}
