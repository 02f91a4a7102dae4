package handlers

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// Files is the file mediation every supervised sandbox runs. open, creat,
// openat and openat2 are notified and never continued: the supervisor
// resolves the path from the child's point of view, decides on the object
// it found and performs the open itself, handing the fd over with ADDFD
// (Supervisor.InjectFD). A string check followed by CONTINUE would let
// another thread of the child swap the path in between.
//
// In order, an open
//
//  1. is refused when it reaches /proc/<pid> of a process outside the
//     sandbox (ENOENT: from inside, those processes do not exist) or a
//     sensitive kernel interface (EACCES, see procRule);
//  2. is refused when the object is carved out by fs_denied (EACCES);
//  3. is answered with a sealed memfd when the object is a virtual file a
//     feature registered (/proc/loadavg, /etc/hostname ...), matched by the
//     resolved path or, for files that exist on the host, by inode;
//  4. is checked against the sandbox's Landlock grants, and performed.
//
// The fast path lets the kernel resolve the path with openat2(O_PATH,
// RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV) from the child's root, cwd or
// dirfd: without crossing a mount and without magic links, the walk
// reaches exactly what the child's own walk would. A walk that leaves the
// start's filesystem is redone without RESOLVE_NO_XDEV and its result
// accepted unless it lies on procfs below the supervisor's own /proc/<pid>
// (the kernel resolved /proc/self for us, not for the child); every other
// doubtful case (a magic link such as /proc/self/fd/N or /dev/stdin, a
// failed walk that crossed mounts, a file to create) takes the slow path,
// which walks the path component by component from the child's point of
// view (resolve.go).
//
// The supervisor is not confined, so it re-checks what Landlock would have
// checked in the child (spec README 2.2): the grants of the policy are
// trees, and the object's canonical path must lie in a readable tree for a
// read and in a writable tree for a write or a truncation, as Landlock
// decides by the object's place in the hierarchy. Objects that are not
// reached by a path (pipes, sockets, memfds: Landlock does not restrict
// them either) pass. Where the difference between an fd opened inside and
// outside a Landlock domain shows later (ioctls on a device node outside
// writable trees, LANDLOCK_ACCESS_FS_IOCTL_DEV) and for creations (umask,
// MAKE_* rights), the open is done by a warden thread confined with the
// child's rules instead (warden.go).
type Files struct {
	index    *procindex.Index
	readable [][]byte // canonical grant roots
	writable [][]byte
	rawR     []string
	rawW     []string
	denied   []deniedObj
	// rt holds the denials the policy callback adds at run time
	// (policyfn_files.go).
	rt runtimeDenials
	// deniedDirs is set when a denied path must be matched by path (a
	// directory, or a path that did not exist at spawn).
	deniedDirs  bool
	allReadable bool // "/" is granted for reading
	allWritable bool // "/" is granted for writing

	virtual map[string]Virtual
	virtIno map[devIno]Virtual
	// virtMissing holds the last components of the virtual files that do
	// not exist on the host: an open that fails with ENOENT and names one
	// of them is resolved again the slow way, which matches by path. (A
	// symlink under another name to such a file is not followed to it.)
	virtMissing map[string]bool

	selfProc []byte // "/proc/<supervisor pid>"
	clock    *ProcClock

	kinds []opKind // by syscall number: a slice, not a map, for the hot path
	names map[int]string

	wmu     sync.Mutex
	warden  *warden
	wclosed bool
}

// Virtual generates the content of a virtual file; it runs on each open.
type Virtual func() ([]byte, error)

type devIno struct{ dev, ino uint64 }

type opKind uint8

const (
	opOpen opKind = iota + 1
	opCreat
	opOpenat
	opOpenat2
	opGetdents
	opGetdents64
	opUmask
	opOther
)

// NewFiles prepares the mediation of one sandbox: readable and writable
// are the Landlock grants, denied the fs_denied carve-outs, resolved now so
// that a later rename of a denied file does not change what is denied.
func NewFiles(readable, writable, denied []string) (*Files, error) {
	f := &Files{
		rawR:     readable,
		rawW:     writable,
		names:    map[int]string{},
		selfProc: []byte("/proc/" + strconv.Itoa(os.Getpid())),
	}
	if err := f.addDenied(denied); err != nil {
		return nil, err
	}
	for _, d := range f.denied {
		if d.path != "" {
			f.deniedDirs = true
		}
	}
	for _, p := range readable {
		if c, err := filepath.EvalSymlinks(p); err == nil {
			f.readable = append(f.readable, []byte(c))
			f.allReadable = f.allReadable || c == "/"
		}
	}
	for _, p := range writable {
		if c, err := filepath.EvalSymlinks(p); err == nil {
			f.writable = append(f.writable, []byte(c))
			f.allWritable = f.allWritable || c == "/"
		}
	}
	f.allReadable = f.allReadable || f.allWritable
	return f, nil
}

