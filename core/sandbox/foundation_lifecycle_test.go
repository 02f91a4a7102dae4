package sandbox_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sandlock/sandlock/core/sandbox"
)

// TestOutputIntact checks that 1 MiB written to stdout, to stderr, or to
// both at once, arrives byte for byte (the streams are drained while the
// child runs).
func TestOutputIntact(t *testing.T) {
	const size = 1 << 20
	p, w := basePolicy(t)
	out := filepath.Join(w, "out.bin")
	errf := filepath.Join(w, "err.bin")
	data := map[string][]byte{}
	for _, f := range []string{out, errf} {
		b := make([]byte, size)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		data[f] = b
	}
	tests := []struct {
		name             string
		script           string
		wantOut, wantErr []byte
	}{
		{name: "1 MiB stdout", script: "cat " + out, wantOut: data[out]},
		{name: "1 MiB stderr", script: "cat " + errf + " >&2", wantErr: data[errf]},
		{name: "1 MiB stdout and stderr at once", script: "cat " + out + " & cat " + errf + " >&2; wait",
			wantOut: data[out], wantErr: data[errf]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			argv := []string{"/bin/sh", "-c", tc.script}
			res := run(t, p, argv, sandbox.Options{})
			if res.Reason != sandbox.Exited || res.ExitCode != 0 {
				t.Fatalf("Run(%q) exit = %d (reason %v), want 0; stderr %.200q", argv, res.ExitCode, res.Reason, res.Stderr)
			}
			for _, s := range []struct {
				name      string
				got, want []byte
			}{{"stdout", res.Stdout, tc.wantOut}, {"stderr", res.Stderr, tc.wantErr}} {
				if g, w := sha256.Sum256(s.got), sha256.Sum256(s.want); g != w {
					t.Errorf("Run(%q) %s = %d bytes sha256 %x, want %d bytes sha256 %x", argv, s.name, len(s.got), g[:8], len(s.want), w[:8])
				}
			}
		})
	}
}

// TestTimeoutKillsGrandchild checks that the timeout ends the whole
// sandbox, not only its main process: a background grandchild, whose pid
// the script records, is gone afterwards, also when it left the process
// group for a session of its own (attacks.md SIG-03: track processes, not
// a process group), and Run returns soon after the timeout even though the
// grandchild holds the captured pipes.
func TestTimeoutKillsGrandchild(t *testing.T) {
	tests := []struct {
		name         string
		background   string // command started in the background
		then         string // the main process's command afterwards
		maxProcesses int
		capture      bool // capture the output (else /dev/null)
	}{
		{name: "background grandchild", background: "sleep 30", then: "sleep 30", maxProcesses: 64, capture: true},
		{name: "grandchild in its own session", background: "setsid sleep 30", then: "sleep 30", maxProcesses: 64, capture: true},
		// No fork follows the grandchild's, so no later fork notification
		// can reveal it.
		{name: "grandchild in its own session, then exec", background: "setsid sleep 30", then: "exec sleep 30", maxProcesses: 64},
		// The escaped grandchild keeps the capture pipes open (its sleep
		// is short to bound the test when it escapes).
		{name: "grandchild in its own session, then exec, captured", background: "setsid sleep 10", then: "exec sleep 30", maxProcesses: 64, capture: true},
		// Without process accounting no fork is notified at all.
		{name: "background grandchild without max_processes", background: "sleep 30", then: "sleep 30", capture: true},
		{name: "grandchild in its own session without max_processes", background: "setsid sleep 30", then: "sleep 30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, w := basePolicy(t)
			p.MaxProcesses = tc.maxProcesses
			pidFile := filepath.Join(w, "grandchild.pid")
			argv := []string{"/bin/sh", "-c", tc.background + " & echo $! > " + pidFile + "; " + tc.then}
			o := sandbox.Options{Timeout: 500 * time.Millisecond}
			if !tc.capture {
				o.Stdout, o.Stderr = sandbox.Null(), sandbox.Null()
			}
			start := time.Now()
			res := run(t, p, argv, o)
			took := time.Since(start)
			if res.Reason != sandbox.Timeout {
				t.Errorf("Run(%q) reason = %v, want %v (exit %d, signal %d)", argv, res.Reason, sandbox.Timeout, res.ExitCode, res.Signal)
			}
			if res.ExitCode != -1 || res.Signal != int(syscall.SIGKILL) {
				t.Errorf("Run(%q) exit = %d signal %d, want -1 signal %d", argv, res.ExitCode, res.Signal, syscall.SIGKILL)
			}
			if took < 500*time.Millisecond || took > 3*time.Second {
				t.Errorf("Run(%q) with timeout 500ms took %v, want between 500ms and 3s", argv, took)
			}
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatalf("grandchild pid file: %v", err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || pid <= 1 {
				t.Fatalf("grandchild pid file holds %q", b)
			}
			// Dead means gone, or a zombie waiting for its new parent to
			// reap it, or the pid already reused by another program.
			var state, comm string
			if !eventually(time.Second, func() bool {
				state, comm = procState(pid)
				return state == "" || state == "Z" || comm != "sleep"
			}) {
				t.Errorf("grandchild %d (%s) state %q 1s after Run returned, want it dead", pid, comm, state)
				_ = syscall.Kill(pid, syscall.SIGKILL) // the test started it
			}
		})
	}
}

