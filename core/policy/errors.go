package policy

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error about a malformed policy or an input
// that the parsers cannot read. The C ABI maps it to its policy error code.
var ErrInvalid = errors.New("invalid policy")

// ErrNotImplemented is wrapped by validation errors for options whose
// enforcement does not exist yet. It is distinct from ErrInvalid so callers can
// tell "your policy is wrong" from "this build cannot honour it".
var ErrNotImplemented = errors.New("not implemented yet")

// FieldError reports a problem with one policy option.
type FieldError struct {
	// Field is the snake_case name of the option as in the Python SDK, such as
	// "max_cpu", so that messages match what users of every binding wrote.
	Field string
	// Err is ErrInvalid or ErrNotImplemented.
	Err error
	// Msg explains the problem; when empty, Err's text is used.
	Msg string
}

// Error formats the problem as "policy: <field>: <message>".
func (e *FieldError) Error() string {
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	return "policy: " + e.Field + ": " + msg
}

// Unwrap returns the sentinel, so errors.Is(err, ErrInvalid) works.
func (e *FieldError) Unwrap() error { return e.Err }

// invalid builds a FieldError wrapping ErrInvalid.
func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}

// notImplemented builds a FieldError wrapping ErrNotImplemented.
func notImplemented(field string) error {
	return &FieldError{Field: field, Err: ErrNotImplemented, Msg: "not implemented yet"}
}

// parseError reports input that ParseSize or ParsePort cannot read. It is not
// a FieldError because the parsers do not know which option the text is for;
// callers that do can wrap it.
type parseError struct {
	what  string // "size" or "port"
	input string
	msg   string
}

func (e *parseError) Error() string {
	return fmt.Sprintf("policy: parse %s %q: %s", e.what, e.input, e.msg)
}

func (e *parseError) Unwrap() error { return ErrInvalid }
