package sandbox

import (
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// num_cpus: the sandbox sees N CPUs. sched_getaffinity answers a mask of
// CPUs 0..N-1 (nproc, Go, OpenMP, thread pools), and /proc/cpuinfo and the
// /sys/devices/system/cpu lists (glibc's get_nprocs, Python's
// os.cpu_count) are synthetic. Scheduling is not changed: cpu_cores pins.
func init() {
	registerFeature(feature{name: "num_cpus", order: orderVirtual, prepare: func(b *buildCtx) (instance, error) {
		n := b.Policy.NumCPUs
		if n <= 0 {
			return nil, nil
		}
		b.Notify("sched_getaffinity")
		info := handlers.CPUInfo(hostCPUInfo(), n)
		list := handlers.CPUList(n)
		b.AddVirtual("/proc/cpuinfo", func(*Sandbox) ([]byte, error) { return info, nil })
		for _, f := range []string{"online", "possible", "present"} {
			b.AddVirtual("/sys/devices/system/cpu/"+f, func(*Sandbox) ([]byte, error) { return list, nil })
		}
		return &numCPUsInstance{n: n}, nil
	}})
}

// hostCPUInfo reads the host's /proc/cpuinfo once per process: reading it
// can take milliseconds (frequency sampling on each CPU) and only the
// "cpu MHz" lines would change.
var hostCPUInfo = sync.OnceValue(func() []byte {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return b
})

type numCPUsInstance struct{ n int }

func (c *numCPUsInstance) install(s *Sandbox) error {
	if nr, ok := lookupNr("sched_getaffinity"); ok {
		(&handlers.Affinity{Index: s.index, N: c.n}).Register(s.sup, nr)
	}
	return nil
}

func (c *numCPUsInstance) close() {}

// throttlePeriod is the max_cpu duty cycle: the sandbox runs pct percent
// of it and is stopped for the rest.
const throttlePeriod = 100 * time.Millisecond

// max_cpu: every process of the sandbox gets at most pct percent of a CPU,
// by SIGSTOP and SIGCONT on a 100 ms cycle (original.md 4.1). The signals
// go to the main process's pidfd, its process group and every process in
// the index, so a process that left the group is throttled too (attacks.md
// SIG-03). The cycle is a duty cycle per process, not an aggregate: two
// busy processes under max_cpu=50 each run half the time.
//
// Pause and Resume take the same lock as the throttle, and the throttle
// does nothing while the sandbox is paused, so a paused sandbox stays
// stopped and a resumed one is continued by Resume itself.
func init() {
	registerFeature(feature{name: "max_cpu", order: orderProcs, prepare: func(b *buildCtx) (instance, error) {
		pct := b.Policy.MaxCPU
		if pct <= 0 || pct >= 100 {
			return nil, nil // 100 % is no throttling
		}
		return &throttle{pct: pct, quit: make(chan struct{}), done: make(chan struct{})}, nil
	}})
}

type throttle struct {
	pct     int
	quit    chan struct{}
	done    chan struct{}
	started bool
	once    sync.Once
}

func (t *throttle) install(s *Sandbox) error {
	// The cycle starts once the command runs: a stopped child stub would
	// hold up the spawn.
	s.onStart = append(s.onStart, func() {
		t.started = true
		go t.loop(s)
	})
	return nil
}

func (t *throttle) loop(s *Sandbox) {
	defer close(t.done)
	run := throttlePeriod * time.Duration(t.pct) / 100
	rest := throttlePeriod - run
	timer := time.NewTimer(run)
	defer timer.Stop()
	stopped := false
	for {
		select {
		case <-t.quit:
			if stopped {
				t.signal(s, unix.SIGCONT)
			}
			return
		case <-timer.C:
		}
		if stopped {
			t.signal(s, unix.SIGCONT)
			timer.Reset(run)
		} else {
			t.signal(s, unix.SIGSTOP)
			timer.Reset(rest)
		}
		stopped = !stopped
	}
}

// signal stops or continues the sandbox unless it is paused.
func (t *throttle) signal(s *Sandbox, sig unix.Signal) {
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	s.mu.Lock()
	paused := s.paused
	s.mu.Unlock()
	if !paused {
		s.signalAll(sig)
	}
}

func (t *throttle) close() {
	t.once.Do(func() {
		close(t.quit)
		if t.started {
			<-t.done
		}
	})
}
