package sandbox_test

// Shared helpers of the foundation tests: the compiled C probe
// (testdata/probe.c), the base policy and small assertions.
//
// The test binary must run from any directory and as an unprivileged user
// (CI runs the suite as a nobody-like user), so the probe's source is
// embedded and compiled into a world-readable temporary directory.

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

//go:embed testdata/probe.c
var probeSource []byte

var (
	// probeDir holds the compiled probe; readable and searchable by all.
	probeDir string
	// probeBin is the probe's path, "" when it could not be built.
	probeBin string
	// probeErr says why the probe is missing.
	probeErr error
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "sandlock-probe-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "foundation tests:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		probeDir = dir
		probeErr = buildProbe(dir)
		if probeErr == nil {
			probeBin = filepath.Join(dir, "probe")
		}
		return m.Run()
	}()
	os.Exit(code)
}

// buildProbe compiles the embedded probe statically (so it needs no shared
// library inside the sandbox), falling back to a dynamic build.
func buildProbe(dir string) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	src := filepath.Join(dir, "probe.c")
	if err := os.WriteFile(src, probeSource, 0o644); err != nil {
		return err
	}
	out := filepath.Join(dir, "probe")
	var msgs []string
	for _, static := range []bool{true, false} {
		args := []string{"-O2", "-Wall", "-o", out, src}
		if static {
			args = append([]string{"-static"}, args...)
		}
		b, err := exec.Command("gcc", args...).CombinedOutput()
		if err == nil {
			return os.Chmod(out, 0o755)
		}
		msgs = append(msgs, fmt.Sprintf("gcc %s: %v: %s", strings.Join(args, " "), err, b))
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// probe returns the probe's argv for op and its arguments.
func probe(t *testing.T, args ...string) []string {
	t.Helper()
	if probeBin == "" {
		t.Fatalf("the C probe could not be built (gcc is part of the test environment): %v", probeErr)
	}
	return append([]string{probeBin}, args...)
}

// existing returns the paths of ps that exist.
func existing(ps ...string) []string {
	var out []string
	for _, p := range ps {
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// basePolicy is the default policy with the system trees and the probe
// readable and a fresh, world-writable temporary directory writable. It
// returns the policy and that directory.
func basePolicy(t *testing.T) (policy.Policy, string) {
	t.Helper()
	w := tempDir(t)
	p := policy.Default()
	p.FsReadable = append(existing("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc"), probeDir)
	p.FsWritable = append(existing("/dev/null"), w)
	return p, w
}

// tempDir is t.TempDir opened up to everyone, for runs as an unprivileged
// user and for directories shared with other uids.
func tempDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	return d
}

// run is sandbox.Run that fails the test on a spawn error.
func run(t *testing.T, p policy.Policy, argv []string, o sandbox.Options) *sandbox.Result {
	t.Helper()
	res, err := sandbox.Run(p, argv, o)
	if err != nil {
		t.Fatalf("Run(%q) error: %v", argv, err)
	}
	return res
}

// wantExit checks that the run exited normally with want.
func wantExit(t *testing.T, argv []string, res *sandbox.Result, want int) {
	t.Helper()
	if res.Reason != sandbox.Exited || res.ExitCode != want {
		t.Errorf("Run(%q) exit = %d (reason %v, signal %d), want %d (%s); stdout %q; stderr %q",
			argv, res.ExitCode, res.Reason, res.Signal, want, errnoName(want), res.Stdout, res.Stderr)
	}
}

// errnoName names an exit status of the probe.
func errnoName(code int) string {
	switch code {
	case 0:
		return "success"
	case 100:
		return "probe usage error"
	case 101:
		return "probe setup failure"
	case 102:
		return "pty is not the controlling tty"
	case 103:
		return "injected byte did not arrive"
	}
	if n := unix.ErrnoName(unix.Errno(code)); n != "" {
		return n
	}
	return "status " + strconv.Itoa(code)
}

// hostRun runs argv outside any sandbox, for the controls; it returns the
// exit status and the output.
func hostRun(t *testing.T, argv ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("host run %q: %v; stderr %q", argv, err, stderr.String())
	return -1, "", ""
}

// writeFile creates path with content, failing the test on error.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
}

// fileContent returns path's content, or a marker when it is missing.
func fileContent(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// eventually polls cond every 10 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procState returns the state letter of /proc/<pid>/stat and the command
// name, or "" when the process is gone.
func procState(pid int) (state, comm string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", ""
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < 0 || end+2 >= len(s) {
		return "", ""
	}
	return s[end+2 : end+3], s[open+1 : end]
}
