package handlers

import (
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

func TestStatmData(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want uint64
		ok   bool
	}{
		{"kernel line", "586 366 343 1 0 56 0\n", 56, true},
		{"large", "17003 368 343 1 0 16473 0\n", 16473, true},
		{"no newline", "1 2 3 4 5 6 7", 6, true},
		{"short", "1 2 3 4 5", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		got, ok := statmData([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: statmData(%q) = %d, %v, want %d, %v", tt.name, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStatField(t *testing.T) {
	// A comm with spaces and a parenthesis, then fields 3.. numbered by
	// their own value so that field k reads k.
	line := "1234 (a) b (c) S"
	for k := 4; k <= 52; k++ {
		line += " " + itoa(k)
	}
	line += "\n"
	for _, k := range []int{4, 22, 47, 52} {
		if got, ok := statField([]byte(line), k); !ok || got != uint64(k) {
			t.Errorf("statField(line, %d) = %d, %v, want %d, true", k, got, ok, k)
		}
	}
	if _, ok := statField([]byte(line), 60); ok {
		t.Errorf("statField(line, 60) = ok, want a failure (52 fields)")
	}
	if _, ok := statField([]byte("no comm"), 5); ok {
		t.Errorf("statField without \") \" = ok, want a failure")
	}
}

func itoa(v int) string { return string(appendInt(nil, v)) }

func appendInt(b []byte, v int) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

const sampleMaps = `55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1311 /usr/bin/cat
55d0c0a02000-55d0c0a06000 r-xp 00002000 08:01 1311 /usr/bin/cat
55d0c0a0b000-55d0c0a0c000 rw-p 0000a000 08:01 1311 /usr/bin/cat
55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000100000 ---p 00000000 00:00 0 
7f0000100000-7f0000200000 rw-p 00000000 00:00 0 
7f0000200000-7f0000300000 rw-s 00000000 00:01 1025                       /dev/zero (deleted)
7f0000300000-7f0000400000 rw-s 00000000 00:01 1026                       [anon_shmem:pool]
7f0000400000-7f0000500000 rw-s 00000000 00:1a 77                         /dev/shm/file
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
`

func TestNextVMA(t *testing.T) {
	var v vma
	rest, ok := nextVMA([]byte(sampleMaps), &v)
	if !ok || v.start != 0x55d0c0a00000 || v.end != 0x55d0c0a02000 || string(v.perms[:]) != "r--p" || v.ino != 1311 || string(v.name) != "/usr/bin/cat" {
		t.Fatalf("nextVMA(first line) = %+v, %v", v, ok)
	}
	n := 1
	var names []string
	for len(rest) > 0 {
		rest, ok = nextVMA(rest, &v)
		if !ok {
			t.Fatalf("nextVMA line %d: not ok", n+1)
		}
		n++
		names = append(names, string(v.name))
	}
	if n != 10 {
		t.Errorf("parsed %d lines, want 10", n)
	}
	if names[3] != "" || names[5] != "/dev/zero (deleted)" || names[8] != "[stack]" {
		t.Errorf("names = %q", names)
	}
	if _, ok := nextVMA([]byte("garbage\n"), &v); ok {
		t.Errorf("nextVMA(garbage) = ok, want a failure")
	}
}

func TestRangeStats(t *testing.T) {
	tests := []struct {
		name            string
		lo, hi          uint64
		mapped, counted uint64
	}{
		{"reservation only", 0x7f0000000000, 0x7f0000100000, 0x100000, 0},
		{"reservation and writable", 0x7f0000080000, 0x7f0000180000, 0x100000, 0x80000},
		{"shared is not counted", 0x7f0000200000, 0x7f0000300000, 0x100000, 0},
		{"heap", 0x55d0c1000000, 0x55d0c1021000, 0x21000, 0x21000},
		{"hole", 0x10000, 0x20000, 0, 0},
	}
	for _, tt := range tests {
		m, c := rangeStats([]byte(sampleMaps), tt.lo, tt.hi)
		if m != tt.mapped || c != tt.counted {
			t.Errorf("%s: rangeStats(%#x, %#x) = %#x, %#x, want %#x, %#x", tt.name, tt.lo, tt.hi, m, c, tt.mapped, tt.counted)
		}
	}
}

func TestSharedAnon(t *testing.T) {
	var want = map[string]bool{"/dev/zero (deleted)": true, "[anon_shmem:pool]": true}
	var v vma
	for rest := []byte(sampleMaps); len(rest) > 0; {
		rest, _ = nextVMA(rest, &v)
		if got := v.sharedAnon(); got != want[string(v.name)] {
			t.Errorf("sharedAnon(%q %s) = %v, want %v", v.perms, v.name, got, !got)
		}
	}
}

func TestOverrunSlack(t *testing.T) {
	for _, tt := range []struct{ limit, want uint64 }{
		{64 << 20, 16 << 20},
		{1 << 30, 128 << 20},
	} {
		if got := overrunSlack(tt.limit); got != tt.want {
			t.Errorf("overrunSlack(%d) = %d, want %d", tt.limit, got, tt.want)
		}
	}
}

// selfMemory returns a Memory whose index holds the test process itself,
// and a supervisor on a pipe (its handlers are called directly).
func selfMemory(t *testing.T, limit uint64) (*Memory, *supervisor.Supervisor, *procindex.Entry) {
	t.Helper()
	ix := procindex.New()
	t.Cleanup(ix.Close)
	e, err := ix.Register(os.Getpid(), os.Getppid(), -1)
	if err != nil {
		t.Fatal(err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[1]) })
	sup, err := supervisor.New(p[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sup.Stop)
	m := NewMemory(ix, limit)
	// The test process plays the sandbox: it must not be taken for the
	// host's address space.
	m.self = 0
	t.Cleanup(m.Close)
	return m, sup, e
}

// notif builds the notification of syscall nr made by this process.
func notif(nr int, args ...uint64) *supervisor.Notif {
	n := &kernel.Notif{Pid: uint32(os.Getpid())}
	n.Data.Nr = int32(nr)
	copy(n.Data.Args[:], args)
	return n
}

// TestMemoryAdmission drives the handlers with notifications of the test
// process itself (which is a member of the index): growth is admitted
// while it fits, refused with ENOMEM once it does not, and PROT_NONE,
// read-only and shared file mappings are never charged.
func TestMemoryAdmission(t *testing.T) {
	var self uint64
	{
		m, _, e := selfMemory(t, 1<<40)
		m.mu.Lock()
		p := m.track(e)
		m.read(p)
		self = p.data
		m.mu.Unlock()
		if self == 0 {
			t.Fatal("statm data of the test process reads 0")
		}
	}
	limit := self + 64<<20
	m, sup, e := selfMemory(t, limit)
	// The record of a new process is only kept if the notification is
	// still valid: create it directly, as a first notification would.
	m.mu.Lock()
	m.track(e)
	m.mu.Unlock()
	const rw = unix.PROT_READ | unix.PROT_WRITE
	anon := uint64(unix.MAP_PRIVATE | unix.MAP_ANONYMOUS)
	// Real mappings of the test process for the calls the slow path
	// measures exactly: a PROT_NONE reservation and a writable 1M.
	resv, err := unix.Mmap(-1, 0, 256<<20, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(resv)
	small, err := unix.Mmap(-1, 0, 1<<20, rw, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(small)
	resvAddr := uint64(uintptr(unsafe.Pointer(&resv[0])))
	// The test process's break; Go does not use brk, so it stays put.
	cur, _, _ := unix.RawSyscall(unix.SYS_BRK, 0, 0, 0)
	smallAddr := uint64(uintptr(unsafe.Pointer(&small[0])))

	if got := m.mmap(sup, notif(unix.SYS_MMAP, 0, 16<<20, rw, anon)); got != supervisor.Next {
		t.Fatalf("mmap 16M: handler = %+v, want Next", got)
	}
	// Admitted, and pending until this thread makes another call.
	m.mu.Lock()
	held := m.held
	m.mu.Unlock()
	if held != 16<<20 {
		t.Errorf("pending charge after mmap 16M = %d, want %d", held, 16<<20)
	}
	tests := []struct {
		name string
		n    *supervisor.Notif
		want supervisor.Response
	}{
		{"mmap 1G PROT_NONE", notif(unix.SYS_MMAP, 0, 1<<30, unix.PROT_NONE, anon|unix.MAP_NORESERVE), supervisor.Next},
		{"mmap 1G read-only", notif(unix.SYS_MMAP, 0, 1<<30, unix.PROT_READ, anon), supervisor.Next},
		{"mmap 1G shared file", notif(unix.SYS_MMAP, 0, 1<<30, rw, unix.MAP_SHARED, 3), supervisor.Next},
		{"mmap 200M", notif(unix.SYS_MMAP, 0, 200<<20, rw, anon), supervisor.Errno(unix.ENOMEM)},
		{"mmap 200M shared anonymous", notif(unix.SYS_MMAP, 0, 200<<20, rw, unix.MAP_SHARED|unix.MAP_ANONYMOUS), supervisor.Errno(unix.ENOMEM)},
		{"mmap 8M", notif(unix.SYS_MMAP, 0, 8<<20, rw, anon), supervisor.Next},
		{"mprotect 200M read-only", notif(unix.SYS_MPROTECT, resvAddr, 200<<20, unix.PROT_READ), supervisor.Next},
		{"mprotect 200M of a reservation writable", notif(unix.SYS_MPROTECT, resvAddr, 200<<20, rw), supervisor.Errno(unix.ENOMEM)},
		{"mprotect 200M of a hole writable", notif(unix.SYS_MPROTECT, 0x10000, 200<<20, rw), supervisor.Next},
		{"mremap shrink", notif(unix.SYS_MREMAP, smallAddr, 1<<20, 4096, 0), supervisor.Next},
		{"mremap grow 200M", notif(unix.SYS_MREMAP, smallAddr, 1<<20, 201<<20, unix.MREMAP_MAYMOVE), supervisor.Errno(unix.ENOMEM)},
		{"mremap grow 200M of a reservation", notif(unix.SYS_MREMAP, resvAddr, 1<<20, 201<<20, unix.MREMAP_MAYMOVE), supervisor.Next},
		{"mmap of a huge length", notif(unix.SYS_MMAP, 0, ^uint64(0), rw, anon), supervisor.Errno(unix.ENOMEM)},
		{"mprotect of a huge length", notif(unix.SYS_MPROTECT, resvAddr, ^uint64(0)-resvAddr, rw), supervisor.Errno(unix.ENOMEM)},
		{"brk query", notif(unix.SYS_BRK, 0), supervisor.Next},
		{"brk grow 1M", notif(unix.SYS_BRK, uint64(cur)+1<<20), supervisor.Next},
		// A refused brk answers the current break, as the kernel does.
		{"brk grow 200M", notif(unix.SYS_BRK, uint64(cur)+200<<20), supervisor.Value(int64(cur))},
	}
	for _, tt := range tests {
		if got := m.charge2(sup, tt.n); got != tt.want {
			t.Errorf("%s: handler = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// charge2 dispatches n to the handler of its syscall, as the supervisor's
// chain would.
func (m *Memory) charge2(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	switch int(n.Data.Nr) {
	case unix.SYS_MMAP:
		return m.mmap(s, n)
	case unix.SYS_MPROTECT:
		return m.mprotect(s, n)
	case unix.SYS_MREMAP:
		return m.mremap(s, n)
	case unix.SYS_BRK:
		return m.brk(s, n)
	}
	return m.fork(s, n)
}

// TestMemoryHotPathAllocs: an admitted mmap allocates nothing once the
// caller's record exists (README performance target: the notification hot
// path allocates nothing).
func TestMemoryHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; the allocation count is checked without -race")
	}
	m, sup, e := selfMemory(t, 1<<50)
	m.mu.Lock()
	m.track(e)
	m.mu.Unlock()
	n := notif(unix.SYS_MMAP, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	m.mmap(sup, n) // warm the pending list
	allocs := testing.AllocsPerRun(200, func() {
		if r := m.mmap(sup, n); r != supervisor.Next {
			t.Fatalf("mmap handler = %+v, want Next", r)
		}
	})
	if allocs != 0 {
		t.Errorf("mmap handler allocates %.1f times per call, want 0", allocs)
	}
}

func TestKcmpVM(t *testing.T) {
	if !kcmpVM(os.Getpid(), os.Getpid()) {
		t.Errorf("kcmpVM(self, self) = false, want true")
	}
	if kcmpVM(os.Getpid(), 1) {
		t.Errorf("kcmpVM(self, 1) = true, want false")
	}
}
