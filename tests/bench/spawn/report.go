package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"
)

type report struct {
	Time       string          `json:"time"`
	GoVersion  string          `json:"go_version"`
	Kernel     string          `json:"kernel"`
	CPUs       int             `json:"cpus"`
	UID        int             `json:"uid"`
	Rounds     int             `json:"rounds"`
	Requested  int             `json:"rounds_requested"`
	ElapsedSec float64         `json:"elapsed_s"`
	Variants   []variantReport `json:"variants"`
	Targets    []targetReport  `json:"targets"`
}

type variantReport struct {
	Name     string `json:"name"`
	Desc     string `json:"desc"`
	System   string `json:"system"`
	Command  string `json:"command"`
	Cmd      string `json:"cmd,omitempty"`
	Baseline string `json:"baseline,omitempty"`
	Skipped  string `json:"skipped,omitempty"`
	N        int    `json:"n,omitempty"`
	Errors   int    `json:"errors,omitempty"`
	LastErr  string `json:"last_error,omitempty"`
	stats
	// OverMs is the difference of the medians; PairedMs is the median of
	// the per-round differences, which cancels drift between rounds.
	// They are nil for a baseline.
	OverMs   *float64 `json:"over_baseline_ms,omitempty"`
	Ratio    *float64 `json:"ratio,omitempty"`
	PairedMs *float64 `json:"paired_delta_ms,omitempty"`
}

type stats struct {
	MedianMs float64 `json:"median_ms,omitempty"`
	P90Ms    float64 `json:"p90_ms,omitempty"`
	MeanMs   float64 `json:"mean_ms,omitempty"`
	MinMs    float64 `json:"min_ms,omitempty"`
	MaxMs    float64 `json:"max_ms,omitempty"`
}

type targetReport struct {
	Name    string  `json:"name"`
	ValueMs float64 `json:"value_ms"`
	LimitMs float64 `json:"limit_ms"`
	Pass    bool    `json:"pass"`
	Note    string  `json:"note,omitempty"`
}

// ms converts to milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func ptr(x float64) *float64 { return &x }

// quantile is the nearest-rank quantile of sorted ds.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func summarize(samples []time.Duration) (stats, []time.Duration) {
	var ok []time.Duration
	var sum time.Duration
	for _, d := range samples {
		if d >= 0 {
			ok = append(ok, d)
			sum += d
		}
	}
	slices.Sort(ok)
	if len(ok) == 0 {
		return stats{}, nil
	}
	return stats{
		MedianMs: ms(median(ok)),
		P90Ms:    ms(quantile(ok, 0.9)),
		MeanMs:   ms(sum / time.Duration(len(ok))),
		MinMs:    ms(ok[0]),
		MaxMs:    ms(ok[len(ok)-1]),
	}, ok
}

