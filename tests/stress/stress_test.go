package stress

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/internal/testprobe"
)

// threadSlack is how many OS threads the Go runtime may add after the
// warm-up (core/sandbox TestNoLeaks uses the same bound).
const threadSlack = 4

// TestSequentialNoLeaks (attacks.md 4.3) runs 1000 sandboxes one after the
// other (10000 under soak), turning on in turn each supervisor feature that
// exists: nothing notified, on-behalf opens (fs_denied), process
// accounting, both. The host's descriptors, goroutines, zombies and
// temporary entries must end exactly where they were after a warm-up,
// threads within the runtime's slack, RSS within 5 MiB.
func TestSequentialNoLeaks(t *testing.T) {
	n := scale(1000, 10000)
	base, w := basePolicy(t)
	tagFile := filepath.Join(w, "tag")
	if err := os.WriteFile(tagFile, []byte("tag"), 0o644); err != nil {
		t.Fatal(err)
	}
	denied := filepath.Join(w, "denied")
	if err := os.Mkdir(denied, 0o777); err != nil {
		t.Fatal(err)
	}
	type variant struct {
		name string
		p    policy.Policy
		argv []string
	}
	mk := func(name string, fsDeny bool, maxProcs int, args ...string) variant {
		p := base.Clone()
		p.MaxProcesses = maxProcs
		if fsDeny {
			p.FsDenied = []string{denied}
		}
		return variant{name, p, load(t, args...)}
	}
	variants := []variant{
		mk("plain", false, 0, "true"),
		mk("fs_denied", true, 0, "work", "tag", tagFile, "0.002"),
		mk("max_processes", false, 8, "seqfork", "3"),
		mk("fs_denied+max_processes", true, 8, "work", "tag", tagFile, "0.002"),
	}
	run := func(i int) {
		v := variants[i%len(variants)]
		res, err := runBounded(t, v.p, v.argv, sandbox.Options{Timeout: 30 * time.Second})
		if err != nil {
			t.Fatalf("run %d (%s): %v", i, v.name, err)
		}
		if !res.Success() {
			t.Fatalf("run %d (%s): exit %d reason %v stderr %q", i, v.name, res.ExitCode, res.Reason, res.Stderr)
		}
	}
	for i := range 50 * len(variants) {
		run(i)
	}
	before := settled(t, hostCounts(t), 0, 200*time.Millisecond)
	start := time.Now()
	for i := range n {
		run(i)
	}
	took := time.Since(start)
	after := settled(t, before, threadSlack, 3*time.Second)
	t.Logf("%d sandboxes in %v (%v each)", n, took, took/time.Duration(n))
	checkLeaks(t, fmt.Sprintf("after %d sequential sandboxes", n), before, after, threadSlack, 5*1024)
}

