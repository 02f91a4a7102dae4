package sandbox_test

import (
	"testing"

	"github.com/sandlock/sandlock/core/sandbox"
)

// TestMaxProcesses checks process accounting with the probe's bounded fork
// loops (the loop count is the kernel-independent backstop: root ignores
// RLIMIT_NPROC). With max_processes=3 the probe and two children run at
// once, every further fork fails with EAGAIN, and once the children have
// exited and been reaped a new fork is admitted at once. The control runs
// the same loop under a limit that does not bite.
func TestMaxProcesses(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		args   []string
		want   int
		stdout string
	}{
		{
			name:   "limit 3 admits 2 children and refuses the rest",
			max:    3,
			args:   []string{"forkhold", "5"},
			stdout: "fork1=ok\nfork2=ok\nfork3=EAGAIN\nfork4=EAGAIN\nfork5=EAGAIN\nafter=ok\n",
		},
		{
			name:   "limit 3 admits 2 children and refuses the rest/control: limit 64",
			max:    64,
			args:   []string{"forkhold", "5"},
			stdout: "fork1=ok\nfork2=ok\nfork3=ok\nfork4=ok\nfork5=ok\nafter=ok\n",
		},
		{
			name:   "limit 1 refuses every fork",
			max:    1,
			args:   []string{"forkhold", "2"},
			stdout: "fork1=EAGAIN\nfork2=EAGAIN\nafter=EAGAIN\n",
		},
		{
			name: "20 sequential fork and wait under limit 3",
			max:  3,
			args: []string{"seqfork", "20"},
		},
		{
			name: "20 sequential fork and wait under limit 2",
			max:  2,
			args: []string{"seqfork", "20"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := basePolicy(t)
			p.MaxProcesses = tc.max
			argv := probe(t, tc.args...)
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, tc.want)
			if tc.stdout != "" && string(res.Stdout) != tc.stdout {
				t.Errorf("Run(%q) with max_processes %d stdout = %q, want %q", argv, tc.max, res.Stdout, tc.stdout)
			}
		})
	}
}
