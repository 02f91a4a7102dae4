package sandbox

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/spawn"
	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// orderMemory runs the memory handlers first in their chains: a fork the
// budget refuses must not be counted by max_processes, whose handler
// continues the fork itself.
const orderMemory = 5

// memorySyscalls are the calls that can grow what a process can touch
// (handlers.Memory); fork, vfork and clone come with NotifyForks. munmap
// only shrinks and is not notified.
var memorySyscalls = []string{"mmap", "mremap", "brk", "mprotect", "pkey_mprotect"}

// memoryCheckEvery is the period of the watchdog that catches growth no
// syscall announces (handlers.Memory).
const memoryCheckEvery = 250 * time.Millisecond

// max_memory: a budget of anonymous memory for the whole sandbox.
func init() {
	registerFeature(feature{name: "max_memory", order: orderMemory, prepare: func(b *buildCtx) (instance, error) {
		limit := b.Policy.MaxMemory
		if limit == 0 {
			return nil, nil
		}
		b.Notify(memorySyscalls...)
		b.Seccomp.NotifyForks = true
		// Kernel-side backstop: no single process may hold more private
		// writable memory than the whole budget (mm/mmap.c
		// may_expand_vm, and brk's check_data_rlimit).
		rl := limit
		var host unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_DATA, &host); err == nil && host.Max < rl {
			rl = host.Max
		}
		*b.Rlimits = append(*b.Rlimits, spawn.Rlimit{Resource: unix.RLIMIT_DATA, Cur: rl, Max: rl})
		in := &memoryInstance{limit: limit, quit: make(chan struct{})}
		b.AddVirtual("/proc/meminfo", in.meminfo)
		return in, nil
	}})
}

type memoryInstance struct {
	limit uint64
	mem   *handlers.Memory
	quit  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

func (in *memoryInstance) install(s *Sandbox) error {
	mem := handlers.NewMemory(s.index, in.limit)
	// Usage found above the budget after the fact: the allocation has
	// happened, so the sandbox is killed, and the result says why (a bare
	// SIGKILL would look like any other kill).
	mem.OnOverrun = func() { go func() { _ = s.killWith(MemoryLimit) }() }
	mem.Register(s.sup, lookupNr)
	prev := s.index.OnExit
	s.index.OnExit = func(e *procindex.Entry) {
		if prev != nil {
			prev(e)
		}
		mem.Forget(e)
	}
	in.mem = mem
	s.memory = mem
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		t := time.NewTicker(memoryCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-in.quit:
				return
			case <-t.C:
				mem.Check()
			}
		}
	}()
	return nil
}

func (in *memoryInstance) close() {
	in.once.Do(func() {
		close(in.quit)
		in.wg.Wait()
		if in.mem != nil {
			in.mem.Close()
		}
	})
}

// memLimiter is the part of handlers.Memory the facade needs.
type memLimiter interface {
	Limit() uint64
	SetLimit(uint64)
}

// MaxMemory returns the live memory budget in bytes; ok is false when the
// sandbox does not account memory (max_memory 0).
func (s *Sandbox) MaxMemory() (bytes uint64, ok bool) {
	if s.memory == nil {
		return 0, false
	}
	return s.memory.Limit(), true
}

// SetMaxMemory changes the memory budget of a running sandbox; it applies
// to the next allocation. A budget below what the sandbox holds refuses
// further growth and kills nothing.
func (s *Sandbox) SetMaxMemory(bytes uint64) error {
	if s.memory == nil {
		return errorf(ErrState, "sandbox: memory accounting is off (max_memory 0)")
	}
	if bytes == 0 {
		return errorf(ErrPolicy, "sandbox: max_memory must be positive")
	}
	s.memory.SetLimit(bytes)
	return nil
}

// meminfo is /proc/meminfo as the sandbox sees it: the budget is the
// machine's memory and what the sandbox is charged is in use. The fields
// the kernel reports for caches, swap and the kernel itself are zero, so
// that tools computing "used" (free, top, psutil) agree with the budget.
func (in *memoryInstance) meminfo(*Sandbox) ([]byte, error) {
	limit, used, shared := in.limit, uint64(0), uint64(0)
	if in.mem != nil {
		limit, used, shared = in.mem.Usage()
	}
	free := uint64(0)
	if used < limit {
		free = limit - used
	}
	kb := func(v uint64) uint64 { return v >> 10 }
	rows := []struct {
		name string
		kb   uint64
	}{
		{"MemTotal", kb(limit)},
		{"MemFree", kb(free)},
		{"MemAvailable", kb(free)},
		{"Buffers", 0},
		{"Cached", 0},
		{"SwapCached", 0},
		{"Active", kb(used)},
		{"Inactive", 0},
		{"Active(anon)", kb(used)},
		{"Inactive(anon)", 0},
		{"Active(file)", 0},
		{"Inactive(file)", 0},
		{"Unevictable", 0},
		{"Mlocked", 0},
		{"SwapTotal", 0},
		{"SwapFree", 0},
		{"Zswap", 0},
		{"Zswapped", 0},
		{"Dirty", 0},
		{"Writeback", 0},
		{"AnonPages", kb(used)},
		{"Mapped", 0},
		{"Shmem", kb(shared)},
		{"KReclaimable", 0},
		{"Slab", 0},
		{"SReclaimable", 0},
		{"SUnreclaim", 0},
		{"KernelStack", 0},
		{"PageTables", 0},
		{"SecPageTables", 0},
		{"NFS_Unstable", 0},
		{"Bounce", 0},
		{"WritebackTmp", 0},
		{"CommitLimit", kb(limit)},
		{"Committed_AS", kb(used)},
		{"VmallocTotal", 0},
		{"VmallocUsed", 0},
		{"VmallocChunk", 0},
		{"Percpu", 0},
		{"HardwareCorrupted", 0},
		{"AnonHugePages", 0},
		{"ShmemHugePages", 0},
		{"ShmemPmdMapped", 0},
		{"FileHugePages", 0},
		{"FilePmdMapped", 0},
	}
	var out []byte
	for _, r := range rows {
		// The kernel's layout (fs/proc/meminfo.c show_val_kb): the name
		// and colon padded to 16 columns, the value right-aligned in 8.
		out = fmt.Appendf(out, "%-16s%8d kB\n", r.name+":", r.kb)
	}
	for _, r := range []string{"HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"} {
		out = fmt.Appendf(out, "%-16s%8d\n", r+":", 0)
	}
	out = fmt.Appendf(out, "%-16s%8d kB\n", "Hugepagesize:", 2048)
	out = fmt.Appendf(out, "%-16s%8d kB\n", "Hugetlb:", 0)
	return out, nil
}
