package security

// Resource exhaustion and supervisor DoS (attacks.md 1.12). The plain fork
// loop under max_processes is core/sandbox TestMaxProcesses; the longer
// fork bombs, leak checks and kill storms are tests/stress.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// liveDescendants counts root and its live descendants from /proc.
func liveDescendants(root int) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	parent := map[int]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+2:])
		if len(f) < 2 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		parent[pid], _ = strconv.Atoi(f[1])
	}
	n := 0
	for pid := range parent {
		for p, hops := pid, 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == root {
				n++
				break
			}
		}
	}
	return n
}

// sampled runs the probe in a sandbox while a goroutine samples the
// sandbox's live processes every millisecond; it returns the result and
// the largest sample.
func sampled(t *testing.T, p policy.Policy, args ...string) (result, int) {
	t.Helper()
	argv := probe(t, args...)
	sb, err := sandbox.Spawn(p, argv, sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Capture(), Stderr: sandbox.Capture(), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := int64(liveDescendants(sb.Pid())); n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	res, ok, err := sb.WaitTimeout(90 * time.Second)
	close(stop)
	if !ok {
		wg.Wait()
		_ = sb.Kill()
		t.Fatalf("%q: the sandbox did not end within 90s (teardown hangs)", argv)
	}
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return result{argv: argv, code: res.ExitCode, signal: res.Signal, stdout: string(res.Stdout), stderr: string(res.Stderr)}, int(peak.Load())
}

// TestRES01ForkPaths: under max_processes=4 every way to create a process
// (libc fork, vfork, raw fork (nr 57), clone, clone(CLONE_VM|
// CLONE_VFORK), posix_spawn; clone3 answers ENOSYS) admits 3 children
// holding at once, refuses the rest with EAGAIN, and a fork is admitted
// again once they are gone. The harness samples the live processes.
func TestRES01ForkPaths(t *testing.T) {
	modes := []string{"fork", "vfork", "sysfork", "clone", "clonevm", "posix_spawn"}
	t.Run("RES-01/attack: fork bomb through every creation path", func(t *testing.T) {
		attack(t, "RES-01")
		p, _ := basePolicy(t)
		p.MaxProcesses = 4
		for _, m := range modes {
			r, peak := sampled(t, p, "bomb", m, "10")
			wantCode(t, r, 0)
			kv := r.kv()
			if kv["created"] != "3" || kv["first"] != "EAGAIN" || kv["after"] != "ok" {
				t.Errorf("%s: %v; want created=3 first=EAGAIN after=ok", m, r)
			}
			if peak > 4 {
				t.Errorf("%s: %d live processes sampled, limit 4", m, peak)
			}
		}
		r := inSandbox(t, p, sandbox.Options{}, "bomb", "clone3", "10")
		if kv := r.kv(); kv["created"] != "0" || kv["first"] != "ENOSYS" {
			t.Errorf("clone3: %v; want created=0 first=ENOSYS", r)
		}
	})
	t.Run("RES-01/control: the same under a limit that does not bite", func(t *testing.T) {
		control(t, "RES-01")
		p, _ := basePolicy(t)
		for _, m := range modes {
			r := inSandbox(t, p, sandbox.Options{}, "bomb", m, "10")
			if kv := r.kv(); kv["created"] != "10" || kv["after"] != "ok" {
				t.Errorf("%s: %v; want created=10", m, r)
			}
		}
		if r := onHost(t, hostOpts{}, "bomb", "clone3", "10"); r.kv()["created"] != "10" {
			t.Errorf("clone3 on the host: %v; want created=10", r)
		}
	})
}

// TestRES02Laundering: failed waits, WNOHANG reaping, SIGCHLD ignored
// (auto-reap) and unwaited children must not make the count forget live
// processes: afterwards still only 3 of 10 held children are admitted
// under max_processes=4, while exits do free their slots (30 sequential
// short-lived children all succeed).
func TestRES02Laundering(t *testing.T) {
	modes := []string{"wait", "wnohang", "sigign", "unwaited"}
	t.Run("RES-02/attack: launder the process count", func(t *testing.T) {
		attack(t, "RES-02")
		p, _ := basePolicy(t)
		p.MaxProcesses = 4
		for _, m := range modes {
			r, peak := sampled(t, p, "launder", m, "10")
			wantCode(t, r, 0)
			if kv := r.kv(); kv["created"] != "3" || kv["stuck"] != "" {
				t.Errorf("%s: %v; want created=3 and every short-lived child admitted", m, r)
			}
			if peak > 4+30 && m == "unwaited" || peak > 4 && m != "unwaited" {
				t.Errorf("%s: %d live processes sampled", m, peak)
			}
		}
	})
	t.Run("RES-02/control: the same under a limit that does not bite", func(t *testing.T) {
		control(t, "RES-02")
		p, _ := basePolicy(t)
		for _, m := range modes {
			if r := inSandbox(t, p, sandbox.Options{}, "launder", m, "10"); r.kv()["created"] != "10" {
				t.Errorf("%s: %v; want created=10", m, r)
			}
		}
	})
}

// TestRES06Rlimit: an unprivileged sandbox cannot raise RLIMIT_NOFILE past
// max_open_files (a root caller can: pending, capability dropping).
func TestRES06Rlimit(t *testing.T) {
	if isRoot {
		// Pending for root (catalogue_test.go): CAP_SYS_RESOURCE lets a
		// root caller raise its hard limit.
		return
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	want := strconv.FormatUint(min(lim.Max, 4096), 10)
	t.Run("RES-06/attack: raise RLIMIT_NOFILE past max_open_files", func(t *testing.T) {
		attack(t, "RES-06")
		p, _ := basePolicy(t)
		p.MaxOpenFiles = 64
		r := inSandbox(t, p, sandbox.Options{}, "rlimit-raise", want)
		wantKey(t, r, "setrlimit", "EPERM")
		wantKey(t, r, "prlimit", "EPERM")
		if r.num(t, "opened") > 61 || r.kv()["max"] != "64" {
			t.Errorf("%v; want at most 61 descriptors opened and the hard limit 64", r)
		}
	})
	t.Run("RES-06/control: without max_open_files", func(t *testing.T) {
		control(t, "RES-06")
		p, _ := basePolicy(t)
		r := inSandbox(t, p, sandbox.Options{}, "rlimit-raise", want)
		wantKey(t, r, "setrlimit", "ok")
		if n, _ := strconv.Atoi(want); r.num(t, "opened") < n-10 {
			t.Errorf("%v; want about %s descriptors opened", r, want)
		}
	})
}

// TestRES07SupervisorDoS: an on-behalf open of a FIFO nobody writes blocks
// only its caller: the sandbox's other opens, and another sandbox, keep
// being answered, the sandbox ends normally and the host's descriptors
// come back. Captured output is capped by OutputLimit.
func TestRES07SupervisorDoS(t *testing.T) {
	setup := func(t *testing.T) (policy.Policy, string, string) {
		p, w := basePolicy(t)
		fifo := filepath.Join(w, "fifo")
		if err := unix.Mkfifo(fifo, 0o666); err != nil {
			t.Fatal(err)
		}
		return p, fifo, writeFile(t, filepath.Join(w, "ok"), "ok")
	}
	t.Run("RES-07/attack: block the supervisor on a FIFO", func(t *testing.T) {
		attack(t, "RES-07")
		p, fifo, ok := setup(t)
		p = fsDenyActive(t, p)
		fds0 := fdCount(os.Getpid())
		done := make(chan result, 1)
		go func() {
			res, err := sandbox.Run(p, probe(t, "fifodos", fifo, ok, "200"), sandbox.Options{Timeout: 30 * time.Second})
			if err != nil {
				done <- result{argv: []string{"", "fifodos"}, code: -2, stderr: err.Error()}
				return
			}
			done <- result{argv: []string{"", "fifodos"}, code: res.ExitCode, signal: res.Signal, stdout: string(res.Stdout), stderr: string(res.Stderr)}
		}()
		// Meanwhile another sandbox of this host is served.
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "read", ok), 0)
		// release lets a warden still waiting for a writer go.
		release := func() {
			if fd, err := unix.Open(fifo, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(fd)
			}
		}
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("the sandbox did not end 5s after its program exited: its supervisor waits for an on-behalf open of a FIFO nobody writes (the caller is dead; Wait and the timeout hang until a writer appears)")
			release()
			select {
			case r = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the sandbox did not end after the FIFO got a writer either")
			}
		}
		wantCode(t, r, 0)
		if r.num(t, "ok") != 200 {
			t.Errorf("%v; the other opens were not all answered", r)
		}
		release()
		var fds1 int
		if !eventually(3*time.Second, func() bool { fds1 = fdCount(os.Getpid()); return fds1 <= fds0 }) {
			t.Errorf("host descriptors %d -> %d after the sandbox ended", fds0, fds1)
		}
	})
	t.Run("RES-07/attack: flood captured output past OutputLimit", func(t *testing.T) {
		attack(t, "RES-07")
		p, _, _ := setup(t)
		r := inSandbox(t, p, sandbox.Options{OutputLimit: 1 << 20}, "spew", "64")
		wantCode(t, r, 0)
		if len(r.stdout) > 1<<20 {
			t.Errorf("captured %d bytes, limit %d", len(r.stdout), 1<<20)
		}
	})
	t.Run("RES-07/control: the same without mediation and without the cap", func(t *testing.T) {
		control(t, "RES-07")
		p, fifo, ok := setup(t)
		r := inSandbox(t, p, sandbox.Options{}, "fifodos", fifo, ok, "200")
		if r.num(t, "ok") != 200 {
			t.Errorf("%v", r)
		}
		if fd, err := unix.Open(fifo, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
			unix.Close(fd)
		}
		r = inSandbox(t, p, sandbox.Options{}, "spew", "64")
		if len(r.stdout) != 64<<20 {
			t.Errorf("captured %d bytes, want %d", len(r.stdout), 64<<20)
		}
	})
}
