package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sandlock/sandlock/tests/bench/internal/linehost"
)

// The policy-callback benchmark: sysloop (tests/bench/helpers/sysloop.c)
// loops of one system call in a sandbox, without a policy callback and
// with a counting one that allows everything, started from the C host
// (tests/bench/hosts/chost.c, sandlock_set_policy_fn) and from the Python
// host (tests/bench/hosts/pycallbacks.py, Sandbox(policy_fn=...)), all
// interleaved:
//
//	held      openat + close, one thread: every openat waits for the
//	          callback's verdict, so events/s is the loop's own rate
//	observed  getpriority(own pid), one thread: notified, continued, and
//	          handed to the callback without waiting for it
//	observed  the same from -threads threads at once: more events than the
//	          callback can take, so its rate is the callback's capacity
//
// The callback counts the events of the loop's system call; a held run
// whose count is not the loop's (warm-up included, plus the loader's few
// opens) fails. Events that are not held are dropped by the library when
// its queue is full: they are counted as lost, not as a failure.

type callbackRow struct {
	API      string `json:"api"`  // "c" or "python"
	Kind     string `json:"kind"` // "held", "observed"
	Syscall  string `json:"syscall"`
	Threads  int    `json:"threads"`
	Desc     string `json:"desc"`
	Skipped  string `json:"skipped,omitempty"`
	Error    string `json:"error,omitempty"`
	Expected int64  `json:"expected_events"` // events of Syscall per run

	// Per repetition: the loop's µs per call (wall time over all threads'
	// calls) without and with the callback, the events per second, the
	// events of Syscall the callback saw, and those lost.
	NoneUsPerOp []float64 `json:"none_us_per_call_runs,omitempty"`
	FnUsPerOp   []float64 `json:"fn_us_per_call_runs,omitempty"`
	Rates       []float64 `json:"events_per_s_runs,omitempty"`
	Events      []int64   `json:"events_runs,omitempty"`
	Lost        []int64   `json:"lost_runs,omitempty"`
	// CPU per event of the loop (user + system of the host process, where
	// the supervisor and the callback run, and of the sandboxed process,
	// over the whole run) without and with the callback.
	NoneCPUUs []float64 `json:"none_cpu_us_per_event_runs,omitempty"`
	FnCPUUs   []float64 `json:"fn_cpu_us_per_event_runs,omitempty"`
	Other     []int64   `json:"other_events_runs,omitempty"`

	NoneUs float64 `json:"none_us_per_call"`
	FnUs   float64 `json:"fn_us_per_call"`
	// AddedUs is the median of the per-repetition differences with minus
	// without the callback, per call.
	AddedUs *float64 `json:"added_us_per_event,omitempty"`
	// AddedCPUUs is the same for the CPU time per event, which other load
	// on the machine disturbs far less than wall time.
	AddedCPUUs *float64 `json:"added_cpu_us_per_event,omitempty"`
	EventsPS   float64  `json:"events_per_s"`
	LostTotal  int64    `json:"lost_total"`

	pairs, cpuPairs []float64 // with minus without, per repetition
}

type callbacksReport struct {
	meta
	N        int            `json:"n"`
	Reps     int            `json:"reps"`
	Path     string         `json:"open_path"`
	Rows     []*callbackRow `json:"rows"`
	Targets  []targetResult `json:"targets"`
	Hosts    []string       `json:"hosts"`
	ElapsedS float64        `json:"elapsed_s"`
}

// cbHost is a host process answering "loop ..." requests (see chost.c).
type cbHost struct {
	name    string
	argv    []string
	env     []string
	greets  bool
	check   func(ready string) error
	missing string // why it is not configured; argv is then nil

	p        *linehost.Proc // nil when not running
	ready    string
	err      error // unusable for good
	skip     bool  // err is a reason to skip (not configured, no package), not a failure
	restarts int
}

// cbTimeout bounds one request; cbMaxRestarts the restarts of one host.
const (
	cbTimeout     = 90 * time.Second
	cbMaxRestarts = 3
)

func (h *cbHost) start() error {
	if h.err != nil {
		return h.err
	}
	if h.p != nil {
		return nil
	}
	if h.argv == nil {
		h.err, h.skip = errors.New(h.missing), true
		return h.err
	}
	p, err := linehost.Start(h.name, h.argv, h.env)
	if err != nil {
		h.err = fmt.Errorf("%s host: %w", h.name, err)
		return h.err
	}
	h.p = p
	if h.greets {
		text, skip, err := p.Greet(30 * time.Second)
		switch {
		case errors.Is(err, linehost.ErrGreeting):
			h.err = fmt.Errorf("%s host: %w", h.name, err)
		case err != nil:
			h.err = err
		case skip:
			h.err, h.skip = errors.New("skipped: "+text), true
		default:
			h.ready = text
			if h.check != nil {
				h.err = h.check(h.ready)
				h.skip = h.err != nil
			}
		}
		if h.err != nil {
			h.stop()
			return h.err
		}
	}
	return nil
}

