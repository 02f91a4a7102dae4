package policyfn_test

// Real-kernel tests of the policy callback through the Go API. Each
// security test has a control that shows what the rule prevents does
// happen without it. They run as root and as an unprivileged user.

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/policyfn"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/internal/testprobe"
)

//go:embed testdata/pfnprobe.c
var probeSource []byte

var probeDir, probeBin string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "sandlock-pfnprobe-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		src := filepath.Join(dir, "pfnprobe.c")
		if err := os.WriteFile(src, probeSource, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		probeDir = dir
		bin := filepath.Join(dir, "pfnprobe")
		if out, err := exec.Command("gcc", "-O2", "-Wall", "-pthread", "-o", bin, src).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "gcc pfnprobe: %v: %s\n", err, out)
			return 1
		}
		probeBin = bin
		return m.Run()
	}())
}

var existing = testprobe.Existing

func basePolicy() policy.Policy {
	p := policy.Default()
	p.FsReadable = append(testprobe.SystemDirs(), probeDir)
	p.FsWritable = existing("/dev/null")
	return p
}

func run(t *testing.T, p policy.Policy, fn policyfn.Func, o sandbox.Options, argv ...string) *sandbox.Result {
	t.Helper()
	o.PolicyFn = fn
	res, err := sandbox.Run(p, argv, o)
	if err != nil {
		t.Fatalf("Run(%q): %v", argv, err)
	}
	return res
}

// listener accepts and closes connections on 127.0.0.1 until the test ends.
func listener(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// recorder keeps the events a callback saw.
type recorder struct {
	mu  sync.Mutex
	evs []policyfn.Event
}

func (r *recorder) add(ev *policyfn.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, *ev)
	r.mu.Unlock()
}

func (r *recorder) all() []policyfn.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]policyfn.Event(nil), r.evs...)
}

func TestEventsCarryTheirFields(t *testing.T) {
	var rec recorder
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		rec.add(ev)
		return policyfn.Allow
	}
	res := run(t, basePolicy(), fn, sandbox.Options{}, "/bin/sh", "-c", "/bin/true a b; echo done")
	if res.ExitCode != 0 || string(res.Stdout) != "done\n" {
		t.Fatalf("exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	var execs, opens, forks int
	for _, ev := range rec.all() {
		switch ev.Syscall {
		case "execve":
			execs++
			if ev.Category != policyfn.Process || !ev.Held || ev.Pid <= 0 || ev.PPid <= 0 || ev.Denied {
				t.Errorf("execve event %+v: want category process, held, pids set, not denied", ev)
			}
			if execs == 2 && strings.Join(ev.Argv, " ") != "/bin/true a b" {
				t.Errorf("second execve argv = %q, want [/bin/true a b]", ev.Argv)
			}
		case "openat":
			opens++
			if ev.Category != policyfn.File || !ev.Held || ev.Host != "" || ev.Argv != nil {
				t.Errorf("openat event %+v: want category file, held, no host or argv", ev)
			}
		case "vfork", "clone", "fork":
			forks++
			if ev.Category != policyfn.Process || ev.Held {
				t.Errorf("%s event %+v: want category process, not held", ev.Syscall, ev)
			}
		}
	}
	if execs != 2 || opens == 0 || forks == 0 {
		t.Errorf("execve events %d (want 2), openat %d, fork family %d (want > 0)", execs, opens, forks)
	}
}

// connectPolicy allows TCP connects to ports.
func connectPolicy(ports ...uint16) policy.Policy {
	p := basePolicy()
	p.NetConnect = slices.Sorted(slices.Values(ports))
	return p
}

func TestDenyConnectWithErrno(t *testing.T) {
	a, b := listener(t), listener(t)
	var rec recorder
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "connect" {
			rec.add(ev)
			if ev.Port == a {
				return policyfn.DenyWith(unix.EACCES)
			}
		}
		return policyfn.Allow
	}
	p := connectPolicy(a, b)
	res := run(t, p, fn, sandbox.Options{}, probeBin, "connect", strconv.Itoa(int(a)))
	if res.ExitCode != int(unix.EACCES) {
		t.Errorf("connect to the denied port %d: exit %d, want %d (EACCES); stderr %q", a, res.ExitCode, unix.EACCES, res.Stderr)
	}
	// Control: the other port connects.
	res = run(t, p, fn, sandbox.Options{}, probeBin, "connect", strconv.Itoa(int(b)))
	if res.ExitCode != 0 {
		t.Errorf("connect to the allowed port %d: exit %d, want 0", b, res.ExitCode)
	}
	evs := rec.all()
	if len(evs) != 2 {
		t.Fatalf("connect events %+v, want 2", evs)
	}
	for i, port := range []uint16{a, b} {
		if evs[i].Host != "127.0.0.1" || evs[i].Port != port || evs[i].Category != policyfn.Network || !evs[i].Held {
			t.Errorf("connect event %d = %+v, want host 127.0.0.1 port %d, network, held", i, evs[i], port)
		}
	}
}

