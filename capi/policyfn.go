package main

/*
#include <stdlib.h>
#include "sandlock.h"
#include "capi_internal.h"
#include "policyfn.h"
*/
import "C"

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policyfn"
)

// Policy callbacks through the C ABI.
//
// A registration (fn, user_data, user_data_free) is shared, with a
// reference count, by the policies it was set on (clones included), the
// sandboxes started from them, and the callback threads serving those
// sandboxes; user_data_free runs when the last of them lets go.
//
// Each sandbox has a queue in C memory (policyfn.c). Its callback runs on
// a lane: a goroutine locked to its OS thread for good, that enters C and
// waits on the queue. One lane serves a sandbox; while every lane of the
// sandbox is inside the callback and a held call has waited a few
// milliseconds, another joins (up to policyfn's limit of four), so that a
// callback that blocks delays only the call it is deciding. Lanes whose
// sandbox ended wait in a small pool for the next sandbox, so that a host
// that runs many sandboxes does not create a thread per sandbox (and a
// Python host keeps the thread state it made for a lane).

// cPolicyFn is one sandlock_set_policy_fn registration.
type cPolicyFn struct {
	fn   C.sandlock_policy_fn
	ud   unsafe.Pointer
	free C.sandlock_free_fn
	refs atomic.Int64
}

func newCPolicyFn(fn C.sandlock_policy_fn, ud unsafe.Pointer, free C.sandlock_free_fn) *cPolicyFn {
	r := &cPolicyFn{fn: fn, ud: ud, free: free}
	r.refs.Store(1)
	return r
}

// ref adds a reference and returns r; nil stays nil.
func (r *cPolicyFn) ref() *cPolicyFn {
	if r != nil {
		r.refs.Add(1)
	}
	return r
}

// unref drops a reference; the last one calls user_data_free.
func (r *cPolicyFn) unref() {
	if r == nil {
		return
	}
	if r.refs.Add(-1) == 0 && r.free != nil {
		C.sl_pfn_call_free(r.free, r.ud)
	}
}

// NewBackend implements policyfn.Callback: a queue and its first lane.
func (r *cPolicyFn) NewBackend(e *policyfn.Engine) (policyfn.Backend, error) {
	q := C.sl_pfn_queue_new(r.fn, r.ud, C.uint64_t(pfnQueueCap))
	if q == nil {
		return nil, errors.New("out of memory for the callback queue")
	}
	b := &cBackend{reg: r.ref(), q: q, engine: e, attached: map[*lane]bool{}}
	b.refs.Store(1)
	b.mu.Lock()
	b.addLaneLocked()
	b.mu.Unlock()
	return b, nil
}

// pfnQueueCap bounds the events waiting for a sandbox's callback; past it
// non-held events are dropped and held ones denied.
const pfnQueueCap = 4096

// pfnMaxLanes bounds the threads serving one sandbox.
const pfnMaxLanes = 4

// cBackend is the callback queue of one sandbox.
type cBackend struct {
	reg    *cPolicyFn
	q      *C.struct_sl_pfn_queue
	engine *policyfn.Engine
	// refs counts the backend itself and each lane attached to q; the
	// last release frees q and drops reg.
	refs     atomic.Int64
	mu       sync.Mutex
	lanes    int
	attached map[*lane]bool // lanes inside serve
	closed   bool
}

func (b *cBackend) release() {
	if b.refs.Add(-1) == 0 {
		C.sl_pfn_queue_free(b.q)
		b.reg.unref()
	}
}

func (b *cBackend) addLaneLocked() {
	b.lanes++
	b.refs.Add(1)
	startLane(b)
}

// Post implements policyfn.Backend: the event is copied into C memory and
// queued; the thread that runs the callback frees it.
func (b *cBackend) Post(ev *policyfn.Event) bool {
	cr := buildRequest(ev)
	if cr == nil {
		return false
	}
	if C.sl_pfn_post(b.q, cr) != 0 {
		C.free(unsafe.Pointer(cr))
		return false
	}
	return true
}