// SetVirtual installs the virtual-file table (absolute path → content).
// Files that exist on the host are also matched by inode, so that every
// spelling of them (symlinks, hard links) is served the same content.
func (f *Files) SetVirtual(v map[string]Virtual) {
	f.virtual = make(map[string]Virtual, len(v))
	f.virtIno = map[devIno]Virtual{}
	for p, gen := range v {
		p = filepath.Clean(p)
		f.virtual[p] = gen
		if under([]byte(p), [][]byte{[]byte("/proc"), []byte("/sys")}) {
			continue // matched by path only: procfs inodes are not stable
		}
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil {
			if f.virtMissing == nil {
				f.virtMissing = map[string]bool{}
			}
			f.virtMissing[filepath.Base(p)] = true
			continue
		}
		f.virtIno[devIno{st.Dev, st.Ino}] = gen
		if c, err := filepath.EvalSymlinks(p); err == nil && c != p {
			f.virtual[c] = gen
		}
	}
}

// Start binds the mediation to the sandbox's process index and, if clock
// is not nil, shows the process times of /proc relative to it.
func (f *Files) Start(ix *procindex.Index, clock *ProcClock) {
	f.index = ix
	f.clock = clock
}

// Close stops the warden threads.
func (f *Files) Close() {
	f.wmu.Lock()
	w := f.warden
	f.wclosed = true
	f.wmu.Unlock()
	if w != nil {
		w.close()
	}
}

// Register installs the handlers for every syscall the architecture has:
// the open family, umask (to keep the creation mask), getdents (the /proc
// listing) and, when fs_denied is set, every other call that reaches a
// file by path.
func (f *Files) Register(s *supervisor.Supervisor, lookup func(string) (int, bool)) {
	reg := func(name string, k opKind, h supervisor.Handler, async bool) {
		nr, ok := lookup(name)
		if !ok {
			return
		}
		if nr >= len(f.kinds) {
			f.kinds = append(f.kinds, make([]opKind, nr+1-len(f.kinds))...)
		}
		f.kinds[nr] = k
		f.names[nr] = name
		if async {
			// Async: an open may block (a FIFO waits for its peer).
			s.HandleAsync(nr, h)
		} else {
			s.Handle(nr, h)
		}
	}
	// Inline: an open that may block (a FIFO, a device, work for the
	// warden) goes on in its own goroutine (Supervisor.Defer); the rest
	// is answered without a hand-off to another thread.
	reg("open", opOpen, f.open, false)
	reg("creat", opCreat, f.open, false)
	reg("openat", opOpenat, f.open, false)
	reg("openat2", opOpenat2, f.open, false)
	reg("umask", opUmask, f.umask, false)
	reg("getdents64", opGetdents64, f.getdents, false)
	reg("getdents", opGetdents, f.getdents, false)
	if len(f.denied) > 0 || f.rt.enabled {
		f.registerDenied(reg)
	}
}

// wardenRun runs fn on a thread confined like the child, creating the
// warden on first use.
func (f *Files) wardenRun(fn func() (int, error)) (int, error) {
	f.wmu.Lock()
	if f.wclosed {
		f.wmu.Unlock()
		return -1, unix.EPERM
	}
	if f.warden == nil {
		w, err := newWarden(f.rawR, f.rawW)
		if err != nil {
			f.wmu.Unlock()
			return -1, unix.EACCES
		}
		f.warden = w
	}
	w := f.warden
	f.wmu.Unlock()
	return w.run(fn)
}

// kind returns the operation of syscall nr, 0 for one not registered.
func (f *Files) kind(nr int32) opKind {
	if nr < 0 || int(nr) >= len(f.kinds) {
		return 0
	}
	return f.kinds[nr]
}

