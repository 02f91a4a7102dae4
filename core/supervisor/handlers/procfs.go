package handlers

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// /proc and /sys virtualisation, part of the file mediation (files.go).
//
//   - /proc/<pid> of a process outside the sandbox does not exist from
//     inside: opening anything below it fails with ENOENT, whatever the
//     spelling (the decision is taken on the resolved object), and listing
//     /proc shows only the sandbox's processes. stat(2) and access(2) are
//     not mediated, so they can still tell that such a pid exists.
//   - Kernel interfaces that leak or change host state fail with EACCES:
//     the files of sensitiveProc, /sys/firmware, /sys/kernel/security and
//     the network interfaces (/sys/class/net and the net directories of
//     /sys/devices).
//   - Synthetic files (loadavg, uptime, net/dev, net/if_inet6 ...) are
//     virtual files the features register; the process times agree with
//     the synthetic uptime (ProcClock). These files are snapshots taken at
//     open: a reader that keeps the fd and rereads it from offset 0 (top
//     does) sees the same content again.
//   - /proc/mounts, /proc/self/mounts and /proc/self/mountinfo are the
//     kernel's: the sandbox shares the host's mount namespace, so they show
//     the host's mount table, exactly what the host itself sees (not more).

// sensitiveProc are the entries of the /proc root that are refused, with
// everything below them.
var sensitiveProc = map[string]bool{
	"kcore": true, "kmsg": true, "kallsyms": true, "keys": true, "key-users": true,
	"sysrq-trigger": true, "kpagecount": true, "kpageflags": true, "kpagecgroup": true,
	"timer_list": true, "sched_debug": true,
}

// sensitiveSys are the sysfs trees that are refused.
var sensitiveSys = [][]byte{
	[]byte("/sys/firmware"), []byte("/sys/kernel/security"), []byte("/sys/class/net"),
	[]byte("/sys/kernel/debug"),
}

// procRule decides on a resolved path on procfs (inProc) or sysfs.
func (f *Files) procRule(p []byte, inProc bool) unix.Errno {
	if !inProc {
		for _, d := range sensitiveSys {
			if hasDirPrefix(p, d) {
				return unix.EACCES
			}
		}
		// Network interfaces under /sys/devices/.../net/<if>.
		if hasDirPrefix(p, []byte("/sys/devices")) && (bytes.Contains(p, []byte("/net/")) || bytes.HasSuffix(p, []byte("/net"))) {
			return unix.EACCES
		}
		return 0
	}
	rest, ok := bytes.CutPrefix(p, []byte("/proc"))
	if !ok || len(rest) > 0 && rest[0] != '/' {
		return unix.EACCES // a procfs mounted elsewhere
	}
	if len(rest) <= 1 {
		return 0 // the root
	}
	head, _, _ := bytes.Cut(rest[1:], []byte("/"))
	if isDigits(head) {
		pid, err := strconv.Atoi(string(head))
		if err != nil || !member(f.index, pid) {
			return unix.ENOENT
		}
		return 0
	}
	if sensitiveProc[string(head)] {
		return unix.EACCES
	}
	return 0
}

// member reports whether pid (a process or thread id) belongs to the
// sandbox, looking for newly created children once before saying no.
func member(ix *procindex.Index, pid int) bool {
	if ix == nil {
		return false
	}
	if ix.Lookup(pid) != nil {
		return true
	}
	ix.Discover()
	return ix.Lookup(pid) != nil
}

// getdents performs getdents64 (and the legacy getdents) on behalf of the
// child, on a duplicate of its fd (same open file description, so the
// directory position moves as if the child had read). On the procfs root
// the numeric entries of processes outside the sandbox are dropped.
// Performing the call, rather than continuing it after a look at the fd,
// leaves no window in which another thread could put a /proc fd in place.
func (f *Files) getdents(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	e := EnsureMember(f.index, int(n.Pid))
	if e == nil {
		return supervisor.Errno(unix.EPERM)
	}
	a := n.Data.Args
	fdArg := int32(uint32(a[0]))
	if fdArg < 0 {
		return supervisor.Errno(unix.EBADF)
	}
	count := int(uint32(a[2]))
	dup, err := kernel.PidfdGetfd(e.Pidfd(), int(fdArg))
	if err != nil {
		return supervisor.Errno(unix.EBADF)
	}
	defer unix.Close(dup)
	bp := direntPool.Get().(*[direntBuf]byte)
	defer direntPool.Put(bp)
	buf := bp[:min(count, direntBuf)]
	legacy := f.kind(n.Data.Nr) == opGetdents
	nr := uintptr(unix.SYS_GETDENTS64)
	if legacy {
		nr = unix.SYS_GETDENTS
	}
	proc := fsType(dup) == procSuperMagic && isProcRoot(dup)
	if proc {
		f.index.Discover()
	}
	for {
		var got int
		if len(buf) == 0 {
			return supervisor.Errno(unix.EINVAL)
		}
		r, _, en := unix.Syscall(nr, uintptr(dup), uintptrOf(buf), uintptr(len(buf)))
		if en != 0 {
			return supervisor.Errno(en)
		}
		got = int(r)
		if proc && got > 0 {
			kept := filterProcDirents(buf[:got], legacy, f.index)
			if kept == 0 {
				continue // every entry of this chunk was hidden: read on
			}
			got = kept
		}
		if !s.Valid(n.ID) {
			return supervisor.Errno(unix.EPERM)
		}
		if err := writeMem(int(n.Pid), a[1], buf[:got]); err != nil {
			return supervisor.Errno(unix.EFAULT)
		}
		return supervisor.Value(int64(got))
	}
}

