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
// SANDLOCK_CLI, when set, names the built CLI (build/sandlock). The C ABI
// and Python variants run in host processes (tests/bench/hosts) that time
// their own spawns; see tests/bench/README.md.
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
	var cfg config
	flag.StringVar(&cfg.chost, "chost", os.Getenv("SANDLOCK_BENCH_CHOST"), "C host built from tests/bench/hosts/chost.c against libsandlock.so.0 (default $SANDLOCK_BENCH_CHOST)")
	flag.StringVar(&cfg.pyhost, "pyhost", defaultPyhost(), "tests/bench/hosts/pyhost.py")
	flag.StringVar(&cfg.python, "python", defaultPython(), "Python interpreter for the project's package and the bare Python host")
	flag.StringVar(&cfg.pypath, "pypath", envOr("SANDLOCK_BENCH_PYPATH", "python"), "the project's python/ directory (put on PYTHONPATH; SANDLOCK_LIB should name the library)")
	flag.StringVar(&cfg.lib, "lib", defaultLib(), "libsandlock.so.0 for the project's Python package (SANDLOCK_LIB; default $SANDLOCK_LIB or build/libsandlock.so.0)")
	flag.StringVar(&cfg.pythonOrig, "python-orig", os.Getenv("SANDLOCK_BENCH_PYORIG"), "interpreter of a venv where `pip install sandlock` installed the original (default $SANDLOCK_BENCH_PYORIG)")
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
	cfg.launchers = [2]string{*launcher, *launcherCgo}
	if cfg.pypath != "" {
		if abs, err := filepath.Abs(cfg.pypath); err == nil {
			cfg.pypath = abs
		}
	}
	vs := env.variants(cfg)
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
		if _, err := v.measure(); err != nil {
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
			_, _ = v.measure()
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
			d, err := v.measure()
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

	env.cleanup()
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

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// defaultPyhost finds tests/bench/hosts/pyhost.py from the working
// directory (make runs at the top of the tree) or next to this source.
func defaultPyhost() string {
	if p := os.Getenv("SANDLOCK_BENCH_PYHOST"); p != "" {
		return p
	}
	cands := []string{filepath.Join("tests", "bench", "hosts", "pyhost.py")}
	if _, file, _, ok := runtime.Caller(0); ok {
		cands = append(cands, filepath.Join(filepath.Dir(file), "..", "hosts", "pyhost.py"))
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			abs, _ := filepath.Abs(c)
			return abs
		}
	}
	return ""
}

func defaultLib() string {
	if p := os.Getenv("SANDLOCK_LIB"); p != "" {
		return p
	}
	p := filepath.Join("build", "libsandlock.so.0")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	abs, _ := filepath.Abs(p)
	return abs
}

func defaultPython() string {
	if p := os.Getenv("SANDLOCK_BENCH_PYTHON"); p != "" {
		return p
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		return ""
	}
	return p
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
