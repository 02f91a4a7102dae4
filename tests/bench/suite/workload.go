package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"
)

// The syscall-heavy workloads: real programs that open, stat and read many
// files, run bare and under each sandbox, interleaved, wall time per run
// including the start.
//
//	python-imports  /usr/bin/python3 -I -c "import <many modules>"
//	tar-doc         tar -cf - /usr/share/doc, the archive read through a pipe
//	                and counted (GNU tar skips reading files when its output
//	                is /dev/null itself)

// pythonModules are imported by the python workload: a few hundred files
// opened, stat'ed and read from /usr/lib/python3.*.
var pythonModules = []string{
	"json", "email.mime.multipart", "http.client", "xml.dom.minidom", "decimal", "asyncio",
	"sqlite3", "unittest", "argparse", "logging.handlers", "urllib.request", "csv", "zipfile",
	"tarfile", "difflib", "pydoc", "multiprocessing", "concurrent.futures", "statistics", "fractions",
}

type workloadRow struct {
	Workload string    `json:"workload"`
	System   string    `json:"system"`
	Desc     string    `json:"desc"`
	Skipped  string    `json:"skipped,omitempty"`
	Error    string    `json:"error,omitempty"`
	Ms       []float64 `json:"ms,omitempty"`
	MedianMs float64   `json:"median_ms,omitempty"`
	Ratio    *float64  `json:"ratio,omitempty"` // median over bare's
	OverMs   *float64  `json:"over_bare_ms,omitempty"`
	// CPUMs is the CPU time (user + system) of the run: the children's
	// (the command, and bwrap or firejail) plus this process's (the
	// supervisor runs here; for the others it is the copying of the
	// output). It is far less sensitive than wall time to other load on
	// the machine.
	CPUMs       []float64 `json:"cpu_ms,omitempty"`
	MedianCPUMs float64   `json:"median_cpu_ms,omitempty"`
	CPURatio    *float64  `json:"cpu_ratio,omitempty"`
}

type workloadReport struct {
	meta
	Reps     int            `json:"reps"`
	Commands []workloadSpec `json:"commands"`
	Rows     []*workloadRow `json:"rows"`
	ElapsedS float64        `json:"elapsed_s"`
}