// scratch holds the buffers of one open, pooled so that the hot path does
// not allocate.
type scratch struct {
	path [unix.PathMax + 1]byte
	link [unix.PathMax + 64]byte
	tmp  [64]byte
	how  [4096]byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// openArgs is a decoded open call.
type openArgs struct {
	dirfd   int32
	addr    uint64
	flags   int
	mode    uint32
	resolve uint64
}

// openat2 resolve flags, <linux/openat2.h>.
const (
	resolveNoXdev       = 0x01
	resolveNoMagiclinks = 0x02
	resolveNoSymlinks   = 0x04
	resolveBeneath      = 0x08
	resolveInRoot       = 0x10
	resolveCached       = 0x20
	resolveAll          = 0x3f
)

const (
	procSuperMagic  = 0x9fa0
	sysfsMagic      = 0x62656572
	tmpfsMagic      = 0x01021994
	validOpenFlags  = 0o37777777 // every O_* bit the kernel knows (VALID_OPEN_FLAGS, generous)
	openHowSizeVer0 = 24
)

func (f *Files) decodeOpen(n *supervisor.Notif, sc *scratch) (openArgs, unix.Errno) {
	a := n.Data.Args
	o := openArgs{dirfd: unix.AT_FDCWD}
	switch f.kind(n.Data.Nr) {
	case opOpen:
		o.addr, o.flags, o.mode = a[0], int(uint32(a[1])), uint32(a[2])&0o7777
	case opCreat:
		o.addr, o.flags, o.mode = a[0], unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, uint32(a[1])&0o7777
	case opOpenat:
		o.dirfd, o.addr, o.flags, o.mode = int32(uint32(a[0])), a[1], int(uint32(a[2])), uint32(a[3])&0o7777
	case opOpenat2:
		o.dirfd, o.addr = int32(uint32(a[0])), a[1]
		size := a[3]
		if size < openHowSizeVer0 {
			return o, unix.EINVAL
		}
		if size > uint64(len(sc.how)) {
			return o, unix.E2BIG
		}
		raw := sc.how[:size]
		if kernel.ReadMem(int(n.Pid), a[2], raw) != nil {
			return o, unix.EFAULT
		}
		for _, b := range raw[openHowSizeVer0:] {
			if b != 0 {
				return o, unix.E2BIG
			}
		}
		flags := binary.LittleEndian.Uint64(raw[0:])
		mode := binary.LittleEndian.Uint64(raw[8:])
		o.resolve = binary.LittleEndian.Uint64(raw[16:])
		if flags>>32 != 0 || flags&^validOpenFlags != 0 || o.resolve&^resolveAll != 0 {
			return o, unix.EINVAL
		}
		if mode&^0o7777 != 0 || mode != 0 && flags&(unix.O_CREAT|unix.O_TMPFILE) == 0 {
			return o, unix.EINVAL
		}
		if o.resolve&(resolveBeneath|resolveInRoot) == resolveBeneath|resolveInRoot {
			return o, unix.EINVAL
		}
		o.flags, o.mode = int(flags), uint32(mode)
	default:
		return o, unix.ENOSYS
	}
	return o, 0
}

func (f *Files) open(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	e := EnsureMember(f.index, int(n.Pid))
	if e == nil {
		return supervisor.Errno(unix.EPERM)
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	o, errno := f.decodeOpen(n, sc)
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	p, err := kernel.ReadString(int(n.Pid), o.addr, sc.path[:0], unix.PathMax)
	if err != nil {
		if err == unix.ENAMETOOLONG {
			return supervisor.Errno(unix.ENAMETOOLONG)
		}
		return supervisor.Errno(unix.EFAULT)
	}
	// No NOTIF_ID_VALID here: a read-only open has no effect besides
	// the fd, which ADDFD hands over only while the call is pending; the
	// paths that change something check first.
	if len(p) == 0 {
		return supervisor.Errno(unix.ENOENT)
	}
	if o.flags&(unix.O_CREAT|unix.O_DIRECTORY) == unix.O_CREAT|unix.O_DIRECTORY && o.flags&unix.O_TMPFILE != unix.O_TMPFILE {
		return supervisor.Errno(unix.EINVAL)
	}
	return f.openFast(s, n, e, &o, append(p, 0), sc)
}

// openFast lets the kernel resolve the path (see Files) and falls back to
// the slow path in every case where its walk may differ from the child's.
//
// Two shortcuts keep it cheap. A read-only open of a path that starts on a
// disk filesystem is performed directly (with O_NONBLOCK, so that a FIFO
// cannot block it), and only an object other than a regular file or a
// directory is reopened the careful way, from an O_PATH probe, once
// checked; anything else is probed with O_PATH, checked, and then reopened
// with the child's flags. And a clean absolute path (no ".", "..", "//")
// is first tried with RESOLVE_NO_SYMLINKS, after the symlinks of the root
// directory (/lib -> usr/lib on merged-/usr systems) and /proc/self are
// replaced: when that walk succeeds its canonical path is the string
// itself, and the grants are checked without asking the kernel for it.
func (f *Files) openFast(s *supervisor.Supervisor, n *supervisor.Notif, e *procindex.Entry, o *openArgs, path []byte, sc *scratch) supervisor.Response {
	if o.flags&unix.O_TMPFILE == unix.O_TMPFILE {
		return f.openSlow(s, n, e, o, path)
	}
	start := unix.AT_FDCWD
	special := false // the start is on sysfs
	startFS := rootFS()
	if path[0] != '/' || o.resolve&(resolveBeneath|resolveInRoot) != 0 {
		fd, errno := f.startDir(e, int(n.Pid), o.dirfd, sc)
		if errno != 0 {
			return supervisor.Errno(errno)
		}
		defer unix.Close(fd)
		startFS = fsType(fd)
		switch startFS {
		case procSuperMagic:
			// Relative to /proc: "self" must name the child.
			return f.openSlow(s, n, e, o, path)
		case sysfsMagic:
			special = true
		}
		start = fd
	}
	readOnly := o.flags&(unix.O_ACCMODE|unix.O_CREAT|unix.O_TRUNC|unix.O_PATH) == unix.O_RDONLY
	direct := readOnly && diskFS(startFS)
	how := unix.OpenHow{Resolve: o.resolve | resolveNoMagiclinks | resolveNoXdev}
	setFlags := func() {
		if direct {
			how.Flags = uint64(o.flags | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC)
			return
		}
		how.Flags = uint64(unix.O_PATH | unix.O_CLOEXEC | o.flags&(unix.O_NOFOLLOW|unix.O_DIRECTORY))
		if o.flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
			how.Flags |= unix.O_NOFOLLOW // O_EXCL never follows a trailing symlink
		}
	}
	setFlags()
	// The lexical attempt: canon is the path the kernel is asked to walk
	// without symlinks, so it is the object's canonical path.
	walk := path
	var canon []byte
	if start == unix.AT_FDCWD && o.resolve == 0 {
		if c := f.lexical(path, e, int(n.Pid), sc); c != nil {
			canon = c[:len(c)-1]
			walk = c
			how.Resolve |= resolveNoSymlinks
		}
	}
	crossed := false
	if canon != nil && hasDirPrefix(canon, []byte("/proc")) {
		// procfs for sure (rootLinks.procOK): go there at once. Opening
		// a procfs file for reading acts on nothing, so it is opened
		// directly too.
		crossed = true
		how.Resolve &^= resolveNoXdev
	}
	obj, errno := openat2Raw(start, walk, &how)
	if errno == unix.ELOOP && canon != nil {
		// A symlink below the root: resolve it the usual way.
		canon, walk = nil, path
		how.Resolve &^= resolveNoSymlinks
		obj, errno = openat2Raw(start, walk, &how)
	}
	if errno == unix.EXDEV && o.resolve&resolveNoXdev == 0 && !crossed {
		// The walk leaves the start's filesystem: it may reach /proc,
		// /sys or /dev, where only a checked object is opened.
		crossed = true
		direct = false
		setFlags()
		how.Resolve &^= resolveNoXdev
		obj, errno = openat2Raw(start, walk, &how)
	}
	if errno != 0 {
		switch {
		case errno == unix.ELOOP, crossed && canon == nil,
			errno == unix.ENOENT && (o.flags&unix.O_CREAT != 0 || f.namesMissingVirtual(path)):
			return f.openSlow(s, n, e, o, path)
		}
		return supervisor.Errno(errno)
	}
	defer unix.Close(obj)
	var t int64
	if crossed || special {
		t = fsType(obj)
	}
	kernelPath := path
	if canon != nil {
		kernelPath = nil // /proc/self was replaced by the child's pid
	}
	return f.finish(s, n, e, o, obj, direct, t, canon, kernelPath, sc)
}

// finish decides on an existing object and performs the open. obj is an
// O_PATH fd of it, or, when opened is set, the fd opened with the child's
// (read-only) flags plus O_NONBLOCK; the caller closes obj. fsT is the type
// of its filesystem when the walk may have left the root's (0 otherwise),
// canon its canonical path if known, and kernelPath the child's path when
// the kernel resolved it in the supervisor (so that /proc/self named the
// supervisor), nil otherwise.
func (f *Files) finish(s *supervisor.Supervisor, n *supervisor.Notif, e *procindex.Entry, o *openArgs, obj int, opened bool, fsT int64, canon, kernelPath []byte, sc *scratch) supervisor.Response {
	var st unix.Stat_t
	if err := unix.Fstat(obj, &st); err != nil {
		return supervisor.Errno(errnoOf(err))
	}
	typ := st.Mode & unix.S_IFMT
	if opened && typ != unix.S_IFREG && typ != unix.S_IFDIR {
		// A FIFO or a device: decide on an O_PATH probe, then open it
		// with the child's flags (it may block, or act on open).
		probe, err := unix.Openat(obj, "", unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			probe, err = unix.Open(selfFd(obj), unix.O_PATH|unix.O_CLOEXEC, 0)
		}
		if err != nil {
			return supervisor.Errno(errnoOf(err))
		}
		defer unix.Close(probe)
		return f.finish(s, n, e, o, probe, false, fsT, canon, kernelPath, sc)
	}
	if typ == unix.S_IFLNK && o.flags&unix.O_PATH == 0 {
		return supervisor.Errno(unix.ELOOP) // O_NOFOLLOW on a symlink
	}
	if o.flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
		return supervisor.Errno(unix.EEXIST)
	}
	if o.flags&unix.O_DIRECTORY != 0 && typ != unix.S_IFDIR && !(typ == unix.S_IFLNK && o.flags&unix.O_PATH != 0) {
		return supervisor.Errno(unix.ENOTDIR)
	}
	inProc, inSys := fsT == procSuperMagic, fsT == sysfsMagic
	write := o.flags&unix.O_ACCMODE != unix.O_RDONLY || o.flags&unix.O_TRUNC != 0
	path, deleted := canon, false
	if path == nil && (inProc || inSys || f.deniedDirs || f.rt.anyByPath() || !f.grantsAll(write)) {
		var errno unix.Errno
		path, deleted, errno = objPath(obj, sc.link[:])
		if errno != 0 {
			return supervisor.Errno(errno)
		}
	}
	if inProc && kernelPath != nil && hasDirPrefix(path, f.selfProc) {
		// The kernel took /proc/self (or thread-self) as the supervisor.
		return f.openSlow(s, n, e, o, kernelPath)
	}
	if inProc || inSys {
		if errno := f.procRule(path, inProc); errno != 0 {
			return supervisor.Errno(errno)
		}
	}
	if (len(f.denied) > 0 || f.rt.any()) && f.deniedObj(&st, path) {
		return supervisor.Errno(unix.EACCES)
	}
	cloexec := o.flags&unix.O_CLOEXEC != 0
	if o.flags&unix.O_PATH != 0 {
		// SECCOMP_IOCTL_NOTIF_ADDFD cannot hand over an O_PATH file (the
		// kernel's fget skips them: EBADF), so an O_PATH open that passed
		// the checks is continued. A path swapped in between can only
		// yield an O_PATH handle, which reads and writes nothing; what
		// could use one (a reopen through /proc/self/fd, exec, linkat) is
		// mediated, or checked by Landlock, on its own.
		return supervisor.Allow
	}
	if v := f.virtualFor(path, &st, inProc, inSys); v != nil {
		return f.serveVirtual(s, n, o, v)
	}
	if path != nil && !f.landlockAllows(path, deleted, fsT, o.flags) {
		return supervisor.Errno(unix.EACCES)
	}
	if inProc && o.flags&unix.O_ACCMODE == unix.O_RDONLY && typ == unix.S_IFREG {
		if b, ok := f.clock.rewrite(path, obj); ok {
			return f.serveVirtual(s, n, o, func() ([]byte, error) { return b, nil })
		}
	}
	if opened {
		// Drop the O_NONBLOCK the open added.
		if o.flags&unix.O_NONBLOCK == 0 {
			if _, err := unix.FcntlInt(uintptr(obj), unix.F_SETFL, o.flags&(unix.O_APPEND|unix.O_DIRECT|unix.O_NOATIME)); err != nil {
				return supervisor.Errno(errnoOf(err))
			}
		}
		return s.InjectFD(n.ID, obj, cloexec)
	}
	if write && !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	fl := o.flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW) | unix.O_CLOEXEC | unix.O_NOCTTY
	var fd int
	var errno unix.Errno
	switch {
	case typ == unix.S_IFDIR:
		fd, errno = openatRaw(obj, dotPath, fl, 0)
	case typ == unix.S_IFCHR || typ == unix.S_IFBLK:
		// Opened inside the Landlock domain, the fd keeps the domain's
		// ioctl restriction on device nodes (LANDLOCK_ACCESS_FS_IOCTL_DEV);
		// in writable trees the domain grants it. A device may block on
		// open (a tty waiting for carrier), except the memory devices
		// (/dev/null, /dev/zero ...) and the pseudo-terminals.
		confined := !f.grantsAll(true) && !under(f.pathOf(path, obj, sc), f.writable)
		if !confined && typ == unix.S_IFCHR && nonBlockingDev(st.Rdev) {
			fd, errno = reopen(obj, fl, sc)
			break
		}
		return later(s, n, obj, func(s *supervisor.Supervisor, n *supervisor.Notif, obj int) supervisor.Response {
			var fd int
			var err error
			if confined {
				self := selfFd(obj)
				fd, err = f.wardenRun(func() (int, error) { return unix.Open(self, fl, 0) })
			} else {
				fd, err = unix.Open(selfFd(obj), fl, 0)
			}
			if err != nil {
				return supervisor.Errno(errnoOf(err))
			}
			defer unix.Close(fd)
			return s.InjectFD(n.ID, fd, cloexec)
		})
	case typ == unix.S_IFIFO && o.flags&unix.O_NONBLOCK == 0:
		return later(s, n, obj, func(s *supervisor.Supervisor, n *supervisor.Notif, obj int) supervisor.Response {
			fd, errno := openFifo(s, n, obj, fl)
			if errno != 0 {
				return supervisor.Errno(errno)
			}
			defer unix.Close(fd)
			return s.InjectFD(n.ID, fd, cloexec)
		})
	default:
		fd, errno = reopen(obj, fl, sc)
	}
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	defer unix.Close(fd)
	return s.InjectFD(n.ID, fd, cloexec)
}

