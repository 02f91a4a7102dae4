package main

import (
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

func TestSetStdio(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	wfd := int64(w.Fd())
	for _, tc := range []struct {
		name             string
		stream, mode, fd int64
		wantErr          string
	}{
		{"inherit", streamStdout, stdioInherit, -1, ""},
		{"null stdin", streamStdin, stdioNull, -1, ""},
		{"capture stderr", streamStderr, stdioCapture, -1, ""},
		{"fd", streamStdout, stdioFD, wfd, ""},
		{"capture stdin", streamStdin, stdioCapture, -1, "stdin cannot be SANDLOCK_STDIO_CAPTURE"},
		{"stream 3", 3, stdioNull, -1, "stream 3 is not"},
		{"stream -1", -1, stdioNull, -1, "stream -1 is not"},
		{"mode 4", streamStdout, 4, -1, "mode 4 is not a SANDLOCK_STDIO_* value"},
		{"fd with null", streamStdout, stdioNull, wfd, "fd must be -1"},
		{"bad fd", streamStdout, stdioFD, 1 << 20, "is not open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o spawnOptions
			err := o.setStdio(tc.stream, tc.mode, tc.fd)
			if tc.wantErr == "" {
				if err != nil || o.stdio[tc.stream] != (stdioSetting{int(tc.mode), int(tc.fd)}) {
					t.Errorf("setStdio = %v, options %+v", err, o.stdio)
				}
				return
			}
			wantEINVAL(t, "setStdio", err, tc.wantErr)
			if o != (spawnOptions{}) {
				t.Errorf("a failed setStdio changed the options: %+v", o)
			}
		})
	}
}

// requireLandlock skips loudly where the engine cannot spawn; under
// SANDLOCK_TEST_STRICT=1 (CI) that is a failure.
func requireLandlock(t *testing.T) {
	t.Helper()
	if _, err := landlock.ABIVersion(); err != nil {
		if os.Getenv("SANDLOCK_TEST_STRICT") == "1" {
			t.Fatalf("Landlock unavailable: %v", err)
		}
		t.Skipf("Landlock unavailable: %v", err)
	}
}

func testPolicy() policy.Policy {
	p := policy.Default()
	p.FsReadable = []string{"/usr", "/etc"}
	for _, d := range []string{"/bin", "/lib", "/lib64"} {
		if _, err := os.Stat(d); err == nil {
			p.FsReadable = append(p.FsReadable, d)
		}
	}
	return p
}

// The caller's descriptor is duplicated for the engine, keeps working after
// the spawn, and keeps its O_NONBLOCK flag.
func TestEngineOptionsFD(t *testing.T) {
	requireLandlock(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	wfd := int(w.Fd())
	if err := unix.SetNonblock(wfd, true); err != nil {
		t.Fatal(err)
	}
	var o spawnOptions
	if err := o.setStdio(streamStdout, stdioFD, int64(wfd)); err != nil {
		t.Fatal(err)
	}
	eo, done, err := o.engineOptions()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Spawn(testPolicy(), []string{"/bin/echo", "through the fd"}, eo)
	done()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitFor(sb, -1); err != nil {
		t.Fatal(err)
	}
	if fl, err := unix.FcntlInt(uintptr(wfd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("caller's fd after spawn: flags %#x, %v; want open and non-blocking", fl, err)
	}
	w.Close()
	out, _ := io.ReadAll(r)
	if string(out) != "through the fd\n" {
		t.Errorf("read %q from the caller's pipe", out)
	}
}

func TestWaitFor(t *testing.T) {
	requireLandlock(t)
	sb, err := sandbox.Spawn(testPolicy(), []string{"/bin/sleep", "30"}, sandbox.Options{Stdin: sandbox.Null()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitFor(sb, 0); statusOf(err).code != codeETIMEOUT {
		t.Errorf("waitFor(0) on a running sandbox = %v, want ETIMEOUT", err)
	}
	start := time.Now()
	if _, err := waitFor(sb, 50); statusOf(err).code != codeETIMEOUT || time.Since(start) < 40*time.Millisecond {
		t.Errorf("waitFor(50) = %v after %v, want ETIMEOUT after 50 ms", err, time.Since(start))
	}
	if _, err := waitFor(sb, -2); statusOf(err).code != codeEINVAL {
		t.Errorf("waitFor(-2) = %v, want EINVAL", err)
	}
	stop(sb)
	res, err := waitFor(sb, 0)
	if err != nil || reasonCode(res.Reason) != reasonKilled {
		t.Errorf("after stop: %+v, %v; want reason killed", res, err)
	}
	stop(sb) // a second stop of an ended sandbox is harmless
}

// The helpers behind sandlock_spawn/_wait/_free leave no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	requireLandlock(t)
	run := func() {
		var o spawnOptions
		_ = o.setStdio(streamStdout, stdioCapture, -1)
		_ = o.setStdio(streamStderr, stdioCapture, -1)
		eo, done, err := o.engineOptions()
		if err != nil {
			t.Fatal(err)
		}
		sb, err := sandbox.Spawn(testPolicy(), []string{"/bin/echo", "x"}, eo)
		done()
		if err != nil {
			t.Fatal(err)
		}
		res, err := waitFor(sb, -1)
		if err != nil || !strings.HasPrefix(string(res.Stdout), "x") {
			t.Fatalf("wait: %+v, %v", res, err)
		}
		stop(sb)
	}
	for range 5 {
		run()
	}
	before := runtime.NumGoroutine()
	for range 100 {
		run()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines %d -> %d after 100 sandboxes", before, after)
	}
}