// TestExitReasons checks how a run is reported: a normal exit with its
// code, death by a signal the sandbox did not send, and Kill.
func TestExitReasons(t *testing.T) {
	tests := []struct {
		name       string
		argv       []string
		kill       bool // call Kill after the start
		wantReason sandbox.Reason
		wantCode   int
		wantSignal int
	}{
		{name: "exit 0", argv: []string{"/bin/true"}, wantReason: sandbox.Exited},
		{name: "exit 42", argv: []string{"/bin/sh", "-c", "exit 42"}, wantReason: sandbox.Exited, wantCode: 42},
		{name: "SIGTERM to itself", argv: []string{"/bin/sh", "-c", "kill -TERM $$"},
			wantReason: sandbox.Signaled, wantCode: -1, wantSignal: int(syscall.SIGTERM)},
		{name: "SIGKILL to itself", argv: []string{"/bin/sh", "-c", "kill -KILL $$"},
			wantReason: sandbox.Signaled, wantCode: -1, wantSignal: int(syscall.SIGKILL)},
		{name: "Kill", argv: []string{"/bin/sleep", "30"}, kill: true,
			wantReason: sandbox.Killed, wantCode: -1, wantSignal: int(syscall.SIGKILL)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := basePolicy(t)
			sb, err := sandbox.Spawn(p, tc.argv, sandbox.Options{Stdout: sandbox.Capture(), Stderr: sandbox.Capture(), Stdin: sandbox.Null()})
			if err != nil {
				t.Fatalf("Spawn(%q): %v", tc.argv, err)
			}
			if tc.kill {
				if err := sb.Kill(); err != nil {
					t.Errorf("Kill() = %v", err)
				}
			}
			res, ok, err := sb.WaitTimeout(10 * time.Second)
			if !ok {
				_ = sb.Kill()
				t.Fatalf("Spawn(%q): still running after 10s", tc.argv)
			}
			if err != nil {
				t.Fatalf("Wait() = %v", err)
			}
			if res.Reason != tc.wantReason || res.ExitCode != tc.wantCode || res.Signal != tc.wantSignal {
				t.Errorf("Run(%q) = reason %v exit %d signal %d, want reason %v exit %d signal %d; stderr %q",
					tc.argv, res.Reason, res.ExitCode, res.Signal, tc.wantReason, tc.wantCode, tc.wantSignal, res.Stderr)
			}
			if got := res.Success(); got != (tc.wantReason == sandbox.Exited && tc.wantCode == 0) {
				t.Errorf("Run(%q) Success() = %v", tc.argv, got)
			}
			if res.ExecError != nil {
				t.Errorf("Run(%q) ExecError = %v, want nil", tc.argv, res.ExecError)
			}
			if err := sb.Kill(); !errors.Is(err, sandbox.ErrState) {
				t.Errorf("Kill() after the end = %v, want ErrState", err)
			}
		})
	}
}

