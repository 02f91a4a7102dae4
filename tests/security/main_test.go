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
	"flag"
	"os"
	"testing"

	"github.com/sandlock/sandlock/internal/testprobe"
)

//go:embed testdata/probe.c
var probeSource []byte

// attacker is the probe: statically linked when possible, since the
// sandboxes grant no shared library directory it would not need.
var attacker = &testprobe.Probe{Name: "probe", Source: probeSource, What: "the C probe", Flags: []string{"-lpthread"}}

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	code := attacker.Main(m, "sandlock-security-")
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

// probe returns the probe's argv for an operation and its arguments.
func probe(t *testing.T, args ...string) []string {
	t.Helper()
	return attacker.Argv(t, args...)
}
