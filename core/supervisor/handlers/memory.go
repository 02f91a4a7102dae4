package handlers

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// Memory enforces max_memory: a budget of memory the sandbox's processes
// can touch, summed over all of them.
//
// # What is charged
//
// The measure is the kernel's own: for each process, the data field of
// /proc/<pid>/statm, which is mm->data_vm + mm->stack_vm (fs/proc/task_mmu.c
// task_statm). data_vm counts every private writable mapping that is not a
// stack (mm/mmap.c vm_stat_account, is_data_mapping): anonymous memory,
// brk, thread stacks, and MAP_PRIVATE file mappings made writable (their
// pages become anonymous copies when written). It does not count
// PROT_NONE or read-only reservations (Go and Java reserve gigabytes that
// way, sandlock#222) until mprotect or mmap(MAP_FIXED) makes them
// writable, nor shared or read-only file mappings (page cache). Because the
// kernel keeps the number, munmap needs no bookkeeping (it is not even
// notified), an exec starts from the new image, a fork child starts with
// a copy of its parent's count (its copy-on-write pages are not touched
// yet, but can be), and an exited process simply stops being summed.
// Shared anonymous mappings (mmap MAP_SHARED|MAP_ANONYMOUS, which data_vm
// leaves out) are charged too, once per shared object however many
// processes map it, from /proc/<pid>/maps.
//
// # How it is enforced
//
// The calls that can grow the measure are notified: mmap, mremap, brk,
// mprotect and pkey_mprotect when they ask for write access, and fork and
// clone without CLONE_VM (the child's copy). Their arguments are registers,
// so deciding on them and continuing the call is safe. The handler reads
// the caller's statm (one pread on a kept fd, no allocation) and admits the
// call when current usage, plus the calls admitted but perhaps not yet run,
// plus the call's growth fits the budget; otherwise it recomputes
// everything exactly (every member's statm, the exact growth from
// /proc/<pid>/maps, finished calls dropped) and answers ENOMEM if the call
// still does not fit (brk answers the current break, which is how the
// kernel reports a refused brk). A per-process RLIMIT_DATA equal to the
// budget, set by the sandbox, is a kernel-side backstop for each process.
//
// A watchdog re-measures the sandbox periodically; usage found above the
// budget by more than overrunSlack (growth the supervisor cannot see:
// stack pages, a bss mapped by execve in several processes) makes it call
// OnOverrun, which kills the sandbox.
//
// Not covered (the memory is not a mapping of the process): tmpfs and
// /dev/shm files, memfd_create contents, pipe and socket buffers, kernel
// memory. SysV shared memory is denied by the default filter (shmget); a
// policy that re-allows it is not accounted either.
type Memory struct {
	// Index is the sandbox's process index.
	Index *procindex.Index
	// OnOverrun is called, without locks held, when usage measured after
	// the fact exceeds the budget by more than the slack. It runs at most
	// once.
	OnOverrun func()

	mu       sync.Mutex
	limit    uint64
	procs    map[*procindex.Entry]*memProc
	pending  []memPending
	data     uint64 // sum of the records' data
	shared   uint64 // shared anonymous objects, counted once each
	held     uint64 // sum of the pending charges
	needSync bool   // a fork finished: its child must be measured
	// killFloor is what usage is compared with (plus the slack) before
	// the sandbox is killed: the budget, or what the sandbox already held
	// when a lower budget was set at run time (SetLimit).
	killFloor uint64
	overrun   bool
	closed    bool
	buf       []byte            // /proc/<pid>/maps contents, reused
	segs      map[uint64]uint64 // scratch: shared object inode -> bytes
	page      uint64
	self      int
}

// memProc is the accounting of one process.
type memProc struct {
	e     *procindex.Entry
	statm int    // fd of /proc/<pid>/statm, or -1
	stat  int    // fd of /proc/<pid>/stat (start_brk), opened on first brk
	data  uint64 // data_vm+stack_vm at the last read, 0 while sharing an mm
	// sharesMM: the process was created with CLONE_VM and has not exec'd,
	// so its address space is its parent's (or the host's, for the child
	// stub before exec) and is already counted there.
	sharesMM bool
	// brk is the break the process last asked for (page-aligned it is the
	// heap's end), valid while startBrk matches /proc/<pid>/stat; a new
	// start_brk means an exec.
	brk, startBrk uint64
	// shm lists the shared anonymous objects the process maps, from the
	// last scan; hasShm is set once it maps one.
	shm    []shmSeg
	hasShm bool
}