// nonBlockingDev reports whether opening the character device dev never
// waits: the memory devices (major 1), /dev/tty, /dev/console and
// /dev/ptmx (major 5) and the pseudo-terminal slaves (136 to 143).
func nonBlockingDev(dev uint64) bool {
	switch m := unix.Major(dev); {
	case m == 1, m == 5, m >= 136 && m <= 143:
		return true
	}
	return false
}

// later finishes a notification in its own goroutine (Supervisor.Defer),
// with a duplicate of fd that it closes afterwards.
func later(s *supervisor.Supervisor, n *supervisor.Notif, fd int, fn func(*supervisor.Supervisor, *supervisor.Notif, int) supervisor.Response) supervisor.Response {
	d, err := unix.Dup(fd)
	if err != nil {
		return supervisor.Errno(errnoOf(err))
	}
	return s.Defer(n, func(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
		defer unix.Close(d)
		return fn(s, n, d)
	})
}

// pathOf returns path, or reads the path of obj when it is not known.
func (f *Files) pathOf(path []byte, obj int, sc *scratch) []byte {
	if path != nil {
		return path
	}
	p, _, errno := objPath(obj, sc.link[:])
	if errno != 0 {
		return nil
	}
	return p
}

// grantsAll reports whether the grants cover the whole tree ("/"), for a
// write or for a read, so that no path is needed to check them.
func (f *Files) grantsAll(write bool) bool {
	if write {
		return f.allWritable
	}
	return f.allReadable
}