func (h *cbHost) stop() {
	h.p.Stop()
	h.p = nil
}

// cbAnswer is one "ok LOOP_N LOOP_NS EVENTS HELD OTHER SPAN_NS CPU_NS"
// answer.
type cbAnswer struct {
	loopN, loopNs, events, held, other, spanNs, cpuNs int64
}

// request sends one loop request; a host that hangs or dies is restarted
// for the next request (at most cbMaxRestarts times).
func (h *cbHost) request(req string) (cbAnswer, error) {
	var a cbAnswer
	if err := h.start(); err != nil {
		return a, err
	}
	line, err := "", error(nil)
	if err = h.p.Send(req); err == nil {
		line, err = h.p.Read(cbTimeout)
	}
	if err != nil {
		h.stop()
		if h.restarts++; h.restarts > cbMaxRestarts {
			h.err = fmt.Errorf("%s host: %d restarts, last: %w", h.name, cbMaxRestarts, err)
		}
		return a, err
	}
	if msg, ok := strings.CutPrefix(line, "err "); ok {
		return a, errors.New(msg)
	}
	f := strings.Fields(line)
	if len(f) != 8 || f[0] != "ok" {
		return a, fmt.Errorf("unexpected answer %q", line)
	}
	var v [7]int64
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return a, fmt.Errorf("unexpected answer %q", line)
		}
	}
	a = cbAnswer{v[0], v[1], v[2], v[3], v[4], v[5], v[6]}
	if a.loopN <= 0 || a.loopNs <= 0 {
		return a, fmt.Errorf("unexpected answer %q", line)
	}
	return a, nil
}

// loaderOpens bounds the openat calls a process makes before main (ld.so
// and libc): a held run may count that many events above the loop's.
const loaderOpens = 16