type shmSeg struct{ ino, bytes uint64 }

// Kinds of charge.
const (
	chargeData   = iota // private writable memory (data_vm)
	chargeShared        // shared anonymous memory
	chargeFork          // a fork child's copy of its parent
)

// memPending is a call that was admitted and continued and may not have
// run yet: its growth is not in the statm read so far.
type memPending struct {
	tid   int
	nr    int
	kind  uint8
	bytes uint64
	at    time.Time
}

// overrunSlack is how far measured usage may exceed the budget, through
// growth no syscall announces (stack pages, bss mapped by execve), before
// the sandbox is killed.
func overrunSlack(limit uint64) uint64 {
	const min = 16 << 20
	if s := limit / 8; s > min {
		return s
	}
	return min
}

// NewMemory returns the accounting for a budget of limit bytes.
func NewMemory(ix *procindex.Index, limit uint64) *Memory {
	return &Memory{
		Index:     ix,
		limit:     limit,
		killFloor: limit,
		procs:     make(map[*procindex.Entry]*memProc),
		segs:      make(map[uint64]uint64),
		page:      uint64(unix.Getpagesize()),
		self:      unix.Getpid(),
	}
}

// Register installs the handlers. lookup resolves syscall names; names the
// architecture lacks (fork, vfork on arm64) are skipped.
func (m *Memory) Register(s *supervisor.Supervisor, lookup func(string) (int, bool)) {
	for name, h := range map[string]supervisor.Handler{
		"mmap": m.mmap, "mremap": m.mremap, "brk": m.brk,
		"mprotect": m.mprotect, "pkey_mprotect": m.mprotect,
		"fork": m.fork, "vfork": m.fork, "clone": m.fork,
	} {
		if nr, ok := lookup(name); ok {
			s.Handle(nr, h)
		}
	}
}

// Limit returns the budget in bytes.
func (m *Memory) Limit() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.limit
}

// SetLimit changes the budget of a running sandbox (policy_fn's
// restrict_max_memory and grant_max_memory); it applies to the next call.
// Lowering it below what the sandbox holds refuses further growth but is
// not an overrun: nothing is killed for memory held before.
func (m *Memory) SetLimit(limit uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.limit = limit
	m.killFloor = limit
	if !m.closed {
		m.sync()
		m.killFloor = max(limit, m.data+m.shared)
	}
}

// Usage measures the sandbox now (exactly, like the slow path) and returns
// the budget, the bytes charged against it, and the part of those that is
// shared anonymous memory.
func (m *Memory) Usage() (limit, used, shared uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.sync()
	}
	return m.limit, m.used(), m.shared
}

// Check re-measures the sandbox and calls OnOverrun if usage exceeds the
// budget by more than the slack; the watchdog calls it periodically.
func (m *Memory) Check() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.sync()
	fire := m.takeOverrun()
	m.mu.Unlock()
	if fire != nil {
		fire()
	}
}

// takeOverrun returns OnOverrun the first time measured usage exceeds the
// budget plus slack. Called with m.mu held.
func (m *Memory) takeOverrun() func() {
	if m.overrun || m.OnOverrun == nil || m.data+m.shared <= m.killFloor+overrunSlack(m.limit) {
		return nil
	}
	m.overrun = true
	return m.OnOverrun
}

// Forget drops the record of a process that exited (procindex OnExit):
// what it had is credited at once.
func (m *Memory) Forget(e *procindex.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := m.procs[e]; p != nil {
		m.drop(p)
	}
}

// Close releases every record.
func (m *Memory) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.procs {
		m.drop(p)
	}
	m.pending = nil
	m.held = 0
	m.closed = true
}

func (m *Memory) used() uint64 { return m.data + m.shared + m.held }

// fits reports whether bytes more fit the budget (without overflowing on
// a huge length). Called with m.mu held.
func (m *Memory) fits(bytes uint64) bool {
	u := m.used()
	return u <= m.limit && bytes <= m.limit-u
}