func TestBlockBinaryByArgv(t *testing.T) {
	script := "/bin/cat /etc/hostname >/dev/null; echo cat=$?; /bin/echo ok"
	block := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "execve" && len(ev.Argv) > 0 && filepath.Base(ev.Argv[0]) == "cat" {
			return policyfn.Deny
		}
		return policyfn.Allow
	}
	res := run(t, basePolicy(), block, sandbox.Options{}, "/bin/sh", "-c", script)
	if got := string(res.Stdout); got != "cat=126\nok\n" {
		t.Errorf("with cat blocked: stdout %q, want \"cat=126\\nok\\n\"; stderr %q", got, res.Stderr)
	}
	allow := func(*policyfn.Event, *policyfn.Context) policyfn.Verdict { return policyfn.Allow }
	res = run(t, basePolicy(), allow, sandbox.Options{}, "/bin/sh", "-c", script)
	if got := string(res.Stdout); got != "cat=0\nok\n" {
		t.Errorf("control: stdout %q, want \"cat=0\\nok\\n\"; stderr %q", got, res.Stderr)
	}
}

func TestRestrictNetworkEmptyBlocksLaterConnects(t *testing.T) {
	port := listener(t)
	p := connectPolicy(port)
	for _, restrict := range []bool{true, false} {
		var first atomic.Bool
		var rerr error
		fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
			if ev.Syscall == "execve" && restrict && first.CompareAndSwap(false, true) {
				rerr = ctx.RestrictNetwork()
			}
			return policyfn.Allow
		}
		res := run(t, p, fn, sandbox.Options{}, probeBin, "connect", strconv.Itoa(int(port)))
		if rerr != nil {
			t.Fatalf("RestrictNetwork(): %v", rerr)
		}
		want := 0
		if restrict {
			want = int(unix.ECONNREFUSED)
		}
		if res.ExitCode != want {
			t.Errorf("restrict_network([]) %v: connect exit %d, want %d; stderr %q", restrict, res.ExitCode, want, res.Stderr)
		}
	}
}

func TestRestrictPidNetwork(t *testing.T) {
	port := listener(t)
	p := connectPolicy(port)
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "execve" && len(ev.Argv) > 1 && ev.Argv[1] == "connect" {
			if err := ctx.RestrictPidNetwork(ev.Pid, "10.9.9.9"); err != nil {
				t.Errorf("RestrictPidNetwork: %v", err)
			}
		}
		return policyfn.Allow
	}
	script := fmt.Sprintf("%s connect %d; echo a=$?; exec %s connect %d", probeBin, port, probeBin, port)
	res := run(t, p, fn, sandbox.Options{}, "/bin/sh", "-c", script)
	// Both probes are restricted: the first by its own pid, the second
	// (exec'd by the shell, same pid) too.
	if string(res.Stdout) != fmt.Sprintf("a=%d\n", unix.ECONNREFUSED) || res.ExitCode != int(unix.ECONNREFUSED) {
		t.Errorf("stdout %q exit %d, want a=%d and exit %d", res.Stdout, res.ExitCode, unix.ECONNREFUSED, unix.ECONNREFUSED)
	}
	// Control: the shell itself (another pid) is not restricted.
	fn2 := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "execve" && len(ev.Argv) > 1 && ev.Argv[1] == "-c" {
			_ = ctx.RestrictPidNetwork(ev.Pid, "10.9.9.9")
			_ = ctx.ClearPidOverride(ev.Pid)
		}
		return policyfn.Allow
	}
	res = run(t, p, fn2, sandbox.Options{}, "/bin/sh", "-c", fmt.Sprintf("exec %s connect %d", probeBin, port))
	if res.ExitCode != 0 {
		t.Errorf("after ClearPidOverride: exit %d, want 0; stderr %q", res.ExitCode, res.Stderr)
	}
}

