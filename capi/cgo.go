package main

/*
#include <stdlib.h>
#include "sandlock.h"
#include "capi_internal.h"
*/
import "C"

import (
	"strconv"
	"unsafe"
)

// call runs the body of the export named fn (its public C name). It
// converts a panic into SANDLOCK_EINTERNAL, maps body's error to a code and
// records the outcome in the calling thread's last error: the message,
// prefixed with fn, on failure; "" on success.
//
// Exports that return something other than a status use call for the
// bookkeeping and return their own sentinel when it is not SANDLOCK_OK.
func call(fn string, body func() error) (rc C.int) {
	defer func() {
		if v := recover(); v != nil {
			st := panicStatus(v)
			setLastError(fn, st)
			rc = C.int(st.code)
		}
	}()
	err := body()
	if err == nil {
		C.capi_clear_last_error()
		return C.SANDLOCK_OK
	}
	st := statusOf(err)
	setLastError(fn, st)
	return C.int(st.code)
}

// setLastError stores "fn: message" in this thread's buffer. The C side
// copies the bytes before returning, so passing Go memory is allowed.
func setLastError(fn string, st status) {
	msg := fn + ": " + st.msg
	C.capi_set_last_error(C.int(st.errno), (*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
}

// lastError reads this thread's message, for tests that lock their
// goroutine to a thread.
func lastError() (string, int) {
	return C.GoString(C.sandlock_last_error()), int(C.sandlock_last_errno())
}

// cGoString copies a C string; for tests, which cannot import "C".
func cGoString(s *C.char) string { return C.GoString(s) }

// goString converts a C string argument; NULL and invalid UTF-8 are
// SANDLOCK_EINVAL.
func goString(s *C.char, name string) (string, error) {
	if s == nil {
		return "", errArg("%s is NULL", name)
	}
	return checkUTF8(C.GoString(s), name)
}

// maxArgs bounds the argv scan, so a missing NULL terminator ends in an
// error rather than an endless read (the kernel's own limit on the whole
// argv is far smaller).
const maxArgs = 1 << 20

// goArgv converts argv, which must hold at least a non-empty argv[0].
func goArgv(argv **C.char) ([]string, error) {
	args, err := goStrings(argv, "argv")
	if err != nil {
		return nil, err
	}
	if len(args) == 0 || args[0] == "" {
		return nil, errArg("argv is empty (argv[0] must be a non-empty command)")
	}
	return args, nil
}

// goStrings converts a NULL-terminated array of C strings.
func goStrings(arr **C.char, name string) ([]string, error) {
	if arr == nil {
		return nil, errArg("%s is NULL", name)
	}
	var out []string
	for i := 0; ; i++ {
		if i == maxArgs {
			return nil, errArg("%s has no NULL terminator within %d entries", name, maxArgs)
		}
		p := *(**C.char)(unsafe.Add(unsafe.Pointer(arr), uintptr(i)*unsafe.Sizeof(arr)))
		if p == nil {
			return out, nil
		}
		s, err := checkUTF8(C.GoString(p), name+"["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
}

// cbytes copies b into C memory ending in a NUL byte, or returns nil when
// out of memory.
func cbytes(b []byte) unsafe.Pointer {
	var src unsafe.Pointer
	if len(b) > 0 {
		src = unsafe.Pointer(&b[0])
	}
	return C.capi_dup_bytes(src, C.size_t(len(b)))
}

// cstring is cbytes for a string.
func cstring(s string) *C.char {
	return (*C.char)(cbytes([]byte(s)))
}

func cfree(p unsafe.Pointer) { C.capi_free(p) }