// TestConcurrent (attacks.md 4.4): 64 sandboxes at once (256 under soak),
// spawned from 32 goroutines, each reading a file tagged with its own id
// through the supervisor (fs_denied) and forking in a loop; a quarter are
// killed at random times. Every surviving sandbox must see only its own
// tag, none may hang (watchdog), and afterwards the leak check passes.
func TestConcurrent(t *testing.T) {
	n := scale(64, 256)
	secs := scale("2", "20")
	base, w := basePolicy(t)
	before := hostCounts(t)
	var peakThreads atomic.Int64
	stopSampler := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopSampler:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if c := threadsNow(); int64(c) > peakThreads.Load() {
				peakThreads.Store(int64(c))
			}
		}
	}()
	type outcome struct {
		killed bool
		res    *sandbox.Result
		err    error
	}
	out := make([]outcome, n)
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				tag := fmt.Sprintf("sandbox-%03d", i)
				dir := filepath.Join(w, tag)
				if err := os.Mkdir(dir, 0o777); err != nil {
					out[i].err = err
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, "tag"), []byte(tag), 0o644); err != nil {
					out[i].err = err
					continue
				}
				if err := os.Mkdir(filepath.Join(dir, "denied"), 0o777); err != nil {
					out[i].err = err
					continue
				}
				p := base.Clone()
				p.FsReadable = append(p.FsReadable, dir)
				p.FsDenied = []string{filepath.Join(dir, "denied")}
				p.MaxProcesses = 8
				sb, err := sandbox.Spawn(p, load(t, "work", tag, filepath.Join(dir, "tag"), secs),
					sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Capture(), Stderr: sandbox.Capture(), Timeout: time.Minute})
				if err != nil {
					out[i].err = err
					continue
				}
				if i%4 == 3 {
					out[i].killed = true
					go func() {
						time.Sleep(time.Duration(rand.Int64N(int64(1500 * time.Millisecond))))
						_ = sb.Kill()
					}()
				}
				res, ok, err := sb.WaitTimeout(60 * time.Second)
				if !ok {
					_ = sb.Kill()
					if res, ok, _ = sb.WaitTimeout(30 * time.Second); !ok {
						out[i].err = fmt.Errorf("watchdog: still running 60s after the start and 30s after Kill (teardown hangs)")
						continue
					}
					err = fmt.Errorf("watchdog: still running after 60s")
				}
				out[i].res, out[i].err = res, err
			}
		}()
	}
	start := time.Now()
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(stopSampler)
	t.Logf("%d concurrent sandboxes in %v; peak host threads %d (GOMAXPROCS %d)", n, time.Since(start), peakThreads.Load(), runtime.GOMAXPROCS(0))
	for i, o := range out {
		tag := fmt.Sprintf("sandbox-%03d", i)
		switch {
		case o.err != nil:
			t.Errorf("%s: %v", tag, o.err)
		case o.killed && (o.res.Reason == sandbox.Killed || o.res.Success()):
		case !o.res.Success():
			t.Errorf("%s: exit %d reason %v stdout %q stderr %q", tag, o.res.ExitCode, o.res.Reason, o.res.Stdout, o.res.Stderr)
		case !strings.HasPrefix(string(o.res.Stdout), tag+" ") || !strings.Contains(string(o.res.Stdout), " bad=0"):
			t.Errorf("%s: output %q, want its own tag and bad=0", tag, o.res.Stdout)
		}
	}
	after := settled(t, before, threadSlack+int(peakThreads.Load()), 5*time.Second)
	checkLeaks(t, fmt.Sprintf("after %d concurrent sandboxes", n), before, after, int(peakThreads.Load()), 0)
}

// TestIdleConcurrentThreads: 64 idle sandboxes (process accounting on, no
// on-behalf file operations) cost parked goroutines, not OS threads: the
// listener sits in the runtime's poller (README "How it works"). The
// host's threads stay under 2 x GOMAXPROCS + 16 (attacks.md 4.4), whatever
// the number of sandboxes. (With fs_denied every sandbox also has a warden
// thread confined like its child; TestConcurrent logs that peak.)
func TestIdleConcurrentThreads(t *testing.T) {
	n := scale(64, 256)
	p, _ := basePolicy(t)
	before := threadsNow()
	var sbs []*sandbox.Sandbox
	defer func() {
		for _, sb := range sbs {
			_ = sb.Kill()
		}
		for _, sb := range sbs {
			if _, ok, _ := sb.WaitTimeout(30 * time.Second); !ok {
				t.Errorf("sandbox %d did not end 30s after Kill (teardown hangs)", sb.Pid())
			}
		}
	}()
	for range n {
		sb, err := sandbox.Spawn(p, []string{"/bin/sleep", "30"}, sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Null(), Stderr: sandbox.Null()})
		if err != nil {
			t.Fatal(err)
		}
		sbs = append(sbs, sb)
	}
	time.Sleep(200 * time.Millisecond)
	// The runtime keeps the idle threads earlier tests made and reuses
	// them: the bound applies to what this test adds beyond those.
	bound := max(before, 2*runtime.GOMAXPROCS(0)+16)
	if th := threadsNow(); th > bound {
		t.Errorf("%d idle sandboxes: %d host threads (%d before), want at most %d", n, th, before, bound)
	} else {
		t.Logf("%d idle sandboxes: %d host threads, %d before (bound %d)", n, th, before, bound)
	}
}