func callbacksMain(args []string) {
	fs := flag.NewFlagSet("callbacks", flag.ExitOnError)
	n := fs.Int("n", 10000, "timed calls per loop (each thread of the parallel loop makes n/threads)")
	reps := fs.Int("reps", 3, "repetitions of every loop (interleaved)")
	budget := fs.Duration("budget", 40*time.Second, "start no new repetition after this long (at least one runs)")
	threads := fs.Int("threads", 4, "threads of the parallel observed loop")
	sysloop := fs.String("sysloop", "build/bench/sysloop", "the loop helper built from tests/bench/helpers/sysloop.c")
	path := fs.String("path", "/etc/passwd", "readable file the held loop opens")
	chost := fs.String("chost", os.Getenv("SANDLOCK_BENCH_CHOST"), "the C host (tests/bench/hosts/chost.c); empty skips the C rows")
	python := fs.String("python", envOr("SANDLOCK_BENCH_PYTHON", "python3"), "python3 for the Python host; empty skips the Python rows")
	pypath := fs.String("pypath", envOr("SANDLOCK_BENCH_PYPATH", "python"), "the project's python/ directory")
	lib := fs.String("lib", envOr("SANDLOCK_LIB", "build/libsandlock.so.0"), "libsandlock.so.0 for the Python package (SANDLOCK_LIB)")
	pyhost := fs.String("pyhost", "tests/bench/hosts/pycallbacks.py", "the Python host")
	out := fs.String("json", "tests/bench/results/callbacks.json", "JSON output")
	fs.Parse(args)
	if *n < *threads || *threads < 1 || *reps < 1 {
		fatalf("callbacks: need -n >= -threads >= 1 and -reps >= 1")
	}

	bin := mustAbs(*sysloop)
	if _, err := os.Stat(bin); err != nil {
		fatalf("sysloop helper: %v (cc -O2 -pthread tests/bench/helpers/sysloop.c -o %s)", err, *sysloop)
	}
	if strings.ContainsAny(bin+*path, " \t\n") {
		fatalf("callbacks: the paths of sysloop and -path must not contain white space")
	}
	dirs := append(systemDirs(), filepath.Dir(bin))

	hosts := map[string]*cbHost{
		"c": {name: "C", missing: "skipped: no C host (make bench builds build/bench/chost; pass -chost)"},
		"python": {name: "Python", greets: true,
			missing: "skipped: no python3 (pass -python)"},
	}
	if *chost != "" {
		hosts["c"].argv = append([]string{mustAbs(*chost)}, dirs...)
	}
	if py, err := exec.LookPath(*python); *python != "" && err == nil {
		pp := mustAbs(*pypath)
		h := hosts["python"]
		h.argv = append([]string{py, mustAbs(*pyhost)}, dirs...)
		h.env = []string{"SANDLOCK_LIB=" + mustAbs(*lib),
			"PYTHONPATH=" + filepath.Join(pp, "src") + string(os.PathListSeparator) + pp}
		h.check = func(ready string) error {
			if !strings.HasPrefix(ready, pp+string(os.PathSeparator)) {
				return fmt.Errorf("skipped: import sandlock found %q, not the package under %s", ready, pp)
			}
			return nil
		}
	}

	warm := func(k int) int64 { return int64(max(k/10, 1)) }
	per := *n / *threads
	type loop struct {
		kind, syscall string
		threads       int
		argv          []string
		expected      int64
		desc          string
	}
	ns := strconv.Itoa(*n)
	loops := []loop{
		{"held", "openat", 1, []string{bin, "open", ns, *path}, int64(*n) + warm(*n),
			"openat + close of " + *path + ", one thread: each openat waits for the verdict"},
		{"observed", "getpriority", 1, []string{bin, "prio", ns}, int64(*n) + warm(*n),
			"getpriority(own pid), one thread: notified, continued, the callback told without waiting"},
		{"observed", "getpriority", *threads, []string{bin, "par", strconv.Itoa(*threads), "prio", strconv.Itoa(per)},
			int64(*threads) * (int64(per) + warm(per)),
			fmt.Sprintf("getpriority(own pid) from %d threads at once: more events than the callback takes", *threads)},
	}
	type job struct {
		row  *callbackRow
		host *cbHost
		lp   loop
		fn   bool
	}
	var rows []*callbackRow
	var jobs []job
	for _, api := range []string{"c", "python"} {
		for _, lp := range loops {
			r := &callbackRow{API: api, Kind: lp.kind, Syscall: lp.syscall, Threads: lp.threads, Desc: lp.desc, Expected: lp.expected}
			rows = append(rows, r)
			for _, fn := range []bool{false, true} {
				jobs = append(jobs, job{row: r, host: hosts[api], lp: lp, fn: fn})
			}
		}
	}

	fmt.Printf("policy-callback benchmark: %d calls per loop, up to %d repetitions, kernel %s\n", *n, *reps, kernelRelease())
	start := time.Now()
	done := 0
	for rep := 0; rep < *reps; rep++ {
		if rep > 0 && time.Since(start) > *budget {
			fmt.Printf("budget of %v reached after %d repetitions\n", *budget, rep)
			break
		}
		// This repetition's per-call times, to pair with and without.
		none, noneCPU := map[*callbackRow]float64{}, map[*callbackRow]float64{}
		fnUs, fnCPU := map[*callbackRow]float64{}, map[*callbackRow]float64{}
		for i := range jobs {
			j := jobs[(rep+i)%len(jobs)]
			r := j.row
			if r.Error != "" || r.Skipped != "" {
				continue
			}
			if err := j.host.start(); err != nil {
				if j.host.skip {
					r.Skipped = err.Error()
				} else {
					r.Error = err.Error()
				}
				continue
			}
			cb := "none"
			if j.fn {
				cb = "fn"
			}
			a, err := j.host.request("loop " + cb + " " + j.lp.syscall + " " + strings.Join(j.lp.argv, " "))
			if err == nil {
				err = checkCallbackRun(r, a, j.fn)
			}
			if err != nil {
				r.Error = fmt.Sprintf("%s (callback %s): %v", r.Kind, cb, err)
				continue
			}
			us := float64(a.loopNs) / float64(a.loopN) / 1000
			cpu := float64(a.cpuNs) / float64(r.Expected) / 1000
			if !j.fn {
				none[r], noneCPU[r] = us, cpu
				r.NoneUsPerOp = append(r.NoneUsPerOp, round(us, 3))
				r.NoneCPUUs = append(r.NoneCPUUs, round(cpu, 3))
				continue
			}
			fnUs[r], fnCPU[r] = us, cpu
			r.FnUsPerOp = append(r.FnUsPerOp, round(us, 3))
			r.FnCPUUs = append(r.FnCPUUs, round(cpu, 3))
			r.Events = append(r.Events, a.events)
			r.Other = append(r.Other, a.other)
			var rate float64
			if r.Kind == "held" {
				rate = float64(a.loopN) / (float64(a.loopNs) / 1e9)
			} else {
				r.Lost = append(r.Lost, r.Expected-a.events)
				if a.spanNs > 0 {
					rate = float64(a.events) / (float64(a.spanNs) / 1e9)
				}
			}
			r.Rates = append(r.Rates, round(rate, 0))
		}
		for r, f := range fnUs {
			if b, ok := none[r]; ok {
				r.pairs = append(r.pairs, f-b)
				r.cpuPairs = append(r.cpuPairs, fnCPU[r]-noneCPU[r])
			}
		}
		done++
	}
	for _, h := range hosts {
		h.stop()
	}

	rep := &callbacksReport{meta: newMeta(), N: *n, Reps: done, Path: *path, Rows: rows, ElapsedS: round(time.Since(start).Seconds(), 1)}
	for _, k := range []string{"c", "python"} {
		h := hosts[k]
		switch {
		case h.ready != "":
			rep.Hosts = append(rep.Hosts, h.name+": "+h.ready)
		case h.argv != nil:
			rep.Hosts = append(rep.Hosts, h.name+": "+h.argv[0])
		}
	}
	for _, r := range rows {
		r.NoneUs = round(median(r.NoneUsPerOp), 3)
		r.FnUs = round(median(r.FnUsPerOp), 3)
		r.EventsPS = round(median(r.Rates), 0)
		if len(r.pairs) > 0 {
			d, c := round(median(r.pairs), 3), round(median(r.cpuPairs), 3)
			r.AddedUs, r.AddedCPUUs = &d, &c
		}
		for _, l := range r.Lost {
			r.LostTotal += l
		}
	}
	for _, r := range rows {
		if r.API != "c" || len(r.Rates) == 0 {
			continue
		}
		label := fmt.Sprintf("policy callbacks through the C ABI, %s %s (%d thread%s)", r.Kind, r.Syscall, r.Threads, plural(r.Threads))
		note := "the loop's rate: each call waits for its verdict"
		if r.Kind != "held" {
			note = "as the callback received them"
			if r.LostTotal > 0 {
				note += fmt.Sprintf("; %d events lost (queue full)", r.LostTotal)
			}
		}
		rep.Targets = append(rep.Targets, targetResult{Name: label, Value: r.EventsPS, Limit: 100000, Unit: "events/s", Pass: r.EventsPS >= 100000, Note: note})
	}
	printCallbacks(rep)
	writeJSON(*out, rep)
	for _, r := range rows {
		if r.Error != "" {
			os.Exit(1)
		}
	}
}

