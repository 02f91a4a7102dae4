package sandbox_test

// Shared helpers of the foundation tests: the compiled C probe
// (testdata/probe.c, built by internal/testprobe), the base policy and
// small assertions.

import (
	_ "embed"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/internal/testprobe"
)

//go:embed testdata/probe.c
var probeSource []byte

// mainProbe is the probe most tests run; the other probes of the package
// are built on first use in its directory.
var mainProbe = &testprobe.Probe{Name: "probe", Source: probeSource, What: "the C probe"}

func TestMain(m *testing.M) {
	os.Exit(mainProbe.Main(m, "sandlock-probe-"))
}

// probe returns the probe's argv for op and its arguments.
func probe(t *testing.T, args ...string) []string {
	t.Helper()
	return mainProbe.Argv(t, args...)
}

// Helpers shared with the other suites, under the names the tests use.
var (
	existing = testprobe.Existing
	tempDir  = testprobe.TempDir
)

// basePolicy is the default policy with the system trees and the probe
// readable and a fresh, world-writable temporary directory writable. It
// returns the policy and that directory.
func basePolicy(t *testing.T) (policy.Policy, string) {
	t.Helper()
	return testprobe.BasePolicy(t, mainProbe.Dir)
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
	return testprobe.Poll(d, 10*time.Millisecond, cond)
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
