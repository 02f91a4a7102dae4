package sandbox

import (
	"runtime"

	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// /proc virtualisation, on in every sandbox, as part of the file mediation
// (feature_files.go): the rules (processes outside the sandbox do not
// exist, sensitive kernel files are refused, the /proc listing is
// filtered) live in handlers/procfs.go; this file registers the synthetic
// files: /proc/loadavg (averages of the sandbox's process count),
// /proc/uptime (the sandbox's age, which the process start times in
// /proc/<pid>/stat and the btime of /proc/stat agree with) and the
// loopback-only /proc/net/dev and /proc/net/if_inet6 of the network
// virtualisation. A feature that registered one of these paths itself
// keeps its own.
type procVirtuals struct {
	load  *handlers.LoadAvg
	clock *handlers.ProcClock
	cpus  int
}

func addProcVirtuals(b *buildCtx) *procVirtuals {
	pv := &procVirtuals{load: handlers.NewLoadAvg(), cpus: runtime.NumCPU()}
	if n := len(b.Policy.CPUCores); n > 0 {
		pv.cpus = n
	}
	if b.Policy.NumCPUs > 0 {
		pv.cpus = b.Policy.NumCPUs
	}
	add := func(path string, gen func(*Sandbox) ([]byte, error)) {
		if _, taken := b.Virtual[path]; !taken {
			b.AddVirtual(path, gen)
		}
	}
	add("/proc/loadavg", func(*Sandbox) ([]byte, error) { return pv.load.Content(), nil })
	add("/proc/uptime", func(*Sandbox) ([]byte, error) { return pv.clock.Uptime() })
	add("/proc/net/dev", func(*Sandbox) ([]byte, error) { return handlers.NetDev(), nil })
	add("/proc/net/if_inet6", func(*Sandbox) ([]byte, error) { return handlers.IfInet6(), nil })
	return pv
}

// start begins the load sampling and fixes the clock's origin at the
// sandbox's first process.
func (pv *procVirtuals) start(s *Sandbox) {
	var ticks uint64
	if e := s.index.Lookup(s.pid); e != nil {
		ticks = e.Key.Start
	}
	pv.clock = handlers.NewProcClock(ticks, pv.cpus)
	pv.load.Start(s.index)
}

func (pv *procVirtuals) stop() { pv.load.Stop() }