// Begin implements policyfn.Backend: the event is copied into C memory and
// queued.
func (b *cBackend) Begin(ev *policyfn.Event) (policyfn.Pending, bool) {
	cr := buildRequest(ev)
	if cr == nil {
		return nil, false
	}
	if C.sl_pfn_push_held(b.q, cr) != 0 {
		C.free(unsafe.Pointer(cr))
		return nil, false
	}
	return &cPending{b: b, cr: cr}, true
}

// cPending is a queued held request. The wait is a futex wait in C that
// the callback thread ends with one wake when it stores the verdict; it is
// cut in slices so that the engine can add a thread and check the
// deadline. Once the wait ends, cr has been freed (or handed to the queue).
type cPending struct {
	b  *cBackend
	cr *C.struct_sl_pfn_req
}

// Wait implements policyfn.Pending.
func (p *cPending) Wait(w *policyfn.Wait) (policyfn.Verdict, bool, error) {
	var code C.int32_t
	for {
		d, ok := w.Next()
		var st C.int
		if ok {
			st = C.sl_pfn_wait(p.cr, C.int64_t(d.Nanoseconds()), &code)
		} else if w.Yielded() {
			return policyfn.Deny, true, nil // still queued; Wait again later
		} else {
			st = C.sl_pfn_abandon(p.cr, &code)
		}
		switch st {
		case C.SL_PFN_DONE:
			v, good := policyfn.FromCode(int32(code))
			if !good {
				return v, false, errBadVerdict(int32(code))
			}
			return v, true, nil
		case C.SL_PFN_CANCELLED, C.SL_PFN_ABANDONED:
			return policyfn.Deny, true, nil
		}
		p.b.stalled()
	}
}

// stalled adds a lane when none is waiting for an event.
func (b *cBackend) stalled() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.lanes >= pfnMaxLanes || C.sl_pfn_idle(b.q) > 0 {
		return
	}
	b.addLaneLocked()
}

// Close implements policyfn.Backend.
func (b *cBackend) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.mu.Unlock()
	C.sl_pfn_close(b.q)
	b.waitIdleLanes()
	b.release()
}

// drainTimeout bounds how long the end of a sandbox waits for its queued
// observed events to reach the callback; the same bound as a held verdict.
const drainTimeout = 5 * time.Second

// waitIdleLanes waits until the observed events still queued have been
// delivered and every lane that is not inside the callback has left the
// closed queue, so that user_data is released when the sandbox is and a
// run's last events reach the callback before the run is reported over.
// A callback that is still running is not waited for, and the whole wait
// is bounded: a slow callback cannot hold the sandbox's end for long.
func (b *cBackend) waitIdleLanes() {
	deadline := time.Now().Add(drainTimeout)
	for {
		b.mu.Lock()
		done := C.sl_pfn_len(b.q) == 0
		for l := range b.attached {
			if done && C.sl_pfn_in_call(l.c) == 0 {
				done = false
			}
		}
		b.mu.Unlock()
		if done || time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

type errBadVerdict int32

func (e errBadVerdict) Error() string {
	return "the C callback returned " + itoa(int(e)) + ", not a SANDLOCK_VERDICT_* value or an errno"
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b [24]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// --- Lanes

// lane is a callback thread: a goroutine locked to its OS thread.
type lane struct {
	assign chan *cBackend
	c      *C.struct_sl_pfn_lane
	tid    int
}

// maxIdleLanes is how many lanes wait for a next sandbox; more exit.
const maxIdleLanes = 4

var lanePool struct {
	sync.Mutex
	idle []*lane
}

// startLane gives b a lane from the pool or a new one.
func startLane(b *cBackend) {
	lanePool.Lock()
	if n := len(lanePool.idle); n > 0 {
		l := lanePool.idle[n-1]
		lanePool.idle = lanePool.idle[:n-1]
		lanePool.Unlock()
		l.assign <- b
		return
	}
	lanePool.Unlock()
	go laneMain(b)
}

func laneMain(b *cBackend) {
	runtime.LockOSThread()
	// Never unlocked: the thread runs nothing but callbacks, and exits with
	// the goroutine when the pool is full. The process's main thread cannot
	// exit that way (the runtime parks it instead), so a lane that landed
	// there stays in the pool for good. (Re-spawning until the goroutine
	// lands elsewhere looped forever with GOMAXPROCS=1, where the new
	// goroutine always runs next on the same thread.)
	onMain := unix.Gettid() == unix.Getpid()
	c := (*C.struct_sl_pfn_lane)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_sl_pfn_lane{}))))
	if c == nil {
		// No memory for the lane: leave the sandbox to the others (or,
		// with none, its held calls to the timeout, which denies).
		b.laneGone(nil)
		return
	}
	l := &lane{assign: make(chan *cBackend), c: c, tid: unix.Gettid()}
	for {
		l.serve(b)
		lanePool.Lock()
		if len(lanePool.idle) >= maxIdleLanes && !onMain {
			lanePool.Unlock()
			C.free(unsafe.Pointer(l.c))
			return // the locked thread exits with the goroutine
		}
		lanePool.idle = append(lanePool.idle, l)
		lanePool.Unlock()
		b = <-l.assign
	}
}

