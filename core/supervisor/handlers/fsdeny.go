package handlers

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// fs_denied: paths that stay out of reach even inside readable or writable
// trees. Landlock can only grant, so the carve-outs are done by the
// supervisor, on the resolved object and never on the path string: the
// path is resolved from the child's point of view, checked, and the
// operation is then performed on the very objects that were checked, by a
// warden thread confined like the child (warden.go). The result (an fd, or
// success) is handed back with ADDFD (Supervisor.InjectFD) or as the
// return value; nothing is continued except execve, see below. Opens go through
// the file mediation (files.go) like in every sandbox; the other calls
// that reach a file by path are mediated here when fs_denied is set.
//
// A denied object is recognised by device and inode (so hard links and
// other spellings match) and, for directories, by its canonical path being
// below a denied directory.

type deniedObj struct {
	dev, ino uint64
	path     string
	dir      bool
}

// addDenied resolves the denied paths now. Paths that do not exist yet are
// denied by path.
func (f *Files) addDenied(denied []string) error {
	for _, p := range denied {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("fs_denied %q: not an absolute path", p)
		}
		canon, err := filepath.EvalSymlinks(p)
		if err != nil {
			f.denied = append(f.denied, deniedObj{path: filepath.Clean(p), dir: true})
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(canon, &st); err != nil {
			return fmt.Errorf("fs_denied %q: %w", p, err)
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		f.denied = append(f.denied, deniedObj{dev: st.Dev, ino: st.Ino, path: canon, dir: isDir})
		if isDir {
			if err := f.addHardLinked(canon); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxDeniedWalk bounds the walk of a denied directory at spawn.
const maxDeniedWalk = 200000

// addHardLinked records, by inode, every file below a denied directory that
// has other names: a hard link made elsewhere before the run would
// otherwise reach it under a path outside the denied tree. Links made
// during the run cannot be: linking out of or into a denied tree is refused.
func (f *Files) addHardLinked(dir string) error {
	n := 0
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable parts cannot be linked from by us either
		}
		if n++; n > maxDeniedWalk {
			return fmt.Errorf("fs_denied %q: more than %d entries to index", dir, maxDeniedWalk)
		}
		if d.IsDir() {
			return nil
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) == nil && st.Nlink > 1 {
			f.denied = append(f.denied, deniedObj{dev: st.Dev, ino: st.Ino})
		}
		return nil
	})
}

// deniedObj reports whether the object with st and canonical path p is
// denied.
func (f *Files) deniedObj(st *unix.Stat_t, p []byte) bool {
	for _, d := range f.denied {
		if d.ino != 0 && st.Dev == d.dev && st.Ino == d.ino {
			return true
		}
		if d.path != "" && (string(p) == d.path || d.dir && hasDirPrefix(p, []byte(d.path))) {
			return true
		}
	}
	return f.rt.denies(st, p)
}

// isDenied reports whether the object behind fd is denied. Any doubt
// (an unreadable path) counts as denied.
func (f *Files) isDenied(fd int) bool {
	if len(f.denied) == 0 && !f.rt.any() {
		return false
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return true
	}
	var buf [unix.PathMax + 64]byte
	p, _, errno := objPath(fd, buf[:])
	if errno != 0 {
		return true
	}
	return f.deniedObj(&st, p)
}

// registerDenied installs the handlers of the calls other than open that
// reach a file by path.
func (f *Files) registerDenied(reg func(string, opKind, supervisor.Handler, bool)) {
	for name, h := range map[string]func(*call) supervisor.Response{
		"unlink": f.unlink, "rmdir": f.unlink, "unlinkat": f.unlink,
		"mkdir": f.mknod, "mkdirat": f.mknod, "mknod": f.mknod, "mknodat": f.mknod,
		"rename": f.rename, "renameat": f.rename, "renameat2": f.rename,
		"link": f.link, "linkat": f.link,
		"symlink": f.symlink, "symlinkat": f.symlink,
		"truncate": f.truncate,
		"execve":   f.exec, "execveat": f.exec,
	} {
		// Async: the warden may block.
		reg(name, opOther, f.withCall(h), true)
	}
}

// call is the decoded context of one notification.
type call struct {
	s     *supervisor.Supervisor
	n     *supervisor.Notif
	name  string
	entry *procindex.Entry
	buf   []byte
}

// withCall adapts a handler of the decoded context to the supervisor's
// interface. A notifier the process index cannot place is refused before
// anything is read from it: resolving its paths needs its entry (pidfd and
// thread group).
func (f *Files) withCall(h func(*call) supervisor.Response) supervisor.Handler {
	return func(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
		e := EnsureMember(f.index, int(n.Pid))
		if e == nil {
			return supervisor.Errno(unix.EPERM)
		}
		return h(&call{s: s, n: n, name: f.names[int(n.Data.Nr)], entry: e})
	}
}

func (c *call) str(arg int) (string, unix.Errno) {
	b, err := kernel.ReadString(int(c.n.Pid), c.n.Data.Args[arg], c.buf, unix.PathMax)
	if err != nil {
		if err == unix.ENAMETOOLONG {
			return "", unix.ENAMETOOLONG
		}
		return "", unix.EFAULT
	}
	return string(b), 0
}

func (c *call) dirfd(arg int) int32 { return int32(uint32(c.n.Data.Args[arg])) }

func (f *Files) lookup(c *call, dirfd int32, path string, follow, empty bool, resolve uint64) (resolved, unix.Errno) {
	return resolvePath(&lookup{
		tid: int(c.n.Pid), tgid: c.entry.Key.Pid, pidfd: c.entry.Pidfd(),
		dirfd: dirfd, path: path, follow: follow, emptyPath: empty, resolve: resolve, index: f.index,
	})
}

// lookupArg reads the path in argument arg of the notification and
// resolves it from the child's point of view: the common first step of the
// handlers whose last path argument is the one they act on.
func (f *Files) lookupArg(c *call, dirfd int32, arg int, follow, empty bool, resolve uint64) (resolved, unix.Errno) {
	path, e := c.str(arg)
	if e != 0 {
		return resolved{parent: -1, obj: -1}, e
	}
	return f.lookup(c, dirfd, path, follow, empty, resolve)
}

// lookupNew is lookupArg for the calls that create an entry (mknod,
// symlink): the new name must not exist yet and its parent must not be
// denied. On error nothing is left open.
func (f *Files) lookupNew(c *call, dirfd int32, arg int) (resolved, unix.Errno) {
	r, e := f.lookupArg(c, dirfd, arg, false, false, 0)
	if e != 0 {
		return r, e
	}
	if r.obj >= 0 {
		e = unix.EEXIST
	} else if f.isDenied(r.parent) {
		e = unix.EACCES
	}
	if e != 0 {
		r.done()
		return resolved{parent: -1, obj: -1}, e
	}
	return r, 0
}

// lookupPair is lookupArg for the two-path calls (rename, link): the old
// path in argument oa, resolved with follow and empty, which must exist,
// and the new one in argument na, never followed. Both strings are read
// before either is resolved, as the kernel copies both names first: a bad
// pointer fails with EFAULT whatever the other path resolves to. On error
// nothing is left open.
func (f *Files) lookupPair(c *call, od int32, oa int, follow, empty bool, nd int32, na int) (ro, rn resolved, e unix.Errno) {
	none := resolved{parent: -1, obj: -1}
	oldp, e := c.str(oa)
	if e != 0 {
		return none, none, e
	}
	newp, e := c.str(na)
	if e != 0 {
		return none, none, e
	}
	ro, e = f.lookup(c, od, oldp, follow, empty, 0)
	if e != 0 {
		return ro, none, e
	}
	rn, e = f.lookup(c, nd, newp, false, false, 0)
	if e != 0 {
		ro.done()
		return none, rn, e
	}
	if ro.obj < 0 {
		ro.done()
		rn.done()
		return none, none, unix.ENOENT
	}
	return ro, rn, 0
}

// act performs op through the warden once the handler's checks passed.
// The notification is revalidated first: if the child was killed
// meanwhile, its id may have been reused and the change must not be made
// on its behalf.
func (f *Files) act(c *call, op func() error) supervisor.Response {
	if !c.s.Valid(c.n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	if _, err := f.wardenRun(func() (int, error) { return 0, op() }); err != nil {
		return supervisor.Errno(errnoOf(err))
	}
	return supervisor.Value(0)
}

func selfFd(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

func (f *Files) unlink(c *call) supervisor.Response {
	var dirfd int32 = unix.AT_FDCWD
	pathArg, flags := 0, 0
	switch c.name {
	case "rmdir":
		flags = unix.AT_REMOVEDIR
	case "unlinkat":
		dirfd, pathArg, flags = c.dirfd(0), 1, int(uint32(c.n.Data.Args[2]))
	}
	r, e := f.lookupArg(c, dirfd, pathArg, false, false, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer r.done()
	if r.obj < 0 {
		return supervisor.Errno(unix.ENOENT)
	}
	if r.parent < 0 || r.name == "" {
		return supervisor.Errno(unix.EBUSY)
	}
	if f.isDenied(r.obj) || f.isDenied(r.parent) {
		return supervisor.Errno(unix.EACCES)
	}
	return f.act(c, func() error { return unix.Unlinkat(r.parent, r.name, flags) })
}

func (f *Files) mknod(c *call) supervisor.Response {
	a := c.n.Data.Args
	var dirfd int32 = unix.AT_FDCWD
	pathArg := 0
	var mode uint32
	var dev uint64
	isDir := false
	switch c.name {
	case "mkdir":
		mode, isDir = uint32(a[1]), true
	case "mkdirat":
		dirfd, pathArg, mode, isDir = c.dirfd(0), 1, uint32(a[2]), true
	case "mknod":
		mode, dev = uint32(a[1]), a[2]
	case "mknodat":
		dirfd, pathArg, mode, dev = c.dirfd(0), 1, uint32(a[2]), a[3]
	}
	r, e := f.lookupNew(c, dirfd, pathArg)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer r.done()
	umask := f.umaskOf(c.entry, int(c.n.Pid))
	return f.act(c, func() error {
		if isDir {
			return unix.Mkdirat(r.parent, r.name, mode&^umask&0o7777)
		}
		return unix.Mknodat(r.parent, r.name, mode&^(umask&0o777), int(dev))
	})
}

func (f *Files) rename(c *call) supervisor.Response {
	var od, nd int32 = unix.AT_FDCWD, unix.AT_FDCWD
	oa, na := 0, 1
	flags := uint(0)
	switch c.name {
	case "renameat":
		od, oa, nd, na = c.dirfd(0), 1, c.dirfd(2), 3
	case "renameat2":
		od, oa, nd, na, flags = c.dirfd(0), 1, c.dirfd(2), 3, uint(uint32(c.n.Data.Args[4]))
	}
	ro, rn, e := f.lookupPair(c, od, oa, false, false, nd, na)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer ro.done()
	defer rn.done()
	if ro.parent < 0 || rn.parent < 0 {
		return supervisor.Errno(unix.EBUSY)
	}
	if f.isDenied(ro.obj) || f.isDenied(ro.parent) || f.isDenied(rn.parent) || rn.obj >= 0 && f.isDenied(rn.obj) {
		return supervisor.Errno(unix.EACCES)
	}
	return f.act(c, func() error { return unix.Renameat2(ro.parent, ro.name, rn.parent, rn.name, flags) })
}

func (f *Files) link(c *call) supervisor.Response {
	var od, nd int32 = unix.AT_FDCWD, unix.AT_FDCWD
	oa, na, flags := 0, 1, 0
	if c.name == "linkat" {
		od, oa, nd, na, flags = c.dirfd(0), 1, c.dirfd(2), 3, int(uint32(c.n.Data.Args[4]))
	}
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return supervisor.Errno(unix.EINVAL)
	}
	ro, rn, e := f.lookupPair(c, od, oa, flags&unix.AT_SYMLINK_FOLLOW != 0, flags&unix.AT_EMPTY_PATH != 0, nd, na)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer ro.done()
	defer rn.done()
	if rn.obj >= 0 {
		return supervisor.Errno(unix.EEXIST)
	}
	if f.isDenied(ro.obj) || f.isDenied(rn.parent) {
		return supervisor.Errno(unix.EACCES)
	}
	// Linking the checked object itself through its fd, not a name that
	// could be swapped.
	return f.act(c, func() error {
		return unix.Linkat(unix.AT_FDCWD, selfFd(ro.obj), rn.parent, rn.name, unix.AT_SYMLINK_FOLLOW)
	})
}

func (f *Files) symlink(c *call) supervisor.Response {
	var nd int32 = unix.AT_FDCWD
	na := 1
	if c.name == "symlinkat" {
		nd, na = c.dirfd(1), 2
	}
	target, e := c.str(0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	rn, e := f.lookupNew(c, nd, na)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer rn.done()
	return f.act(c, func() error { return unix.Symlinkat(target, rn.parent, rn.name) })
}

func (f *Files) truncate(c *call) supervisor.Response {
	length := int64(c.n.Data.Args[1])
	r, e := f.lookupArg(c, unix.AT_FDCWD, 0, true, false, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer r.done()
	if r.obj < 0 {
		return supervisor.Errno(unix.ENOENT)
	}
	if f.isDenied(r.obj) {
		return supervisor.Errno(unix.EACCES)
	}
	return f.act(c, func() error { return unix.Truncate(selfFd(r.obj), length) })
}

// exec cannot be performed on behalf of the child. The object is checked
// and the call continued; a path swapped between check and exec by another
// thread of the sandbox is the remaining race (closed by the argv freeze of
// the policy-callback work). Reading a denied file, which an exec of it
// would need first, is refused race-free by open.
func (f *Files) exec(c *call) supervisor.Response {
	var dirfd int32 = unix.AT_FDCWD
	pathArg, flags := 0, 0
	if c.name == "execveat" {
		dirfd, pathArg, flags = c.dirfd(0), 1, int(uint32(c.n.Data.Args[4]))
	}
	r, e := f.lookupArg(c, dirfd, pathArg, flags&unix.AT_SYMLINK_NOFOLLOW == 0, flags&unix.AT_EMPTY_PATH != 0, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer r.done()
	if r.obj >= 0 && f.isDenied(r.obj) {
		return supervisor.Errno(unix.EACCES)
	}
	if !c.s.Valid(c.n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	return supervisor.Allow
}
