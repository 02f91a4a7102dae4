package main

import (
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// call sets this thread's last error; the test stays on one OS thread to
// read it back, as a C caller does.
func TestCallSetsLastError(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	if rc := call("sandlock_test_ok", func() error { return nil }); rc != codeOK {
		t.Errorf("call(ok) = %d", rc)
	}
	if msg, errno := lastError(); msg != "" || errno != 0 {
		t.Errorf("after success: %q, %d", msg, errno)
	}
	rc := call("sandlock_test_fail", func() error { return errArg("x is NULL") })
	if msg, _ := lastError(); rc != codeEINVAL || msg != "sandlock_test_fail: x is NULL" {
		t.Errorf("call(fail) = %d, %q", rc, msg)
	}
	rc = call("sandlock_test_errno", func() error { return syscall.EMFILE })
	if msg, errno := lastError(); rc != codeEOS || errno != int(syscall.EMFILE) || !strings.Contains(msg, "too many open files") {
		t.Errorf("call(errno) = %d, %q, %d", rc, msg, errno)
	}
	// A panic becomes EINTERNAL with a message; it never crosses into C.
	rc = call("sandlock_test_panic", func() error {
		var p *policyHandle
		return p.update(nil) // nil pointer dereference
	})
	msg, _ := lastError()
	if rc != codeEINTERNAL || !strings.HasPrefix(msg, "sandlock_test_panic: internal error (please report): panic: runtime error") {
		t.Errorf("call(panic) = %d, %q", rc, msg)
	}
	// Long messages are cut at a character boundary and marked.
	long := strings.Repeat("é", 3000)
	call("sandlock_test_long", func() error { return errArg("%s", long) })
	msg, _ = lastError()
	if len(msg) >= 2048 || !strings.HasSuffix(msg, "...") || !strings.HasPrefix(msg, "sandlock_test_long: é") ||
		strings.ContainsRune(strings.TrimSuffix(msg, "..."), '\uFFFD') {
		t.Errorf("long message: %d bytes, ends %q", len(msg), msg[max(0, len(msg)-10):])
	}
}

func TestGoArgvLimits(t *testing.T) {
	if _, err := goStrings(nil, "argv"); statusOf(err).code != codeEINVAL {
		t.Errorf("goStrings(nil) = %v", err)
	}
}