const direntBuf = 64 << 10

var direntPool = sync.Pool{New: func() any { return new([direntBuf]byte) }}

// filterProcDirents compacts buf to the records whose name is not a pid
// outside the sandbox and returns the new length. The layouts:
// linux_dirent64 {u64 ino; s64 off; u16 reclen; u8 type; char name[]} and
// linux_dirent {ulong ino; ulong off; u16 reclen; char name[]; ... type}.
func filterProcDirents(buf []byte, legacy bool, ix *procindex.Index) int {
	nameAt := 19
	if legacy {
		nameAt = 18
	}
	out := 0
	for off := 0; off+nameAt <= len(buf); {
		reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
		if reclen == 0 || off+reclen > len(buf) {
			break
		}
		name := buf[off+nameAt : off+reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		keep := true
		if isDigits(name) {
			pid, err := strconv.Atoi(string(name))
			keep = err == nil && ix.Has(pid)
		}
		if keep {
			copy(buf[out:], buf[off:off+reclen])
			out += reclen
		}
		off += reclen
	}
	return out
}

// LoadAvg is the synthetic /proc/loadavg of one sandbox: exponentially
// weighted averages of its number of live processes over 1, 5 and 15
// minutes, sampled every 5 seconds like the kernel's.
type LoadAvg struct {
	mu    sync.Mutex
	load  [3]float64
	stop  chan struct{}
	done  chan struct{}
	index *procindex.Index
}

// loadEvery is the sampling period, as the kernel's LOAD_FREQ.
const loadEvery = 5 * time.Second

// NewLoadAvg returns an unstarted sampler.
func NewLoadAvg() *LoadAvg { return &LoadAvg{} }

// Start samples ix until Stop.
func (l *LoadAvg) Start(ix *procindex.Index) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stop != nil {
		return
	}
	l.index = ix
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	// The goroutine gets its own copies: Stop clears the fields.
	go l.run(l.stop, l.done)
}

func (l *LoadAvg) run(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(loadEvery)
	defer t.Stop()
	l.sample()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			l.sample()
		}
	}
}

func (l *LoadAvg) sample() {
	n := float64(l.index.LiveCount())
	l.mu.Lock()
	for i, period := range [3]float64{60, 300, 900} {
		decay := math.Exp(-loadEvery.Seconds() / period)
		l.load[i] = l.load[i]*decay + n*(1-decay)
	}
	l.mu.Unlock()
}

