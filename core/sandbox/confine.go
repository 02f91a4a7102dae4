package sandbox

import (
	"fmt"
	"os"

	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/policy"
)

// tsyncABI is the first Landlock ABI whose landlock_restrict_self accepts
// LANDLOCK_RESTRICT_SELF_TSYNC, which applies one ruleset to every thread
// of the calling process at once.
const tsyncABI = 8

// Confine is meant to confine the calling process itself, irreversibly,
// the way the original's confine() does for a single-threaded caller.
//
// A process running this package is always multithreaded: the Go runtime
// starts several OS threads before main, and a host that loaded the C
// library adds its own. landlock_restrict_self and PR_SET_NO_NEW_PRIVS act
// on the calling thread only, so below Landlock ABI 8 the only way to reach
// every thread is to signal each one into making the calls itself (libpsx,
// which the landlocktsync build leaves out on purpose, and which cannot see
// threads that a C or Python host created behind the Go runtime's back). A
// process whose other threads keep every right is not confined, so Confine
// refuses instead of confining part of it.
//
// Confine validates p first (an error wrapping ErrPolicy), then reports
// why it cannot proceed with an error wrapping ErrConfinement and
// landlock.ErrUnsupported (kernel below ABI 8, or without Landlock). On
// ABI 8 and later it returns an error wrapping policy.ErrNotImplemented:
// the TSYNC path is not written yet because no kernel at hand offers it to
// test against. It never changes the process.
func Confine(p policy.Policy) error {
	if err := p.Validate(); err != nil {
		return wrapKind(ErrPolicy, err)
	}
	abi, err := landlock.ABIVersion()
	if err != nil {
		return wrapKind(ErrConfinement, fmt.Errorf("sandbox: confine: %w", err))
	}
	if abi < tsyncABI {
		return wrapKind(ErrConfinement, fmt.Errorf(
			"sandbox: confine: the calling process has %s, and Landlock can restrict all threads of a process at once only from ABI %d (LANDLOCK_RESTRICT_SELF_TSYNC); the kernel has ABI %d, so nothing was changed (spawn the command in a sandbox instead): %w",
			threadCount(), tsyncABI, abi, landlock.ErrUnsupported))
	}
	return wrapKind(ErrConfinement, fmt.Errorf(
		"sandbox: confine: confining the calling process with LANDLOCK_RESTRICT_SELF_TSYNC (kernel ABI %d): %w", abi, policy.ErrNotImplemented))
}

// threadCount describes how many threads the process has, for the message.
func threadCount() string {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return "several threads"
	}
	return fmt.Sprintf("%d threads", len(ents))
}
