package landlock

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrUnsupported is wrapped by every error that means the kernel lacks a
// protection the caller asked for, or lacks Landlock altogether. The C ABI
// maps it to SANDLOCK_ENOTSUP and Python to LandlockUnavailableError, so
// callers test it with errors.Is instead of parsing messages.
var ErrUnsupported = errors.New("landlock: kernel lacks a required feature")

// unsupportedError carries our own message while unwrapping to both
// ErrUnsupported and, when there is one, the errno that revealed the lack.
type unsupportedError struct {
	msg string
	err error // the errno, or nil
}

func (e *unsupportedError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

func (e *unsupportedError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrUnsupported}
	}
	return []error{ErrUnsupported, e.err}
}

// errnoError prefixes err with the failed operation and turns the errnos
// whose meaning is known into sentences. ENOSYS (not built in) and
// EOPNOTSUPP (built in but not in the boot-time LSM list) both mean the
// kernel cannot give us Landlock.
func errnoError(op string, err error) error {
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return &unsupportedError{
			msg: fmt.Sprintf("landlock: %s: not supported by kernel or not enabled at boot", op),
			err: err,
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