// serve runs b's callbacks on this thread until b's queue closes.
func (l *lane) serve(b *cBackend) {
	b.mu.Lock()
	b.attached[l] = true
	b.mu.Unlock()
	defer b.laneGone(l)
	ch := &ctxHandle{lane: l.c, tid: l.tid, ctx: b.engine.NewContext()}
	key, err := newHandle(ch)
	if err != nil {
		return
	}
	defer release[*ctxHandle](key, "ctx", "sandlock_ctx_t")
	C.sl_pfn_serve(b.q, (*C.sandlock_ctx_t)(key), l.c)
}

func (b *cBackend) laneGone(l *lane) {
	b.mu.Lock()
	b.lanes--
	delete(b.attached, l)
	b.mu.Unlock()
	b.release()
}

// --- Events in C memory

// syscallNames caches the C copy of each syscall name (a few hundred at
// most, kept for the life of the process).
var syscallNames sync.Map // string -> *C.char

func cSyscallName(name string) *C.char {
	if v, ok := syscallNames.Load(name); ok {
		return v.(*C.char)
	}
	cs := cstring(name)
	if cs == nil {
		return nil
	}
	if v, loaded := syscallNames.LoadOrStore(name, cs); loaded {
		cfree(unsafe.Pointer(cs))
		return v.(*C.char)
	}
	return cs
}

// buildRequest copies ev into one C allocation: the request, then the
// argv pointer array, then the host and argv strings. nil when out of
// memory.
func buildRequest(ev *policyfn.Event) *C.struct_sl_pfn_req {
	name := cSyscallName(ev.Syscall)
	if name == nil {
		return nil
	}
	head := unsafe.Sizeof(C.struct_sl_pfn_req{})
	ptrs := uintptr(len(ev.Argv)) * unsafe.Sizeof(uintptr(0))
	size := head + ptrs
	if ev.Host != "" {
		size += uintptr(len(ev.Host)) + 1
	}
	for _, a := range ev.Argv {
		size += uintptr(len(a)) + 1
	}
	mem := C.calloc(1, C.size_t(size))
	if mem == nil {
		return nil
	}
	cr := (*C.struct_sl_pfn_req)(mem)
	buf := unsafe.Slice((*byte)(mem), size)
	off := head + ptrs
	put := func(s string) *C.char {
		p := (*C.char)(unsafe.Pointer(&buf[off]))
		copy(buf[off:], s)
		buf[off+uintptr(len(s))] = 0
		off += uintptr(len(s)) + 1
		return p
	}
	e := &cr.ev
	e.magic = C.SL_PFN_EVENT_MAGIC
	e.category = C.int32_t(ev.Category)
	e.syscall = name
	if ev.Host != "" {
		e.host = put(ev.Host)
	}
	if len(ev.Argv) > 0 {
		arr := unsafe.Slice((**C.char)(unsafe.Pointer(&buf[head])), len(ev.Argv))
		for i, a := range ev.Argv {
			arr[i] = put(a)
		}
		e.argv = (**C.char)(unsafe.Pointer(&buf[head]))
	}
	e.argc = C.uint64_t(len(ev.Argv))
	e.size = C.uint64_t(ev.Size)
	e.pid = C.int32_t(ev.Pid)
	e.ppid = C.int32_t(ev.PPid)
	e.port = C.int32_t(ev.Port)
	if ev.Denied {
		e.denied = 1
	}
	if ev.Held {
		e.held = 1
	}
	return cr
}