// lexical rewrites a clean absolute path (no empty, "." or ".."
// component) for a walk without symlinks: a first component that is a
// symlink of the root directory to a plain relative path is replaced by
// its target, and /proc/self and /proc/thread-self by the caller's pid
// and tid. It returns the new path, NUL-terminated, in sc.link, or nil.
func (f *Files) lexical(path []byte, e *procindex.Entry, tid int, sc *scratch) []byte {
	p := path[:len(path)-1]
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] == '/' {
		return nil
	}
	for rest := p[1:]; ; {
		c, tail, more := bytes.Cut(rest, []byte("/"))
		if len(c) == 0 || c[0] == '.' && (len(c) == 1 || len(c) == 2 && c[1] == '.') {
			return nil
		}
		if !more {
			break
		}
		rest = tail
	}
	first, tail, _ := bytes.Cut(p[1:], []byte("/"))
	out := sc.link[:0]
	rs := rootSymlinks()
	switch {
	case string(first) == "proc" && rs.procOK:
		out = append(out, "/proc"...)
		sub, rest, more := bytes.Cut(tail, []byte("/"))
		switch string(sub) {
		case "self":
			out = append(out, '/')
			out = strconv.AppendInt(out, int64(e.Key.Pid), 10)
		case "thread-self":
			out = append(out, '/')
			out = strconv.AppendInt(out, int64(e.Key.Pid), 10)
			out = append(out, "/task/"...)
			out = strconv.AppendInt(out, int64(tid), 10)
		default:
			out = append(out, '/')
			out = append(out, sub...)
		}
		if more {
			out = append(out, '/')
			out = append(out, rest...)
		}
	case rs.links[string(first)] != "":
		out = append(out, '/')
		out = append(out, rs.links[string(first)]...)
		if len(tail) > 0 {
			out = append(out, '/')
			out = append(out, tail...)
		}
	default:
		out = append(out, p...)
	}
	if len(out)+1 > len(sc.link) {
		return nil
	}
	return append(out, 0)
}

