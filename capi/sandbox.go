package main

/*
#include "sandlock.h"
*/
import "C"

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/sandlock/sandlock/core/sandbox"
)

func sandboxArg(sb *C.sandlock_sandbox_t) (*sandboxHandle, error) {
	return lookup[*sandboxHandle](unsafe.Pointer(sb), "sb", "sandlock_sandbox_t")
}

// sandboxCall is the body of the exports that act on a running sandbox.
func sandboxCall(fn string, sb *C.sandlock_sandbox_t, f func(*sandbox.Sandbox) error) C.int {
	return call(fn, func() error {
		h, err := sandboxArg(sb)
		if err != nil {
			return err
		}
		return f(h.sb)
	})
}

// launchArgs checks the arguments sandlock_spawn and sandlock_run share:
// *out is cleared first, so that a caller ignoring the error status never
// sees a stale pointer.
func launchArgs[P any](out *P, p *C.sandlock_policy_t, argv **C.char) (*policyHandle, []string, error) {
	if out == nil {
		return nil, nil, errArg("out is NULL")
	}
	var none P
	*out = none
	ph, err := policyArg(p, "policy")
	if err != nil {
		return nil, nil, err
	}
	args, err := goArgv(argv)
	if err != nil {
		return nil, nil, err
	}
	return ph, args, nil
}

//export capi_spawn
func capi_spawn(p *C.sandlock_policy_t, argv **C.char, opts *C.sandlock_spawn_options_t, out **C.sandlock_sandbox_t) C.int {
	return call("sandlock_spawn", func() error {
		ph, args, err := launchArgs(out, p, argv)
		if err != nil {
			return err
		}
		var so spawnOptions
		if opts != nil {
			oh, err := optionsArg(opts, "opts")
			if err != nil {
				return err
			}
			so = oh.snapshot()
		}
		eo, done, err := so.engineOptions()
		if err != nil {
			return err
		}
		defer done()
		pfn := ph.policyFn()
		if pfn != nil {
			eo.PolicyFn = pfn
		}
		sb, err := sandbox.Spawn(ph.snapshot(), args, eo)
		if err != nil {
			pfn.unref()
			return err
		}
		key, err := newHandle(&sandboxHandle{sb: sb, pfn: pfn})
		if err != nil {
			stop(sb)
			pfn.unref()
			return err
		}
		*out = (*C.sandlock_sandbox_t)(key)
		return nil
	})
}

//export capi_sandbox_pid
func capi_sandbox_pid(sb *C.sandlock_sandbox_t) C.int {
	var pid C.int
	rc := sandboxCall("sandlock_sandbox_pid", sb, func(s *sandbox.Sandbox) error {
		pid = C.int(s.Pid())
		return nil
	})
	if rc != C.SANDLOCK_OK {
		return rc
	}
	return pid
}

//export capi_sandbox_wait
func capi_sandbox_wait(sb *C.sandlock_sandbox_t, timeoutMs C.int64_t, out **C.sandlock_result_t) C.int {
	return call("sandlock_sandbox_wait", func() error {
		if out == nil {
			return errArg("out is NULL")
		}
		*out = nil
		h, err := sandboxArg(sb)
		if err != nil {
			return err
		}
		res, err := waitFor(h.sb, int64(timeoutMs))
		if err != nil {
			return err
		}
		// newResult returns nil on error: *out stays cleared.
		*out, err = newResult(res)
		return err
	})
}

//export capi_sandbox_kill
func capi_sandbox_kill(sb *C.sandlock_sandbox_t) C.int {
	return sandboxCall("sandlock_sandbox_kill", sb, (*sandbox.Sandbox).Kill)
}

//export capi_sandbox_pause
func capi_sandbox_pause(sb *C.sandlock_sandbox_t) C.int {
	return sandboxCall("sandlock_sandbox_pause", sb, (*sandbox.Sandbox).Pause)
}

//export capi_sandbox_resume
func capi_sandbox_resume(sb *C.sandlock_sandbox_t) C.int {
	return sandboxCall("sandlock_sandbox_resume", sb, (*sandbox.Sandbox).Resume)
}

//export capi_sandbox_set_max_processes
func capi_sandbox_set_max_processes(sb *C.sandlock_sandbox_t, n C.uint32_t) C.int {
	return sandboxCall("sandlock_sandbox_set_max_processes", sb, func(s *sandbox.Sandbox) error {
		if n == 0 {
			return errArg("n must be positive")
		}
		select {
		case <-s.Done():
			return errCode(codeESTATE, "the sandbox has ended")
		default:
		}
		return s.SetMaxProcesses(int(n))
	})
}

//export capi_sandbox_port_mappings
func capi_sandbox_port_mappings(sb *C.sandlock_sandbox_t, virt, real *C.uint16_t, capacity C.size_t, count *C.size_t) C.int {
	return sandboxCall("sandlock_sandbox_port_mappings", sb, func(s *sandbox.Sandbox) error {
		if count == nil {
			return errArg("count is NULL")
		}
		if capacity > 0 && (virt == nil || real == nil) {
			return errArg("virtual_ports and real_ports must not be NULL when cap > 0")
		}
		pm := s.Ports()
		n := len(pm)
		if uint64(capacity) < uint64(n) {
			n = int(capacity)
		}
		if n > 0 {
			vs, rs := unsafe.Slice(virt, n), unsafe.Slice(real, n)
			for i := 0; i < n; i++ {
				vs[i], rs[i] = C.uint16_t(pm[i].Virtual), C.uint16_t(pm[i].Real)
			}
		}
		*count = C.size_t(len(pm))
		return nil
	})
}

//export capi_sandbox_free
func capi_sandbox_free(sb *C.sandlock_sandbox_t) {
	call("sandlock_sandbox_free", func() error {
		h, ok, err := release[*sandboxHandle](unsafe.Pointer(sb), "sb", "sandlock_sandbox_t")
		if ok {
			stop(h.sb)
			h.pfn.unref()
		}
		return err
	})
}

//export capi_run
func capi_run(p *C.sandlock_policy_t, argv **C.char, timeoutMs C.int64_t, out **C.sandlock_result_t) C.int {
	return call("sandlock_run", func() error {
		ph, args, err := launchArgs(out, p, argv)
		if err != nil {
			return err
		}
		d, err := msDuration(int64(timeoutMs), "timeout_ms")
		if err != nil {
			return err
		}
		ro := sandbox.Options{Timeout: d}
		pfn := ph.policyFn()
		defer pfn.unref()
		if pfn != nil {
			ro.PolicyFn = pfn
		}
		res, err := sandbox.Run(ph.snapshot(), args, ro)
		if err != nil {
			return err
		}
		// newResult returns nil on error: *out stays cleared.
		*out, err = newResult(res)
		return err
	})
}

// With SANDLOCK_DEBUG_STACKS set, SIGUSR2 makes the library write every
// goroutine's stack to stderr. A C host does not get Go's SIGQUIT dump (a
// c-shared runtime leaves SIGQUIT to the host), and a host stuck in
// sandlock_sandbox_wait needs the engine's side of the story; the stress
// tests' C host sends itself SIGUSR2 when a wait stalls. Off by default:
// the library must not take a signal the host may use.
func init() {
	if os.Getenv("SANDLOCK_DEBUG_STACKS") == "" {
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR2)
	go func() {
		for range c {
			buf := make([]byte, 1<<20)
			for {
				n := runtime.Stack(buf, true)
				if n < len(buf) {
					buf = buf[:n]
					break
				}
				buf = make([]byte, 2*len(buf))
			}
			_, _ = os.Stderr.Write(buf)
		}
	}()
}