type workloadSpec struct {
	Name string   `json:"name"`
	Argv []string `json:"argv"`
	// MinBytes, when set, is the least output the run must produce (the
	// tar archive), so that a failing run is not mistaken for a fast one.
	MinBytes int64  `json:"-"`
	Skip     string `json:"skipped,omitempty"`
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func workloadMain(args []string) {
	fs := flag.NewFlagSet("workload", flag.ExitOnError)
	reps := fs.Int("reps", 5, "runs of every workload under every system (interleaved)")
	warmup := fs.Int("warmup", 1, "untimed rounds first (fills the page cache)")
	out := fs.String("json", "tests/bench/results/workload.json", "JSON output")
	fs.Parse(args)

	var specs []workloadSpec
	py := workloadSpec{Name: "python-imports", Argv: []string{"/usr/bin/python3", "-I", "-c", "import " + strings.Join(pythonModules, ", ")}}
	if _, err := os.Stat(py.Argv[0]); err != nil {
		py.Skip = "skipped: /usr/bin/python3 not installed"
	}
	specs = append(specs, py)
	tar := workloadSpec{Name: "tar-doc", Argv: []string{"tar", "-cf", "-", "/usr/share/doc"}, MinBytes: 1 << 20}
	if p, err := exec.LookPath("tar"); err != nil {
		tar.Skip = "skipped: tar not installed"
	} else {
		tar.Argv[0] = p
	}
	if _, err := os.Stat("/usr/share/doc"); err != nil {
		tar.Skip = "skipped: no /usr/share/doc"
	}
	specs = append(specs, tar)

	runners := commonRunners(true)
	type job struct {
		row  *workloadRow
		r    runner
		spec workloadSpec
	}
	var jobs []job
	rep := &workloadReport{meta: newMeta(), Commands: specs}
	for _, s := range specs {
		for _, r := range runners {
			row := &workloadRow{Workload: s.Name, System: r.name, Desc: r.desc, Skipped: r.skip}
			if s.Skip != "" {
				row.Skipped = s.Skip
			}
			rep.Rows = append(rep.Rows, row)
			if row.Skipped == "" {
				jobs = append(jobs, job{row: row, r: r, spec: s})
			}
		}
	}
	fmt.Printf("workload benchmark: %d runs of %d interleaved jobs (+%d warm-up), kernel %s\n", *reps, len(jobs), *warmup, kernelRelease())
	start := time.Now()
	for rnd := -*warmup; rnd < *reps; rnd++ {
		for i := range jobs {
			j := jobs[(max(rnd, 0)+i)%len(jobs)]
			if j.row.Error != "" {
				continue
			}
			var w countWriter
			c0 := cpuTime()
			t0 := time.Now()
			err := j.r.run(j.spec.Argv, &w)
			d := time.Since(t0)
			cpu := cpuTime() - c0
			if err == nil && w.n < j.spec.MinBytes {
				err = fmt.Errorf("only %d bytes of output", w.n)
			}
			if err != nil {
				j.row.Error = err.Error()
				continue
			}
			if rnd >= 0 {
				j.row.Ms = append(j.row.Ms, round3(d))
				j.row.CPUMs = append(j.row.CPUMs, round3(cpu))
			}
		}
	}
	rep.Reps = *reps
	rep.ElapsedS = round(time.Since(start).Seconds(), 1)
	bare := map[string]float64{}
	bareCPU := map[string]float64{}
	for _, r := range rep.Rows {
		r.MedianMs = round(median(r.Ms), 2)
		r.MedianCPUMs = round(median(r.CPUMs), 2)
		if r.System == "bare" {
			bare[r.Workload] = r.MedianMs
			bareCPU[r.Workload] = r.MedianCPUMs
		}
	}
	for _, r := range rep.Rows {
		if b := bare[r.Workload]; r.System != "bare" && b > 0 && len(r.Ms) > 0 {
			q, d := round(r.MedianMs/b, 3), round(r.MedianMs-b, 2)
			r.Ratio, r.OverMs = &q, &d
		}
		if b := bareCPU[r.Workload]; r.System != "bare" && b > 0 && len(r.CPUMs) > 0 {
			q := round(r.MedianCPUMs/b, 3)
			r.CPURatio = &q
		}
	}
	printWorkload(os.Stdout, rep)
	writeJSON(*out, rep)
	for _, r := range rep.Rows {
		if r.Error != "" {
			os.Exit(1)
		}
	}
}

// cpuTime is the user + system time of this process and of its reaped
// children so far.
func cpuTime() time.Duration {
	var self, kids unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &self)
	unix.Getrusage(unix.RUSAGE_CHILDREN, &kids)
	tv := func(t unix.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

func round3(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func printWorkload(w io.Writer, rep *workloadReport) {
	fmt.Fprintf(w, "%d runs each in %.1f s\n\n", rep.Reps, rep.ElapsedS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tsystem\tmedian ms\tover bare ms\tratio\tCPU ms\tCPU ratio\t")
	for _, r := range rep.Rows {
		if r.Skipped != "" || len(r.Ms) == 0 {
			continue
		}
		over, ratio, cratio := "-", "-", "-"
		if r.Ratio != nil {
			over, ratio = fmt.Sprintf("%+.1f", *r.OverMs), fmt.Sprintf("%.2fx", *r.Ratio)
		}
		if r.CPURatio != nil {
			cratio = fmt.Sprintf("%.2fx", *r.CPURatio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%.1f\t%s\t\n", r.Workload, r.System, r.MedianMs, over, ratio, r.MedianCPUMs, cratio)
	}
	tw.Flush()
	for _, r := range rep.Rows {
		if r.Skipped != "" {
			fmt.Fprintf(w, "%s/%s: %s\n", r.Workload, r.System, r.Skipped)
		}
		if r.Error != "" {
			fmt.Fprintf(w, "%s/%s: %s\n", r.Workload, r.System, r.Error)
		}
	}
}