// TestMissingCommand checks that a command that cannot be executed ends
// with exit 127, a readable line on stderr and ExecError set.
func TestMissingCommand(t *testing.T) {
	p, w := basePolicy(t)
	notExec := filepath.Join(w, "not-executable")
	writeFile(t, notExec, "#!/bin/sh\nexit 0\n")
	if err := os.Chmod(notExec, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		argv      []string
		wantErrno syscall.Errno
	}{
		{name: "absolute path", argv: []string{"/nonexistent/sandlock-no-such-command"}, wantErrno: syscall.ENOENT},
		// PATH is fixed: the caller's may hold directories it cannot
		// search, which make execvp report EACCES instead.
		{name: "PATH lookup", argv: []string{"sandlock-no-such-command"}, wantErrno: syscall.ENOENT},
		{name: "not executable", argv: []string{notExec}, wantErrno: syscall.EACCES},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p.Env = map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin"}
			res := run(t, p, tc.argv, sandbox.Options{})
			if res.Reason != sandbox.Exited || res.ExitCode != 127 {
				t.Errorf("Run(%q) exit = %d (reason %v), want 127", tc.argv, res.ExitCode, res.Reason)
			}
			if !bytes.Contains(res.Stderr, []byte(tc.argv[0])) || !strings.Contains(strings.ToLower(string(res.Stderr)), tc.wantErrno.Error()) {
				t.Errorf("Run(%q) stderr = %q, want a message naming the command and saying %q", tc.argv, res.Stderr, tc.wantErrno.Error())
			}
			if res.ExecError == nil || !errors.Is(res.ExecError, tc.wantErrno) {
				t.Errorf("Run(%q) ExecError = %v, want one wrapping %v", tc.argv, res.ExecError, tc.wantErrno)
			}
		})
	}
}

// TestPauseResume checks that Pause stops the sandbox (the process is in
// state T and makes no progress) and Resume lets it continue.
func TestPauseResume(t *testing.T) {
	p, w := basePolicy(t)
	counter := filepath.Join(w, "counter")
	argv := []string{"/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > " + counter + "; done"}
	sb, err := sandbox.Spawn(p, argv, sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Null(), Stderr: sandbox.Capture()})
	if err != nil {
		t.Fatalf("Spawn(%q): %v", argv, err)
	}
	defer func() {
		_ = sb.Kill()
		_, _ = sb.Wait()
	}()
	read := func() string { return fileContent(counter) }
	progressing := func() bool {
		a := read()
		time.Sleep(100 * time.Millisecond)
		return read() != a
	}
	if !eventually(2*time.Second, progressing) {
		t.Fatalf("the loop makes no progress before Pause (counter %q)", read())
	}

	if err := sb.Pause(); err != nil {
		t.Fatalf("Pause() = %v", err)
	}
	var state string
	if !eventually(2*time.Second, func() bool { state, _ = procState(sb.Pid()); return state == "T" }) {
		t.Errorf("after Pause() /proc/%d/stat state = %q, want T", sb.Pid(), state)
	}
	time.Sleep(50 * time.Millisecond) // let a write in flight land
	before := read()
	time.Sleep(300 * time.Millisecond)
	if after := read(); after != before {
		t.Errorf("counter moved while paused: %q -> %q", before, after)
	}

	if err := sb.Resume(); err != nil {
		t.Fatalf("Resume() = %v", err)
	}
	if !eventually(2*time.Second, func() bool { state, _ = procState(sb.Pid()); return state != "T" && state != "" }) {
		t.Errorf("after Resume() /proc/%d/stat state = %q, want not T", sb.Pid(), state)
	}
	if !eventually(2*time.Second, progressing) {
		t.Errorf("the loop makes no progress after Resume (counter %q)", read())
	}
}

