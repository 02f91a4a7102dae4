package main

/*
#include "sandlock.h"
*/
import "C"

import "sync"

// The library's version. include/sandlock.h is the source of truth; a test
// checks that these constants equal its SANDLOCK_VERSION_* macros.
const (
	versionMajor  = 0
	versionMinor  = 1
	versionPatch  = 0
	versionString = "0.1.0"
)

// versionNumber is MAJOR * 10000 + MINOR * 100 + PATCH, as in the header.
const versionNumber = versionMajor*10000 + versionMinor*100 + versionPatch

// cVersion is versionString in C memory, made once and never freed: the
// header promises a static string.
var cVersion = sync.OnceValue(func() *C.char {
	s := cstring(versionString)
	if s == nil {
		panic("out of memory")
	}
	return s
})

//export capi_version_number
func capi_version_number() C.uint { return versionNumber }

//export capi_version_string
func capi_version_string() (s *C.char) {
	// The header says this never fails; only an out-of-memory panic at
	// the first call could make it, and "" is then the honest answer.
	defer func() {
		if recover() != nil {
			s = C.CString("")
		}
	}()
	return cVersion()
}