// rangeEnd returns addr+length, saturated.
func rangeEnd(addr, length uint64) uint64 {
	if addr > ^uint64(0)-length {
		return ^uint64(0)
	}
	return addr + length
}

func (m *Memory) pageAlign(v uint64) uint64 {
	if v > ^uint64(0)-m.page {
		return ^uint64(0) &^ (m.page - 1)
	}
	return (v + m.page - 1) &^ (m.page - 1)
}

// mmap(addr, length, prot, flags, fd, offset).
func (m *Memory) mmap(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	prot, flags := n.Data.Args[2], n.Data.Args[3]
	if prot&unix.PROT_WRITE == 0 {
		// Untouchable, or readable only: reads of untouched anonymous
		// memory map the zero page.
		return supervisor.Next
	}
	kind := chargeData
	switch flags & 0x0f { // MAP_TYPE
	case unix.MAP_SHARED, unix.MAP_SHARED_VALIDATE:
		if flags&unix.MAP_ANONYMOUS == 0 {
			return supervisor.Next // file memory: the page cache
		}
		kind = chargeShared
	}
	return m.charge(s, n, uint8(kind), m.pageAlign(n.Data.Args[1]))
}

// mremap(old_address, old_size, new_size, flags, new_address).
func (m *Memory) mremap(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	oldSize, newSize := m.pageAlign(n.Data.Args[1]), m.pageAlign(n.Data.Args[2])
	grow := uint64(0)
	switch {
	case n.Data.Args[3]&unix.MREMAP_DONTUNMAP != 0 || oldSize == 0:
		// The old mapping stays (DONTUNMAP), or a shared mapping is
		// duplicated (old_size 0): the new one is all growth.
		grow = newSize
	case newSize > oldSize:
		grow = newSize - oldSize
	}
	if grow == 0 {
		return supervisor.Next
	}
	return m.charge(s, n, chargeData, grow)
}

// brk(addr).
func (m *Memory) brk(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	if n.Data.Args[0] == 0 {
		return supervisor.Next // a query
	}
	return m.charge(s, n, chargeData, 0) // growth computed under the lock
}

// mprotect(addr, len, prot) and pkey_mprotect(addr, len, prot, pkey).
func (m *Memory) mprotect(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	if n.Data.Args[2]&unix.PROT_WRITE == 0 {
		return supervisor.Next // removing write access only shrinks data_vm
	}
	return m.charge(s, n, chargeData, m.pageAlign(n.Data.Args[1]))
}

// fork, vfork, clone(flags, ...): a child without CLONE_VM gets a copy of
// the caller's memory.
func (m *Memory) fork(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	switch int(n.Data.Nr) {
	case sysFork:
	case unix.SYS_CLONE:
		if n.Data.Args[0]&unix.CLONE_VM != 0 {
			return supervisor.Next
		}
	default: // vfork shares the address space until exec
		return supervisor.Next
	}
	return m.charge(s, n, chargeFork, 0) // the caller's size, under the lock
}

// charge admits a call whose growth is bytes (brk and fork: computed here)
// or refuses it with ENOMEM.
func (m *Memory) charge(s *supervisor.Supervisor, n *supervisor.Notif, kind uint8, bytes uint64) supervisor.Response {
	tid := int(n.Pid)
	e := EnsureMember(m.Index, tid)
	if e == nil {
		return m.refuse(n, nil)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return m.refuse(n, nil)
	}
	p := m.procs[e]
	if p == nil {
		p = m.track(e)
		// The record's fds name the process by pid: make sure the caller,
		// hence its pid, was still alive after they were opened.
		if !s.Valid(n.ID) {
			m.drop(p)
			return m.refuse(n, nil)
		}
	}
	// A thread makes one syscall at a time: its earlier calls are done
	// and show in the measurements below.
	if m.dropTid(tid) {
		m.scanShared(p)
		m.recountShared()
	}
	m.read(p)
	nr := int(n.Data.Nr)
	switch {
	case nr == unix.SYS_BRK:
		bytes = m.brkGrowth(p, n.Data.Args[0])
	case kind == chargeFork:
		bytes = p.data
	}
	if !m.fits(bytes) && (kind == chargeFork || bytes > 0) {
		// Slow path: measure everything, and this call exactly.
		m.sync()
		if exact, ok := m.exactGrowth(p, n, kind); ok {
			bytes = exact
		}
		if !m.fits(bytes) {
			return m.refuse(n, p)
		}
	}
	if nr == unix.SYS_BRK {
		p.brk = n.Data.Args[0]
	}
	if kind == chargeShared {
		p.hasShm = true
	}
	if bytes > 0 || kind == chargeFork {
		m.pending = append(m.pending, memPending{tid: tid, nr: nr, kind: kind, bytes: bytes, at: time.Now()})
		m.held += bytes
	}
	return supervisor.Next
}