// TestConcurrentSandboxes runs 64 sandboxes at once from one process; each
// must succeed and get its own output. Every other one has an fs_denied
// directory of its own, so that supervisors with handlers serve
// concurrently too; those also try to read their denied file, which must
// fail.
func TestConcurrentSandboxes(t *testing.T) {
	const n = 64
	base, w := basePolicy(t)
	var wg sync.WaitGroup
	errs := make([]string, n)
	for i := range n {
		tag := fmt.Sprintf("sandbox-%d", i)
		p := base.Clone()
		script := "sleep 0.2; echo " + tag
		if i%2 == 1 {
			dir := filepath.Join(w, tag)
			if err := os.Mkdir(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "secret"), "LEAK")
			p.FsDenied = []string{dir}
			script = "cat " + filepath.Join(dir, "secret") + " 2>/dev/null; " + script
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			argv := []string{"/bin/sh", "-c", script}
			res, err := sandbox.Run(p, argv, sandbox.Options{Timeout: 30 * time.Second})
			switch {
			case err != nil:
				errs[i] = fmt.Sprintf("Run(%q) error: %v", argv, err)
			case !res.Success() || string(res.Stdout) != tag+"\n":
				errs[i] = fmt.Sprintf("Run(%q) = reason %v exit %d stdout %q, want exit 0 stdout %q; stderr %q",
					argv, res.Reason, res.ExitCode, res.Stdout, tag+"\n", res.Stderr)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
}

// hostCounts reads this process's open fds, OS threads and goroutines.
func hostCounts(t *testing.T) (fds, threads, goroutines int) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds = len(ents) - 1 // the directory's own fd
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			threads, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return fds, threads, runtime.NumGoroutine()
}

// TestNoLeaks spawns /bin/true 200 times in a row and checks that the
// host's fd, thread and goroutine counts end where they started (baseline
// taken after 10 warm-up spawns, which let the Go runtime create its
// threads and the spawner thread start).
func TestNoLeaks(t *testing.T) {
	p, _ := basePolicy(t)
	argv := []string{"/bin/true"}
	spawn := func(n int) {
		for range n {
			res, err := sandbox.Run(p, argv, sandbox.Options{})
			if err != nil {
				t.Fatalf("Run(%q) error: %v", argv, err)
			}
			if !res.Success() {
				t.Fatalf("Run(%q) exit = %d (reason %v), want 0; stderr %q", argv, res.ExitCode, res.Reason, res.Stderr)
			}
		}
	}
	spawn(10)
	settle := func() (int, int, int) {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		return hostCounts(t)
	}
	fd0, th0, g0 := settle()
	spawn(200)
	var fd1, th1, g1 int
	eventually(3*time.Second, func() bool {
		fd1, th1, g1 = settle()
		return fd1 <= fd0 && th1 <= th0+4 && g1 <= g0
	})
	t.Logf("fds %d -> %d, threads %d -> %d, goroutines %d -> %d", fd0, fd1, th0, th1, g0, g1)
	if fd1 != fd0 {
		t.Errorf("open fds after 200 spawns = %d, want %d", fd1, fd0)
	}
	// The Go runtime starts an M whenever every existing one is busy and
	// never ends idle ones (golang/go#14592), so the count can step up by
	// a few and then plateau; a per-sandbox leak would add one per spawn
	// (200 here). attacks.md 4.3 allows the warm-up baseline for this.
	const runtimeSlack = 4
	if th1 > th0+runtimeSlack {
		t.Errorf("OS threads after 200 spawns = %d, want at most %d (baseline %d + runtime slack %d)", th1, th0+runtimeSlack, th0, runtimeSlack)
	}
	if g1 != g0 {
		t.Errorf("goroutines after 200 spawns = %d, want %d", g1, g0)
	}
}