// rootLinks is what the lexical walk knows of the root directory.
type rootLinks struct {
	links  map[string]string // name -> plain relative target
	procOK bool              // /proc is the procfs root
}

var rootLinksOnce struct {
	sync.Once
	v  rootLinks
	fs int64
}

func loadRoot() {
	r := rootLinks{links: map[string]string{}}
	if ents, err := os.ReadDir("/"); err == nil {
		for _, de := range ents {
			if de.Type()&os.ModeSymlink == 0 {
				continue
			}
			t, err := os.Readlink("/" + de.Name())
			if err != nil || !plainRelative(t) {
				continue
			}
			r.links[de.Name()] = t
		}
	}
	var st unix.Stat_t
	var sf unix.Statfs_t
	r.procOK = unix.Statfs("/proc", &sf) == nil && sf.Type == procSuperMagic && unix.Stat("/proc", &st) == nil && st.Ino == 1
	rootLinksOnce.v = r
	if unix.Statfs("/", &sf) == nil {
		rootLinksOnce.fs = sf.Type
	} else {
		rootLinksOnce.fs = -1
	}
}

// rootSymlinks returns the root directory's symlinks, read once per
// process: the sandbox cannot change them (the root directory is never
// granted writable by a sane policy, and the lexical walk only decides
// which object is opened, never whether it may be: the grants are checked
// on the path that is walked).
func rootSymlinks() *rootLinks {
	rootLinksOnce.Do(loadRoot)
	return &rootLinksOnce.v
}

// rootFS returns the filesystem type of the root directory.
func rootFS() int64 {
	rootLinksOnce.Do(loadRoot)
	return rootLinksOnce.fs
}

// plainRelative reports whether t is a relative path of plain names.
func plainRelative(t string) bool {
	if t == "" || t[0] == '/' {
		return false
	}
	for _, c := range strings.Split(t, "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}

// diskFS reports whether files of filesystem type t may be opened before
// they are checked: disk filesystems hold regular files and directories,
// and any other object found there is reopened the careful way (finish).
// tmpfs, devtmpfs, procfs, sysfs and the like are excluded: /dev lives on
// them, and a device node may act on open.
func diskFS(t int64) bool {
	switch t {
	case 0xEF53, // ext2/3/4
		0x58465342, // xfs
		0x9123683E, // btrfs
		0x794c7630, // overlayfs
		0xF2F52010, // f2fs
		0x2FC12FC1: // zfs
		return true
	}
	return false
}

var dotPath = []byte(".\x00")

// openFifo opens a FIFO, which blocks until its peer opens it. If the
// child's call goes away meanwhile (the child was killed or interrupted),
// the FIFO is opened for reading and writing once, which releases the
// pending open, so that no supervisor goroutine is left behind.
func openFifo(s *supervisor.Supervisor, n *supervisor.Notif, obj, fl int) (int, unix.Errno) {
	type res struct {
		fd    int
		errno unix.Errno
	}
	self := appendSelfFd(nil, obj)
	ch := make(chan res, 1)
	go func() {
		fd, errno := openatRaw(unix.AT_FDCWD, self, fl, 0)
		ch <- res{fd, errno}
	}()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case r := <-ch:
			return r.fd, r.errno
		case <-t.C:
			if s.Valid(n.ID) {
				continue
			}
			if both, errno := openatRaw(unix.AT_FDCWD, self, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); errno == 0 {
				r := <-ch
				unix.Close(both)
				if r.fd >= 0 {
					unix.Close(r.fd)
				}
				return -1, unix.EINTR
			}
		}
	}
}

