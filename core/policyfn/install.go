package policyfn

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/seccomp"
	"github.com/sandlock/sandlock/core/supervisor"
)

// HeldSyscalls are the system calls whose caller waits for the verdict.
// open and creat (x86_64) are held like openat, and sendmmsg like sendmsg,
// so that the other spelling of a call is not a way around the callback.
var HeldSyscalls = []string{
	"execve", "execveat",
	"connect", "sendto", "sendmsg", "sendmmsg", "bind",
	"openat", "openat2", "open", "creat",
}

// Gate marks syscall nr as asked by its own handler: a handler that acts
// on behalf of the child (the on-behalf connect, send and bind of the
// network mediation) calls CheckNet with the very address it acts on, right
// before acting, instead of the engine holding the call ahead of the chain.
// A gated call the handler leaves to the kernel without asking (a socket
// that is not IP) is held after the chain, before the kernel runs it. Call
// Gate before Install.
func (e *Engine) Gate(nr int) { e.gated[nr] = true }

// Install wraps every handler chain of sup, and adds chains for the held
// system calls: events are built from each notification, held calls wait
// for the verdict. Call it after every other feature added its handlers
// and before the supervisor starts. lookup resolves syscall names.
func (e *Engine) Install(sup *supervisor.Supervisor, lookup func(string) (int, bool)) {
	held := map[int]string{}
	for _, name := range HeldSyscalls {
		if nr, ok := lookup(name); ok {
			held[nr] = name
		}
	}
	set := map[int]bool{}
	for _, nr := range sup.Registered() {
		set[nr] = true
	}
	for nr := range held {
		set[nr] = true
	}
	nrs := make([]int, 0, len(set))
	for nr := range set {
		nrs = append(nrs, nr)
	}
	sort.Ints(nrs)
	for _, nr := range nrs {
		name, isHeld := held[nr]
		if !isHeld {
			name = seccomp.Name(nr)
		}
		switch {
		case !isHeld:
			sup.Intercept(nr, false, e.observe(name))
		case e.gated[nr]:
			sup.Intercept(nr, true, e.holdGated(name))
		case name == "execve" || name == "execveat":
			sup.Intercept(nr, true, e.holdExec(name))
		case CategoryOf(name) == Network:
			sup.Intercept(nr, true, e.holdNet(name))
		default:
			// Not async: holdFile waits briefly in place, then defers.
			sup.Intercept(nr, false, e.holdFile(name))
		}
	}
}

// newEvent fills the fields every event has.
func (e *Engine) newEvent(n *supervisor.Notif, name string) (*Event, *procindex.Entry) {
	ev := &Event{Syscall: name, Category: CategoryOf(name), Pid: int(n.Pid)}
	ent := member(e.index, int(n.Pid))
	if ent != nil {
		ev.Pid, ev.PPid = ent.Key.Pid, ent.PPid
	}
	return ev, ent
}

// member returns the index entry of the process that owns thread tid,
// registering the process if it is new (procindex.Index.Member); nil
// without an index.
func member(ix *procindex.Index, tid int) *procindex.Entry {
	if ix == nil {
		return nil
	}
	return ix.Member(tid)
}

// observe posts the event of a call that is not held, after the chain
// answered, so that the event says whether the call was denied.
func (e *Engine) observe(name string) func(supervisor.Handler) supervisor.Handler {
	return func(next supervisor.Handler) supervisor.Handler {
		return func(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
			r := next(s, n)
			if e.closed.Load() {
				return r
			}
			ev, _ := e.newEvent(n, name)
			ev.Denied = r.Kind == supervisor.Deny
			e.size(ev, n)
			e.Post(ev)
			return r
		}
	}
}

// size fills Size for the memory calls.
func (e *Engine) size(ev *Event, n *supervisor.Notif) {
	a := n.Data.Args
	switch ev.Syscall {
	case "mmap", "munmap", "mprotect", "pkey_mprotect":
		ev.Size = a[1]
	case "mremap":
		ev.Size = a[2]
	case "brk":
		if a[0] != 0 {
			if b := startBrk(ev.Pid); b != 0 && a[0] > b {
				ev.Size = a[0] - b
			}
		}
	}
}