// refuse answers a call that does not fit: ENOMEM, or for brk the current
// break (the kernel's way of refusing brk; glibc and musl compare it with
// what they asked for). Called with m.mu held when p is non-nil.
func (m *Memory) refuse(n *supervisor.Notif, p *memProc) supervisor.Response {
	if int(n.Data.Nr) == unix.SYS_BRK && p != nil {
		if cur, ok := m.currentBrk(p); ok {
			return supervisor.Value(int64(cur))
		}
	}
	return supervisor.Errno(unix.ENOMEM)
}

// track creates the record of a process. Called with m.mu held.
func (m *Memory) track(e *procindex.Entry) *memProc {
	p := &memProc{e: e, statm: -1, stat: -1}
	pid := e.Key.Pid
	if fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/statm", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		p.statm = fd
	}
	p.sharesMM = m.sameMM(pid, e.PPid)
	m.procs[e] = p
	return p
}

// sameMM reports whether pid still runs in the address space of its
// parent (a member) or of the supervisor's own process (the child stub
// before exec is a CLONE_VM child of the host).
func (m *Memory) sameMM(pid, ppid int) bool {
	if kcmpVM(pid, m.self) {
		return true
	}
	return ppid > 0 && m.Index.Has(ppid) && kcmpVM(pid, ppid)
}

// kcmpVMType is KCMP_VM from <linux/kcmp.h> (Linux 3.5).
const kcmpVMType = 1

// kcmpVM reports whether two processes share one mm (kcmp(2) KCMP_VM).
func kcmpVM(a, b int) bool {
	r, _, e := unix.Syscall6(unix.SYS_KCMP, uintptr(a), uintptr(b), kcmpVMType, 0, 0, 0)
	return e == 0 && r == 0
}

// drop removes a record and credits what it held. Called with m.mu held.
func (m *Memory) drop(p *memProc) {
	m.data -= p.data
	p.data = 0
	if p.statm >= 0 {
		unix.Close(p.statm)
		p.statm = -1
	}
	if p.stat >= 0 {
		unix.Close(p.stat)
		p.stat = -1
	}
	if p.hasShm {
		p.shm = p.shm[:0]
		m.recountShared()
	}
	delete(m.procs, p.e)
}

// dropTid settles the pending calls of thread tid, which has come back for
// another one. A settled fork leaves a child to measure; it reports whether
// a shared mapping was settled, which the caller must rescan. Called with
// m.mu held.
func (m *Memory) dropTid(tid int) (shared bool) {
	out := m.pending[:0]
	for _, c := range m.pending {
		if c.tid == tid {
			m.held -= c.bytes
			switch c.kind {
			case chargeFork:
				m.needSync = true
			case chargeShared:
				shared = true
			}
			continue
		}
		out = append(out, c)
	}
	m.pending = out
	if m.needSync {
		m.syncMembers()
	}
	return shared
}

// read refreshes p.data from /proc/<pid>/statm. Called with m.mu held.
func (m *Memory) read(p *memProc) {
	var v uint64
	if p.sharesMM && !m.sameMM(p.e.Key.Pid, p.e.PPid) {
		p.sharesMM = false // it exec'd
	}
	if !p.sharesMM && p.statm >= 0 {
		var b [160]byte
		if n, err := unix.Pread(p.statm, b[:], 0); err == nil {
			if pages, ok := statmData(b[:n]); ok {
				v = pages * m.page
			}
		}
	}
	m.data += v - p.data
	p.data = v
}

