package handlers

import (
	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// Listen closes a gap Landlock leaves open (attacks.md NET-10): listen()
// on a TCP socket that was never bound makes the kernel pick an ephemeral
// port without any bind check, so a sandbox with no bind rule could still
// serve on 0.0.0.0. The supervisor performs listen on the child's own
// socket (a pidfd_getfd duplicate shares the open file description), after
// refusing an unbound IP socket with EACCES, as Landlock refuses bind to
// port 0 without a rule for it. Doing the call itself, rather than checking
// and continuing, means a socket swapped onto the fd number in between is
// not the one listened on.
type Listen struct {
	Index *procindex.Index
}

// Register installs the handler for listen.
func (l *Listen) Register(s *supervisor.Supervisor, nr int) {
	s.Handle(nr, l.handle)
}

func (l *Listen) handle(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	e := EnsureMember(l.Index, int(n.Pid))
	if e == nil {
		return supervisor.Errno(unix.EPERM)
	}
	fd, err := kernel.PidfdGetfd(e.Pidfd(), int(int32(n.Data.Args[0])))
	if err != nil {
		return supervisor.Errno(unix.EBADF)
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return supervisor.Errno(errnoOf(err))
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		if a.Port == 0 {
			return supervisor.Errno(unix.EACCES)
		}
	case *unix.SockaddrInet6:
		if a.Port == 0 {
			return supervisor.Errno(unix.EACCES)
		}
	}
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	if err := unix.Listen(fd, int(int32(n.Data.Args[1]))); err != nil {
		return supervisor.Errno(errnoOf(err))
	}
	return supervisor.Value(0)
}