// inlineWait is how long an open's verdict is awaited on the supervisor's
// receiving goroutine before the wait moves to a goroutine of its own: a
// fast callback then costs no hand-off, and a slow one holds up other
// notifications at most this long.
const inlineWait = 200 * time.Microsecond

// hold makes the interceptor of a held call: once the engine is closed no
// verdict can come, so the call fails closed before body runs.
func (e *Engine) hold(body func(next supervisor.Handler, s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response) func(supervisor.Handler) supervisor.Handler {
	return func(next supervisor.Handler) supervisor.Handler {
		return func(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
			if e.closed.Load() {
				return supervisor.Errno(unix.EPERM)
			}
			return body(next, s, n)
		}
	}
}

// holdFile holds an open ahead of the chain: the verdict comes first and
// the chain (which opens the file on behalf of the child) runs only if it
// allows.
func (e *Engine) holdFile(name string) func(supervisor.Handler) supervisor.Handler {
	return e.hold(func(next supervisor.Handler, s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
		ev, _ := e.newEvent(n, name)
		id := n.ID // n is reused once this handler returns
		v, rest := e.DecideWithin(ev, func() bool { return s.Valid(id) }, inlineWait)
		if rest == nil {
			if errno, deny := v.Denies(); deny {
				return supervisor.Errno(errno)
			}
			return next(s, n)
		}
		return s.Defer(n, func(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
			if errno, deny := rest().Denies(); deny {
				return supervisor.Errno(errno)
			}
			return next(s, n)
		})
	})
}

// holdNet holds a network call ahead of the chain, after applying the
// callback's network restrictions to the destinations.
//
// When no handler of the chain performs the call on behalf of the child,
// the chain continues it and the kernel reads the address again: a
// decision on the copy read here is then only as good as that copy (a
// thread of the child could change the address in between). Handlers that
// act on behalf of the child call Gate and Check instead, so that the
// decision is made on the data they use.
func (e *Engine) holdNet(name string) func(supervisor.Handler) supervisor.Handler {
	return e.hold(func(next supervisor.Handler, s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
		ev, _ := e.newEvent(n, name)
		dsts, errno := destinations(name, int(n.Pid), n.Data.Args)
		if errno != 0 || !s.Valid(n.ID) {
			ev.Denied = true
			e.Post(ev)
			if errno == 0 {
				errno = unix.EPERM
			}
			return supervisor.Errno(errno)
		}
		first := true
		for _, d := range dsts {
			if !d.addr.IsValid() {
				continue
			}
			if first {
				ev.Addr, ev.Host, ev.Port = d.addr, d.addr.String(), d.port
				first = false
			}
			if name != "bind" && !e.net.allowed(ev.Pid, d.addr) {
				ev.Addr, ev.Host, ev.Port = d.addr, d.addr.String(), d.port
				ev.Denied = true
				e.Post(ev)
				return supervisor.Errno(unix.ECONNREFUSED)
			}
		}
		v := e.Decide(ev, func() bool { return s.Valid(n.ID) })
		if errno, deny := v.Denies(); deny {
			return supervisor.Errno(errno)
		}
		return next(s, n)
	})
}

// holdExec freezes the sandbox, reads argv, lets the chain check the call
// while nothing can change it, then asks for the verdict.
func (e *Engine) holdExec(name string) func(supervisor.Handler) supervisor.Handler {
	return e.hold(func(next supervisor.Handler, s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
		ev, ent := e.newEvent(n, name)
		deny := func(errno unix.Errno) supervisor.Response {
			ev.Denied = true
			e.Post(ev)
			return supervisor.Errno(errno)
		}
		if ent == nil {
			return deny(unix.EPERM)
		}
		z, err := e.freezer.freeze(int(n.Pid))
		if err != nil {
			e.setErr(err)
			return deny(unix.EPERM)
		}
		defer z.release()
		if !z.trivial {
			e.stats.freezes.Add(1)
		}
		a := n.Data.Args
		argvAddr := a[1]
		if name == "execveat" {
			argvAddr = a[2]
			if errno := checkExecFd(int(n.Pid), ent, a); errno != 0 {
				return deny(errno)
			}
		}
		argv, errno := readArgv(int(n.Pid), argvAddr)
		if errno != 0 {
			return deny(errno)
		}
		if !s.Valid(n.ID) {
			return deny(unix.EPERM)
		}
		ev.Argv = argv
		r := next(s, n)
		return e.afterChain(s, n, ev, r)
	})
}

// afterChain ends a held call once the chain has answered r: a call the
// chain refused or performed is only reported, one it continues to the
// kernel waits for the verdict first.
func (e *Engine) afterChain(s *supervisor.Supervisor, n *supervisor.Notif, ev *Event, r supervisor.Response) supervisor.Response {
	if r.Kind != supervisor.Continue {
		ev.Denied = r.Kind == supervisor.Deny
		e.Post(ev)
		return r
	}
	v := e.Decide(ev, func() bool { return s.Valid(n.ID) })
	if errno, deny := v.Denies(); deny {
		return supervisor.Errno(errno)
	}
	return r
}

// checkExecFd refuses execveat of a file descriptor (AT_EMPTY_PATH with an
// empty path) whose file has no name: a memfd or an unlinked file could run
// code that was never a file the policy could name (attacks.md FS-09).
func checkExecFd(tid int, ent *procindex.Entry, a [6]uint64) unix.Errno {
	if int(uint32(a[4]))&unix.AT_EMPTY_PATH == 0 {
		return 0
	}
	var buf [8]byte
	p, err := kernel.ReadString(tid, a[1], buf[:0], 2)
	if err != nil {
		if err == unix.ENAMETOOLONG {
			return 0 // a non-empty path: an ordinary lookup
		}
		return unix.EFAULT
	}
	if len(p) != 0 {
		return 0
	}
	fd, err := kernel.PidfdGetfd(ent.Pidfd(), int(int32(uint32(a[0]))))
	if err != nil {
		return unix.EBADF
	}
	defer unix.Close(fd)
	target, err := readlinkFd(fd)
	if err != nil || len(target) == 0 || target[0] != '/' || strings.HasPrefix(target, "/memfd:") || strings.HasSuffix(target, " (deleted)") {
		return unix.EACCES
	}
	return 0
}

func readlinkFd(fd int) (string, error) {
	var buf [4096]byte
	n, err := unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf[:])
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// inflight is a gated call in progress, found by the calling thread's id
// when its handler asks (a thread is in one system call at a time).
type inflight struct {
	s     *supervisor.Supervisor
	n     *supervisor.Notif
	name  string
	asked atomic.Bool
}

// holdGated runs the chain of a gated call, whose handler asks CheckNet
// itself; a call it leaves to the kernel without asking is held here, and
// one it refuses without asking is reported as denied.
func (e *Engine) holdGated(name string) func(supervisor.Handler) supervisor.Handler {
	return e.hold(func(next supervisor.Handler, s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
		p := &inflight{s: s, n: n, name: name}
		tid := int(n.Pid)
		e.inflight.Store(tid, p)
		r := next(s, n)
		e.inflight.CompareAndDelete(tid, p)
		if p.asked.Load() {
			return r
		}
		ev, _ := e.newEvent(n, name)
		return e.afterChain(s, n, ev, r)
	})
}

// CheckNet is what a gated handler calls right before it performs an IP
// operation for thread tid: addr and port are the destination (or, for
// bind, the local address) it will use, static the errno its own policy
// gives (0 when it allows). It reports the event, applies the callback's
// network restrictions and waits for the verdict, and returns 0 to go on
// or the errno to fail the call with. A static denial stays a denial.
func (e *Engine) CheckNet(tid int, addr netip.Addr, port uint16, static unix.Errno) unix.Errno {
	v, _ := e.inflight.Load(tid)
	p, _ := v.(*inflight)
	if p == nil || e.closed.Load() {
		return unix.EPERM // not a call the engine wrapped: fail closed
	}
	p.asked.Store(true)
	ev, _ := e.newEvent(p.n, p.name)
	if addr.IsValid() {
		ev.Addr = addr.Unmap().WithZone("")
		ev.Host, ev.Port = ev.Addr.String(), port
	}
	switch {
	case static != 0:
		ev.Denied = true
		e.Post(ev)
		return static
	case p.name != "bind" && ev.Addr.IsValid() && !e.net.allowed(ev.Pid, ev.Addr):
		ev.Denied = true
		e.Post(ev)
		return unix.ECONNREFUSED
	}
	verdict := e.Decide(ev, func() bool { return p.s.Valid(p.n.ID) })
	if errno, deny := verdict.Denies(); deny {
		return errno
	}
	return 0
}
