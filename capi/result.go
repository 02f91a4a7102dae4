package main

/*
#include "sandlock.h"
*/
import "C"

import (
	"unsafe"

	"github.com/sandlock/sandlock/core/sandbox"
)

// resultHandle is a sandlock_result_t. Everything the caller may borrow is
// copied into C memory when the result is made, so the accessors cannot
// fail for lack of memory and never return Go pointers.
type resultHandle struct {
	handleBase
	r              *sandbox.Result
	stdout, stderr unsafe.Pointer // NUL-terminated copies
	execErr        *C.char        // nil when the command was executed
	degraded       []*C.char
}

func (h *resultHandle) freeC() {
	cfree(h.stdout)
	cfree(h.stderr)
	cfree(unsafe.Pointer(h.execErr))
	for _, d := range h.degraded {
		cfree(unsafe.Pointer(d))
	}
}

// newResult copies res into a new result handle.
func newResult(res *sandbox.Result) (*C.sandlock_result_t, error) {
	h := &resultHandle{r: res}
	ok := true
	if h.stdout = cbytes(res.Stdout); h.stdout == nil {
		ok = false
	}
	if h.stderr = cbytes(res.Stderr); h.stderr == nil {
		ok = false
	}
	if res.ExecError != nil {
		if h.execErr = cstring(res.ExecError.Error()); h.execErr == nil {
			ok = false
		}
	}
	for _, d := range res.Degraded {
		cs := cstring(d)
		if cs == nil {
			ok = false
			break
		}
		h.degraded = append(h.degraded, cs)
	}
	if !ok {
		h.freeC()
		return nil, errCode(codeENOMEM, "out of memory copying the result (%d bytes of output)", len(res.Stdout)+len(res.Stderr))
	}
	key, err := newHandle(h)
	if err != nil {
		h.freeC()
		return nil, err
	}
	return (*C.sandlock_result_t)(key), nil
}

func resultArg(r *C.sandlock_result_t) (*resultHandle, error) {
	return lookup[*resultHandle](unsafe.Pointer(r), "r", "sandlock_result_t")
}

// resultCall is the body of every accessor: it runs f on the result and
// reports whether it succeeded; the export returns its sentinel if not.
func resultCall(fn string, r *C.sandlock_result_t, f func(*resultHandle) error) bool {
	return call(fn, func() error {
		h, err := resultArg(r)
		if err != nil {
			return err
		}
		return f(h)
	}) == C.SANDLOCK_OK
}

//export capi_result_exit_code
func capi_result_exit_code(r *C.sandlock_result_t) C.int {
	var v C.int = -1
	resultCall("sandlock_result_exit_code", r, func(h *resultHandle) error {
		v = C.int(h.r.ExitCode)
		return nil
	})
	return v
}

//export capi_result_signal
func capi_result_signal(r *C.sandlock_result_t) C.int {
	var v C.int = C.SANDLOCK_EINVAL
	resultCall("sandlock_result_signal", r, func(h *resultHandle) error {
		v = C.int(h.r.Signal)
		return nil
	})
	return v
}

//export capi_result_reason
func capi_result_reason(r *C.sandlock_result_t) C.int {
	var v C.int = C.SANDLOCK_EINVAL
	resultCall("sandlock_result_reason", r, func(h *resultHandle) error {
		code := reasonCode(h.r.Reason)
		if code < 0 {
			return errCode(codeEINTERNAL, "internal error: unknown reason %v", h.r.Reason)
		}
		v = C.int(code)
		return nil
	})
	return v
}

// output is the body of sandlock_result_stdout and _stderr.
func output(fn string, r *C.sandlock_result_t, length *C.size_t, stderr bool) *C.uint8_t {
	if length != nil {
		*length = 0
	}
	var p *C.uint8_t
	resultCall(fn, r, func(h *resultHandle) error {
		buf, n := h.stdout, len(h.r.Stdout)
		if stderr {
			buf, n = h.stderr, len(h.r.Stderr)
		}
		p = (*C.uint8_t)(buf)
		if length != nil {
			*length = C.size_t(n)
		}
		return nil
	})
	return p
}

//export capi_result_stdout
func capi_result_stdout(r *C.sandlock_result_t, length *C.size_t) *C.uint8_t {
	return output("sandlock_result_stdout", r, length, false)
}

//export capi_result_stderr
func capi_result_stderr(r *C.sandlock_result_t, length *C.size_t) *C.uint8_t {
	return output("sandlock_result_stderr", r, length, true)
}

//export capi_result_exec_error
func capi_result_exec_error(r *C.sandlock_result_t) *C.char {
	var s *C.char
	resultCall("sandlock_result_exec_error", r, func(h *resultHandle) error {
		s = h.execErr
		return nil
	})
	return s
}

//export capi_result_duration_ns
func capi_result_duration_ns(r *C.sandlock_result_t) C.uint64_t {
	var v C.uint64_t
	resultCall("sandlock_result_duration_ns", r, func(h *resultHandle) error {
		if h.r.Duration > 0 {
			v = C.uint64_t(h.r.Duration)
		}
		return nil
	})
	return v
}

//export capi_result_degraded_count
func capi_result_degraded_count(r *C.sandlock_result_t) C.size_t {
	var v C.size_t
	resultCall("sandlock_result_degraded_count", r, func(h *resultHandle) error {
		v = C.size_t(len(h.degraded))
		return nil
	})
	return v
}

//export capi_result_degraded
func capi_result_degraded(r *C.sandlock_result_t, i C.size_t) *C.char {
	var s *C.char
	resultCall("sandlock_result_degraded", r, func(h *resultHandle) error {
		if uint64(i) >= uint64(len(h.degraded)) {
			return errArg("i %d is out of range (%d degraded protections)", uint64(i), len(h.degraded))
		}
		s = h.degraded[i]
		return nil
	})
	return s
}

//export capi_result_free
func capi_result_free(r *C.sandlock_result_t) {
	call("sandlock_result_free", func() error {
		h, ok, err := release[*resultHandle](unsafe.Pointer(r), "r", "sandlock_result_t")
		if ok {
			h.freeC()
		}
		return err
	})
}
