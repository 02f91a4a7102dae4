package main

import (
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// The objects behind the handles, and the steps of spawn, wait and free
// that need no C types (so that the tests, which cannot import "C", reach
// them).

// policyHandle is a sandlock_policy_t. Every access takes mu, so the
// header can promise that any thread may use a policy at any time.
type policyHandle struct {
	handleBase
	mu sync.RWMutex
	p  policy.Policy
	// pfn is the sandlock_set_policy_fn registration (policyfn.go).
	pfn *cPolicyFn
}

// update applies f under the write lock; f must check its arguments before
// it changes anything, so that an error leaves the policy unchanged.
func (h *policyHandle) update(f func(*policy.Policy) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return f(&h.p)
}

// snapshot returns a deep copy, taken under the read lock.
func (h *policyHandle) snapshot() policy.Policy {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.p.Clone()
}

// stdioSetting is one stream of a sandlock_spawn_options_t.
type stdioSetting struct {
	mode int
	fd   int
}

// spawnOptions is the content of a sandlock_spawn_options_t.
type spawnOptions struct {
	stdio       [3]stdioSetting
	timeout     time.Duration
	name        string
	outputLimit int
	sharePgrp   bool
}

// optionsHandle is a sandlock_spawn_options_t.
type optionsHandle struct {
	handleBase
	mu sync.Mutex
	o  spawnOptions
}

func (h *optionsHandle) update(f func(*spawnOptions) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return f(&h.o)
}

func (h *optionsHandle) snapshot() spawnOptions {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.o
}

// streamNames name the streams in messages.
var streamNames = [3]string{"stdin", "stdout", "stderr"}

// setStdio checks and records one stream's setting.
func (o *spawnOptions) setStdio(stream, mode, fd int64) error {
	if stream < streamStdin || stream > streamStderr {
		return errArg("stream %d is not SANDLOCK_STDIN, SANDLOCK_STDOUT or SANDLOCK_STDERR", stream)
	}
	switch mode {
	case stdioInherit, stdioNull:
	case stdioCapture:
		if stream == streamStdin {
			return errArg("stdin cannot be SANDLOCK_STDIO_CAPTURE")
		}
	case stdioFD:
		if err := checkFD(fd, "fd"); err != nil {
			return err
		}
	default:
		return errArg("mode %d is not a SANDLOCK_STDIO_* value", mode)
	}
	if mode != stdioFD && fd != -1 {
		return errArg("fd must be -1 unless mode is SANDLOCK_STDIO_FD, got %d", fd)
	}
	o.stdio[stream] = stdioSetting{mode: int(mode), fd: int(fd)}
	return nil
}

// engineOptions turns a snapshot into sandbox.Options. A caller's fd is
// duplicated, because an *os.File closes its descriptor when collected and
// the caller keeps owning the original; done closes the duplicates once
// the spawn returned (the child has its own copies by then).
//
// done also puts O_NONBLOCK back where the caller had it: the engine calls
// os.File.Fd, which makes the file blocking, and the flag lives in the
// open file description that the caller, the duplicate and the child all
// share. Restoring it gives the child what a plain fork and exec of the
// caller's fd would have given it.
func (o *spawnOptions) engineOptions() (opts sandbox.Options, done func(), err error) {
	var files []*os.File
	var nonblock []int
	done = func() {
		for _, f := range files {
			f.Close()
		}
		for _, fd := range nonblock {
			_ = unix.SetNonblock(fd, true)
		}
	}
	opts = sandbox.Options{
		Timeout:     o.timeout,
		Name:        o.name,
		OutputLimit: o.outputLimit,
		SharePgrp:   o.sharePgrp,
	}
	streams := [3]*sandbox.Stream{&opts.Stdin, &opts.Stdout, &opts.Stderr}
	for i, s := range o.stdio {
		switch s.mode {
		case stdioInherit:
			*streams[i] = sandbox.Inherit()
		case stdioCapture:
			*streams[i] = sandbox.Capture()
		case stdioNull:
			*streams[i] = sandbox.Null()
		case stdioFD:
			if fl, e := unix.FcntlInt(uintptr(s.fd), unix.F_GETFL, 0); e == nil && fl&unix.O_NONBLOCK != 0 {
				nonblock = append(nonblock, s.fd)
			}
			dup, e := unix.FcntlInt(uintptr(s.fd), unix.F_DUPFD_CLOEXEC, 3)
			if e != nil {
				done()
				return opts, nil, errArg("%s fd %d: %v (closed after it was set?)", streamNames[i], s.fd, e)
			}
			f := os.NewFile(uintptr(dup), streamNames[i])
			files = append(files, f)
			*streams[i] = sandbox.File(f)
		}
	}
	return opts, done, nil
}

// sandboxHandle is a sandlock_sandbox_t.
type sandboxHandle struct {
	handleBase
	sb *sandbox.Sandbox
	// pfn holds the policy callback's user_data until the sandbox is
	// freed (policyfn.go).
	pfn *cPolicyFn
}

// waitFor waits for the sandbox as sandlock_sandbox_wait does: -1 for
// ever, 0 only checks, > 0 at most that many milliseconds.
func waitFor(sb *sandbox.Sandbox, timeoutMs int64) (*sandbox.Result, error) {
	var res *sandbox.Result
	var err error
	switch {
	case timeoutMs < -1:
		return nil, errArg("timeout_ms must be -1 (for ever), 0 or positive, got %d", timeoutMs)
	case timeoutMs == -1:
		res, err = sb.Wait()
	case timeoutMs == 0:
		select {
		case <-sb.Done():
			res, err = sb.Wait()
		default:
			return nil, errCode(codeETIMEOUT, "the sandbox is still running")
		}
	default:
		d, derr := msDuration(timeoutMs, "timeout_ms")
		if derr != nil {
			return nil, derr
		}
		var ok bool
		res, ok, err = sb.WaitTimeout(d)
		if !ok {
			return nil, errCode(codeETIMEOUT, "the sandbox did not end within %d ms; it is still running", timeoutMs)
		}
	}
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errCode(codeEINTERNAL, "internal error: the sandbox ended without a result")
	}
	return res, nil
}

// stop kills a sandbox that may still run and waits until it is torn down.
func stop(sb *sandbox.Sandbox) {
	_ = sb.Kill() // ErrState: it has ended already
	<-sb.Done()
}

// reasonCode maps the engine's Reason to SANDLOCK_REASON_*.
func reasonCode(r sandbox.Reason) int {
	switch r {
	case sandbox.Exited:
		return reasonExited
	case sandbox.Signaled:
		return reasonSignaled
	case sandbox.Killed:
		return reasonKilled
	case sandbox.Timeout:
		return reasonTimeout
	case sandbox.MemoryLimit:
		return reasonMemory
	}
	return codeEINTERNAL
}