func TestRestrictMaxProcessesLowersTheLimit(t *testing.T) {
	for _, restrict := range []bool{true, false} {
		var once atomic.Bool
		var errs []error
		fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
			if ev.Syscall == "execve" && restrict && once.CompareAndSwap(false, true) {
				errs = append(errs, ctx.RestrictMaxProcesses(3))
				// A grant after the restrict is refused.
				if err := ctx.GrantMaxProcesses(10); !errors.Is(err, policyfn.ErrRestricted) {
					errs = append(errs, fmt.Errorf("GrantMaxProcesses after restrict = %v, want ErrRestricted", err))
				}
			}
			return policyfn.Allow
		}
		res := run(t, basePolicy(), fn, sandbox.Options{}, probeBin, "forks", "5")
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		out := string(res.Stdout)
		refused := strings.Count(out, "=EAGAIN")
		switch {
		case restrict && (refused != 3 || strings.Count(out, "=ok") != 2):
			t.Errorf("max_processes restricted to 3: %q, want 2 forks ok and 3 EAGAIN", out)
		case !restrict && refused != 0:
			t.Errorf("control: %q, want every fork ok", out)
		}
	}
}

func TestGrantWithinCeiling(t *testing.T) {
	var errs [3]error
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "execve" {
			errs[0] = ctx.GrantMaxProcesses(1000) // above the policy's 64
			errs[1] = ctx.GrantMaxProcesses(10)   // within: no-op, allowed
			errs[2] = ctx.GrantNetwork("1.2.3.4") // no allowlist: anything
		}
		return policyfn.Allow
	}
	run(t, basePolicy(), fn, sandbox.Options{}, "/bin/true")
	if !errors.Is(errs[0], policyfn.ErrCeiling) || errs[1] != nil || errs[2] != nil {
		t.Errorf("grants = %v, want [ErrCeiling nil nil]", errs)
	}
}

func TestSlowCallbackDoesNotDelayOpens(t *testing.T) {
	port := listener(t)
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "connect" {
			time.Sleep(2 * time.Second)
		}
		return policyfn.Allow
	}
	start := time.Now()
	res := run(t, connectPolicy(port), fn, sandbox.Options{}, probeBin, "slowopen", strconv.Itoa(int(port)), "50")
	took := time.Since(start)
	var ms int
	if _, err := fmt.Sscanf(string(res.Stdout), "opens_ms=%d", &ms); err != nil || res.ExitCode != 0 {
		t.Fatalf("stdout %q exit %d stderr %q", res.Stdout, res.ExitCode, res.Stderr)
	}
	if ms > 500 {
		t.Errorf("50 opens took %d ms while a connect waited 2 s for its verdict; want well under 500 ms", ms)
	}
	if took < 2*time.Second {
		t.Errorf("the run took %v: the connect did not wait for its verdict", took)
	}
}

// TestArgvRaceCannotChangeWhatWasSeen: argv[1] of an exec is rewritten
// between "good" and "evil" while the exec runs, and the callback denies
// "evil". With the freeze, echo never prints "evil". Control: without the
// freeze it does. Two writers: a sibling thread (argvrace), and an orphaned
// process sharing the page (sharedrace: reparented out of the sandbox's
// tree, found through the process group).
func TestArgvRaceCannotChangeWhatWasSeen(t *testing.T) {
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "execve" && ev.ArgvContains("evil") {
			return policyfn.Deny
		}
		return policyfn.Allow
	}
	for _, op := range []string{"argvrace", "sharedrace"} {
		t.Run(op, func(t *testing.T) {
			count := func() (good, evil int) {
				res := run(t, basePolicy(), fn, sandbox.Options{}, probeBin, op, "40")
				if res.ExitCode != 0 {
					t.Fatalf("%s exit %d stderr %q", op, res.ExitCode, res.Stderr)
				}
				out := string(res.Stdout)
				return strings.Count(out, "good\n"), strings.Count(out, "evil\n")
			}
			good, evil := count()
			if evil != 0 || good == 0 {
				t.Errorf("with the freeze: %d execs printed evil (want 0), %d good (want > 0)", evil, good)
			}
			policyfn.SetFreeze(false)
			defer policyfn.SetFreeze(true)
			for try := 0; try < 5; try++ {
				if _, evil = count(); evil > 0 {
					return
				}
			}
			t.Errorf("control: without the freeze no exec printed evil in 5 runs; the test does not exercise the race")
		})
	}
}