// Stop ends the sampling.
func (l *LoadAvg) Stop() {
	l.mu.Lock()
	stop, done := l.stop, l.done
	l.stop = nil
	l.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// Content renders /proc/loadavg: the three averages, running/total
// processes of the sandbox and the highest pid in it.
func (l *LoadAvg) Content() []byte {
	l.mu.Lock()
	load := l.load
	ix := l.index
	l.mu.Unlock()
	total, last := 0, 0
	if ix != nil {
		pids := ix.Pids()
		total = len(pids)
		for _, p := range pids {
			last = max(last, p)
		}
	}
	return fmt.Appendf(nil, "%.2f %.2f %.2f %d/%d %d\n", load[0], load[1], load[2], min(1, total), total, last)
}

// ProcClock moves the origin of the process times /proc shows to the
// start of the sandbox, so that the synthetic /proc/uptime and the start
// times of the sandbox's processes agree (ps computes a process's age as
// the uptime minus its start time): /proc/uptime counts from the sandbox's
// first process, field 22 (starttime) of /proc/<pid>/stat and
// /proc/<pid>/task/<tid>/stat counts from the same origin, and the btime
// line of /proc/stat (the boot time in seconds since the epoch) is moved
// to it.
type ProcClock struct {
	start uint64 // clock ticks since boot at the sandbox's start
	cpus  int
}

// userHZ is USER_HZ, the unit of the times in /proc (100 on every
// architecture Linux exports to user space).
const userHZ = 100

// NewProcClock returns the clock of a sandbox whose first process started
// at startTicks (its PidKey.Start) and that sees cpus processors.
func NewProcClock(startTicks uint64, cpus int) *ProcClock {
	return &ProcClock{start: startTicks, cpus: max(cpus, 1)}
}

// Uptime renders /proc/uptime: the sandbox's age in seconds, and the idle
// time of its processors over that age (the sandbox's processes are the
// only load it knows of, so it reports none).
func (c *ProcClock) Uptime() ([]byte, error) {
	b, err := readFileSmall("/proc/uptime")
	if err != nil {
		return nil, err
	}
	var up float64
	if _, err := fmt.Sscanf(string(b), "%f", &up); err != nil {
		return nil, err
	}
	up = max(up-float64(c.start)/userHZ, 0)
	return fmt.Appendf(nil, "%.2f %.2f\n", up, up*float64(c.cpus)), nil
}

// rewrite returns the content the child sees for the procfs file at the
// resolved path p, or nil when the file is shown as it is.
func (c *ProcClock) rewrite(p []byte, obj int) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	rest, ok := bytes.CutPrefix(p, []byte("/proc/"))
	if !ok {
		return nil, false
	}
	parts := bytes.Split(rest, []byte("/"))
	switch {
	case len(parts) == 1 && string(parts[0]) == "stat":
		return c.rewriteFile(obj, false, c.procStat)
	case len(parts) == 2 && isDigits(parts[0]) && string(parts[1]) == "stat",
		len(parts) == 4 && isDigits(parts[0]) && string(parts[1]) == "task" && isDigits(parts[2]) && string(parts[3]) == "stat":
		return c.rewriteFile(obj, true, c.pidStat)
	}
	return nil, false
}

// rewriteFile reads the file behind obj (an fd opened for reading, or an
// O_PATH fd) from its start and transforms it. A line file (a task's stat,
// well under a page) is read in one call: each read of a procfs file
// generates it anew.
func (c *ProcClock) rewriteFile(obj int, line bool, fn func([]byte) []byte) ([]byte, bool) {
	fd := obj
	if fl, err := unix.FcntlInt(uintptr(obj), unix.F_GETFL, 0); err != nil || fl&unix.O_PATH != 0 {
		if fd, err = unix.Open(selfFd(obj), unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return nil, false
		}
		defer unix.Close(fd)
	}
	out := make([]byte, 0, 4096)
	for {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		n, err := unix.Pread(fd, out[len(out):cap(out)], int64(len(out)))
		if err != nil {
			return nil, false
		}
		if n == 0 {
			break
		}
		out = out[:len(out)+n]
		if line && len(out) < cap(out) {
			break
		}
	}
	return fn(out), true
}

// procStat moves the btime line of /proc/stat.
func (c *ProcClock) procStat(b []byte) []byte {
	i := bytes.Index(b, []byte("\nbtime "))
	if i < 0 {
		return b
	}
	j := bytes.IndexByte(b[i+1:], '\n')
	if j < 0 {
		return b
	}
	v, err := strconv.ParseInt(string(b[i+7:i+1+j]), 10, 64)
	if err != nil {
		return b
	}
	out := append([]byte(nil), b[:i+7]...)
	out = strconv.AppendInt(out, v+int64(c.start/userHZ), 10)
	return append(out, b[i+1+j:]...)
}

// pidStat moves field 22 (starttime) of /proc/<pid>/stat; fields are
// counted after the command name, which ends at the last ") ".
func (c *ProcClock) pidStat(b []byte) []byte {
	i := bytes.LastIndex(b, []byte(") "))
	if i < 0 {
		return b
	}
	// Field 3 starts at i+2; field 22 is the 20th from there.
	pos := i + 2
	for f := 3; f < 22; f++ {
		sp := bytes.IndexByte(b[pos:], ' ')
		if sp < 0 {
			return b
		}
		pos += sp + 1
	}
	end := bytes.IndexByte(b[pos:], ' ')
	if end < 0 {
		return b
	}
	v, err := strconv.ParseUint(string(b[pos:pos+end]), 10, 64)
	if err != nil {
		return b
	}
	if v >= c.start {
		v -= c.start
	} else {
		v = 0
	}
	out := append([]byte(nil), b[:pos]...)
	out = strconv.AppendUint(out, v, 10)
	return append(out, b[pos+end:]...)
}

func readFileSmall(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var buf [256]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), buf[:n]...), nil
}

// NetDev is /proc/net/dev with the loopback interface only.
func NetDev() []byte {
	return []byte("Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
		"    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n")
}

// IfInet6 is /proc/net/if_inet6 with ::1 on lo only.
func IfInet6() []byte {
	return []byte("00000000000000000000000000000001 01 80 10 80       lo\n")
}
