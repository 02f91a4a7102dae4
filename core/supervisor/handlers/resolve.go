package handlers

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
)

// lookup describes one path resolution on behalf of the child.
type lookup struct {
	tid, tgid int
	pidfd     int   // pidfd of the child, for its dirfds
	dirfd     int32 // the child's dirfd argument
	path      string
	follow    bool // follow a symlink in the last component
	emptyPath bool // AT_EMPTY_PATH: "" names dirfd itself
	resolve   uint64
	index     *procindex.Index
}

// resolved is where a path leads: the directory holding the last
// component, the component, and the object if it exists. All fds are
// O_PATH and owned by the caller (close with done).
type resolved struct {
	parent int
	name   string
	obj    int
	inProc bool // the object (or would-be object) lives on procfs
}

func (r *resolved) done() {
	if r.parent >= 0 {
		unix.Close(r.parent)
	}
	if r.obj >= 0 && r.obj != r.parent {
		unix.Close(r.obj)
	}
}

const opath = unix.O_PATH | unix.O_CLOEXEC

func fdIsProc(fd int) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(fd, &st) == nil && st.Type == procSuperMagic
}

func sameFile(a, b int) bool {
	var sa, sb unix.Stat_t
	if unix.Fstat(a, &sa) != nil || unix.Fstat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// resolvePath walks the child's path component by component from the
// child's point of view (its root, its cwd or dirfd, its /proc/self), with
// O_PATH|O_NOFOLLOW opens so that every symlink is seen and expanded here.
// Only the final operation, done by the caller, touches the object.
//
// Magic links under /proc/<pid>/ (fd/N, cwd, root, exe ...) are followed by
// the kernel, but only for processes of the sandbox: the child's own kernel
// would refuse them for anyone else (Landlock's ptrace restriction).
func resolvePath(l *lookup) (res resolved, errno unix.Errno) {
	res = resolved{parent: -1, obj: -1}
	if l.resolve&^resolveAll != 0 {
		return res, unix.EINVAL
	}
	if l.resolve&resolveCached != 0 {
		return res, unix.EAGAIN // nothing is cached on our side
	}
	if l.resolve&(resolveBeneath|resolveInRoot) == resolveBeneath|resolveInRoot {
		return res, unix.EINVAL
	}
	root, err := unix.Open("/proc/"+strconv.Itoa(l.tid)+"/root", opath|unix.O_DIRECTORY, 0)
	if err != nil {
		return res, unix.ESRCH
	}
	defer func() {
		if root >= 0 {
			unix.Close(root)
		}
	}()
	var start int
	if l.dirfd == unix.AT_FDCWD {
		start, err = unix.Open("/proc/"+strconv.Itoa(l.tid)+"/cwd", opath, 0)
		if err != nil {
			return res, unix.ESRCH
		}
	} else {
		if l.dirfd < 0 {
			return res, unix.EBADF
		}
		start, err = kernel.PidfdGetfd(l.pidfd, int(l.dirfd))
		if err != nil {
			return res, unix.EBADF
		}
	}
	if l.path == "" {
		if !l.emptyPath {
			unix.Close(start)
			return res, unix.ENOENT
		}
		res.obj = start
		res.inProc = fdIsProc(start)
		return res, 0
	}
	// Under BENEATH and IN_ROOT the start directory is the root.
	if l.resolve&(resolveBeneath|resolveInRoot) != 0 {
		unix.Close(root)
		root, err = unix.Dup(start)
		if err != nil {
			unix.Close(start)
			return res, unix.EMFILE
		}
	}
	var startDev uint64
	if l.resolve&resolveNoXdev != 0 {
		var st unix.Stat_t
		_ = unix.Fstat(start, &st)
		startDev = st.Dev
	}

	cur := start
	defer func() {
		if cur >= 0 && cur != res.parent && cur != res.obj {
			unix.Close(cur)
		}
	}()
	comps := splitPath(l.path)
	if strings.HasPrefix(l.path, "/") {
		if l.resolve&resolveBeneath != 0 {
			return res, unix.EXDEV
		}
		unix.Close(cur)
		if cur, err = unix.Dup(root); err != nil {
			cur = -1
			return res, unix.EMFILE
		}
	}
	links := 0
	trailingSlash := strings.HasSuffix(l.path, "/")
	for len(comps) > 0 {
		c := comps[0]
		comps = comps[1:]
		last := len(comps) == 0
		if c == "." {
			if last {
				res.obj, _ = unix.Dup(cur)
				res.inProc = fdIsProc(cur)
				return res, 0
			}
			continue
		}
		if c == ".." {
			if sameFile(cur, root) {
				if l.resolve&resolveBeneath != 0 {
					return res, unix.EXDEV
				}
			} else {
				up, err := unix.Openat(cur, "..", opath|unix.O_DIRECTORY, 0)
				if err != nil {
					return res, errnoOf(err)
				}
				unix.Close(cur)
				cur = up
			}
			if last {
				res.obj, _ = unix.Dup(cur)
				res.inProc = fdIsProc(cur)
				return res, 0
			}
			continue
		}
		inProc := fdIsProc(cur)
		if inProc && isProcRoot(cur) {
			switch c {
			case "self":
				if l.resolve&resolveNoSymlinks != 0 {
					return res, unix.ELOOP
				}
				comps = append([]string{strconv.Itoa(l.tgid)}, comps...)
				continue
			case "thread-self":
				if l.resolve&resolveNoSymlinks != 0 {
					return res, unix.ELOOP
				}
				comps = append([]string{strconv.Itoa(l.tgid), "task", strconv.Itoa(l.tid)}, comps...)
				continue
			}
		}
		next, err := unix.Openat(cur, c, opath|unix.O_NOFOLLOW, 0)
		if err != nil {
			if err == unix.ENOENT && last {
				res.parent = cur
				res.name = c
				res.inProc = inProc
				cur = -1
				if trailingSlash {
					res.name += "/"
				}
				return res, 0
			}
			return res, errnoOf(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(next, &st); err != nil {
			unix.Close(next)
			return res, errnoOf(err)
		}
		if l.resolve&resolveNoXdev != 0 && st.Dev != startDev {
			unix.Close(next)
			return res, unix.EXDEV
		}
		isLink := st.Mode&unix.S_IFMT == unix.S_IFLNK
		if isLink && (!last || l.follow || trailingSlash) {
			if l.resolve&resolveNoSymlinks != 0 {
				unix.Close(next)
				return res, unix.ELOOP
			}
			if links++; links > 40 {
				unix.Close(next)
				return res, unix.ELOOP
			}
			if inProc && !isProcRoot(cur) {
				// A magic link: the kernel jumps to the object itself.
				unix.Close(next)
				if l.resolve&resolveNoMagiclinks != 0 {
					return res, unix.ELOOP
				}
				if !procDirOfMember(cur, l.index) {
					// Processes outside the sandbox do not exist
					// from inside (procRule).
					return res, unix.ENOENT
				}
				target, err := unix.Openat(cur, c, opath, 0)
				if err != nil {
					return res, errnoOf(err)
				}
				if last {
					res.parent = cur
					res.name = c
					res.obj = target
					res.inProc = fdIsProc(target)
					cur = -1
					return res, 0
				}
				unix.Close(cur)
				cur = target
				continue
			}
			target, err := readlinkFd(next)
			unix.Close(next)
			if err != nil {
				return res, errnoOf(err)
			}
			if strings.HasPrefix(target, "/") {
				if l.resolve&resolveBeneath != 0 {
					return res, unix.EXDEV
				}
				unix.Close(cur)
				if cur, err = unix.Dup(root); err != nil {
					cur = -1
					return res, unix.EMFILE
				}
			}
			tc := splitPath(target)
			if last && trailingSlash {
				tc = append(tc, ".")
			}
			comps = append(tc, comps...)
			continue
		}
		if last {
			res.parent = cur
			res.name = c
			res.obj = next
			res.inProc = inProc || fdIsProc(next)
			cur = -1
			if trailingSlash && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				res.done()
				res = resolved{parent: -1, obj: -1}
				return res, unix.ENOTDIR
			}
			return res, 0
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			unix.Close(next)
			return res, unix.ENOTDIR
		}
		unix.Close(cur)
		cur = next
	}
	// Only separators ("/" or "a//"): the directory itself.
	res.obj, _ = unix.Dup(cur)
	res.inProc = fdIsProc(cur)
	return res, 0
}

func splitPath(p string) []string {
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func isProcRoot(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Ino == 1 // procfs root inode
}

// procDirOfMember reports whether fd is /proc/<pid>/... (or a task
// directory below it) of a process in the sandbox.
func procDirOfMember(fd int, ix *procindex.Index) bool {
	p, err := readlinkFd(fd)
	if err != nil {
		return false
	}
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return false
	}
	pidStr, _, _ := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(pidStr)
	if err != nil {
		return false
	}
	return member(ix, pid)
}

// readlinkFd reads the target of an O_PATH fd: the link itself for a
// symlink opened with O_NOFOLLOW, the object's path for anything else.
func readlinkFd(fd int) (string, error) {
	buf := make([]byte, 4096)
	for {
		var n int
		var err error
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			n, err = unix.Readlinkat(fd, "", buf)
		} else {
			n, err = unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf)
		}
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		if len(buf) >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, len(buf)*2)
	}
}

func errnoOf(err error) unix.Errno {
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}
