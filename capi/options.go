package main

/*
#include "sandlock.h"
*/
import "C"

import (
	"math"
	"unsafe"
)

func optionsArg(o *C.sandlock_spawn_options_t, name string) (*optionsHandle, error) {
	return lookup[*optionsHandle](unsafe.Pointer(o), name, "sandlock_spawn_options_t")
}

// setOptions is the body of every options setter.
func setOptions(fn string, o *C.sandlock_spawn_options_t, f func(*spawnOptions) error) C.int {
	return call(fn, func() error {
		h, err := optionsArg(o, "o")
		if err != nil {
			return err
		}
		return h.update(f)
	})
}

//export capi_spawn_options_new
func capi_spawn_options_new(out **C.sandlock_spawn_options_t) C.int {
	return call("sandlock_spawn_options_new", func() error {
		if out == nil {
			return errArg("out is NULL")
		}
		key, err := newHandle(&optionsHandle{})
		*out = (*C.sandlock_spawn_options_t)(key)
		return err
	})
}

//export capi_spawn_options_free
func capi_spawn_options_free(o *C.sandlock_spawn_options_t) {
	call("sandlock_spawn_options_free", func() error {
		_, _, err := release[*optionsHandle](unsafe.Pointer(o), "o", "sandlock_spawn_options_t")
		return err
	})
}

//export capi_spawn_options_set_stdio
func capi_spawn_options_set_stdio(o *C.sandlock_spawn_options_t, stream, mode, fd C.int) C.int {
	return setOptions("sandlock_spawn_options_set_stdio", o, func(so *spawnOptions) error {
		return so.setStdio(int64(stream), int64(mode), int64(fd))
	})
}

//export capi_spawn_options_set_timeout_ms
func capi_spawn_options_set_timeout_ms(o *C.sandlock_spawn_options_t, ms C.int64_t) C.int {
	return setOptions("sandlock_spawn_options_set_timeout_ms", o, func(so *spawnOptions) error {
		d, err := msDuration(int64(ms), "timeout_ms")
		if err != nil {
			return err
		}
		so.timeout = d
		return nil
	})
}

//export capi_spawn_options_set_name
func capi_spawn_options_set_name(o *C.sandlock_spawn_options_t, name *C.char) C.int {
	return setOptions("sandlock_spawn_options_set_name", o, func(so *spawnOptions) error {
		s, err := goString(name, "name")
		if err != nil {
			return err
		}
		so.name = s
		return nil
	})
}

//export capi_spawn_options_set_output_limit
func capi_spawn_options_set_output_limit(o *C.sandlock_spawn_options_t, bytes C.uint64_t) C.int {
	return setOptions("sandlock_spawn_options_set_output_limit", o, func(so *spawnOptions) error {
		if uint64(bytes) > math.MaxInt64 {
			return errArg("bytes %d is above INT64_MAX", uint64(bytes))
		}
		so.outputLimit = int(bytes)
		return nil
	})
}

//export capi_spawn_options_set_share_pgrp
func capi_spawn_options_set_share_pgrp(o *C.sandlock_spawn_options_t, on C.int) C.int {
	return setOptions("sandlock_spawn_options_set_share_pgrp", o, func(so *spawnOptions) error {
		b, err := checkBool(int64(on), "on")
		if err != nil {
			return err
		}
		so.sharePgrp = b
		return nil
	})
}