// checkCallbackRun compares what the callback counted with what the loop
// made: a held loop must deliver every event (plus at most the loader's
// opens), all of them held when the API says so; an observed loop may lose
// events but never count more than it made, and none of them is held.
func checkCallbackRun(r *callbackRow, a cbAnswer, fn bool) error {
	if !fn {
		if a.events != 0 || a.other != 0 {
			return fmt.Errorf("events counted without a callback: %d", a.events+a.other)
		}
		return nil
	}
	if r.Kind == "held" {
		if a.events < r.Expected || a.events > r.Expected+loaderOpens {
			return fmt.Errorf("the callback counted %d %s events, want %d (+ up to %d of the loader): events lost or invented",
				a.events, r.Syscall, r.Expected, loaderOpens)
		}
		if a.held >= 0 && a.held != a.events {
			return fmt.Errorf("%d of %d %s events held, want all", a.held, a.events, r.Syscall)
		}
		return nil
	}
	if a.events > r.Expected {
		return fmt.Errorf("the callback counted %d %s events, the loop made %d", a.events, r.Syscall, r.Expected)
	}
	if a.held > 0 {
		return fmt.Errorf("%d %s events held, want none", a.held, r.Syscall)
	}
	if a.events == 0 {
		return fmt.Errorf("the callback saw no %s event", r.Syscall)
	}
	return nil
}

func printCallbacks(rep *callbacksReport) {
	fmt.Printf("%d repetitions in %.1f s\n\n", rep.Reps, rep.ElapsedS)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "API\tloop\tthreads\tµs/call no cb\tµs/call cb\tadded µs/event\tadded CPU µs/event\tevents/s\tlost\truns\t")
	for _, r := range rep.Rows {
		if r.Skipped != "" {
			continue
		}
		added, addedCPU := "-", "-"
		if r.AddedUs != nil {
			added, addedCPU = fmt.Sprintf("%+.2f", *r.AddedUs), fmt.Sprintf("%+.2f", *r.AddedCPUUs)
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%d\t%.2f\t%.2f\t%s\t%s\t%.0f\t%d\t%d\t\n", r.API, r.Kind, r.Syscall, r.Threads, r.NoneUs, r.FnUs, added, addedCPU, r.EventsPS, r.LostTotal, len(r.Rates))
	}
	tw.Flush()
	for _, r := range rep.Rows {
		if r.Skipped != "" {
			fmt.Printf("%s %s: %s\n", r.API, r.Kind, r.Skipped)
		}
		if r.Error != "" {
			fmt.Printf("%s %s/%d: %s\n", r.API, r.Kind, r.Threads, r.Error)
		}
	}
	printTargets(rep.Targets)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		fatalf("%s: %v", p, err)
	}
	return a
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
