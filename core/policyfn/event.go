package policyfn

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"
)

// Category groups system calls the way the original SDK does.
type Category uint8

// Categories; the numbers are those of the C ABI (SANDLOCK_CATEGORY_*).
const (
	File    Category = 0
	Network Category = 1
	Process Category = 2
	Memory  Category = 3
)

func (c Category) String() string {
	switch c {
	case File:
		return "file"
	case Network:
		return "network"
	case Process:
		return "process"
	case Memory:
		return "memory"
	}
	return fmt.Sprintf("category(%d)", uint8(c))
}

// Event is one intercepted system call as the callback sees it. It never
// carries path strings: a path read from the child's memory could be
// changed after it was read, so a decision on it would be worthless; the
// callback restricts files through Context.DenyPath instead, which is
// enforced on the resolved object.
type Event struct {
	// Syscall is the system call's name ("openat", "connect", ...).
	Syscall string
	// Category is File, Network, Process or Memory.
	Category Category
	// Pid is the process (thread group) that made the call; PPid its
	// parent, 0 when unknown.
	Pid, PPid int
	// Host and Port are the destination of connect, sendto, sendmsg and
	// sendmmsg, or the address of bind, for IPv4 and IPv6 sockets; Host is
	// "" otherwise. Addr is Host parsed.
	Host string
	Addr netip.Addr
	Port uint16
	// Size is the length of mmap, munmap, mprotect and mremap (new
	// length), and for brk the heap size asked for (new break minus the
	// start of the heap; 0 for a query).
	Size uint64
	// Argv is the argument vector of execve and execveat, read while every
	// other task of the sandbox was frozen, so it is what the kernel
	// executes.
	Argv []string
	// Denied is true when the built-in policy already denied the call; the
	// verdict can no longer allow it.
	Denied bool
	// Held is true when the call waits for the verdict (execve, execveat,
	// connect, sendto, sendmsg, sendmmsg, bind, openat, openat2, unless
	// Denied); the verdict of other events is ignored.
	Held bool
}

// ArgvContains reports whether any argument contains s.
func (e *Event) ArgvContains(s string) bool {
	for _, a := range e.Argv {
		if strings.Contains(a, s) {
			return true
		}
	}
	return false
}

// Verdict is a callback's answer to a held event.
type Verdict struct {
	kind  verdictKind
	errno unix.Errno
}

type verdictKind uint8

const (
	vAllow verdictKind = iota
	vAudit
	vDeny
)

// Verdicts.
var (
	// Allow lets the call go on.
	Allow = Verdict{}
	// Audit lets the call go on and records it in the audit log.
	Audit = Verdict{kind: vAudit}
	// Deny fails the call with EPERM.
	Deny = Verdict{kind: vDeny, errno: unix.EPERM}
)

// DenyWith fails the call with errno e. An errno outside 1..4095 fails it
// with EPERM.
func DenyWith(e unix.Errno) Verdict {
	if e <= 0 || e > maxErrno {
		e = unix.EPERM
	}
	return Verdict{kind: vDeny, errno: e}
}

// maxErrno is MAX_ERRNO of <linux/err.h>.
const maxErrno = 4095

// Denies reports whether v fails the call, and with which errno.
func (v Verdict) Denies() (unix.Errno, bool) { return v.errno, v.kind == vDeny }

// IsAudit reports whether v is Audit.
func (v Verdict) IsAudit() bool { return v.kind == vAudit }

func (v Verdict) String() string {
	switch v.kind {
	case vAllow:
		return "allow"
	case vAudit:
		return "audit"
	}
	return "deny(" + unix.ErrnoName(v.errno) + ")"
}

// Verdict codes of the C ABI (SANDLOCK_VERDICT_*); a positive code is an
// errno.
const (
	CodeAllow int32 = 0
	CodeDeny  int32 = -1
	CodeAudit int32 = -2
)

// FromCode turns a C verdict code into a Verdict. ok is false for a code
// outside the documented set, which denies (fail closed).
func FromCode(c int32) (v Verdict, ok bool) {
	switch {
	case c == CodeAllow:
		return Allow, true
	case c == CodeDeny:
		return Deny, true
	case c == CodeAudit:
		return Audit, true
	case c > 0 && c <= maxErrno:
		return DenyWith(unix.Errno(c)), true
	}
	return Deny, false
}

// categories maps syscall names to their category; names not listed are
// File, as in the original.
var categories = map[string]Category{
	"connect": Network, "bind": Network, "sendto": Network, "sendmsg": Network,
	"sendmmsg": Network, "socket": Network, "socketpair": Network, "listen": Network,
	"accept": Network, "accept4": Network, "recvfrom": Network, "recvmsg": Network,
	"recvmmsg": Network, "getsockname": Network, "getpeername": Network,
	"setsockopt": Network, "getsockopt": Network, "shutdown": Network,

	"clone": Process, "clone3": Process, "fork": Process, "vfork": Process,
	"execve": Process, "execveat": Process, "wait4": Process, "waitid": Process,
	"kill": Process, "tkill": Process, "tgkill": Process, "prlimit64": Process,
	"setpriority": Process, "getpriority": Process, "sched_setaffinity": Process,
	"sched_getaffinity": Process, "sched_setscheduler": Process,
	"sched_setparam": Process, "sched_setattr": Process, "ioprio_set": Process,
	"exit": Process, "exit_group": Process, "pidfd_open": Process,

	"mmap": Memory, "munmap": Memory, "brk": Memory, "mremap": Memory,
	"mprotect": Memory, "shmget": Memory, "shmat": Memory, "madvise": Memory,
}

// CategoryOf returns the category of a syscall name.
func CategoryOf(name string) Category {
	return categories[name]
}