// openSlow resolves the path component by component from the child's
// point of view (resolve.go) and then decides like finish; it also
// creates files, through the warden.
func (f *Files) openSlow(s *supervisor.Supervisor, n *supervisor.Notif, e *procindex.Entry, o *openArgs, path []byte) supervisor.Response {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	p := string(path[:len(path)-1])
	isTmp := o.flags&unix.O_TMPFILE == unix.O_TMPFILE
	follow := o.flags&unix.O_NOFOLLOW == 0 && o.flags&(unix.O_CREAT|unix.O_EXCL) != unix.O_CREAT|unix.O_EXCL
	r, errno := resolvePath(&lookup{
		tid: int(n.Pid), tgid: e.Key.Pid, pidfd: e.Pidfd(),
		dirfd: o.dirfd, path: p, follow: follow, resolve: o.resolve, index: f.index,
	})
	if errno != 0 {
		return supervisor.Errno(errno)
	}
	defer r.done()
	if r.obj >= 0 && !isTmp {
		t := fsType(r.obj)
		if t != procSuperMagic && t != sysfsMagic {
			t = 0
		}
		return f.finish(s, n, e, o, r.obj, false, t, nil, nil, sc)
	}
	if isTmp {
		return f.openTmpfile(s, n, e, o, r)
	}
	// The object does not exist.
	parentT := fsType(r.parent)
	var full string
	if pp, _, errno := fdPath(r.parent, sc.link[:]); errno == 0 {
		full = filepath.Join(string(pp), strings.TrimSuffix(r.name, "/"))
	}
	if full != "" {
		if parentT == procSuperMagic || parentT == sysfsMagic {
			if errno := f.procRule([]byte(full), parentT == procSuperMagic); errno != 0 {
				return supervisor.Errno(errno)
			}
		}
		if v := f.virtualFor([]byte(full), nil, parentT == procSuperMagic, parentT == sysfsMagic); v != nil {
			if o.flags&unix.O_PATH != 0 {
				return supervisor.Errno(unix.ENOENT)
			}
			return f.serveVirtual(s, n, o, v)
		}
	}
	if o.flags&unix.O_CREAT == 0 || o.flags&unix.O_PATH != 0 {
		return supervisor.Errno(unix.ENOENT)
	}
	if parentT == procSuperMagic || parentT == sysfsMagic {
		return supervisor.Errno(unix.EACCES)
	}
	if f.isDenied(r.parent) {
		return supervisor.Errno(unix.EACCES)
	}
	umask := f.umaskOf(e, int(n.Pid))
	name, flags, mode := r.name, o.flags, o.mode
	return later(s, n, r.parent, func(s *supervisor.Supervisor, n *supervisor.Notif, parent int) supervisor.Response {
		if !s.Valid(n.ID) {
			return supervisor.Errno(unix.EPERM)
		}
		fd, err := f.wardenRun(func() (int, error) {
			return unix.Openat(parent, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, mode&^umask&0o7777)
		})
		if err != nil {
			return supervisor.Errno(errnoOf(err))
		}
		defer unix.Close(fd)
		if f.isDenied(fd) {
			return supervisor.Errno(unix.EACCES)
		}
		return s.InjectFD(n.ID, fd, flags&unix.O_CLOEXEC != 0)
	})
}

// openTmpfile creates an unnamed file in the directory r.obj (O_TMPFILE).
func (f *Files) openTmpfile(s *supervisor.Supervisor, n *supervisor.Notif, e *procindex.Entry, o *openArgs, r resolved) supervisor.Response {
	if r.obj < 0 {
		return supervisor.Errno(unix.ENOENT)
	}
	if r.inProc || fsType(r.obj) == sysfsMagic {
		return supervisor.Errno(unix.EOPNOTSUPP)
	}
	if f.isDenied(r.obj) {
		return supervisor.Errno(unix.EACCES)
	}
	umask := f.umaskOf(e, int(n.Pid))
	flags, mode := o.flags, o.mode
	return later(s, n, r.obj, func(s *supervisor.Supervisor, n *supervisor.Notif, obj int) supervisor.Response {
		if !s.Valid(n.ID) {
			return supervisor.Errno(unix.EPERM)
		}
		fd, err := f.wardenRun(func() (int, error) {
			return unix.Openat(obj, ".", flags|unix.O_CLOEXEC, mode&^umask&0o7777)
		})
		if err != nil {
			return supervisor.Errno(errnoOf(err))
		}
		defer unix.Close(fd)
		return s.InjectFD(n.ID, fd, flags&unix.O_CLOEXEC != 0)
	})
}

// serveVirtual answers an open of a virtual file with a sealed memfd of
// its current content. Virtual files are read-only.
func (f *Files) serveVirtual(s *supervisor.Supervisor, n *supervisor.Notif, o *openArgs, v Virtual) supervisor.Response {
	if o.flags&unix.O_ACCMODE != unix.O_RDONLY || o.flags&unix.O_TRUNC != 0 {
		return supervisor.Errno(unix.EACCES)
	}
	if o.flags&unix.O_DIRECTORY != 0 {
		return supervisor.Errno(unix.ENOTDIR)
	}
	data, err := v()
	if err != nil {
		return supervisor.Errno(unix.EIO)
	}
	fd, err := sealedMemfd("sandlock-virtual", data)
	if err != nil {
		return supervisor.Errno(errnoOf(err))
	}
	defer unix.Close(fd)
	return s.InjectFD(n.ID, fd, o.flags&unix.O_CLOEXEC != 0)
}

