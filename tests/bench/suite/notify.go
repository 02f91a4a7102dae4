package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The notified-syscall benchmark: loops of one syscall (tests/bench/
// helpers/sysloop.c, timed inside the process) bare and sandboxed, and a
// plain pipe round trip between two processes, the floor of any
// notification (architecture.md 8), in the same run:
//
//	open     openat + close of a readable file: with fs_denied (and, in the
//	         current engine, in every sandbox) each openat is notified and the
//	         supervisor opens the file on the child's behalf (ADDFD)
//	prio     getpriority(PRIO_PROCESS, own pid): a pid target, which the
//	         supervised policy notifies and the supervisor continues (the
//	         pure notification round trip)
//	getppid  allowed by the filter: what the seccomp filter alone costs

type notifyRow struct {
	Mode    string    `json:"mode"`
	System  string    `json:"system"`
	Desc    string    `json:"desc"`
	Skipped string    `json:"skipped,omitempty"`
	Error   string    `json:"error,omitempty"`
	PerOpUs []float64 `json:"per_op_us,omitempty"` // one per repetition
	// MedianUs is the median per-op time; OverBareUs subtracts the bare
	// loop of the same mode: the cost the sandbox adds per syscall.
	MedianUs   float64  `json:"median_us,omitempty"`
	OverBareUs *float64 `json:"over_bare_us,omitempty"`
	// PipeRatio is OverBareUs over the pipe round trip.
	PipeRatio *float64 `json:"over_bare_vs_pipe_rtt,omitempty"`
}

type notifyReport struct {
	meta
	N         int            `json:"n"`
	Reps      int            `json:"reps"`
	Path      string         `json:"open_path"`
	PipeRTTUs float64        `json:"pipe_rtt_us"`
	Rows      []*notifyRow   `json:"rows"`
	Targets   []targetResult `json:"targets"`
	ElapsedS  float64        `json:"elapsed_s"`
}

// targetResult is one spec target checked against a measurement.
type targetResult struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit"`
	Pass  bool    `json:"pass"`
	Note  string  `json:"note,omitempty"`
}

