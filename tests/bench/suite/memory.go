package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// The memory benchmark: what a live sandbox costs the process that hosts
// it. This process starts N sleeping sandboxes, measures its own resident
// memory (VmRSS), threads and open descriptors before and after, and
// divides the difference by N. One sandbox of the same kind runs to
// completion first, so that one-time costs (the cached seccomp program,
// the supervisor's threads) are not counted per sandbox. Bare children
// started with os/exec are the baseline.

type memoryRow struct {
	System        string  `json:"system"`
	Desc          string  `json:"desc"`
	N             int     `json:"n"`
	Error         string  `json:"error,omitempty"`
	RSSBeforeKiB  int64   `json:"rss_before_kib"`
	RSSAfterKiB   int64   `json:"rss_after_kib"`
	RSSPerKiB     float64 `json:"rss_per_sandbox_kib"`
	ThreadsBefore int     `json:"threads_before"`
	ThreadsAfter  int     `json:"threads_after"`
	ThreadsPer    float64 `json:"threads_per_sandbox"`
	FDsPer        float64 `json:"fds_per_sandbox"`
}

type memoryReport struct {
	meta
	N    int          `json:"n"`
	Rows []*memoryRow `json:"rows"`
}

func memoryMain(args []string) {
	fs := flag.NewFlagSet("memory", flag.ExitOnError)
	n := fs.Int("n", 32, "sleeping sandboxes alive at once")
	out := fs.String("json", "tests/bench/results/memory.json", "JSON output")
	fs.Parse(args)

	sleepArgv := []string{"/bin/sleep", "600"}
	den := basePolicy()
	den.FsDenied = []string{deniedPath}
	rep := &memoryReport{meta: newMeta(), N: *n}
	for _, c := range []struct {
		system, desc string
		pol          *policy.Policy
	}{
		{"bare", "os/exec Start of /bin/sleep", nil},
		{"sandlock", "Go API sandbox.Spawn, default policy (supervised)", ptrTo(basePolicy())},
		{"sandlock-fsdenied", "Go API, fs_denied " + deniedPath + " (adds the supervisor's file warden)", &den},
	} {
		row := &memoryRow{System: c.system, Desc: c.desc, N: *n}
		rep.Rows = append(rep.Rows, row)
		start := func() (func(), error) {
			if c.pol == nil {
				cmd := exec.Command(sleepArgv[0], sleepArgv[1:]...)
				if err := cmd.Start(); err != nil {
					return nil, err
				}
				return func() { cmd.Process.Kill(); cmd.Wait() }, nil
			}
			sb, err := sandbox.Spawn(*c.pol, sleepArgv, sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Null(), Stderr: sandbox.Null()})
			if err != nil {
				return nil, err
			}
			return func() { sb.Kill(); sb.Wait() }, nil
		}
		// One of the same kind first, started and stopped.
		stop, err := start()
		if err != nil {
			row.Error = err.Error()
			continue
		}
		stop()
		rss0, thr0 := settle()
		fd0 := countFDs()
		var stops []func()
		for i := 0; i < *n; i++ {
			stop, err := start()
			if err != nil {
				row.Error = err.Error()
				break
			}
			stops = append(stops, stop)
		}
		rss1, thr1 := settle()
		fd1 := countFDs()
		for _, s := range stops {
			s()
		}
		if row.Error != "" {
			continue
		}
		row.RSSBeforeKiB, row.RSSAfterKiB = rss0, rss1
		row.ThreadsBefore, row.ThreadsAfter = thr0, thr1
		row.RSSPerKiB = round(float64(rss1-rss0)/float64(*n), 1)
		row.ThreadsPer = round(float64(thr1-thr0)/float64(*n), 2)
		row.FDsPer = round(float64(fd1-fd0)/float64(*n), 2)
	}
	fmt.Printf("memory benchmark: %d live sleeping children per system, one host process (pid %d)\n\n", *n, os.Getpid())
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tRSS before KiB\tRSS after KiB\tKiB per sandbox\tthreads per sandbox\tfds per sandbox\t")
	for _, r := range rep.Rows {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\terror: %s\t\t\t\t\t\n", r.System, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t\n", r.System, r.RSSBeforeKiB, r.RSSAfterKiB, r.RSSPerKiB, r.ThreadsPer, r.FDsPer)
	}
	tw.Flush()
	writeJSON(*out, rep)
	for _, r := range rep.Rows {
		if r.Error != "" {
			os.Exit(1)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// settle returns the process's VmRSS (KiB) and thread count after a
// garbage collection that returns free memory to the system.
func settle() (int64, int) {
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	debug.FreeOSMemory()
	time.Sleep(100 * time.Millisecond)
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fatalf("%v", err)
	}
	defer f.Close()
	var rss int64
	var threads int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			rss, _ = strconv.ParseInt(fields[0], 10, 64)
		case "Threads":
			threads, _ = strconv.Atoi(fields[0])
		}
	}
	return rss, threads
}

func countFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(es)
}
