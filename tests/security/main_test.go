// Package security is the attack suite of attacks.md (sections 1 and 3):
// every P0 and P1 case whose feature exists runs as a pair, the attack
// under the rule, which must fail in the documented way, judged by
// canaries (a loopback listener's accept count, a host file's snapshot, a
// planted secret, a victim process's state) and not only by return codes,
// and the control without the rule, which must succeed. Cases whose
// feature is not built yet are listed as pending, by id, at the end of the
// run (catalogue_test.go); they are never skipped silently.
//
// The attacker is a static C probe (testdata/probe.c), one subcommand per
// attack, run through core/sandbox exactly as a Go host would run a
// sandbox, and run directly on the host for most controls.
//
// The run ends with the line
//
//	security: N attacks contained, M controls passed, K pending
//
// printed by TestMain; `make test-security` shows it.
package security

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	flag.Parse()
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	code := func() int {
		dir, err := os.MkdirTemp("", "sandlock-security-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "security:", err)
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
	if !report(os.Stdout, fullRun()) && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// fullRun reports whether every test was selected, which the catalogue
// coverage check needs.
func fullRun() bool {
	f := flag.Lookup("test.run")
	return f == nil || f.Value.String() == ""
}

// buildProbe compiles the embedded probe statically (the sandboxes grant
// no shared library directory it would not need), falling back to a
// dynamic build.
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
		args := []string{"-O2", "-Wall", "-o", out, src, "-lpthread"}
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

// probe returns the probe's argv for an operation and its arguments.
func probe(t *testing.T, args ...string) []string {
	t.Helper()
	if probeBin == "" {
		t.Fatalf("the C probe could not be built (gcc is part of the test environment): %v", probeErr)
	}
	return append([]string{probeBin}, args...)
}