// --- Registration

// setPolicyFn records a registration on a policy, replacing (and
// releasing) an earlier one.
func (h *policyHandle) setPolicyFn(r *cPolicyFn) {
	h.mu.Lock()
	old := h.pfn
	h.pfn = r
	h.mu.Unlock()
	old.unref()
}

// policyFn returns a new reference to the policy's registration, or nil.
func (h *policyHandle) policyFn() *cPolicyFn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.pfn.ref()
}

// --- Context

// ctxHandle is a sandlock_ctx_t: valid on its lane's thread while the
// callback runs there.
type ctxHandle struct {
	handleBase
	lane *C.struct_sl_pfn_lane
	tid  int
	ctx  *policyfn.Context
}

// ctxCall is the body of every sandlock_ctx_* export.
func ctxCall(fn string, ctx *C.sandlock_ctx_t, f func(*policyfn.Context) error) C.int {
	return call(fn, func() error {
		h, err := lookup[*ctxHandle](unsafe.Pointer(ctx), "ctx", "sandlock_ctx_t")
		if err != nil {
			return err
		}
		if C.sl_pfn_in_call(h.lane) == 0 || unix.Gettid() != h.tid {
			return errCode(codeESTATE, "ctx is valid only inside the callback it was given to, on that thread")
		}
		return ctxError(f(h.ctx))
	})
}

// ctxError maps the Context's errors to codes.
func ctxError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, policyfn.ErrInvalid):
		return errArg("%v", err)
	case errors.Is(err, policyfn.ErrCeiling):
		return errCode(codeEPOLICY, "%v", err)
	case errors.Is(err, policyfn.ErrRestricted), errors.Is(err, policyfn.ErrExpired), errors.Is(err, policyfn.ErrUnsupported):
		return errCode(codeESTATE, "%v", err)
	}
	return err
}

