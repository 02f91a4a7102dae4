package main

/*
#include "sandlock.h"
*/
import "C"

import (
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

//export capi_spawn
func capi_spawn(p *C.sandlock_policy_t, argv **C.char, opts *C.sandlock_spawn_options_t, out **C.sandlock_sandbox_t) C.int {
	return call("sandlock_spawn", func() error {
		if out == nil {
			return errArg("out is NULL")
		}
		*out = nil
		ph, err := policyArg(p, "policy")
		if err != nil {
			return err
		}
		args, err := goArgv(argv)
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
		sb, err := sandbox.Spawn(ph.snapshot(), args, eo)
		if err != nil {
			return err
		}
		key, err := newHandle(&sandboxHandle{sb: sb})
		if err != nil {
			stop(sb)
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
		r, err := newResult(res)
		if err != nil {
			return err
		}
		*out = r
		return nil
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

//export capi_sandbox_free
func capi_sandbox_free(sb *C.sandlock_sandbox_t) {
	call("sandlock_sandbox_free", func() error {
		h, ok, err := release[*sandboxHandle](unsafe.Pointer(sb), "sb", "sandlock_sandbox_t")
		if ok {
			stop(h.sb)
		}
		return err
	})
}

//export capi_run
func capi_run(p *C.sandlock_policy_t, argv **C.char, timeoutMs C.int64_t, out **C.sandlock_result_t) C.int {
	return call("sandlock_run", func() error {
		if out == nil {
			return errArg("out is NULL")
		}
		*out = nil
		ph, err := policyArg(p, "policy")
		if err != nil {
			return err
		}
		args, err := goArgv(argv)
		if err != nil {
			return err
		}
		d, err := msDuration(int64(timeoutMs), "timeout_ms")
		if err != nil {
			return err
		}
		res, err := sandbox.Run(ph.snapshot(), args, sandbox.Options{Timeout: d})
		if err != nil {
			return err
		}
		r, err := newResult(res)
		if err != nil {
			return err
		}
		*out = r
		return nil
	})
}