func TestFailClosed(t *testing.T) {
	t.Run("panic", func(t *testing.T) {
		fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
			if ev.Syscall == "openat" && ev.Pid > 0 {
				panic("boom")
			}
			return policyfn.Allow
		}
		var sb *sandbox.Sandbox
		o := sandbox.Options{PolicyFn: policyfn.Func(fn), Stdout: sandbox.Capture(), Stderr: sandbox.Capture()}
		sb, err := sandbox.Spawn(basePolicy(), []string{probeBin, "opens", "1", "/etc/hostname"}, o)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := sb.Wait()
		st, _ := sb.PolicyStats()
		// The dynamic loader's own opens fail too: the probe is static
		// only if built so; either way it must not succeed.
		if res.ExitCode == 0 || st.Errors == 0 || !strings.Contains(st.LastError, "panic") {
			t.Errorf("exit %d, stats %+v: want a failure and a counted panic", res.ExitCode, st)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
			if ev.Syscall == "openat" {
				time.Sleep(400 * time.Millisecond)
			}
			return policyfn.Allow
		}
		o := sandbox.Options{PolicyFn: policyfn.Func(fn), PolicyFnTimeout: 100 * time.Millisecond,
			Stdout: sandbox.Capture(), Stderr: sandbox.Capture()}
		sb, err := sandbox.Spawn(basePolicy(), []string{"/bin/cat", "/etc/hostname"}, o)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := sb.Wait()
		st, _ := sb.PolicyStats()
		if res.ExitCode == 0 || st.Timeouts == 0 {
			t.Errorf("exit %d stdout %q, stats %+v: want a failure and a timeout", res.ExitCode, res.Stdout, st)
		}
	})
}

func TestAuditAllowsAndRecords(t *testing.T) {
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "openat" {
			return policyfn.Audit
		}
		return policyfn.Allow
	}
	o := sandbox.Options{PolicyFn: policyfn.Func(fn), Stdout: sandbox.Capture(), Stderr: sandbox.Capture()}
	sb, err := sandbox.Spawn(basePolicy(), []string{"/bin/cat", "/etc/hostname"}, o)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := sb.Wait()
	st, _ := sb.PolicyStats()
	log := sb.PolicyAuditLog()
	if res.ExitCode != 0 || st.Audited == 0 || len(log) == 0 || log[0].Syscall != "openat" {
		t.Errorf("exit %d, stats %+v, log %d events: want success and audited opens", res.ExitCode, st, len(log))
	}
}

func TestContextExpiresAfterTheCall(t *testing.T) {
	var saved *policyfn.Context
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		saved = ctx
		return policyfn.Allow
	}
	run(t, basePolicy(), fn, sandbox.Options{}, "/bin/true")
	if err := saved.RestrictNetwork(); !errors.Is(err, policyfn.ErrExpired) {
		t.Errorf("RestrictNetwork on a kept Context = %v, want ErrExpired", err)
	}
}

func TestBadIPIsRefused(t *testing.T) {
	var err error
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "execve" {
			err = ctx.RestrictNetwork("127.0.0.1", "not-an-ip")
		}
		return policyfn.Allow
	}
	run(t, basePolicy(), fn, sandbox.Options{}, "/bin/true")
	if !errors.Is(err, policyfn.ErrInvalid) {
		t.Errorf("RestrictNetwork with a bad address = %v, want ErrInvalid", err)
	}
}

func TestRestrictMaxMemory(t *testing.T) {
	p := basePolicy()
	p.MaxMemory = 256 << 20
	for _, restrict := range []bool{true, false} {
		var once atomic.Bool
		var rerr, gerr error
		fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
			if ev.Syscall == "execve" && restrict && once.CompareAndSwap(false, true) {
				rerr = ctx.RestrictMaxMemory(16 << 20)
				gerr = ctx.GrantMaxMemory(128 << 20)
			}
			return policyfn.Allow
		}
		res := run(t, p, fn, sandbox.Options{}, probeBin, "alloc", "64")
		if rerr != nil || (restrict && !errors.Is(gerr, policyfn.ErrRestricted)) {
			t.Fatalf("RestrictMaxMemory = %v, GrantMaxMemory after it = %v (want ErrRestricted)", rerr, gerr)
		}
		failed := res.ExitCode != 0 || res.Reason != sandbox.Exited
		if failed != restrict {
			t.Errorf("max_memory restricted %v: 64 MiB allocation exit %d reason %v, want failure %v",
				restrict, res.ExitCode, res.Reason, restrict)
		}
	}
}

