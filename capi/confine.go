package main

/*
#include "sandlock.h"
*/
import "C"

import (
	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/sandbox"
)

//export capi_confine
func capi_confine(p *C.sandlock_policy_t) C.int {
	return call("sandlock_confine", func() error {
		h, err := policyArg(p, "policy")
		if err != nil {
			return err
		}
		return sandbox.Confine(h.snapshot())
	})
}

//export capi_landlock_abi_version
func capi_landlock_abi_version() C.int {
	var abi int
	rc := call("sandlock_landlock_abi_version", func() error {
		var err error
		abi, err = landlock.ABIVersion()
		return err
	})
	if rc != C.SANDLOCK_OK {
		return rc
	}
	return C.int(abi)
}