// statmData returns field 6 (data, in pages) of /proc/<pid>/statm.
func statmData(b []byte) (uint64, bool) {
	field := 0
	var v uint64
	in := false
	for _, c := range b {
		if c >= '0' && c <= '9' {
			if !in {
				field++
				in = true
				v = 0
			}
			v = v*10 + uint64(c-'0')
			continue
		}
		if in && field == 6 {
			return v, true
		}
		in = false
	}
	if in && field == 6 {
		return v, true
	}
	return 0, false
}

// syncMembers gives every member of the index a measured record (fork
// children that have not made a memory call yet). Called with m.mu held.
func (m *Memory) syncMembers() {
	m.needSync = false
	m.Index.Discover()
	for _, pid := range m.Index.Pids() {
		e := m.Index.Lookup(pid)
		if e == nil || m.procs[e] != nil {
			continue
		}
		p := m.track(e)
		// The pidfd pins the identity: if the process is gone the fd may
		// name a recycled pid.
		if r, _ := pollIn(e.Pidfd()); r != 0 {
			m.drop(p)
			continue
		}
		m.read(p)
		// A fork child maps its parent's shared objects too: it keeps
		// them charged once the parent is gone.
		if !m.Index.Has(e.PPid) {
			continue
		}
		if parent := m.Index.Lookup(e.PPid); parent != nil && m.procs[parent] != nil && m.procs[parent].hasShm {
			p.hasShm = true
			m.scanShared(p)
			m.recountShared()
		}
	}
}

// sync measures the whole sandbox exactly: calls that have finished are
// settled, new members are measured, every record is re-read and exited
// processes are credited. Called with m.mu held.
func (m *Memory) sync() {
	// Settle first, measure second: a call that finished before the
	// measurement is in it.
	out := m.pending[:0]
	for _, c := range m.pending {
		if syscallInFlight(c.tid, c.nr, c.at) {
			out = append(out, c)
			continue
		}
		m.held -= c.bytes
	}
	m.pending = out
	m.syncMembers()
	for e, p := range m.procs {
		select {
		case <-e.Exited():
			m.drop(p)
			continue
		default:
		}
		m.read(p)
		if p.hasShm {
			m.scanShared(p)
		}
	}
	m.recountShared()
}

// syscallInFlight reports whether thread tid may still be inside syscall
// nr: /proc/<tid>/syscall names the syscall a blocked task is in, or says
// "running"; a running thread gets a short grace period.
func syscallInFlight(tid, nr int, at time.Time) bool {
	var buf [64]byte
	fd, err := unix.Open("/proc/"+strconv.Itoa(tid)+"/syscall", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false // thread gone
	}
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil || n == 0 {
		return false
	}
	b := buf[:n]
	if b[0] < '0' || b[0] > '9' {
		return time.Since(at) < 20*time.Millisecond
	}
	cur := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		cur = cur*10 + int(c-'0')
	}
	return cur == nr
}

// readMaps loads /proc/<pid>/maps into m.buf. Called with m.mu held.
func (m *Memory) readMaps(pid int) ([]byte, bool) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/maps", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	if m.buf == nil {
		m.buf = make([]byte, 0, 64<<10)
	}
	b := m.buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
	}
	m.buf = b
	return b, true
}

// vma is one line of /proc/<pid>/maps.
type vma struct {
	start, end uint64
	perms      [4]byte
	ino        uint64
	name       []byte
}

// counted reports whether the kernel counts the mapping in statm's data
// field: private and writable (data_vm, or stack_vm for a stack).
func (v *vma) counted() bool { return v.perms[1] == 'w' && v.perms[3] == 'p' }

// sharedAnon reports whether the mapping is writable shared anonymous
// memory: shmem objects from mmap(MAP_SHARED|MAP_ANONYMOUS), which maps
// calls "/dev/zero (deleted)" ("/anon_hugepage (deleted)" with
// MAP_HUGETLB) or "[anon_shmem:name]" once named.
func (v *vma) sharedAnon() bool {
	if v.perms[1] != 'w' || v.perms[3] != 's' {
		return false
	}
	return bytes.Equal(v.name, []byte("/dev/zero (deleted)")) || bytes.Equal(v.name, []byte("/anon_hugepage (deleted)")) ||
		bytes.HasPrefix(v.name, []byte("[anon_shmem:"))
}