// goIPs converts an array of n C strings; NULL with n == 0 is the empty
// list.
func goIPs(ips **C.char, n C.size_t) ([]string, error) {
	if n == 0 {
		return []string{}, nil
	}
	if ips == nil {
		return nil, errArg("ips is NULL but n is %d", uint64(n))
	}
	if uint64(n) > maxArgs {
		return nil, errArg("n %d is too large", uint64(n))
	}
	arr := unsafe.Slice(ips, int(n))
	out := make([]string, 0, len(arr))
	for i, p := range arr {
		if p == nil {
			return nil, errArg("ips[%d] is NULL", i)
		}
		s, err := checkUTF8(C.GoString(p), "ips["+itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

//export capi_ctx_restrict_network
func capi_ctx_restrict_network(ctx *C.sandlock_ctx_t, ips **C.char, n C.size_t) C.int {
	return ctxCall("sandlock_ctx_restrict_network", ctx, func(c *policyfn.Context) error {
		l, err := goIPs(ips, n)
		if err != nil {
			return err
		}
		return c.RestrictNetwork(l...)
	})
}

//export capi_ctx_grant_network
func capi_ctx_grant_network(ctx *C.sandlock_ctx_t, ips **C.char, n C.size_t) C.int {
	return ctxCall("sandlock_ctx_grant_network", ctx, func(c *policyfn.Context) error {
		l, err := goIPs(ips, n)
		if err != nil {
			return err
		}
		return c.GrantNetwork(l...)
	})
}

//export capi_ctx_restrict_pid_network
func capi_ctx_restrict_pid_network(ctx *C.sandlock_ctx_t, pid C.int, ips **C.char, n C.size_t) C.int {
	return ctxCall("sandlock_ctx_restrict_pid_network", ctx, func(c *policyfn.Context) error {
		if pid <= 0 {
			return errArg("pid must be positive, got %d", int(pid))
		}
		l, err := goIPs(ips, n)
		if err != nil {
			return err
		}
		return c.RestrictPidNetwork(int(pid), l...)
	})
}

//export capi_ctx_clear_pid_override
func capi_ctx_clear_pid_override(ctx *C.sandlock_ctx_t, pid C.int) C.int {
	return ctxCall("sandlock_ctx_clear_pid_override", ctx, func(c *policyfn.Context) error {
		if pid <= 0 {
			return errArg("pid must be positive, got %d", int(pid))
		}
		return c.ClearPidOverride(int(pid))
	})
}

//export capi_ctx_restrict_max_memory
func capi_ctx_restrict_max_memory(ctx *C.sandlock_ctx_t, bytes C.uint64_t) C.int {
	return ctxCall("sandlock_ctx_restrict_max_memory", ctx, func(c *policyfn.Context) error {
		return c.RestrictMaxMemory(uint64(bytes))
	})
}

//export capi_ctx_grant_max_memory
func capi_ctx_grant_max_memory(ctx *C.sandlock_ctx_t, bytes C.uint64_t) C.int {
	return ctxCall("sandlock_ctx_grant_max_memory", ctx, func(c *policyfn.Context) error {
		return c.GrantMaxMemory(uint64(bytes))
	})
}

//export capi_ctx_restrict_max_processes
func capi_ctx_restrict_max_processes(ctx *C.sandlock_ctx_t, n C.uint32_t) C.int {
	return ctxCall("sandlock_ctx_restrict_max_processes", ctx, func(c *policyfn.Context) error {
		if n == 0 || uint64(n) > 1<<31-1 {
			return errArg("n must be in 1..INT32_MAX, got %d", uint32(n))
		}
		return c.RestrictMaxProcesses(int(n))
	})
}

//export capi_ctx_grant_max_processes
func capi_ctx_grant_max_processes(ctx *C.sandlock_ctx_t, n C.uint32_t) C.int {
	return ctxCall("sandlock_ctx_grant_max_processes", ctx, func(c *policyfn.Context) error {
		if n == 0 || uint64(n) > 1<<31-1 {
			return errArg("n must be in 1..INT32_MAX, got %d", uint32(n))
		}
		return c.GrantMaxProcesses(int(n))
	})
}

//export capi_ctx_deny_path
func capi_ctx_deny_path(ctx *C.sandlock_ctx_t, path *C.char) C.int {
	return ctxCall("sandlock_ctx_deny_path", ctx, func(c *policyfn.Context) error {
		p, err := goString(path, "path")
		if err != nil {
			return err
		}
		return c.DenyPath(p)
	})
}

//export capi_ctx_allow_path
func capi_ctx_allow_path(ctx *C.sandlock_ctx_t, path *C.char) C.int {
	return ctxCall("sandlock_ctx_allow_path", ctx, func(c *policyfn.Context) error {
		p, err := goString(path, "path")
		if err != nil {
			return err
		}
		return c.AllowPath(p)
	})
}

// --- Test helpers (policyfn_test.go cannot use cgo)

// testCountingPolicyFn returns a registration of a C callback that counts
// its events in C memory and allows them, and a function that reads the
// count. free releases the counter.
func testCountingPolicyFn() (r *cPolicyFn, count func() uint64, free func()) {
	c := (*C.uint64_t)(C.calloc(1, 8))
	r = newCPolicyFn(C.sandlock_policy_fn(C.sl_pfn_test_count), unsafe.Pointer(c), nil)
	return r, func() uint64 { return uint64(atomic.LoadUint64((*uint64)(unsafe.Pointer(c)))) }, func() { C.free(unsafe.Pointer(c)) }
}
