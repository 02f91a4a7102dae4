package sandbox_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// TestOpenCost measures what file mediation costs per open: the loop of
// tests/bench/helpers/sysloop.c (10^4 x openat + close of a regular file,
// timed by the program itself) bare and in sandboxes, next to the floor of
// a notification (a pid-target getpriority the supervisor continues). It
// only runs with SANDLOCK_BENCH_OPEN=1 (or a comma-separated list of
// substrings naming the variants to run; SANDLOCK_BENCH_ROUNDS sets the
// number of rounds, 5 by default):
//
//	SANDLOCK_BENCH_OPEN=1 go test -tags landlocktsync -run TestOpenCost -v ./core/sandbox
func TestOpenCost(t *testing.T) {
	if os.Getenv("SANDLOCK_BENCH_OPEN") == "" {
		t.Skip("set SANDLOCK_BENCH_OPEN=1 to measure the per-open cost")
	}
	dir := tempDir(t)
	bin := buildSysloop(t, dir)
	file := filepath.Join(dir, "f")
	writeFile(t, file, "x")
	const n = 10000
	base := func() policy.Policy {
		p := policy.Default()
		p.FsReadable = append(existing("/usr", "/lib", "/lib64", "/bin", "/etc", "/proc"), dir)
		return p
	}
	parse := func(out string) float64 {
		f := strings.Fields(out)
		if len(f) != 2 {
			t.Fatalf("sysloop output %q", out)
		}
		cnt, _ := strconv.ParseFloat(f[0], 64)
		ns, _ := strconv.ParseFloat(f[1], 64)
		return ns / cnt
	}
	runIn := func(p *policy.Policy, args ...string) float64 {
		argv := append([]string{bin}, args...)
		if p == nil {
			out, err := exec.Command(argv[0], argv[1:]...).Output()
			if err != nil {
				t.Fatalf("%q: %v", argv, err)
			}
			return parse(string(out))
		}
		res, err := sandbox.Run(*p, argv, sandbox.Options{})
		if err != nil || !res.Success() {
			t.Fatalf("%q: %v %+v %s", argv, err, res, res.Stderr)
		}
		return parse(string(res.Stdout))
	}
	plain := base()
	denied := base()
	denied.FsDenied = []string{"/etc/shadow"}
	n10 := strconv.Itoa(n)
	variants := []struct {
		name string
		p    *policy.Policy
		args []string
	}{
		{"bare open", nil, []string{"open", n10, file}},
		{"notified+continued getpriority", &plain, []string{"prio", n10}},
		{"sandbox open (default policy)", &plain, []string{"open", n10, file}},
		{"sandbox open (fs_denied set)", &denied, []string{"open", n10, file}},
		{"sandbox open /proc/self/stat", &plain, []string{"open", n10, "/proc/self/stat"}},
	}
	if sel := os.Getenv("SANDLOCK_BENCH_OPEN"); sel != "1" {
		// A comma-separated list of substrings picks variants.
		var keep []int
		for i, v := range variants {
			for _, w := range strings.Split(sel, ",") {
				if strings.Contains(v.name, w) {
					keep = append(keep, i)
					break
				}
			}
		}
		picked := variants[:0:0]
		for _, i := range keep {
			picked = append(picked, variants[i])
		}
		variants = picked
	}
	rounds := 5
	if r, err := strconv.Atoi(os.Getenv("SANDLOCK_BENCH_ROUNDS")); err == nil && r > 0 {
		rounds = r
	}
	res := make([][]float64, len(variants))
	for r := 0; r < rounds; r++ {
		for i, v := range variants {
			res[i] = append(res[i], runIn(v.p, v.args...))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-36s %12s %12s\n", "variant", "median ns/op", "min ns/op")
	for i, v := range variants {
		sort.Float64s(res[i])
		fmt.Fprintf(&b, "%-36s %12.0f %12.0f\n", v.name, res[i][rounds/2], res[i][0])
	}
	t.Log("\n" + b.String())
}

// buildSysloop compiles tests/bench/helpers/sysloop.c into dir.
func buildSysloop(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sysloop")
	src, err := filepath.Abs("../../tests/bench/helpers/sysloop.c")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cc", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v: %s", err, out)
	}
	return bin
}

// TestNotifyHotPathAllocs counts the heap allocations made while
// notifications are answered, with real notifications: loops of a
// continued getpriority and of an openat performed on behalf. Every
// allocation is recorded (MemProfileRate 1) and those whose stack passes
// through the supervisor's loop or a goroutine it started are counted, so
// that the sandbox's periodic work (process discovery) and the rest of the
// test process do not count. The loops run twice with different lengths:
// what a sandbox allocates once cancels out. README section 4: the
// notification hot path allocates nothing.
func TestNotifyHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; the allocation count is checked without -race")
	}
	dir := tempDir(t)
	bin := buildSysloop(t, dir)
	file := filepath.Join(dir, "f")
	writeFile(t, file, "x")
	p := policy.Default()
	p.FsReadable = append(existing("/usr", "/lib", "/lib64", "/bin", "/etc"), dir)
	denied := p
	denied.FsDenied = []string{filepath.Join(dir, "denied")}
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = old }()
	allocs := func(p policy.Policy, argv ...string) int64 {
		before := supervisorAllocs()
		res, err := sandbox.Run(p, argv, sandbox.Options{})
		if err != nil || !res.Success() {
			t.Fatalf("%q: %v %+v %s", argv, err, res, res.Stderr)
		}
		return supervisorAllocs() - before
	}
	const short, long = 1000, 11000
	for _, tc := range []struct {
		name string
		p    policy.Policy
		mode string
	}{
		{"continued getpriority", p, "prio"},
		{"openat on behalf", p, "open"},
		{"openat on behalf, fs_denied", denied, "open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argv := func(n int) []string {
				a := []string{bin, tc.mode, strconv.Itoa(n)}
				if tc.mode == "open" {
					a = append(a, file)
				}
				return a
			}
			allocs(tc.p, argv(short)...) // the pools' first buffers
			lo, hi := allocs(tc.p, argv(short)...), allocs(tc.p, argv(long)...)
			// sysloop makes N/10 untimed calls first.
			calls := 1.1 * (long - short)
			t.Logf("supervisor allocations: %d in a run of %d calls, %d in a run of %d", lo, short*11/10, hi, long*11/10)
			// A sync.Pool may drop its buffers at a collection, and the
			// next call then allocates one: a few, never one per call.
			if extra := float64(hi - lo); extra > calls/1000 {
				t.Errorf("%.0f more allocations for %.0f more notifications, want none", extra, calls)
			}
		})
	}
}

// supervisorAllocs returns how many objects were allocated so far (as of
// the last collection, which it forces) by stacks that pass through the
// supervisor's loop or a goroutine it started for a handler.
func supervisorAllocs() int64 {
	runtime.GC()
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+64)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	const sup = "github.com/sandlock/sandlock/core/supervisor.(*Supervisor)."
	var total int64
	for _, r := range recs {
		frames := runtime.CallersFrames(r.Stack())
		for {
			fr, more := frames.Next()
			if rest, ok := strings.CutPrefix(fr.Function, sup); ok &&
				(strings.HasPrefix(rest, "loop") || strings.HasPrefix(rest, "dispatch") || strings.HasPrefix(rest, "Defer")) {
				total += r.AllocObjects
				break
			}
			if !more {
				break
			}
		}
	}
	return total
}
