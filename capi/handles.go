package main

import (
	"sync/atomic"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// Handles given to C are keys made by mattn/go-pointer: a real malloc(1)
// address mapped to the Go object, never a Go pointer. Only this file calls
// go-pointer.
//
// Every handle type embeds handleBase, whose flag makes _free idempotent
// even when two threads free the same handle at once (the header calls that
// undefined behaviour; here it is merely harmless): only the caller that
// flips the flag releases the key.

type handleBase struct{ freed atomic.Bool }

func (b *handleBase) base() *handleBase { return b }

type handle interface{ base() *handleBase }

// newHandle stores v and returns its key. go-pointer panics when its
// malloc fails; that is SANDLOCK_ENOMEM, not a bug.
func newHandle(v handle) (key unsafe.Pointer, err error) {
	defer func() {
		if r := recover(); r != nil {
			key, err = nil, errCode(codeENOMEM, "out of memory for a handle: %v", r)
		}
	}()
	return pointer.Save(v), nil
}

// lookup returns the object behind key p, type-checked. name is the
// argument's name and typ its C type, for messages. A NULL, unknown,
// freed or wrong-type key is SANDLOCK_EINVAL.
func lookup[T handle](p unsafe.Pointer, name, typ string) (T, error) {
	var zero T
	if p == nil {
		return zero, errArg("%s is NULL", name)
	}
	v, ok := pointer.Restore(p).(T)
	if !ok {
		return zero, errArg("%s is not a valid %s (freed, or a handle of another type)", name, typ)
	}
	if v.base().freed.Load() {
		return zero, errArg("%s is a %s that is being freed", name, typ)
	}
	return v, nil
}

// release looks p up like lookup and, if this caller is the first to free
// it, forgets the key and returns the object for its owner to tear down.
// A NULL p is (zero, false, nil): freeing NULL is a no-op.
func release[T handle](p unsafe.Pointer, name, typ string) (T, bool, error) {
	var zero T
	if p == nil {
		return zero, false, nil
	}
	v, err := lookup[T](p, name, typ)
	if err != nil {
		return zero, false, err
	}
	if !v.base().freed.CompareAndSwap(false, true) {
		return zero, false, errArg("%s is a %s that is being freed", name, typ)
	}
	pointer.Unref(p)
	return v, true, nil
}