// nextVMA parses the first line of b into v and returns the rest.
func nextVMA(b []byte, v *vma) (rest []byte, ok bool) {
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line, rest = b[:i], b[i+1:]
	}
	// start-end perms offset dev inode [name]
	var f [6][]byte
	nf := 0
	for nf < 5 {
		for len(line) > 0 && line[0] == ' ' {
			line = line[1:]
		}
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			f[nf] = line
			line = nil
			nf++
			break
		}
		f[nf], line = line[:i], line[i:]
		nf++
	}
	if nf < 5 || len(f[1]) < 4 {
		return rest, false
	}
	for len(line) > 0 && line[0] == ' ' {
		line = line[1:]
	}
	dash := bytes.IndexByte(f[0], '-')
	if dash < 0 {
		return rest, false
	}
	var okA, okB, okI bool
	v.start, okA = parseHex(f[0][:dash])
	v.end, okB = parseHex(f[0][dash+1:])
	v.ino, okI = parseDec(f[4])
	copy(v.perms[:], f[1][:4])
	v.name = line
	return rest, okA && okB && okI
}

func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

func parseDec(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// rangeStats sums, over [lo, hi), the bytes mapped at all and the bytes
// the kernel counts as data.
func rangeStats(maps []byte, lo, hi uint64) (mapped, counted uint64) {
	var v vma
	for len(maps) > 0 {
		var ok bool
		maps, ok = nextVMA(maps, &v)
		if !ok || v.end <= lo || v.start >= hi {
			continue
		}
		a, b := max(v.start, lo), min(v.end, hi)
		mapped += b - a
		if v.counted() {
			counted += b - a
		}
	}
	return mapped, counted
}

// vmaAt returns the mapping that contains addr.
func vmaAt(maps []byte, addr uint64) (vma, bool) {
	var v vma
	for len(maps) > 0 {
		var ok bool
		maps, ok = nextVMA(maps, &v)
		if ok && v.start <= addr && addr < v.end {
			return v, true
		}
	}
	return vma{}, false
}

// exactGrowth computes, from /proc/<pid>/maps, how much the call would
// really add: the fast path assumes the worst (an mprotect of memory
// already writable, a MAP_FIXED over counted memory, a mremap of a
// mapping that is not counted). Called with m.mu held after sync.
func (m *Memory) exactGrowth(p *memProc, n *supervisor.Notif, kind uint8) (uint64, bool) {
	a := &n.Data.Args
	nr := int(n.Data.Nr)
	if kind == chargeFork {
		return p.data, true
	}
	if nr == unix.SYS_BRK {
		cur, ok := m.currentBrk(p)
		if !ok {
			return 0, false
		}
		if want := m.pageAlign(a[0]); want > m.pageAlign(cur) {
			return want - m.pageAlign(cur), true
		}
		return 0, true
	}
	maps, ok := m.readMaps(p.e.Key.Pid)
	if !ok {
		return 0, false
	}
	switch nr {
	case unix.SYS_MMAP:
		length := m.pageAlign(a[1])
		if a[3]&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) == 0 || kind != chargeData {
			return length, true
		}
		// MAP_FIXED replaces what was there.
		_, counted := rangeStats(maps, a[0], rangeEnd(a[0], length))
		return length - counted, true
	case unix.SYS_MPROTECT, unix.SYS_PKEY_MPROTECT:
		lo := a[0]
		hi := rangeEnd(lo, m.pageAlign(a[1]))
		var v vma
		grow := uint64(0)
		for rest := maps; len(rest) > 0; {
			var ok bool
			rest, ok = nextVMA(rest, &v)
			if !ok || v.end <= lo || v.start >= hi || v.perms[3] != 'p' || v.counted() {
				continue
			}
			grow += min(v.end, hi) - max(v.start, lo)
		}
		return grow, true
	case unix.SYS_MREMAP:
		v, ok := vmaAt(maps, a[0])
		if !ok {
			return 0, true // the kernel will fail it with EFAULT
		}
		if !v.counted() && !v.sharedAnon() {
			return 0, true
		}
		oldSize, newSize := m.pageAlign(a[1]), m.pageAlign(a[2])
		switch {
		case a[3]&unix.MREMAP_DONTUNMAP != 0:
			return newSize, true
		case oldSize == 0:
			return 0, true // a second view of the same shared object
		case newSize > oldSize:
			return newSize - oldSize, true
		}
		return 0, true
	}
	return 0, false
}