// virtualFor returns the generator of the virtual file at the resolved
// path (or inode, st may be nil), if any. On procfs, /proc/<pid>/x of a
// member is also looked up as /proc/self/x, and /proc/<pid>/net/x and
// /proc/<pid>/mounts as /proc/net/x and /proc/mounts, which are symlinks
// into /proc/self.
func (f *Files) virtualFor(path []byte, st *unix.Stat_t, inProc, inSys bool) Virtual {
	if len(f.virtual) == 0 {
		return nil
	}
	if v, ok := f.virtual[string(path)]; ok {
		return v
	}
	if inProc {
		rest, ok := bytes.CutPrefix(path, []byte("/proc/"))
		if !ok {
			return nil
		}
		head, tail, _ := bytes.Cut(rest, []byte("/"))
		if len(tail) == 0 || !isDigits(head) {
			return nil
		}
		if v, ok := f.virtual["/proc/self/"+string(tail)]; ok {
			return v
		}
		if v, ok := f.virtual["/proc/"+string(tail)]; ok && (bytes.HasPrefix(tail, []byte("net/")) || string(tail) == "mounts") {
			return v
		}
		return nil
	}
	if st != nil && !inSys && len(f.virtIno) > 0 {
		return f.virtIno[devIno{st.Dev, st.Ino}]
	}
	return nil
}

// landlockAllows re-checks, for an open done outside the child's Landlock
// domain, what the domain would decide (core/landlock: readable trees get
// read, list and execute; writable trees every right).
func (f *Files) landlockAllows(path []byte, deleted bool, fsT int64, flags int) bool {
	if len(path) == 0 || path[0] != '/' {
		return true // pipes, sockets, anonymous inodes: not reached by a path
	}
	if deleted && bytes.HasPrefix(path, []byte("/memfd:")) && (fsT == 0 || fsT == tmpfsMagic) {
		return true // a memfd lives on an internal mount Landlock ignores
	}
	write := flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0
	if under(path, f.writable) {
		return true
	}
	return !write && under(path, f.readable)
}

// under reports whether p is one of roots or below one.
func under(p []byte, roots [][]byte) bool {
	for _, r := range roots {
		if len(r) == 1 && r[0] == '/' || hasDirPrefix(p, r) {
			return true
		}
	}
	return false
}

// hasDirPrefix reports whether p is dir or below it.
func hasDirPrefix(p, dir []byte) bool {
	return bytes.HasPrefix(p, dir) && (len(p) == len(dir) || p[len(dir)] == '/')
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// umask keeps the creation mask of the process for on-behalf creations:
// umask(2) cannot fail, so the new mask is known before the kernel applies
// it, and the call goes on.
func (f *Files) umask(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	if e := EnsureMember(f.index, int(n.Pid)); e != nil {
		e.SetUmask(uint32(n.Data.Args[0]))
	}
	return supervisor.Allow
}

// umaskOf returns the creation mask of the process, read once from
// /proc/<tid>/status and then kept up to date by the umask handler.
func (f *Files) umaskOf(e *procindex.Entry, tid int) uint32 {
	if m, ok := e.Umask(); ok {
		return m
	}
	m, err := readUmask(tid)
	if err != nil {
		return 0o022
	}
	e.SetUmask(m)
	return m
}

func readUmask(tid int) (uint32, error) {
	var buf [4096]byte
	fd, err := unix.Open("/proc/"+strconv.Itoa(tid)+"/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil {
		return 0, err
	}
	b := buf[:n]
	i := bytes.Index(b, []byte("\nUmask:"))
	if i < 0 {
		return 0, fmt.Errorf("no Umask line")
	}
	rest := b[i+7:]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	v, err := strconv.ParseUint(string(bytes.TrimSpace(rest)), 8, 32)
	if err != nil {
		return 0, err
	}
	return uint32(v), nil
}

// namesMissingVirtual reports whether the last component of the child's
// path (NUL-terminated) is that of a virtual file missing on the host.
func (f *Files) namesMissingVirtual(path []byte) bool {
	if len(f.virtMissing) == 0 {
		return false
	}
	p := bytes.TrimRight(path[:len(path)-1], "/")
	if i := bytes.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return f.virtMissing[string(p)]
}

// startDir returns an O_PATH fd of the directory a relative path of the
// child starts from: its cwd or its dirfd.
func (f *Files) startDir(e *procindex.Entry, tid int, dirfd int32, sc *scratch) (int, unix.Errno) {
	if dirfd == unix.AT_FDCWD {
		fd, errno := openatRaw(unix.AT_FDCWD, appendProcPath(sc.tmp[:0], tid, "cwd"), unix.O_PATH|unix.O_CLOEXEC, 0)
		if errno != 0 {
			return -1, unix.ESRCH
		}
		return fd, 0
	}
	if dirfd < 0 {
		return -1, unix.EBADF
	}
	fd, err := kernel.PidfdGetfd(e.Pidfd(), int(dirfd))
	if err != nil {
		return -1, unix.EBADF
	}
	return fd, 0
}

// objPath is the path of the object behind our descriptor fd (fdPath).
//
// A descriptor of /proc/self/fd kept open for the life of the host would
// spare the kernel resolving /proc/self/fd on each call (about 1.5 us of
// a relative open), but a C host may close descriptors it does not own
// (close_range before exec, daemon helpers): the number could then name
// another directory and the supervisor would read links, and open files
// for the sandbox, relative to it. Not worth that risk.
func objPath(fd int, buf []byte) ([]byte, bool, unix.Errno) {
	return fdPath(fd, buf)
}

// reopen opens the object behind our O_PATH fd obj with flags fl, through
// its /proc/self/fd link.
func reopen(obj, fl int, sc *scratch) (int, unix.Errno) {
	return openatRaw(unix.AT_FDCWD, appendSelfFd(sc.tmp[:0], obj), fl, 0)
}

func fsType(fd int) int64 {
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) != nil {
		return -1
	}
	return st.Type
}