func TestNetworkCeiling(t *testing.T) {
	port := listener(t)
	p := connectPolicy(port)
	p.NetAllowHosts = []string{"127.0.0.1"}
	var grantOut, restrictIn error
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "execve" {
			grantOut = ctx.GrantNetwork("10.1.2.3")
			restrictIn = ctx.RestrictNetwork("127.0.0.1", "10.1.2.3")
		}
		return policyfn.Allow
	}
	res := run(t, p, fn, sandbox.Options{}, probeBin, "connect", strconv.Itoa(int(port)))
	if !errors.Is(grantOut, policyfn.ErrCeiling) || restrictIn != nil {
		t.Errorf("GrantNetwork outside the allowlist = %v (want ErrCeiling); RestrictNetwork = %v", grantOut, restrictIn)
	}
	if res.ExitCode != 0 {
		t.Errorf("connect to an address kept by the restrict: exit %d, want 0; stderr %q", res.ExitCode, res.Stderr)
	}
}

func TestExecveatOfMemfdRefused(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not found")
	}
	fn := func(*policyfn.Event, *policyfn.Context) policyfn.Verdict { return policyfn.Allow }
	// fexecve of a memfd holding a copy of /bin/true.
	script := `import os
fd = os.memfd_create("x")
os.write(fd, open("/bin/true", "rb").read())
try:
    os.execve(fd, ["true"], {})
except OSError as e:
    print(e.errno)
`
	res := run(t, basePolicy(), fn, sandbox.Options{}, "/usr/bin/python3", "-c", script)
	if strings.TrimSpace(string(res.Stdout)) != strconv.Itoa(int(unix.EACCES)) {
		t.Errorf("fexecve of a memfd: stdout %q stderr %q, want %d (EACCES)", res.Stdout, res.Stderr, unix.EACCES)
	}
	// Control: without a callback the same exec runs (Landlock does not
	// see it).
	ctl, err := sandbox.Run(basePolicy(), []string{"/usr/bin/python3", "-c", script}, sandbox.Options{})
	if err != nil || ctl.ExitCode != 0 || len(ctl.Stdout) != 0 {
		t.Errorf("control: err %v exit %d stdout %q stderr %q, want the exec to run", err, ctl.ExitCode, ctl.Stdout, ctl.Stderr)
	}
}

func TestDenyPathBlocksLaterOpens(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret")
	other := filepath.Join(dir, "other")
	for _, f := range []string{secret, other} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	p := basePolicy()
	p.FsReadable = append(p.FsReadable, dir)
	for _, deny := range []bool{true, false} {
		var derr error
		var once atomic.Bool
		fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
			if ev.Syscall == "execve" && deny && once.CompareAndSwap(false, true) {
				derr = ctx.DenyPath(secret)
			}
			return policyfn.Allow
		}
		script := fmt.Sprintf("%[1]s opens 1 %[2]s; echo s=$?; %[1]s opens 1 %[3]s; echo l=$?; %[1]s opens 1 %[4]s; echo o=$?",
			probeBin, secret, link, other)
		res := run(t, p, fn, sandbox.Options{}, "/bin/sh", "-c", script)
		if derr != nil {
			t.Fatalf("DenyPath: %v", derr)
		}
		want := "s=0\nl=0\no=0\n"
		if deny {
			want = fmt.Sprintf("s=%d\nl=%d\no=0\n", unix.EACCES, unix.EACCES)
		}
		if got := string(res.Stdout); got != want {
			t.Errorf("deny_path %v: stdout %q, want %q; stderr %q", deny, got, want, res.Stderr)
		}
	}
}

func TestAllowPathUndoesDenyPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := basePolicy()
	p.FsReadable = append(p.FsReadable, dir)
	var errs []error
	n := 0
	fn := func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		if ev.Syscall == "execve" {
			n++
			switch n {
			case 1:
				errs = append(errs, ctx.DenyPath(secret))
			case 3:
				errs = append(errs, ctx.AllowPath(secret))
			}
		}
		return policyfn.Allow
	}
	script := fmt.Sprintf("%[1]s opens 1 %[2]s; echo a=$?; %[1]s opens 1 %[2]s; echo b=$?", probeBin, secret)
	res := run(t, p, fn, sandbox.Options{}, "/bin/sh", "-c", script)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := fmt.Sprintf("a=%d\nb=0\n", unix.EACCES)
	if got := string(res.Stdout); got != want {
		t.Errorf("stdout %q, want %q; stderr %q", got, want, res.Stderr)
	}
}