func threadsNow() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// TestKillStorm (attacks.md 4.5): the child loops on notified opens
// (fs_denied) and is killed at a random moment, 500 times (10000 under
// soak), by Kill or by a plain SIGKILL to its pid. Wait must return every
// time (the supervisor never wedges) and the host's descriptors and
// goroutines end where they started.
func TestKillStorm(t *testing.T) {
	n := scale(500, 10000)
	p, w := basePolicy(t)
	f := filepath.Join(w, "f")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	denied := filepath.Join(w, "denied")
	if err := os.Mkdir(denied, 0o777); err != nil {
		t.Fatal(err)
	}
	p.FsDenied = []string{denied}
	p.MaxProcesses = 8
	argv := load(t, "openloop", f)
	opts := sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Null(), Stderr: sandbox.Null(), Timeout: time.Minute}
	storm := func(count int) {
		for i := range count {
			sb, err := sandbox.Spawn(p, argv, opts)
			if err != nil {
				t.Fatalf("iteration %d: %v", i, err)
			}
			time.Sleep(time.Duration(rand.Int64N(int64(5 * time.Millisecond))))
			if i%2 == 0 {
				_ = sb.Kill()
			} else {
				_ = syscall.Kill(sb.Pid(), syscall.SIGKILL)
			}
			res, ok, err := sb.WaitTimeout(5 * time.Second)
			if !ok {
				t.Fatalf("iteration %d: Wait did not return 5s after SIGKILL", i)
			}
			if err != nil || res.Signal != int(syscall.SIGKILL) {
				t.Fatalf("iteration %d: result %+v, %v; want death by SIGKILL", i, res, err)
			}
		}
	}
	storm(10)
	before := settled(t, hostCounts(t), 0, 200*time.Millisecond)
	start := time.Now()
	storm(n)
	t.Logf("%d kills in %v", n, time.Since(start))
	after := settled(t, before, threadSlack, 3*time.Second)
	checkLeaks(t, fmt.Sprintf("after %d kills", n), before, after, threadSlack, 0)
}

// liveMarked lists live processes whose environment holds marker.
func liveMarked(marker string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !strings.Contains(string(b), markerEnv+"="+marker) {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(st)
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]); len(f) > 0 && f[0] != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

