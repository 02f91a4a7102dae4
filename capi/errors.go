package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// status is what an export reports: a code, the message for
// sandlock_last_error and the errno for sandlock_last_errno.
type status struct {
	code  int
	msg   string
	errno int
}

// codeError is an error that already knows its code: argument errors and
// the states the boundary itself detects (a wait that timed out).
type codeError struct {
	code int
	msg  string
}

func (e *codeError) Error() string { return e.msg }

func errArg(format string, a ...any) error {
	return &codeError{codeEINVAL, fmt.Sprintf(format, a...)}
}

func errCode(code int, format string, a ...any) error {
	return &codeError{code, fmt.Sprintf(format, a...)}
}

// errorTable maps the engine's error kinds to codes, first match wins. The
// order matters where one error carries several kinds:
//
//   - policy.ErrNotImplemented comes wrapped in sandbox.ErrPolicy (or in
//     sandbox.ErrConfinement from confine); it means "this build cannot
//     honour the option yet", not "your policy is wrong" nor "the kernel
//     lacks it", so it is SANDLOCK_ENOTIMPL.
//   - landlock.ErrUnsupported (the kernel lacks Landlock or a protection the
//     policy needs) comes wrapped in sandbox.ErrConfinement; the landlock
//     package documents it as SANDLOCK_ENOTSUP, which lets a binding raise
//     "Landlock unavailable" rather than a generic confinement error.
//
// The rest is one kind, one code. policy.ErrInvalid is reached only by
// sandlock_policy_validate, which calls the policy package directly.
var errorTable = []struct {
	kind error
	code int
}{
	{policy.ErrNotImplemented, codeENOTIMPL},
	{landlock.ErrUnsupported, codeENOTSUP},
	{sandbox.ErrPolicy, codeEPOLICY},
	{sandbox.ErrConfinement, codeECONFINE},
	{sandbox.ErrSpawn, codeESPAWN},
	{sandbox.ErrState, codeESTATE},
	{policy.ErrInvalid, codeEPOLICY},
}

// statusOf maps an error to its status. An error of no known kind that
// carries an errno is SANDLOCK_EOS; anything else is a bug at the boundary
// or in the engine, SANDLOCK_EINTERNAL.
func statusOf(err error) status {
	if err == nil {
		return status{code: codeOK}
	}
	st := status{code: codeEINTERNAL, msg: err.Error()}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		st.errno = int(errno)
	}
	var ce *codeError
	if errors.As(err, &ce) {
		st.code = ce.code
		return st
	}
	for _, row := range errorTable {
		if errors.Is(err, row.kind) {
			st.code = row.code
			return st
		}
	}
	if st.errno != 0 {
		st.code = codeEOS
		return st
	}
	st.msg = "internal error (unclassified): " + st.msg
	return st
}

// panicStatus describes a recovered panic. It is called from the deferred
// function that recovered, so the panicking frame is on the stack: its
// location goes into the message.
func panicStatus(v any) status {
	msg := fmt.Sprintf("internal error (please report): panic: %v", v)
	if where := panicSite(); where != "" {
		msg += " at " + where
	}
	return status{code: codeEINTERNAL, msg: msg}
}

// panicSite returns "func file:line" of the frame that panicked: the first
// frame of this module (package main is capi) after the runtime's panic
// machinery, or else the first frame outside the runtime; "" if none.
func panicSite() string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	sawPanic := false
	fallback := ""
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			sawPanic = true
		case !sawPanic || strings.HasPrefix(f.Function, "runtime."):
		case strings.HasPrefix(f.Function, "main.") || strings.HasPrefix(f.Function, "github.com/sandlock/sandlock/"):
			return fmt.Sprintf("%s %s:%d", f.Function, shortFile(f.File), f.Line)
		case fallback == "":
			fallback = fmt.Sprintf("%s %s:%d", f.Function, shortFile(f.File), f.Line)
		}
		if !more {
			return fallback
		}
	}
}

// shortFile keeps the last directory and the file name: "capi/run.go".
func shortFile(path string) string {
	dir, file := filepath.Split(path)
	return filepath.Join(filepath.Base(dir), file)
}
