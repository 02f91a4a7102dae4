package main

import (
	"testing"

	"github.com/sandlock/sandlock/core/sandbox"
)

// TestReasonCodes: every way a sandbox can end has its own
// SANDLOCK_REASON_*, so that a memory kill is not reported as a plain
// signal.
func TestReasonCodes(t *testing.T) {
	want := map[sandbox.Reason]int{
		sandbox.Exited:      reasonExited,
		sandbox.Signaled:    reasonSignaled,
		sandbox.Killed:      reasonKilled,
		sandbox.Timeout:     reasonTimeout,
		sandbox.MemoryLimit: reasonMemory,
	}
	seen := map[int]bool{}
	for r, code := range want {
		if got := reasonCode(r); got != code {
			t.Errorf("reasonCode(%v) = %d, want %d", r, got, code)
		}
		if seen[code] {
			t.Errorf("code %d used twice", code)
		}
		seen[code] = true
	}
	if got := reasonCode(sandbox.MemoryLimit + 1); got != codeEINTERNAL {
		t.Errorf("reasonCode(unknown) = %d, want EINTERNAL", got)
	}
}
