package sandbox_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/sandlock/sandlock/core/sandbox"
)

// syncBuffer is a bytes.Buffer safe for the stream goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOutputLimitCapturedOnly: OutputLimit caps a captured stream (it
// bounds what the Result holds) and leaves a Writer stream whole, in the
// same run; the control without a limit captures everything.
func TestOutputLimitCapturedOnly(t *testing.T) {
	const size = 200 << 10 // several pipe buffers
	p, _ := basePolicy(t)
	argv := []string{"/bin/sh", "-c", "yes o | tr -d '\\n' | head -c 204800; yes e | tr -d '\\n' | head -c 204800 >&2"}
	want := func(c string) string { return strings.Repeat(c, size) }

	for _, tc := range []struct {
		name            string
		limit           int
		writerOut       bool // stdout to a Writer, stderr captured
		wantOut, wantEr string
	}{
		{"stdout to a Writer, stderr captured", 1000, true, want("o"), want("e")[:1000]},
		{"both captured", 1000, false, want("o")[:1000], want("e")[:1000]},
		{"control: no limit", 0, false, want("o"), want("e")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w syncBuffer
			o := sandbox.Options{OutputLimit: tc.limit}
			if tc.writerOut {
				o.Stdout = sandbox.Writer(&w)
			}
			res := run(t, p, argv, o)
			if res.Reason != sandbox.Exited || res.ExitCode != 0 {
				t.Fatalf("Run(%q): reason %v, exit %d; stderr %.200q", argv, res.Reason, res.ExitCode, res.Stderr)
			}
			gotOut := string(res.Stdout)
			if tc.writerOut {
				gotOut = w.String()
				if len(res.Stdout) != 0 {
					t.Errorf("Result.Stdout holds %d bytes with stdout given as a Writer", len(res.Stdout))
				}
			}
			if gotOut != tc.wantOut {
				t.Errorf("stdout: %d bytes, want %d", len(gotOut), len(tc.wantOut))
			}
			if string(res.Stderr) != tc.wantEr {
				t.Errorf("captured stderr: %d bytes, want %d", len(res.Stderr), len(tc.wantEr))
			}
		})
	}
}
