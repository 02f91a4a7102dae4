package handlers

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// FsDeny enforces fs_denied: paths that stay out of reach even inside
// readable or writable trees. Landlock can only grant, so the carve-outs
// are done by the supervisor, on the resolved object and never on the path
// string: the path is resolved here from the child's point of view,
// checked, and the operation is then performed on the very objects that
// were checked, by a warden thread confined like the child (warden.go).
// The result (an fd, or success) is handed back with SECCOMP_ADDFD_FLAG_SEND
// or as the return value; nothing is continued except execve, see below.
//
// A denied object is recognised by device and inode (so hard links and
// other spellings match) and, for directories, by its canonical path being
// below a denied directory.
type FsDeny struct {
	denied   []deniedObj
	readable []string // canonical, for the procfs check
	writable []string
	warden   *warden
	index    *procindex.Index
	rawR     []string
	rawW     []string
	// names maps a syscall number to its name for the handlers that
	// serve several syscalls; written only before the supervisor starts.
	names map[int]string
}

type deniedObj struct {
	dev, ino uint64
	path     string
	dir      bool
}

// NewFsDeny resolves the denied paths now, so that a later rename of a
// denied file does not change what is denied. Paths that do not exist yet
// are denied by path.
func NewFsDeny(denied, readable, writable []string) (*FsDeny, error) {
	f := &FsDeny{rawR: readable, rawW: writable, names: map[int]string{}}
	for _, p := range denied {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("fs_denied %q: not an absolute path", p)
		}
		canon, err := filepath.EvalSymlinks(p)
		if err != nil {
			f.denied = append(f.denied, deniedObj{path: filepath.Clean(p), dir: true})
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(canon, &st); err != nil {
			return nil, fmt.Errorf("fs_denied %q: %w", p, err)
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		f.denied = append(f.denied, deniedObj{dev: st.Dev, ino: st.Ino, path: canon, dir: isDir})
		if isDir {
			if err := f.addHardLinked(canon); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range readable {
		if c, err := filepath.EvalSymlinks(p); err == nil {
			f.readable = append(f.readable, c)
		}
	}
	for _, p := range writable {
		if c, err := filepath.EvalSymlinks(p); err == nil {
			f.writable = append(f.writable, c)
		}
	}
	return f, nil
}

// maxDeniedWalk bounds the walk of a denied directory at spawn.
const maxDeniedWalk = 200000

// addHardLinked records, by inode, every file below a denied directory that
// has other names: a hard link made elsewhere before the run would
// otherwise reach it under a path outside the denied tree. Links made
// during the run cannot be: linking out of or into a denied tree is refused.
func (f *FsDeny) addHardLinked(dir string) error {
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

// Start creates the warden; ix is the sandbox's process index.
func (f *FsDeny) Start(ix *procindex.Index) error {
	w, err := newWarden(f.rawR, f.rawW)
	if err != nil {
		return err
	}
	f.warden = w
	f.index = ix
	return nil
}

// Close stops the warden threads.
func (f *FsDeny) Close() {
	if f.warden != nil {
		f.warden.close()
	}
}

// Register installs the handlers for every syscall the architecture has.
func (f *FsDeny) Register(s *supervisor.Supervisor, lookup func(string) (int, bool)) {
	for name, h := range map[string]supervisor.Handler{
		"open": f.open, "creat": f.open, "openat": f.open, "openat2": f.open,
		"unlink": f.unlink, "rmdir": f.unlink, "unlinkat": f.unlink,
		"mkdir": f.mknod, "mkdirat": f.mknod, "mknod": f.mknod, "mknodat": f.mknod,
		"rename": f.rename, "renameat": f.rename, "renameat2": f.rename,
		"link": f.link, "linkat": f.link,
		"symlink": f.symlink, "symlinkat": f.symlink,
		"truncate": f.truncate,
		"execve":   f.exec, "execveat": f.exec,
	} {
		if nr, ok := lookup(name); ok {
			f.register(s, nr, name, h)
		}
	}
}

func (f *FsDeny) register(s *supervisor.Supervisor, nr int, name string, h supervisor.Handler) {
	f.names[nr] = name
	// Async: the warden may block (opening a FIFO waits for its peer).
	s.HandleAsync(nr, h)
}

// isDenied reports whether the object behind fd is denied. Any doubt
// (an unreadable path) counts as denied.
func (f *FsDeny) isDenied(fd int) bool {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return true
	}
	p, err := readlinkFd(fd)
	if err != nil {
		return true
	}
	p = strings.TrimSuffix(p, " (deleted)")
	for _, d := range f.denied {
		if d.ino != 0 && st.Dev == d.dev && st.Ino == d.ino {
			return true
		}
		if p == d.path || (d.dir && strings.HasPrefix(p, d.path+"/")) {
			return true
		}
	}
	return false
}

// call is the decoded context of one notification.
type call struct {
	s     *supervisor.Supervisor
	n     *supervisor.Notif
	name  string
	entry *procindex.Entry
	buf   []byte
}

func (f *FsDeny) begin(s *supervisor.Supervisor, n *supervisor.Notif) (*call, unix.Errno) {
	e := EnsureMember(f.index, int(n.Pid))
	if e == nil {
		return nil, unix.EPERM
	}
	return &call{s: s, n: n, name: f.names[int(n.Data.Nr)], entry: e}, 0
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

func (f *FsDeny) lookup(c *call, dirfd int32, path string, follow, empty bool, resolve uint64) (resolved, unix.Errno) {
	return resolvePath(&lookup{
		tid: int(c.n.Pid), tgid: c.entry.Key.Pid, pidfd: c.entry.Pidfd(),
		dirfd: dirfd, path: path, follow: follow, emptyPath: empty, resolve: resolve, index: f.index,
	})
}

func umaskOf(tid int) uint32 {
	b, err := readFileSmall("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0o022
	}
	i := bytes.Index(b, []byte("\nUmask:"))
	if i < 0 {
		return 0o022
	}
	rest := b[i+7:]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	v, err := strconv.ParseUint(string(bytes.TrimSpace(rest)), 8, 32)
	if err != nil {
		return 0o022
	}
	return uint32(v)
}

func readFileSmall(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

func selfFd(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// openHow mirrors struct open_how (<linux/openat2.h>).
type openHow struct{ flags, mode, resolve uint64 }

func (f *FsDeny) open(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	c, e := f.begin(s, n)
	if e != 0 {
		return supervisor.Errno(e)
	}
	a := n.Data.Args
	var dirfd int32 = unix.AT_FDCWD
	var pathArg int
	var how openHow
	switch c.name {
	case "open":
		pathArg, how.flags, how.mode = 0, a[1], a[2]
	case "creat":
		pathArg, how.flags, how.mode = 0, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, a[1]
	case "openat":
		dirfd, pathArg, how.flags, how.mode = c.dirfd(0), 1, a[2], a[3]
	case "openat2":
		dirfd, pathArg = c.dirfd(0), 1
		size := a[3]
		if size < 24 {
			return supervisor.Errno(unix.EINVAL)
		}
		if size > 4096 {
			return supervisor.Errno(unix.E2BIG)
		}
		raw := make([]byte, size)
		if kernel.ReadMem(int(n.Pid), a[2], raw) != nil {
			return supervisor.Errno(unix.EFAULT)
		}
		for _, b := range raw[24:] {
			if b != 0 {
				return supervisor.Errno(unix.E2BIG)
			}
		}
		how.flags = binary.LittleEndian.Uint64(raw[0:])
		how.mode = binary.LittleEndian.Uint64(raw[8:])
		how.resolve = binary.LittleEndian.Uint64(raw[16:])
		if how.flags>>32 != 0 {
			return supervisor.Errno(unix.EINVAL)
		}
	}
	flags := int(uint32(how.flags))
	path, e := c.str(pathArg)
	if e != 0 {
		return supervisor.Errno(e)
	}
	isTmp := flags&unix.O_TMPFILE == unix.O_TMPFILE
	follow := flags&unix.O_NOFOLLOW == 0 || flags&unix.O_PATH != 0 && false
	r, e := f.lookup(c, dirfd, path, follow && !(flags&unix.O_CREAT != 0 && flags&unix.O_EXCL != 0), false, how.resolve)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer r.done()
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	cloexec := flags&unix.O_CLOEXEC != 0
	if r.obj >= 0 && f.isDenied(r.obj) || r.parent >= 0 && f.isDenied(r.parent) {
		return supervisor.Errno(unix.EACCES)
	}
	var fd int
	var err error
	switch {
	case r.obj >= 0 && flags&unix.O_PATH != 0:
		fd, err = unix.Dup(r.obj)
	case r.obj >= 0:
		if flags&unix.O_CREAT != 0 && flags&unix.O_EXCL != 0 {
			return supervisor.Errno(unix.EEXIST)
		}
		var st unix.Stat_t
		if unix.Fstat(r.obj, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return supervisor.Errno(unix.ELOOP) // O_NOFOLLOW on a symlink
		}
		rf := flags &^ (unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW)
		if isTmp {
			umask := umaskOf(int(n.Pid))
			obj := r.obj
			fd, err = f.warden.run(func() (int, error) {
				return unix.Openat(obj, ".", flags, uint32(how.mode)&^umask&0o7777)
			})
			break
		}
		if r.inProc {
			fd, err = f.openProc(r.obj, rf)
			break
		}
		obj := r.obj
		fd, err = f.warden.run(func() (int, error) { return unix.Open(selfFd(obj), rf|unix.O_CLOEXEC, 0) })
	case flags&unix.O_CREAT != 0:
		if r.inProc {
			return supervisor.Errno(unix.EACCES)
		}
		umask := umaskOf(int(n.Pid))
		parent, name := r.parent, r.name
		fd, err = f.warden.run(func() (int, error) {
			return unix.Openat(parent, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(how.mode)&^umask&0o7777)
		})
	default:
		return supervisor.Errno(unix.ENOENT)
	}
	if err != nil {
		return supervisor.Errno(errnoOf(err))
	}
	defer unix.Close(fd)
	if f.isDenied(fd) {
		return supervisor.Errno(unix.EACCES)
	}
	return s.InjectFD(n.ID, fd, cloexec)
}

// openProc opens a procfs object for the child. The warden cannot do it:
// the kernel's ptrace check between two sibling Landlock domains (warden
// and child) refuses files such as /proc/<pid>/maps that the child may read
// about itself. The supervisor opens it instead, after checking the rules
// Landlock would apply to the child (the object's path below a granted
// tree) and that a /proc/<pid> object belongs to the sandbox.
func (f *FsDeny) openProc(obj int, flags int) (int, error) {
	p, err := readlinkFd(obj)
	if err != nil {
		return -1, unix.EACCES
	}
	if rest, ok := strings.CutPrefix(p, "/proc/"); ok {
		head, _, _ := strings.Cut(rest, "/")
		if pid, err := strconv.Atoi(head); err == nil && f.index.Lookup(pid) == nil {
			return -1, unix.EACCES
		}
	}
	write := flags&(unix.O_WRONLY|unix.O_RDWR) != 0 || flags&unix.O_TRUNC != 0
	allowed := under(p, f.writable) || (!write && under(p, f.readable))
	if !allowed {
		return -1, unix.EACCES
	}
	return unix.Open(selfFd(obj), flags|unix.O_CLOEXEC, 0)
}

func under(p string, roots []string) bool {
	for _, r := range roots {
		if r == "/" || p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

func (f *FsDeny) unlink(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	c, e := f.begin(s, n)
	if e != 0 {
		return supervisor.Errno(e)
	}
	var dirfd int32 = unix.AT_FDCWD
	pathArg, flags := 0, 0
	switch c.name {
	case "rmdir":
		flags = unix.AT_REMOVEDIR
	case "unlinkat":
		dirfd, pathArg, flags = c.dirfd(0), 1, int(uint32(n.Data.Args[2]))
	}
	path, e := c.str(pathArg)
	if e != 0 {
		return supervisor.Errno(e)
	}
	r, e := f.lookup(c, dirfd, path, false, false, 0)
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
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	parent, name := r.parent, r.name
	_, err := f.warden.run(func() (int, error) { return 0, unix.Unlinkat(parent, name, flags) })
	return result(err)
}

func (f *FsDeny) mknod(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	c, e := f.begin(s, n)
	if e != 0 {
		return supervisor.Errno(e)
	}
	a := n.Data.Args
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
	path, e := c.str(pathArg)
	if e != 0 {
		return supervisor.Errno(e)
	}
	r, e := f.lookup(c, dirfd, path, false, false, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer r.done()
	if r.obj >= 0 {
		return supervisor.Errno(unix.EEXIST)
	}
	if f.isDenied(r.parent) {
		return supervisor.Errno(unix.EACCES)
	}
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	umask := umaskOf(int(n.Pid))
	parent, name := r.parent, r.name
	_, err := f.warden.run(func() (int, error) {
		if isDir {
			return 0, unix.Mkdirat(parent, name, mode&^umask&0o7777)
		}
		return 0, unix.Mknodat(parent, name, mode&^(umask&0o777), int(dev))
	})
	return result(err)
}

func (f *FsDeny) rename(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	c, e := f.begin(s, n)
	if e != 0 {
		return supervisor.Errno(e)
	}
	a := n.Data.Args
	var od, nd int32 = unix.AT_FDCWD, unix.AT_FDCWD
	oa, na := 0, 1
	flags := uint(0)
	switch c.name {
	case "renameat":
		od, oa, nd, na = c.dirfd(0), 1, c.dirfd(2), 3
	case "renameat2":
		od, oa, nd, na, flags = c.dirfd(0), 1, c.dirfd(2), 3, uint(uint32(a[4]))
	}
	oldp, e := c.str(oa)
	if e != 0 {
		return supervisor.Errno(e)
	}
	newp, e := c.str(na)
	if e != 0 {
		return supervisor.Errno(e)
	}
	ro, e := f.lookup(c, od, oldp, false, false, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer ro.done()
	rn, e := f.lookup(c, nd, newp, false, false, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer rn.done()
	if ro.obj < 0 {
		return supervisor.Errno(unix.ENOENT)
	}
	if ro.parent < 0 || rn.parent < 0 {
		return supervisor.Errno(unix.EBUSY)
	}
	if f.isDenied(ro.obj) || f.isDenied(ro.parent) || f.isDenied(rn.parent) || rn.obj >= 0 && f.isDenied(rn.obj) {
		return supervisor.Errno(unix.EACCES)
	}
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	op, on, np, nn := ro.parent, ro.name, rn.parent, rn.name
	_, err := f.warden.run(func() (int, error) { return 0, unix.Renameat2(op, on, np, nn, flags) })
	return result(err)
}

func (f *FsDeny) link(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	c, e := f.begin(s, n)
	if e != 0 {
		return supervisor.Errno(e)
	}
	a := n.Data.Args
	var od, nd int32 = unix.AT_FDCWD, unix.AT_FDCWD
	oa, na, flags := 0, 1, 0
	if c.name == "linkat" {
		od, oa, nd, na, flags = c.dirfd(0), 1, c.dirfd(2), 3, int(uint32(a[4]))
	}
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return supervisor.Errno(unix.EINVAL)
	}
	oldp, e := c.str(oa)
	if e != 0 {
		return supervisor.Errno(e)
	}
	newp, e := c.str(na)
	if e != 0 {
		return supervisor.Errno(e)
	}
	ro, e := f.lookup(c, od, oldp, flags&unix.AT_SYMLINK_FOLLOW != 0, flags&unix.AT_EMPTY_PATH != 0, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer ro.done()
	rn, e := f.lookup(c, nd, newp, false, false, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer rn.done()
	if ro.obj < 0 {
		return supervisor.Errno(unix.ENOENT)
	}
	if rn.obj >= 0 {
		return supervisor.Errno(unix.EEXIST)
	}
	if f.isDenied(ro.obj) || f.isDenied(rn.parent) {
		return supervisor.Errno(unix.EACCES)
	}
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	obj, np, nn := ro.obj, rn.parent, rn.name
	_, err := f.warden.run(func() (int, error) {
		// Linking the checked object itself through its fd, not a name
		// that could be swapped.
		return 0, unix.Linkat(unix.AT_FDCWD, selfFd(obj), np, nn, unix.AT_SYMLINK_FOLLOW)
	})
	return result(err)
}

func (f *FsDeny) symlink(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	c, e := f.begin(s, n)
	if e != 0 {
		return supervisor.Errno(e)
	}
	var nd int32 = unix.AT_FDCWD
	na := 1
	if c.name == "symlinkat" {
		nd, na = c.dirfd(1), 2
	}
	target, e := c.str(0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	newp, e := c.str(na)
	if e != 0 {
		return supervisor.Errno(e)
	}
	rn, e := f.lookup(c, nd, newp, false, false, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer rn.done()
	if rn.obj >= 0 {
		return supervisor.Errno(unix.EEXIST)
	}
	if f.isDenied(rn.parent) {
		return supervisor.Errno(unix.EACCES)
	}
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	np, nn := rn.parent, rn.name
	_, err := f.warden.run(func() (int, error) { return 0, unix.Symlinkat(target, np, nn) })
	return result(err)
}

func (f *FsDeny) truncate(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	c, e := f.begin(s, n)
	if e != 0 {
		return supervisor.Errno(e)
	}
	path, e := c.str(0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	length := int64(n.Data.Args[1])
	r, e := f.lookup(c, unix.AT_FDCWD, path, true, false, 0)
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
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	obj := r.obj
	_, err := f.warden.run(func() (int, error) { return 0, unix.Truncate(selfFd(obj), length) })
	return result(err)
}

// exec cannot be performed on behalf of the child. The object is checked
// and the call continued; a path swapped between check and exec by another
// thread of the sandbox is the remaining race (closed by the argv freeze of
// the policy-callback work). Reading a denied file, which an exec of it
// would need first, is refused race-free by open.
func (f *FsDeny) exec(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	c, e := f.begin(s, n)
	if e != 0 {
		return supervisor.Errno(e)
	}
	var dirfd int32 = unix.AT_FDCWD
	pathArg, flags := 0, 0
	if c.name == "execveat" {
		dirfd, pathArg, flags = c.dirfd(0), 1, int(uint32(n.Data.Args[4]))
	}
	path, e := c.str(pathArg)
	if e != 0 {
		return supervisor.Errno(e)
	}
	r, e := f.lookup(c, dirfd, path, flags&unix.AT_SYMLINK_NOFOLLOW == 0, flags&unix.AT_EMPTY_PATH != 0, 0)
	if e != 0 {
		return supervisor.Errno(e)
	}
	defer r.done()
	if r.obj >= 0 && f.isDenied(r.obj) {
		return supervisor.Errno(unix.EACCES)
	}
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	return supervisor.Allow
}

func result(err error) supervisor.Response {
	if err != nil {
		return supervisor.Errno(errnoOf(err))
	}
	return supervisor.Value(0)
}