// TestForkBomb (attacks.md 4.1): a fork bomb in which every process forks
// as fast as it can, under max_processes=50; the bomb's total is also
// capped by a counter of its own. A sampler counts the live processes every
// millisecond: never more than 50. The refusals are EAGAIN. The host can
// fork during the bomb, Kill ends it within a second, nothing survives,
// and a fresh sandbox under the same limit forks normally. Repeated 3
// times (20 under soak).
func TestForkBomb(t *testing.T) {
	const limit = 50
	rounds := scale(3, 20)
	for round := range rounds {
		p, _ := basePolicy(t)
		p.MaxProcesses = limit
		marker := fmt.Sprintf("forkbomb-%d-%d", os.Getpid(), round)
		p.Env = map[string]string{markerEnv: marker}
		sb, err := sandbox.Spawn(p, load(t, "forkbomb", "10", "5000"),
			sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Capture(), Stderr: sandbox.Capture(), Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		var peak atomic.Int64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if n := int64(len(liveMarked(marker))); n > peak.Load() {
					peak.Store(n)
				}
				time.Sleep(time.Millisecond)
			}
		}()
		// The host forks during the bomb.
		deadline := time.Now().Add(scale(700*time.Millisecond, 3*time.Second))
		hostForks := 0
		for time.Now().Before(deadline) {
			if err := exec.Command("/bin/true").Run(); err != nil {
				t.Errorf("round %d: the host cannot fork during the bomb: %v", round, err)
				break
			}
			hostForks++
		}
		start := time.Now()
		if err := sb.Kill(); err != nil {
			t.Errorf("round %d: Kill: %v", round, err)
		}
		if _, ok, _ := sb.WaitTimeout(time.Second); !ok {
			t.Errorf("round %d: Wait did not return within 1s of Kill", round)
			if _, ok, _ := sb.WaitTimeout(30 * time.Second); !ok {
				t.Fatalf("round %d: the sandbox did not end 30s after Kill (teardown hangs)", round)
			}
		}
		var left []int
		if !eventually(time.Second-time.Since(start), func() bool { left = liveMarked(marker); return len(left) == 0 }) {
			t.Errorf("round %d: %d bomb processes alive 1s after Kill", round, len(left))
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		close(stop)
		<-sampled
		t.Logf("round %d: peak %d live processes, host forked %d times during the bomb", round, peak.Load(), hostForks)
		if peak.Load() > limit {
			t.Errorf("round %d: %d live bomb processes sampled, limit %d", round, peak.Load(), limit)
		}
		// A bounded bomb that ends by itself reports what it was refused.
		res, err := runBounded(t, p, load(t, "forkbomb", "0.5", "5000"), sandbox.Options{Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		kv := map[string]string{}
		for _, f := range strings.Fields(string(res.Stdout)) {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		if kv["eagain"] == "0" || kv["eagain"] == "" || kv["other"] != "0" {
			t.Errorf("round %d: bomb output %q; want refusals with EAGAIN only", round, res.Stdout)
		}
		if left := liveMarked(marker); len(left) != 0 {
			t.Errorf("round %d: %d bomb processes alive after the sandbox ended", round, len(left))
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		// No leaked count: a fresh sandbox forks 50 times in a row.
		res, err = runBounded(t, p, load(t, "seqfork", "50"), sandbox.Options{Timeout: time.Minute})
		if err != nil || !res.Success() {
			t.Errorf("round %d: sequential forks after the bomb: %v %+v", round, err, res)
		}
	}
}

var runBounded = testprobe.RunBounded

// eventually polls cond every 5 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	return testprobe.Poll(d, 5*time.Millisecond, cond)
}

// The host-death test re-executes the test binary as a host (helperEnv
// set) that spawns sandboxes and waits to be killed.
const (
	helperEnv = "SANDLOCK_STRESS_HOST"
	markerEnv = "SANDLOCK_STRESS_MARKER"
)

// helperMain spawns helperEnv's count of sandboxes running sleep 300, from
// as many goroutines, with the marker in their environment; prints
// "ready" and waits (at most a minute) to be killed.
func helperMain() int {
	f := strings.Fields(os.Getenv(helperEnv))
	if len(f) != 2 {
		return 2
	}
	n, _ := strconv.Atoi(f[1])
	p := policy.Default()
	p.FsReadable = existing("/usr", "/lib", "/lib64", "/bin", "/etc")
	p.Env = map[string]string{markerEnv: f[0]}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := sandbox.Spawn(p, []string{"/bin/sleep", "300"}, sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Null(), Stderr: sandbox.Null()})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("ready")
	time.Sleep(time.Minute)
	return 0
}

// TestHostKilled (attacks.md 4.7, SIG-04): a host with several sandboxes
// is killed with SIGKILL; within a second no sandbox process may remain.
func TestHostKilled(t *testing.T) {
	rounds := scale(3, 20)
	for round := range rounds {
		marker := fmt.Sprintf("hostkill-%d-%d-%d", os.Getpid(), round, time.Now().UnixNano())
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), helperEnv+"="+marker+" "+strconv.Itoa(n))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "ready\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("helper host: %q, %v", line, err)
		}
		if got := len(liveMarked(marker)); got != n {
			t.Errorf("round %d: %d sandbox processes before the kill, want %d", round, got, n)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		var left []int
		if !eventually(time.Second, func() bool { left = liveMarked(marker); return len(left) == 0 }) {
			t.Errorf("round %d: sandbox processes %v alive 1s after the host was killed", round, left)
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// TestMemoryHogs (attacks.md 4.2), once max_memory exists: a program
// touching 1 GiB under limits of 64 and 256 MiB stops (ENOMEM) or is
// killed before touching the limit plus 1/8 (at least 16 MiB) of slack;
// the host's RSS does not grow with it; a small program runs under 64 MiB.
// The channel-by-channel bypasses are tests/security TestRES04MemoryHog.
func TestMemoryHogs(t *testing.T) {
	if !maxMemoryImplemented() {
		return // pending: listed by TestMain
	}
	before := hostCounts(t)
	for _, limit := range []int{64, 256} {
		p, _ := basePolicy(t)
		p.MaxMemory = uint64(limit) << 20
		res, err := runBounded(t, p, load(t, "hog", "1024"), sandbox.Options{Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		n := strings.Count(string(res.Stdout), "touched=")
		slack := max(limit/8, 16)
		if n > limit+slack || (res.Signal == 0 && !strings.Contains(string(res.Stdout), "stopped")) {
			t.Errorf("max_memory %d MiB: touched %d MiB (signal %d, stopped %v)", limit, n, res.Signal, strings.Contains(string(res.Stdout), "stopped"))
		}
		res, err = runBounded(t, p, load(t, "true"), sandbox.Options{Timeout: time.Minute})
		if err != nil || !res.Success() {
			t.Errorf("max_memory %d MiB: a small program failed: %v %+v", limit, err, res)
		}
	}
	if after := hostCounts(t); after.rssKiB > before.rssKiB+20*1024 {
		t.Errorf("host RSS grew from %d to %d KiB", before.rssKiB, after.rssKiB)
	}
}
