package stress

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/internal/testprobe"
)

// The spawn-and-wait loops below look for a wait that never returns: a
// benchmark's C host once hung in sandlock_sandbox_wait(sb, -1) twice in
// about 1400 sequential spawns of /bin/true. Every variant spawns
// /bin/true and /bin/echo hi alternately, checks each result, and fails
// with a diagnosis (the sandboxed process's state, the host's goroutine
// stacks) when one wait lasts longer than stallLimit, instead of hanging
// the run.

// stallLimit is how long one wait of a command that exits at once may
// take on a loaded CI machine before it counts as hung.
const stallLimit = 30 * time.Second

// waitLoop is one variant of the loops.
type waitLoop struct {
	name    string
	spawns  int
	threads int
	// pollMs is 0 to wait for ever, else the slice of a polled wait.
	pollMs int
	// sleepUs bounds a random pause after each spawn (the host idles).
	sleepUs int
	// bare adds a plain posix_spawn of /bin/true (C host only).
	bare bool
	// load runs busy loops on every CPU meanwhile, to perturb timing.
	load bool
	// stop has the test stop and continue the host (SIGSTOP, SIGCONT) at
	// random, a few milliseconds each (C host only): every system call of
	// the library, the supervisor's included, gets interrupted somewhere.
	stop bool
}

func waitLoops() []waitLoop {
	k := scale(1, 5)
	return []waitLoop{
		{name: "sequential", spawns: 700 * k, threads: 1, load: true},
		{name: "threads", spawns: 600 * k, threads: 3},
		{name: "polled", spawns: 400 * k, threads: 2, pollMs: 5, load: true},
		{name: "idle-bare", spawns: 300 * k, threads: 1, sleepUs: 3000, bare: true},
		{name: "stopped", spawns: 300 * k, threads: 1, stop: true},
	}
}

// busy keeps every CPU busy with shell loops in other processes, so that
// the kernel, not the Go scheduler of the test, shares the CPUs, until the
// returned function is called.
func busy(t *testing.T) (stop func()) {
	var cmds []*exec.Cmd
	for i := 0; i < runtime.NumCPU(); i++ {
		c := exec.Command("/bin/sh", "-c", "while :; do :; done")
		if err := c.Start(); err != nil {
			t.Fatalf("busy loop: %v", err)
		}
		cmds = append(cmds, c)
	}
	return func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
}

// procState describes pid from /proc for a stall report.
func procState(pid int) string {
	var b strings.Builder
	for _, f := range []string{"stat", "wchan", "syscall"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
		if err != nil {
			fmt.Fprintf(&b, "\n  /proc/%d/%s: %v", pid, f, err)
			continue
		}
		fmt.Fprintf(&b, "\n  /proc/%d/%s: %s", pid, f, strings.TrimSpace(string(data)))
	}
	return b.String()
}

// TestGoSpawnWaitNoHang runs the loops through the Go API: Spawn, then
// Wait (or WaitTimeout in slices), with a watchdog per wait.
func TestGoSpawnWaitNoHang(t *testing.T) {
	p, _ := basePolicy(t)
	for _, l := range waitLoops() {
		if l.bare || l.stop {
			continue // a bare child proves nothing more here; the test cannot stop itself
		}
		t.Run(l.name, func(t *testing.T) {
			if l.load {
				defer busy(t)()
			}
			type worker struct {
				since atomic.Int64 // UnixNano when the wait began, 0 when not waiting
				pid   atomic.Int64
				iter  atomic.Int64
			}
			ws := make([]worker, l.threads)
			errs := make(chan error, l.threads)
			var wg sync.WaitGroup
			start := time.Now()
			for w := range ws {
				wg.Add(1)
				go func(w *worker, seed uint64) {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(seed, 1))
					for i := 0; i < l.spawns/l.threads; i++ {
						argv, o := []string{"/bin/true"}, sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Null(), Stderr: sandbox.Capture()}
						if i%2 == 1 {
							argv, o.Stdout = []string{"/bin/echo", "hi"}, sandbox.Capture()
						}
						sb, err := sandbox.Spawn(p, argv, o)
						if err != nil {
							errs <- fmt.Errorf("spawn %d: %w", i, err)
							return
						}
						w.pid.Store(int64(sb.Pid()))
						w.iter.Store(int64(i))
						w.since.Store(time.Now().UnixNano())
						var res *sandbox.Result
						if l.pollMs == 0 {
							res, err = sb.Wait()
						} else {
							for ok := false; !ok; {
								res, ok, err = sb.WaitTimeout(time.Duration(l.pollMs) * time.Millisecond)
							}
						}
						w.since.Store(0)
						if err != nil {
							errs <- fmt.Errorf("wait %d: %w", i, err)
							return
						}
						if !res.Success() || (i%2 == 1 && string(res.Stdout) != "hi\n") {
							errs <- fmt.Errorf("spawn %d (%s): reason %v, exit %d, signal %d, stdout %q, stderr %q",
								i, argv[0], res.Reason, res.ExitCode, res.Signal, res.Stdout, res.Stderr)
							return
						}
						if l.sleepUs > 0 {
							time.Sleep(time.Duration(rng.IntN(l.sleepUs)) * time.Microsecond)
						}
					}
				}(&ws[w], uint64(w)+1)
			}
			finished := make(chan struct{})
			go func() { wg.Wait(); close(finished) }()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-finished:
					close(errs)
					for err := range errs {
						t.Error(err)
					}
					t.Logf("%d spawns in %v", l.spawns/l.threads*l.threads, time.Since(start).Round(time.Millisecond))
					return
				case <-tick.C:
				}
				for i := range ws {
					since := ws[i].since.Load()
					if since == 0 || time.Since(time.Unix(0, since)) < stallLimit {
						continue
					}
					var stacks bytes.Buffer
					_ = pprof.Lookup("goroutine").WriteTo(&stacks, 2)
					// The stuck goroutines are left behind: the test has failed.
					t.Fatalf("STALL: worker %d, spawn %d: Wait has not returned after %v; sandboxed pid %d:%s\ngoroutines:\n%s",
						i, ws[i].iter.Load(), stallLimit, ws[i].pid.Load(), procState(int(ws[i].pid.Load())), stacks.String())
				}
			}
		})
	}
}

