// Command spawn measures how long it takes to start a command and wait for
// it: bare (Go's os/exec, and syscall.ForkExec + wait4), under sandlock's Go
// API (fully supervised), through the sandlock CLI, through a minimal Go
// exec-only launcher (the Go runtime's start cost), and through bubblewrap.
//
// It is a benchmark, not a test: it prints a table and, with -json, writes
// the numbers to a file. The variants are interleaved: every round runs
// each variant once, in an order rotated from round to round, so that the
// drift of a noisy machine hits all of them equally. Overheads are reported
// against the bare variant running the same command (spec README section 4:
// a supervised spawn must cost less than 1 ms over bare).
//
//	go run -tags landlocktsync ./tests/bench/spawn [-n 200] [-json out.json]
//
// SANDLOCK_CLI, when set, names the built CLI (build/sandlock).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	n := flag.Int("n", 200, "measured rounds (each round runs every variant once)")
	warmup := flag.Int("warmup", 10, "untimed rounds before measuring")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file (conventionally tests/bench/results/spawn.json)")
	budget := flag.Duration("budget", 50*time.Second, "stop measuring after this long even if fewer than -n rounds ran")
	launcher := flag.String("launcher", "", "prebuilt static exec-only Go launcher (default: build one in a temporary directory)")
	launcherCgo := flag.String("launcher-cgo", "", "prebuilt cgo exec-only Go launcher (default: build one)")
	only := flag.String("only", "", "comma-separated variant names to run (default: all)")
	buildOnly := flag.String("build-launcher", "", "only build the launchers to this path and path-cgo, then exit (for -launcher and -launcher-cgo in a later run)")
	flag.Parse()
	if *buildOnly != "" {
		buildLaunchers(*buildOnly)
		return
	}
	if *n < 1 {
		fatalf("-n must be at least 1")
	}

	env := newEnv()
	defer env.cleanup()
	vs := env.variants([2]string{*launcher, *launcherCgo})
	if *only != "" {
		keep := map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			keep[strings.TrimSpace(s)] = true
		}
		for name := range keep {
			if !slices.ContainsFunc(vs, func(v *variant) bool { return v.name == name }) {
				env.cleanup()
				fatalf("-only: no variant %q", name)
			}
		}
		// The baselines of the kept variants stay: the overheads are
		// computed against them.
		for _, v := range vs {
			if keep[v.name] && v.baseline != "" {
				keep[v.baseline] = true
			}
		}
		var out []*variant
		for _, v := range vs {
			if keep[v.name] {
				out = append(out, v)
			}
		}
		vs = out
	}

	// Probe each variant once: a broken optional variant is skipped with
	// its reason, a broken required one ends the run.
	var active []*variant
	for _, v := range vs {
		if v.skip != "" {
			continue
		}
		if v.prepare != nil {
			if err := v.prepare(); err != nil {
				v.skip = "skipped: " + err.Error()
				continue
			}
		}
		if err := v.run(); err != nil {
			if v.required {
				env.cleanup()
				fatalf("%s: %v", v.name, err)
			}
			v.skip = "probe failed: " + err.Error()
			continue
		}
		active = append(active, v)
	}

	fmt.Printf("sandlock spawn benchmark: %d rounds of %d interleaved variants (+%d warm-up), GOMAXPROCS=%d, uid=%d, kernel %s\n",
		*n, len(active), *warmup, runtime.GOMAXPROCS(0), os.Getuid(), kernelRelease())
	for r := 0; r < *warmup; r++ {
		for _, v := range active {
			_ = v.run()
		}
	}

	start := time.Now()
	rounds := 0
	for r := 0; r < *n; r++ {
		if time.Since(start) > *budget {
			break
		}
		k := len(active)
		for i := 0; i < k; i++ {
			v := active[(r+i)%k]
			t0 := time.Now()
			err := v.run()
			d := time.Since(t0)
			if err != nil {
				v.errors++
				v.lastErr = err.Error()
				v.samples = append(v.samples, -1) // keeps rounds aligned
				continue
			}
			v.samples = append(v.samples, d)
		}
		rounds++
	}
	elapsed := time.Since(start)

	rep := buildReport(vs, rounds, *n, elapsed)
	printReport(os.Stdout, rep)
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, rep); err != nil {
			env.cleanup()
			fatalf("%v", err)
		}
		fmt.Printf("\nwrote %s\n", *jsonOut)
	}
	for _, v := range vs {
		if v.errors > 0 {
			env.cleanup()
			os.Exit(1)
		}
	}
}

func writeJSON(path string, rep *report) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "spawn bench: "+f+"\n", a...)
	os.Exit(2)
}

// goTool finds the go command for building the launcher.
func goTool() (string, error) {
	return exec.LookPath("go")
}

// buildLaunchers writes both launchers next to each other: path and
// path-cgo.
func buildLaunchers(path string) {
	e := &env{}
	defer e.cleanup()
	for _, cgo := range []bool{false, true} {
		out, err := e.buildLauncher(cgo)
		if err == nil {
			dst := path
			if cgo {
				dst += "-cgo"
			}
			err = copyFile(out, dst)
		}
		if err != nil {
			e.cleanup()
			fatalf("build launcher: %v", err)
		}
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}
