// Package policy holds the sandbox policy model: the [Policy] struct with one
// field per option of the original sandlock v0.7.0 Python Policy, its defaults,
// a fluent [Builder], validation, and the size and port parsers that the CLI,
// the C ABI and profiles share.
//
// # Validity
//
// A Policy is only meaningful after [Policy.Validate] returned nil. Validation
// checks the shape of every field (absolute paths, ranges, enum values, mutually
// exclusive options) and then rejects every option whose enforcement does not
// exist yet: the product promises that every accepted option works, so an
// option that would be silently ignored is an error wrapping
// [ErrNotImplemented], never a no-op. Shape errors wrap [ErrInvalid]. Both come
// as a [*FieldError] that names the option by its snake_case Python name.
//
// Whether a syscall name or a path exists is not checked here: that depends on
// the architecture and the host, and is left to the packages that enforce it.
//
// # Defaults
//
// The zero Policy is not the default policy: use [Default] or [NewBuilder], which
// keep the original's secure defaults (raw sockets forbidden, at most 64
// processes). The zero value is rejected by Validate because its enum fields are
// empty.
package policy