// cHost builds libsandlock.so.0 from this tree (or takes $SANDLOCK_LIB)
// and the C host testdata/capi_spawnloop.c linked to it, into dir.
func cHost(dir string) (string, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return "", err
	}
	lib := os.Getenv("SANDLOCK_LIB")
	if lib == "" {
		lib = filepath.Join(dir, "libsandlock.so.0")
		goTool := os.Getenv("GO") // the Makefile's $(GO)
		if goTool == "" {
			goTool = "go"
		}
		build := exec.Command(goTool, "build", "-tags=landlocktsync", "-buildvcs=false", "-buildmode=c-shared",
			"-ldflags", "-extldflags '-Wl,-soname,libsandlock.so.0 -Wl,--version-script="+filepath.Join(root, "capi", "libsandlock.map")+"'",
			"-o", lib, "./capi")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build -buildmode=c-shared ./capi: %v\n%s", err, out)
		}
	}
	bin := filepath.Join(dir, "capi_spawnloop")
	cc := exec.Command("gcc", "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-I"+filepath.Join(root, "include"),
		"testdata/capi_spawnloop.c", "-o", bin, lib, "-Wl,-rpath,"+filepath.Dir(lib), "-lpthread")
	if out, err := cc.CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc capi_spawnloop.c: %v\n%s", err, out)
	}
	return bin, nil
}

// TestCAPISpawnWaitNoHang runs the loops in a C program linked to the
// library: sandlock_spawn, sandlock_sandbox_wait(-1 or slices), result
// checks, sandbox and result freed. The host's own watchdog reports a
// stalled wait with the library's goroutine stacks (SANDLOCK_DEBUG_STACKS).
func TestCAPISpawnWaitNoHang(t *testing.T) {
	bin, err := cHost(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range waitLoops() {
		t.Run(l.name, func(t *testing.T) {
			if l.load {
				defer busy(t)()
			}
			wait := -1
			if l.pollMs > 0 {
				wait = l.pollMs
			}
			bare := "0"
			if l.bare {
				bare = "1"
			}
			args := []string{strconv.Itoa(l.spawns), strconv.Itoa(l.threads), strconv.Itoa(wait),
				strconv.FormatInt(stallLimit.Milliseconds(), 10), strconv.Itoa(l.sleepUs), bare}
			args = append(args, testprobe.SystemDirs()...)
			// The host's watchdog fires after stallLimit; this bound only
			// catches a host that hangs somewhere else (in spawn or free).
			ctx, cancel := context.WithTimeout(context.Background(), scale(5*time.Minute, 20*time.Minute))
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = append(os.Environ(), "SANDLOCK_DEBUG_STACKS=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Start()
			if err != nil {
				t.Fatalf("C host: %v", err)
			}
			stopped := make(chan struct{})
			var stopper sync.WaitGroup
			if l.stop {
				stopper.Add(1)
				go func() {
					defer stopper.Done()
					// Process.Signal goes through a pidfd: it cannot reach a
					// recycled pid once Wait has reaped the host.
					proc := cmd.Process
					for {
						select {
						case <-stopped:
							return
						default:
						}
						_ = proc.Signal(syscall.SIGSTOP)
						time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
						_ = proc.Signal(syscall.SIGCONT)
						time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
					}
				}()
			}
			err = cmd.Wait()
			close(stopped)
			stopper.Wait()
			if ctx.Err() != nil {
				t.Fatalf("the C host did not finish in time (stuck outside a wait?)\nstdout: %s\nstderr: %s", stdout.Bytes(), stderr.Bytes())
			}
			if err != nil {
				t.Fatalf("C host: %v\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
			}
			if !strings.HasPrefix(stdout.String(), "ok ") {
				t.Fatalf("C host said %q, want \"ok ...\"; stderr: %s", stdout.String(), stderr.Bytes())
			}
			t.Log(strings.TrimSpace(stdout.String()))
		})
	}
}