// brkGrowth estimates the growth of brk(addr) from the break the process
// last asked for; the slow path measures it exactly. Called with m.mu held.
func (m *Memory) brkGrowth(p *memProc, addr uint64) uint64 {
	start, ok := m.startBrk(p)
	if !ok {
		return m.pageAlign(addr) // unknown: assume the whole heap is new
	}
	if start != p.startBrk {
		// First brk of this image (a new start_brk means an exec).
		p.startBrk, p.brk = start, start
	}
	cur := max(p.brk, start)
	if want := m.pageAlign(addr); want > m.pageAlign(cur) {
		return want - m.pageAlign(cur)
	}
	return 0
}

// startBrk reads field 47 (start_brk) of /proc/<pid>/stat. Called with
// m.mu held.
func (m *Memory) startBrk(p *memProc) (uint64, bool) {
	if p.stat < 0 {
		fd, err := unix.Open("/proc/"+strconv.Itoa(p.e.Key.Pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, false
		}
		p.stat = fd
	}
	var b [1024]byte
	n, err := unix.Pread(p.stat, b[:], 0)
	if err != nil {
		return 0, false
	}
	return statField(b[:n], 47)
}

// statField returns numeric field k (1-based, k >= 3) of /proc/<pid>/stat;
// the comm field may hold spaces and parentheses, so fields are counted
// from the last ") ".
func statField(b []byte, k int) (uint64, bool) {
	i := bytes.LastIndex(b, []byte(") "))
	if i < 0 {
		return 0, false
	}
	b = b[i+2:]
	for f := 3; f < k; f++ {
		j := bytes.IndexByte(b, ' ')
		if j < 0 {
			return 0, false
		}
		b = b[j+1:]
	}
	if j := bytes.IndexAny(b, " \n"); j >= 0 {
		b = b[:j]
	}
	return parseDec(b)
}

// currentBrk returns the process's break: the end of its [heap] mapping,
// or start_brk when it has none (the heap is empty). When the break the
// process last asked for falls in the heap's last page it is returned
// instead, unaligned as the kernel keeps it. Called with m.mu held.
func (m *Memory) currentBrk(p *memProc) (uint64, bool) {
	start, ok := m.startBrk(p)
	if !ok {
		return 0, false
	}
	maps, ok := m.readMaps(p.e.Key.Pid)
	if !ok {
		return 0, false
	}
	end := start
	var v vma
	for rest := maps; len(rest) > 0; {
		var ok bool
		rest, ok = nextVMA(rest, &v)
		if ok && bytes.Equal(v.name, []byte("[heap]")) {
			end = v.end
			break
		}
	}
	if p.startBrk == start && p.brk > start && m.pageAlign(p.brk) == end {
		return p.brk, true
	}
	return end, true
}

// scanShared lists the shared anonymous objects p maps. Called with m.mu
// held.
func (m *Memory) scanShared(p *memProc) {
	maps, ok := m.readMaps(p.e.Key.Pid)
	p.shm = p.shm[:0]
	if !ok {
		return
	}
	var v vma
	for len(maps) > 0 {
		maps, ok = nextVMA(maps, &v)
		if !ok || !v.sharedAnon() {
			continue
		}
		merged := false
		for i := range p.shm {
			if p.shm[i].ino == v.ino {
				p.shm[i].bytes += v.end - v.start
				merged = true
				break
			}
		}
		if !merged {
			p.shm = append(p.shm, shmSeg{ino: v.ino, bytes: v.end - v.start})
		}
	}
}

// recountShared sums the shared objects once each, at the largest size
// any process maps. Called with m.mu held.
func (m *Memory) recountShared() {
	clear(m.segs)
	for _, p := range m.procs {
		for _, s := range p.shm {
			if s.bytes > m.segs[s.ino] {
				m.segs[s.ino] = s.bytes
			}
		}
	}
	var t uint64
	for _, b := range m.segs {
		t += b
	}
	m.shared = t
}

// pollIn reports whether fd polls readable (a pidfd: the process exited).
func pollIn(fd int) (int16, error) {
	pfd := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(pfd[:], 0)
		if err != unix.EINTR {
			return pfd[0].Revents, err
		}
	}
}
