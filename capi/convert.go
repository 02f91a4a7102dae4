package main

import (
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
)

// This file holds the argument checks that need no C types, so that the
// tests of package main (which cannot import "C") can reach them.

// checkUTF8 is the check every C string goes through after conversion.
func checkUTF8(s, name string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errArg("%s is not valid UTF-8: %q", name, s)
	}
	return s, nil
}

// checkBool accepts only 0 and 1: any other value is more likely a
// misplaced argument than a deliberate "true".
func checkBool(v int64, name string) (bool, error) {
	switch v {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, errArg("%s must be 0 or 1, got %d", name, v)
}

// msDuration converts a non-negative millisecond count; time.Duration
// holds up to about 292 years.
func msDuration(ms int64, name string) (time.Duration, error) {
	if ms < 0 {
		return 0, errArg("%s must not be negative, got %d", name, ms)
	}
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return 0, errArg("%s %d is too large (at most %d)", name, ms, math.MaxInt64/int64(time.Millisecond))
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// addPorts returns the sorted, duplicate-free list (the form
// policy.Policy.Validate requires) of ports plus first..last. It is linear,
// so that adding the whole range 0-65535 is cheap.
func addPorts(ports []uint16, first, last uint16) ([]uint16, error) {
	if first > last {
		return ports, errArg("range %d-%d ends before it starts", first, last)
	}
	lo, _ := slices.BinarySearch(ports, first)
	hi := lo
	for hi < len(ports) && ports[hi] <= last {
		hi++
	}
	out := make([]uint16, 0, len(ports)-(hi-lo)+int(last-first)+1)
	out = append(out, ports[:lo]...)
	for p := uint32(first); p <= uint32(last); p++ {
		out = append(out, uint16(p))
	}
	return append(out, ports[hi:]...), nil
}

// fsIsolationOf and branchActionOf map the header's enums to the policy's.
func fsIsolationOf(v int64) (policy.FsIsolation, error) {
	switch v {
	case fsIsolationNone:
		return policy.FsIsolationNone, nil
	case fsIsolationOverlayFS:
		return policy.FsIsolationOverlayFS, nil
	case fsIsolationBranchFS:
		return policy.FsIsolationBranchFS, nil
	}
	return "", errArg("isolation %d is not a SANDLOCK_FS_ISOLATION_* value", v)
}

func branchActionOf(v int64) (policy.BranchAction, error) {
	switch v {
	case branchCommit:
		return policy.ActionCommit, nil
	case branchAbort:
		return policy.ActionAbort, nil
	case branchKeep:
		return policy.ActionKeep, nil
	}
	return "", errArg("action %d is not a SANDLOCK_BRANCH_* value", v)
}

// checkFD reports whether fd is an open descriptor of this process.
func checkFD(fd int64, name string) error {
	if fd < 0 || fd > math.MaxInt32 {
		return errArg("%s %d is not a file descriptor", name, fd)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return errArg("%s %d is not open: %v", name, fd, err)
	}
	return nil
}
