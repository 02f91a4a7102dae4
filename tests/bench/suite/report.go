package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The report: every JSON result of the run in one markdown file
// (results.md) and one JSON file (results.json, which plot.py reads).
// A benchmark that did not run is reported as missing, not left out.

// spawnResult is the part of tests/bench/spawn's JSON the report uses.
type spawnResult struct {
	Time     string  `json:"time"`
	Kernel   string  `json:"kernel"`
	CPUs     int     `json:"cpus"`
	UID      int     `json:"uid"`
	Go       string  `json:"go_version"`
	Rounds   int     `json:"rounds"`
	Elapsed  float64 `json:"elapsed_s"`
	Variants []struct {
		Name     string   `json:"name"`
		Desc     string   `json:"desc"`
		System   string   `json:"system"`
		Command  string   `json:"command"`
		Baseline string   `json:"baseline"`
		Skipped  string   `json:"skipped"`
		Errors   int      `json:"errors"`
		LastErr  string   `json:"last_error"`
		N        int      `json:"n"`
		Median   float64  `json:"median_ms"`
		P90      float64  `json:"p90_ms"`
		Over     *float64 `json:"over_baseline_ms"`
		Ratio    *float64 `json:"ratio"`
		Paired   *float64 `json:"paired_delta_ms"`
	} `json:"variants"`
	Targets []struct {
		Name  string  `json:"name"`
		Value float64 `json:"value_ms"`
		Limit float64 `json:"limit_ms"`
		Pass  bool    `json:"pass"`
		Note  string  `json:"note"`
	} `json:"targets"`
}

