package sandbox_test

import (
	"strings"
	"testing"

	"github.com/sandlock/sandlock/core/sandbox"
)

// pidTargetScript forks children that, on their first instructions, read
// their own priority by pid and renice a grandchild they just forked.
// Nothing else in between gives the supervisor a chance to learn about
// them, so this is the case where the index must discover on demand.
const pidTargetScript = `
import os, sys
bad = 0
for _ in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.getpriority(os.PRIO_PROCESS, os.getpid())
        except OSError as e:
            code = 10 + e.errno
        if code == 0:
            r, w = os.pipe()
            g = os.fork()
            if g == 0:
                os.close(w)
                os.read(r, 1)
                os._exit(0)
            os.close(r)
            try:
                os.setpriority(os.PRIO_PROCESS, g, 5)
            except OSError as e:
                code = 100 + e.errno
            os.close(w)
            os.waitpid(g, 0)
        os._exit(code)
    _, st = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(st) != 0:
        bad += 1
        print("child exit", os.waitstatus_to_exitcode(st))
print("bad", bad)
sys.exit(1 if bad else 0)
`

// TestPidTargetFreshChildren: getpriority on one's own pid and setpriority
// on one's own fresh child work from the first call (they used to fail
// with ESRCH until a discovery happened to run). The outside-targets
// half of the rule is tests/security PRIV-04.
func TestPidTargetFreshChildren(t *testing.T) {
	p, _ := basePolicy(t)
	argv := []string{python(t), "-I", "-c", pidTargetScript, "40"}
	res := run(t, p, argv, sandbox.Options{})
	wantExit(t, argv, res, 0)
	if !strings.Contains(string(res.Stdout), "bad 0") {
		t.Errorf("stdout %q, want bad 0", res.Stdout)
	}
}