func notifyMain(args []string) {
	fs := flag.NewFlagSet("notify", flag.ExitOnError)
	n := fs.Int("n", 100000, "iterations per loop")
	reps := fs.Int("reps", 3, "repetitions of every loop (interleaved)")
	budget := fs.Duration("budget", 100*time.Second, "start no new repetition after this long (at least one runs)")
	sysloop := fs.String("sysloop", "build/bench/sysloop", "the loop helper built from tests/bench/helpers/sysloop.c")
	path := fs.String("path", "/etc/passwd", "readable file the open loop opens")
	out := fs.String("json", "tests/bench/results/notify.json", "JSON output")
	fs.Parse(args)

	bin, err := filepath.Abs(*sysloop)
	if err != nil {
		fatalf("%v", err)
	}
	if _, err := os.Stat(bin); err != nil {
		fatalf("sysloop helper: %v (cc -O2 tests/bench/helpers/sysloop.c -o %s)", err, *sysloop)
	}
	// The sandboxes read the system trees and the helper's directory.
	rs := commonRunners(false, filepath.Dir(bin))
	byName := map[string]runner{}
	for _, r := range rs {
		byName[r.name] = r
	}
	ns := strconv.Itoa(*n)
	type job struct {
		row  *notifyRow
		r    runner
		argv []string
	}
	var jobs []job
	addJob := func(mode, system string, argv []string) {
		r := byName[system]
		jobs = append(jobs, job{row: &notifyRow{Mode: mode, System: system, Desc: r.desc}, r: r, argv: argv})
	}
	addJob("pipe", "bare", []string{bin, "pipe", ns})
	for _, s := range []string{"bare", "sandlock", "sandlock-fsdenied"} {
		addJob("open", s, []string{bin, "open", ns, *path})
	}
	for _, s := range []string{"bare", "sandlock"} {
		addJob("prio", s, []string{bin, "prio", ns})
	}
	for _, s := range []string{"bare", "sandlock"} {
		addJob("getppid", s, []string{bin, "getppid", ns})
	}
	jobs[0].row.Desc = "one byte to a forked child and back over two pipes"

	fmt.Printf("notified-syscall benchmark: %d iterations per loop, up to %d repetitions, kernel %s\n", *n, *reps, kernelRelease())
	start := time.Now()
	done := 0
	for rep := 0; rep < *reps; rep++ {
		if rep > 0 && time.Since(start) > *budget {
			fmt.Printf("budget of %v reached after %d repetitions\n", *budget, rep)
			break
		}
		for i := range jobs {
			j := jobs[(rep+i)%len(jobs)]
			if j.row.Error != "" {
				continue
			}
			var buf bytes.Buffer
			if err := j.r.run(j.argv, &buf); err != nil {
				j.row.Error = err.Error()
				continue
			}
			f := strings.Fields(buf.String())
			if len(f) != 2 {
				j.row.Error = fmt.Sprintf("unexpected output %q", buf.String())
				continue
			}
			total, err1 := strconv.ParseFloat(f[1], 64)
			cnt, err2 := strconv.ParseFloat(f[0], 64)
			if err1 != nil || err2 != nil || cnt == 0 {
				j.row.Error = fmt.Sprintf("unexpected output %q", buf.String())
				continue
			}
			j.row.PerOpUs = append(j.row.PerOpUs, round(total/cnt/1000, 3))
		}
		done++
	}

	rep := &notifyReport{meta: newMeta(), N: *n, Reps: done, Path: *path, ElapsedS: round(time.Since(start).Seconds(), 1)}
	bare := map[string]float64{}
	for _, j := range jobs {
		j.row.MedianUs = round(median(j.row.PerOpUs), 3)
		if j.row.System == "bare" {
			bare[j.row.Mode] = j.row.MedianUs
		}
		rep.Rows = append(rep.Rows, j.row)
	}
	rep.PipeRTTUs = bare["pipe"]
	for _, r := range rep.Rows {
		if r.System == "bare" || len(r.PerOpUs) == 0 {
			continue
		}
		if b, ok := bare[r.Mode]; ok && b > 0 {
			d := round(r.MedianUs-b, 3)
			r.OverBareUs = &d
			if rep.PipeRTTUs > 0 {
				q := round(d/rep.PipeRTTUs, 2)
				r.PipeRatio = &q
			}
		}
	}
	find := func(mode, system string) *notifyRow {
		for _, r := range rep.Rows {
			if r.Mode == mode && r.System == system && r.OverBareUs != nil {
				return r
			}
		}
		return nil
	}
	for _, t := range []struct{ mode, system, label string }{
		{"prio", "sandlock", "notified + continued (getpriority)"},
		{"open", "sandlock-fsdenied", "notified openat (fs_denied, opened on behalf)"},
		{"open", "sandlock", "openat in the default policy"},
	} {
		r := find(t.mode, t.system)
		if r == nil {
			continue
		}
		rep.Targets = append(rep.Targets,
			targetResult{Name: t.label + ": added per syscall", Value: *r.OverBareUs, Limit: 15, Unit: "µs", Pass: *r.OverBareUs < 15},
		)
		if rep.PipeRTTUs > 0 {
			rep.Targets = append(rep.Targets, targetResult{
				Name: t.label + ": vs pipe round trip", Value: *r.PipeRatio, Limit: 1.2, Unit: "x", Pass: *r.PipeRatio <= 1.2,
				Note: fmt.Sprintf("pipe round trip %.1f µs in this run", rep.PipeRTTUs),
			})
		}
	}
	printNotify(rep)
	writeJSON(*out, rep)
	for _, r := range rep.Rows {
		if r.Error != "" {
			os.Exit(1)
		}
	}
}

func printNotify(rep *notifyReport) {
	fmt.Printf("%d repetitions in %.1f s\n\n", rep.Reps, rep.ElapsedS)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "loop\tsystem\tµs/op (median)\tadded µs/op\tadded / pipe RTT\truns\t")
	for _, r := range rep.Rows {
		over, ratio := "-", "-"
		if r.OverBareUs != nil {
			over = fmt.Sprintf("%+.2f", *r.OverBareUs)
		}
		if r.PipeRatio != nil {
			ratio = fmt.Sprintf("%.2fx", *r.PipeRatio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%s\t%s\t%d\t\n", r.Mode, r.System, r.MedianUs, over, ratio, len(r.PerOpUs))
	}
	tw.Flush()
	for _, r := range rep.Rows {
		if r.Error != "" {
			fmt.Printf("%s/%s: %s\n", r.Mode, r.System, r.Error)
		}
	}
	printTargets(rep.Targets)
}

func printTargets(ts []targetResult) {
	if len(ts) == 0 {
		return
	}
	fmt.Println("\ntargets (spec README section 4):")
	for _, t := range ts {
		verdict := "FAIL"
		if t.Pass {
			verdict = "ok"
		}
		note := ""
		if t.Note != "" {
			note = " (" + t.Note + ")"
		}
		fmt.Printf("  %-60s %9.2f %-2s limit %6.2f %-2s %s%s\n", t.Name, t.Value, t.Unit, t.Limit, t.Unit, verdict, note)
	}
}