func buildReport(vs []*variant, rounds, requested int, elapsed time.Duration) *report {
	rep := &report{
		Time:       time.Now().UTC().Format(time.RFC3339),
		GoVersion:  runtime.Version(),
		Kernel:     kernelRelease(),
		CPUs:       runtime.NumCPU(),
		UID:        os.Getuid(),
		Rounds:     rounds,
		Requested:  requested,
		ElapsedSec: elapsed.Seconds(),
	}
	byName := map[string]*variant{}
	for _, v := range vs {
		byName[v.name] = v
	}
	rows := map[string]*variantReport{}
	for _, v := range vs {
		vr := variantReport{Name: v.name, Desc: v.desc, System: v.system, Command: v.command, Cmd: v.cmd, Baseline: v.baseline, Skipped: v.skip,
			Errors: v.errors, LastErr: v.lastErr}
		if v.skip == "" {
			var ok []time.Duration
			vr.stats, ok = summarize(v.samples)
			vr.N = len(ok)
			if b := byName[v.baseline]; b != nil && b.skip == "" && vr.N > 0 {
				bs, _ := summarize(b.samples)
				vr.OverMs = ptr(round3(vr.MedianMs - bs.MedianMs))
				if bs.MedianMs > 0 {
					vr.Ratio = ptr(round3(vr.MedianMs / bs.MedianMs))
				}
				vr.PairedMs = ptr(pairedDelta(v.samples, b.samples))
			}
		}
		rep.Variants = append(rep.Variants, vr)
	}
	for i := range rep.Variants {
		rows[rep.Variants[i].Name] = &rep.Variants[i]
	}

	have := func(name string) *variantReport {
		if r := rows[name]; r != nil && r.Skipped == "" && r.N > 0 {
			return r
		}
		return nil
	}
	if s := have("sandlock"); s != nil {
		rep.Targets = append(rep.Targets, targetReport{
			Name: "supervised spawn over bare (os/exec)", ValueMs: *s.OverMs, LimitMs: 1, Pass: *s.OverMs < 1,
			Note: fmt.Sprintf("paired %.2f ms", *s.PairedMs),
		})
		if f := have("bare-forkexec"); f != nil {
			d := round3(s.MedianMs - f.MedianMs)
			rep.Targets = append(rep.Targets, targetReport{
				Name: "supervised spawn over bare fork+exec", ValueMs: d, LimitMs: 1, Pass: d < 1,
				Note: fmt.Sprintf("paired %.2f ms", pairedDelta(byName["sandlock"].samples, byName["bare-forkexec"].samples)),
			})
		}
	}
	// In-process spawns from C and Python hosts, against a bare spawn
	// from the same host.
	for _, h := range []struct{ name, label string }{
		{"capi", "C ABI spawn over bare (C posix_spawn)"},
		{"python", "Python spawn over bare (os.posix_spawn)"},
	} {
		if s := have(h.name); s != nil && s.OverMs != nil {
			rep.Targets = append(rep.Targets, targetReport{
				Name: h.label, ValueMs: *s.OverMs, LimitMs: 1, Pass: *s.OverMs < 1,
				Note: fmt.Sprintf("paired %.2f ms", *s.PairedMs),
			})
		}
	}
	if c := have("cli"); c != nil {
		if l := have("go-launcher"); l != nil {
			d := round3(c.MedianMs - l.MedianMs)
			rep.Targets = append(rep.Targets, targetReport{
				Name: "CLI over exec-only Go launcher", ValueMs: d, LimitMs: 1, Pass: d < 1,
				Note: fmt.Sprintf("paired %.2f ms", pairedDelta(byName["cli"].samples, byName["go-launcher"].samples)),
			})
		}
		for _, bw := range []struct{ name, label string }{
			{"bwrap", "CLI minus bwrap (binds only)"},
			{"bwrap-unshare", "CLI minus bwrap --unshare-all"},
		} {
			if b := have(bw.name); b != nil {
				d := round3(c.MedianMs - b.MedianMs)
				rep.Targets = append(rep.Targets, targetReport{
					Name: bw.label, ValueMs: d, LimitMs: 0, Pass: d < 0,
				})
			}
		}
	}
	return rep
}

// pairedDelta is the median over rounds of a[i]-b[i], skipping rounds where
// either run failed.
func pairedDelta(a, b []time.Duration) float64 {
	var ds []time.Duration
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] >= 0 && b[i] >= 0 {
			ds = append(ds, a[i]-b[i])
		}
	}
	slices.Sort(ds)
	return ms(median(ds))
}

func printReport(w io.Writer, rep *report) {
	fmt.Fprintf(w, "%d rounds in %.1f s", rep.Rounds, rep.ElapsedSec)
	if rep.Rounds < rep.Requested {
		fmt.Fprintf(w, " (budget reached before the %d requested)", rep.Requested)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\tcommand\tmedian ms\tp90 ms\tover bare ms\tratio\tpaired Δ ms\tvs\t")
	for _, v := range rep.Variants {
		if v.Skipped != "" {
			continue
		}
		over, ratio, paired, vs := "-", "-", "-", "-"
		if v.OverMs != nil && v.Ratio != nil {
			over = fmt.Sprintf("%+.2f", *v.OverMs)
			ratio = fmt.Sprintf("%.2fx", *v.Ratio)
			paired = fmt.Sprintf("%+.2f", *v.PairedMs)
			vs = v.Baseline
		}
		cmd := "true"
		if v.Command == "echo" {
			cmd = "echo hi"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t\n", v.Name, cmd, v.MedianMs, v.P90Ms, over, ratio, paired, vs)
	}
	tw.Flush()
	for _, v := range rep.Variants {
		if v.Skipped != "" {
			fmt.Fprintf(w, "%s: %s\n", v.Name, v.Skipped)
		}
		if v.Errors > 0 {
			fmt.Fprintf(w, "%s: %d failed runs, last: %s\n", v.Name, v.Errors, v.LastErr)
		}
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "targets (spec README section 4):")
		for _, t := range rep.Targets {
			verdict := "FAIL"
			if t.Pass {
				verdict = "ok"
			}
			note := ""
			if t.Note != "" {
				note = " (" + t.Note + ")"
			}
			fmt.Fprintf(w, "  %-42s %+7.2f ms  limit %+.2f ms  %s%s\n", t.Name, t.ValueMs, t.LimitMs, verdict, note)
		}
	}
}
