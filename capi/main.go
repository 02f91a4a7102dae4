// Command capi is libsandlock.so: the C ABI of the sandlock engine, built
// with go build -buildmode=c-shared (see the Makefile's lib target).
//
// It is the only package with //export functions. It holds no engine logic:
// every export checks its C arguments, looks up its handles, calls
// core/policy or core/sandbox, maps the error to a SANDLOCK_E* code and
// records the message in the calling thread's last-error buffer.
//
// # Layout
//
//   - include/sandlock.h is the contract; shim.c defines each public
//     function with the header's exact signature and calls an internal
//     export named capi_* (so the C compiler checks every prototype against a
//     definition). The linker version script libsandlock.map exports only
//     sandlock_* symbols.
//   - lasterror.c holds the _Thread_local last-error buffer. An export runs
//     on the caller's OS thread (cgo locks the callback goroutine to it), so
//     setting the buffer from Go sets the caller's.
//   - handles.go turns Go objects into C handles with mattn/go-pointer and
//     back, type-checked; errors.go maps core errors to codes (codes.go
//     mirrors the header's values); convert.go checks numbers, enums and
//     strings; objects.go holds the objects behind the handles and the
//     spawn, wait and free steps. These files do not import "C", so the
//     package's tests reach all of them.
//   - cgo.go holds call, the wrapper of every export (panic recovery,
//     error mapping, last error), and the C string and memory helpers.
//   - The export files follow the header's sections: version.go,
//     policy.go, options.go, sandbox.go, result.go, confine.go.
//
// # Pointers
//
// No Go pointer is ever handed to C: handles are go-pointer's malloc'd
// keys, and every buffer the caller may read (captured output, strings) is
// copied into C memory owned by the object it was borrowed from.
package main

/*
#cgo CFLAGS: -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -I${SRCDIR}/../include
*/
import "C"

// main is required by -buildmode=c-shared and never runs.
func main() {}