func reportMain(args []string) {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	dir := fs.String("dir", "tests/bench/results", "directory of the JSON results; results.md and results.json are written there")
	fs.Parse(args)

	combined := map[string]any{"meta": newMeta()}
	raw := func(name string, v any) bool {
		p := filepath.Join(*dir, name+".json")
		b, err := os.ReadFile(p)
		if err != nil {
			return false
		}
		if err := json.Unmarshal(b, v); err != nil {
			fmt.Fprintf(os.Stderr, "report: %s: %v\n", p, err)
			return false
		}
		combined[name] = json.RawMessage(b)
		return true
	}
	var (
		sp  spawnResult
		nt  notifyReport
		wl  workloadReport
		rd  redisReport
		mem memoryReport
		cb  callbacksReport
		dp  dispatchReport
	)
	haveSpawn := raw("spawn", &sp)
	haveNotify := raw("notify", &nt)
	haveWorkload := raw("workload", &wl)
	haveRedis := raw("redis", &rd)
	haveMemory := raw("memory", &mem)
	haveCallbacks := raw("callbacks", &cb)
	haveDispatch := raw("dispatch", &dp)

	var b strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	var targets [][4]string // name, value, limit, verdict
	verdict := func(pass bool) string {
		if pass {
			return "ok"
		}
		return "**missed**"
	}

	w("# sandlock benchmark results\n\n")
	m := newMeta()
	if haveSpawn {
		m = meta{Time: sp.Time, GoVersion: sp.Go, Kernel: sp.Kernel, CPUs: sp.CPUs, UID: sp.UID}
	}
	w("Run of %s: kernel %s, %d CPUs, %s, uid %d. Made by `make bench` (tests/bench/README.md); every\n", m.Time, m.Kernel, m.CPUs, m.GoVersion, m.UID)
	w("number is compared with bare execution measured in the same run, the variants interleaved.\n\n")

	w("## Spawn latency\n\n")
	if !haveSpawn {
		w("Not measured (no spawn.json).\n\n")
	} else {
		w("Start and reap of `/bin/true` and of `/bin/echo hi` (output captured and checked); median of %d interleaved rounds, milliseconds. \"over bare\" is the difference from the bare spawn of the same program in the same kind of process (Go: os/exec; C host: posix_spawn; Python host: os.posix_spawn).\n\n", sp.Rounds)
		w("| system | `/bin/true` ms | over bare | `/bin/echo hi` ms | over bare | compared with |\n|---|---:|---:|---:|---:|---|\n")
		type cell struct{ med, over, base string }
		rows := map[string]*[2]cell{}
		var order []string
		var notes []string
		for _, v := range sp.Variants {
			if v.Skipped != "" {
				if v.Command == "true" || !strings.HasSuffix(v.Name, "-echo") {
					notes = append(notes, fmt.Sprintf("%s: %s", v.System, v.Skipped))
				}
				continue
			}
			if v.Errors > 0 {
				notes = append(notes, fmt.Sprintf("%s (%s): %d failed runs, last: %s", v.System, v.Command, v.Errors, v.LastErr))
			}
			r, ok := rows[v.System]
			if !ok {
				r = &[2]cell{{"-", "-", ""}, {"-", "-", ""}}
				rows[v.System] = r
				order = append(order, v.System)
			}
			i := 0
			if v.Command == "echo" {
				i = 1
			}
			c := cell{med: fmt.Sprintf("%.2f", v.Median), over: "-", base: "-"}
			if v.Over != nil {
				c.over, c.base = fmt.Sprintf("%+.2f", *v.Over), v.Baseline
			}
			r[i] = c
		}
		for _, s := range order {
			r := rows[s]
			base := r[0].base
			if r[1].base != "" && r[1].base != "-" && r[1].base != base {
				if base == "" || base == "-" {
					base = r[1].base
				} else {
					base += ", " + r[1].base
				}
			}
			w("| %s | %s | %s | %s | %s | %s |\n", s, r[0].med, r[0].over, r[1].med, r[1].over, base)
		}
		w("\n")
		for _, n := range dedup(notes) {
			w("- %s\n", n)
		}
		if len(notes) > 0 {
			w("\n")
		}
		for _, t := range sp.Targets {
			targets = append(targets, [4]string{t.Name, fmt.Sprintf("%+.2f ms", t.Value), fmt.Sprintf("%+.2f ms", t.Limit), verdict(t.Pass)})
		}
	}

	w("## Notified system calls\n\n")
	if !haveNotify {
		w("Not measured (no notify.json).\n\n")
	} else {
		w("Loops of %d system calls timed inside the process (tests/bench/helpers/sysloop.c), median of %d runs, µs per call. \"added\" subtracts the bare loop; the pipe round trip between two processes, %.1f µs in this run, is the floor of a notification.\n\n", nt.N, nt.Reps, nt.PipeRTTUs)
		w("| loop | system | µs per call | added µs | added / pipe round trip |\n|---|---|---:|---:|---:|\n")
		for _, r := range nt.Rows {
			if len(r.PerOpUs) == 0 {
				w("| %s | %s | %s | | |\n", notifyLoopName(r.Mode, nt.Path), r.System, firstNonEmpty(r.Error, r.Skipped, "no result"))
				continue
			}
			over, ratio := "-", "-"
			if r.OverBareUs != nil {
				over = fmt.Sprintf("%+.2f", *r.OverBareUs)
			}
			if r.PipeRatio != nil {
				ratio = fmt.Sprintf("%.2fx", *r.PipeRatio)
			}
			w("| %s | %s | %.3f | %s | %s |\n", notifyLoopName(r.Mode, nt.Path), r.System, r.MedianUs, over, ratio)
		}
		w("\n")
		for _, t := range nt.Targets {
			targets = append(targets, [4]string{t.Name, fmt.Sprintf("%.2f %s", t.Value, t.Unit), fmt.Sprintf("%.2f %s", t.Limit, t.Unit), verdict(t.Pass)})
		}
	}

	w("## Syscall-heavy workloads\n\n")
	if !haveWorkload {
		w("Not measured (no workload.json).\n\n")
	} else {
		w("Wall time per run including the start, median of %d interleaved runs, milliseconds, and the CPU time of the run (user + system of the command and of the host process, where the supervisor runs), which other load on the machine disturbs far less.\n\n", wl.Reps)
		for _, c := range wl.Commands {
			w("- `%s`: `%s`\n", c.Name, shortArgv(c.Argv))
		}
		w("\n| workload | system | wall ms | over bare | ratio | CPU ms | CPU ratio |\n|---|---|---:|---:|---:|---:|---:|\n")
		for _, r := range wl.Rows {
			switch {
			case r.Skipped != "":
				w("| %s | %s | %s | | | | |\n", r.Workload, r.System, r.Skipped)
			case len(r.Ms) == 0:
				w("| %s | %s | %s | | | | |\n", r.Workload, r.System, firstNonEmpty(r.Error, "no result"))
			case r.Ratio == nil:
				w("| %s | %s | %.1f | - | - | %.1f | - |\n", r.Workload, r.System, r.MedianMs, r.MedianCPUMs)
			default:
				cr := "-"
				if r.CPURatio != nil {
					cr = fmt.Sprintf("%.2fx", *r.CPURatio)
				}
				w("| %s | %s | %.1f | %+.1f | %.2fx | %.1f | %s |\n", r.Workload, r.System, r.MedianMs, *r.OverMs, *r.Ratio, r.MedianCPUMs, cr)
			}
		}
		w("\n")
	}

	w("## Redis\n\n")
	switch {
	case !haveRedis:
		w("Not measured (no redis.json).\n\n")
	case rd.Skipped != "":
		w("%s\n\n", rd.Skipped)
	default:
		w("%s in each system, redis-benchmark on the host over loopback: %d SET and %d GET requests, %d clients, median of %d interleaved runs; \"vs bare\" is the median of the ratios to the bare run of the same repetition. With two CPUs or more every server is pinned to CPU 1 and redis-benchmark to CPU 0.\n\n", rd.Server, rd.Requests, rd.Requests, rd.Clients, rd.Reps)
		w("Server CPU is redis-server's user + system time per request (from /proc, all threads); host CPU is the benchmark process's, where sandlock's supervisor runs. CPU time is much less disturbed than throughput by other load on the machine.\n\n")
		w("| system | SET req/s | vs bare | SET p99 ms | GET req/s | vs bare | GET p99 ms | server CPU µs/req | vs bare | host CPU µs/req |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range rd.Rows {
			if r.MedianRPS == nil {
				w("| %s | %s | | | | | | | | |\n", r.System, firstNonEmpty(r.Skipped, r.Error, "no result"))
				continue
			}
			cpu := "-"
			if r.CPURatio != nil {
				cpu = fmt.Sprintf("%.2fx", *r.CPURatio)
			}
			vs := func(t string) string {
				if q, ok := r.RatioToBare[t]; ok {
					return fmt.Sprintf("%.1f%%", 100*q)
				}
				return "-"
			}
			w("| %s | %.0f | %s | %.3f | %.0f | %s | %.3f | %.2f | %s | %.2f |\n", r.System, r.MedianRPS["SET"], vs("SET"), r.MedianP99["SET"], r.MedianRPS["GET"], vs("GET"), r.MedianP99["GET"], r.MedianCPUUs, cpu, r.MedianHostCPUs)
		}
		w("\n")
		for _, t := range rd.Targets {
			targets = append(targets, [4]string{t.Name, fmt.Sprintf("%.1f %s", t.Value, t.Unit), fmt.Sprintf("≥ %.0f %s", t.Limit, t.Unit), verdict(t.Pass)})
		}
	}

	w("## Policy callbacks\n\n")
	if !haveCallbacks {
		w("Not measured (no callbacks.json).\n\n")
		targets = append(targets, [4]string{"policy callbacks through the C ABI", "not measured", "≥ 100000 events/s", "not measured"})
	} else {
		w("Loops of %d system calls (tests/bench/helpers/sysloop.c) in a sandbox started from a C host (`sandlock_set_policy_fn`) and a Python host (`Sandbox(policy_fn=...)`), with a callback that counts the events and allows everything, and without a callback, interleaved; median of %d runs. A held openat waits for the callback's verdict, so its events/s is the loop's own rate; an observed getpriority is continued without waiting, so its events/s is counted by the callback (first to last event), and with several threads it is what the callback can take. \"added\" is with minus without the callback, per call, paired within each run; \"added CPU\" is the same for the CPU time of the whole run (user + system of the host process, where the supervisor and the callback run, and of the sandboxed process) per event, which other load on the machine disturbs far less. Observed events the library dropped (queue full, or still queued when the sandbox was freed) are listed as lost; held events are never lost (a run that loses one fails).\n\n", cb.N, cb.Reps)
		w("| API | loop | threads | µs per call, no callback | with callback | added µs per event | added CPU µs per event | events/s | lost |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
		apiName := map[string]string{"c": "C (`sandlock_set_policy_fn`)", "python": "Python (`policy_fn`)"}
		for _, r := range cb.Rows {
			name := firstNonEmpty(apiName[r.API], r.API)
			loop := r.Kind + " " + r.Syscall
			if r.Skipped != "" || (len(r.Rates) == 0 && r.Error != "") {
				w("| %s | %s | %d | %s | | | | | |\n", name, loop, r.Threads, firstNonEmpty(r.Error, r.Skipped))
				continue
			}
			if len(r.Rates) == 0 {
				w("| %s | %s | %d | no result | | | | | |\n", name, loop, r.Threads)
				continue
			}
			added, addedCPU := "-", "-"
			if r.AddedUs != nil {
				added = fmt.Sprintf("%+.2f", *r.AddedUs)
			}
			if r.AddedCPUUs != nil {
				addedCPU = fmt.Sprintf("%+.2f", *r.AddedCPUUs)
			}
			lost := "-"
			if r.Kind != "held" {
				lost = fmt.Sprintf("%d of %d", r.LostTotal, r.Expected*int64(len(r.Lost)))
			}
			w("| %s | %s | %d | %.2f | %.2f | %s | %s | %.0f | %s |\n", name, loop, r.Threads, r.NoneUs, r.FnUs, added, addedCPU, r.EventsPS, lost)
		}
		w("\n")
		for _, r := range cb.Rows {
			if r.Error != "" && len(r.Rates) > 0 {
				w("- %s %s %s: %s\n", r.API, r.Kind, r.Syscall, r.Error)
			}
		}
		for _, t := range cb.Targets {
			targets = append(targets, [4]string{t.Name, fmt.Sprintf("%.0f %s", t.Value, t.Unit), fmt.Sprintf("≥ %.0f %s", t.Limit, t.Unit), verdict(t.Pass)})
		}
		if len(cb.Targets) == 0 {
			targets = append(targets, [4]string{"policy callbacks through the C ABI", "not measured", "≥ 100000 events/s", "not measured"})
		}
	}

	if haveDispatch {
		w("The callback machinery alone, without a sandbox (capi's TestCallbackDispatchRate: events posted from Go straight into the C queue, a C callback that counts): what the C ABI can carry once the kernel's notification round trip, which bounds a single sandboxed thread above (about 10 µs per call here), is out of the way.\n\n")
		w("| dispatch | rate |\n|---|---:|\n")
		w("| observed events, posted back to back | %.0f events/s |\n", dp.ObservedEPS)
		w("| held event, one waiter (round trip) | %.1f µs (%.0f events/s) |\n", dp.HeldRoundTripUs, 1e6/max(dp.HeldRoundTripUs, 1e-9))
		w("| held events, %d waiters at once | %.0f events/s |\n\n", dp.HeldWaiters, dp.HeldEPS)
		targets = append(targets, [4]string{"C callback dispatch, held, one waiter (no sandbox)", fmt.Sprintf("%.0f events/s", 1e6/max(dp.HeldRoundTripUs, 1e-9)), "≥ 100000 events/s", verdict(1e6/max(dp.HeldRoundTripUs, 1e-9) >= 100000)})
		targets = append(targets, [4]string{"C callback dispatch, observed (no sandbox)", fmt.Sprintf("%.0f events/s", dp.ObservedEPS), "≥ 100000 events/s", verdict(dp.ObservedEPS >= 100000)})
	}

	w("## Memory per live sandbox\n\n")
	if !haveMemory {
		w("Not measured (no memory.json).\n\n")
	} else {
		w("One Go process starts %d sleeping children and measures its own VmRSS, threads and descriptors before and after (after a GC that returns free memory); the difference divided by %d.\n\n", mem.N, mem.N)
		w("| system | KiB RSS per sandbox | threads per sandbox | fds per sandbox |\n|---|---:|---:|---:|\n")
		for _, r := range mem.Rows {
			if r.Error != "" {
				w("| %s | %s | | |\n", r.System, r.Error)
				continue
			}
			w("| %s | %.1f | %.2f | %.2f |\n", r.System, r.RSSPerKiB, r.ThreadsPer, r.FDsPer)
		}
		w("\n")
	}

	w("## Targets (spec README section 4)\n\n| target | measured | limit | result |\n|---|---:|---:|---|\n")
	for _, t := range targets {
		w("| %s | %s | %s | %s |\n", t[0], t[1], t[2], t[3])
	}

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	md := filepath.Join(*dir, "results.md")
	if err := os.WriteFile(md, []byte(b.String()), 0o644); err != nil {
		fatalf("%v", err)
	}
	fmt.Printf("wrote %s\n", md)
	writeJSON(filepath.Join(*dir, "results.json"), combined)
}

func notifyLoopName(mode, path string) string {
	switch mode {
	case "pipe":
		return "pipe round trip"
	case "open":
		return "openat+close " + path
	case "prio":
		return "getpriority(own pid)"
	}
	return mode
}

func shortArgv(argv []string) string {
	s := strings.Join(argv, " ")
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func dedup(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// dispatchReport is what capi's TestCallbackDispatchRate writes for make
// bench (SANDLOCK_BENCH_DISPATCH_JSON).
type dispatchReport struct {
	ObservedEPS     float64 `json:"observed_events_per_s"`
	HeldRoundTripUs float64 `json:"held_round_trip_us"`
	HeldWaiters     int     `json:"held_waiters"`
	HeldEPS         float64 `json:"held_events_per_s"`
}
