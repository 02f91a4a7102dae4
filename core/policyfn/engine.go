package policyfn

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sandlock/sandlock/core/procindex"
)

// DefaultTimeout is how long a held system call waits for its verdict
// before it is denied.
const DefaultTimeout = 5 * time.Second

// Callback is a policy callback. Func is the Go form; the C ABI provides
// its own (its callbacks run on dedicated locked OS threads).
type Callback interface {
	// NewBackend starts what runs the callback for one sandbox.
	NewBackend(e *Engine) (Backend, error)
}

// Backend runs the callback of one sandbox.
type Backend interface {
	// Post queues a non-held event without blocking; false when it cannot
	// take it (closed, or the queue is full). The backend owns ev.
	Post(ev *Event) bool
	// Begin queues a held event; the Pending waits for its verdict.
	// false when it cannot take it (closed, or the queue is full).
	Begin(ev *Event) (Pending, bool)
	// Close takes no more events; waiting Pendings return Deny. It does
	// not wait for a callback that is running.
	Close()
}

// Pending is a held event waiting for its verdict.
type Pending interface {
	// Wait waits for the verdict. Whenever a slice of waiting passes
	// without one it asks w for the next slice (and may add a thread, so
	// that a callback that blocks delays only its own call); when w says
	// to stop it returns Deny with ok true. If w yielded (Yielded), the
	// event stays queued and Wait may be called again, on any goroutine;
	// otherwise the event is abandoned. ok is false when the callback
	// failed (a value outside the verdict set, a panic): err says how.
	Wait(w *Wait) (v Verdict, ok bool, err error)
}

// Wait paces a backend's wait for one verdict.
type Wait struct {
	e         *Engine
	valid     func() bool
	deadline  time.Time
	yieldAt   time.Time // zero: never yield
	lastValid time.Time
	slices    int
	reason    string
}

// Yielded reports whether the last Next returned false only because the
// caller asked to stop waiting early (the event stays queued).
func (w *Wait) Yielded() bool { return w.reason == "yield" }

// Next returns how long to wait before asking again, or false when the
// wait must end: the deadline passed, the system call is no longer
// pending, the engine closed, or the caller's yield time came.
func (w *Wait) Next() (time.Duration, bool) {
	now := time.Now()
	switch {
	case w.e.closed.Load():
		w.reason = "closed"
		return 0, false
	case !w.yieldAt.IsZero() && !now.Before(w.yieldAt):
		w.reason = "yield"
		return 0, false
	case !now.Before(w.deadline):
		w.reason = "timeout"
		return 0, false
	case w.valid != nil && now.Sub(w.lastValid) >= validEvery:
		w.lastValid = now
		if !w.valid() {
			w.reason = "gone"
			return 0, false
		}
	}
	d := stallEvery
	if w.slices == 0 {
		d = stallAfter
	}
	w.slices++
	if left := w.deadline.Sub(now); left < d {
		d = left
	}
	if !w.yieldAt.IsZero() {
		if left := w.yieldAt.Sub(now); left < d {
			d = left
		}
	}
	return d, true
}

// Closing is closed when the engine closes; a backend's wait selects on
// it.
func (w *Wait) Closing() <-chan struct{} { return w.e.closing }

// Stats counts what the engine did.
type Stats struct {
	Events   uint64 // events given to the callback
	Held     uint64 // of which held for a verdict
	Allowed  uint64 // held events allowed
	Audited  uint64 // held events allowed with Audit
	Denied   uint64 // held events denied (verdict, failure or timeout)
	Errors   uint64 // callback failures (bad verdict, panic, exception)
	Timeouts uint64 // verdicts that did not come in time
	Dropped  uint64 // non-held events dropped because the queue was full
	Freezes  uint64 // execs for which other tasks were frozen
	// LastError describes the last callback failure or timeout.
	LastError string
}

type counters struct {
	events, held, allowed, audited, denied, errors, timeouts, dropped, freezes atomic.Uint64
}

// Config sets up an engine.
type Config struct {
	Callback Callback
	// Timeout bounds the wait for a verdict; 0 is DefaultTimeout.
	Timeout time.Duration
	// Index is the sandbox's process index.
	Index *procindex.Index
	// MainPid is the sandbox's first process (reaped by the sandbox, never
	// by the freezer).
	MainPid int
	// Limits applies Context changes; nil disables them.
	Limits Limits
	// MaxProcesses and MaxMemory are the ceilings fixed at start (0: the
	// resource is not limited, and cannot be restricted).
	MaxProcesses uint64
	MaxMemory    uint64
	// NetCeiling lists the addresses the policy allows; nil when it does
	// not restrict destinations.
	NetCeiling []netip.Addr
}

// Engine delivers the events of one sandbox to its callback and applies
// the verdicts.
type Engine struct {
	backend  Backend
	timeout  time.Duration
	index    *procindex.Index
	limits   Limits
	net      netState
	procs    limitState
	mem      limitState
	freezer  *freezer
	gated    map[int]bool // syscalls whose handler asks for the verdict itself
	inflight sync.Map     // tid -> *inflight, gated calls in progress

	closed  atomic.Bool
	closing chan struct{}
	stats   counters

	errMu   sync.Mutex
	lastErr string

	auditMu  sync.Mutex
	audit    []Event
	auditPos int
}

// auditKeep is how many audited events the engine keeps.
const auditKeep = 1024

// New creates the engine of one sandbox and starts its backend.
func New(cfg Config) (*Engine, error) {
	if cfg.Callback == nil {
		return nil, errors.New("policyfn: no callback")
	}
	e := &Engine{
		timeout: cfg.Timeout,
		index:   cfg.Index,
		limits:  cfg.Limits,
		procs:   limitState{name: "max_processes", procs: true, ceiling: cfg.MaxProcesses},
		mem:     limitState{name: "max_memory", ceiling: cfg.MaxMemory},
		closing: make(chan struct{}),
		gated:   map[int]bool{},
	}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	if cfg.NetCeiling != nil {
		e.net.ceiling = toSet(cfg.NetCeiling)
	}
	e.freezer = newFreezer(cfg.Index, cfg.MainPid)
	b, err := cfg.Callback.NewBackend(e)
	if err != nil {
		return nil, err
	}
	e.backend = b
	return e, nil
}

// Close ends the engine: pending held events are denied, the backend and
// the freezer stop. The callback is not called again.
func (e *Engine) Close() {
	if !e.closed.CompareAndSwap(false, true) {
		return
	}
	close(e.closing)
	e.backend.Close()
	e.freezer.close()
}

// Closed reports whether the engine was closed (the sandbox ended).
func (e *Engine) Closed() bool { return e.closed.Load() }

// Stats returns a snapshot of the counters.
func (e *Engine) Stats() Stats {
	e.errMu.Lock()
	last := e.lastErr
	e.errMu.Unlock()
	return Stats{
		Events: e.stats.events.Load(), Held: e.stats.held.Load(), Allowed: e.stats.allowed.Load(),
		Audited: e.stats.audited.Load(), Denied: e.stats.denied.Load(), Errors: e.stats.errors.Load(),
		Timeouts: e.stats.timeouts.Load(), Dropped: e.stats.dropped.Load(), Freezes: e.stats.freezes.Load(),
		LastError: last,
	}
}

// AuditLog returns the last audited events, oldest first.
func (e *Engine) AuditLog() []Event {
	e.auditMu.Lock()
	defer e.auditMu.Unlock()
	if len(e.audit) < auditKeep {
		return append([]Event(nil), e.audit...)
	}
	out := make([]Event, 0, auditKeep)
	out = append(out, e.audit[e.auditPos:]...)
	return append(out, e.audit[:e.auditPos]...)
}

func (e *Engine) record(ev *Event) {
	e.auditMu.Lock()
	defer e.auditMu.Unlock()
	if len(e.audit) < auditKeep {
		e.audit = append(e.audit, *ev)
		return
	}
	e.audit[e.auditPos] = *ev
	e.auditPos = (e.auditPos + 1) % auditKeep
}

func (e *Engine) setErr(err error) {
	e.errMu.Lock()
	e.lastErr = err.Error()
	e.errMu.Unlock()
}

// NetAllowed reports whether process pid may reach address a under the
// network restrictions the callback made (RestrictNetwork,
// RestrictPidNetwork) and the ceiling. Handlers that connect or send on
// behalf of the child ask it with the address they act on.
func (e *Engine) NetAllowed(pid int, a netip.Addr) bool { return e.net.allowed(pid, a) }

// Post gives a non-held event to the callback without waiting. When the
// queue is full the event is dropped and counted.
func (e *Engine) Post(ev *Event) {
	if e.closed.Load() {
		return
	}
	ev.Held = false
	if !e.backend.Post(ev) {
		e.stats.dropped.Add(1)
		return
	}
	e.stats.events.Add(1)
}

// stallAfter is how long a held event waits before the backend may add a
// thread; stallEvery repeats it; validEvery paces the check that the call
// is still pending.
const (
	stallAfter = 3 * time.Millisecond
	stallEvery = 20 * time.Millisecond
	validEvery = 100 * time.Millisecond
)

// Decide gives a held event to the callback and waits for the verdict.
// valid reports whether the system call is still pending; once it is not
// (the process was killed) the wait ends with Deny. Fails closed: a
// timeout, a closed engine or a callback failure is Deny.
func (e *Engine) Decide(ev *Event, valid func() bool) Verdict {
	v, _ := e.DecideWithin(ev, valid, 0)
	return v
}

// DecideWithin is Decide for a caller that may not block for long (the
// supervisor's receiving goroutine): it waits at most within (0: as long as
// Decide). If the verdict has not come by then it returns a function that
// goes on waiting and returns it, to be called once, on another goroutine.
func (e *Engine) DecideWithin(ev *Event, valid func() bool, within time.Duration) (Verdict, func() Verdict) {
	ev.Held = true
	if e.closed.Load() {
		e.stats.denied.Add(1)
		return Deny, nil
	}
	now := time.Now()
	w := &Wait{e: e, valid: valid, deadline: now.Add(e.timeout), lastValid: now}
	if within > 0 {
		w.yieldAt = now.Add(within)
	}
	e.stats.events.Add(1)
	e.stats.held.Add(1)
	p, queued := e.backend.Begin(ev)
	if !queued {
		e.stats.errors.Add(1)
		e.stats.denied.Add(1)
		e.setErr(fmt.Errorf("%s: the callback queue is full or closed", ev.Syscall))
		return Deny, nil
	}
	v, ok, err := p.Wait(w)
	if w.Yielded() {
		return Deny, func() Verdict {
			w.yieldAt, w.reason = time.Time{}, ""
			v, ok, err := p.Wait(w)
			return e.settle(ev, w, v, ok, err)
		}
	}
	return e.settle(ev, w, v, ok, err), nil
}

// settle counts a finished wait and turns failures into Deny.
func (e *Engine) settle(ev *Event, w *Wait, v Verdict, ok bool, err error) Verdict {
	switch {
	case !ok:
		v = Deny
		e.stats.errors.Add(1)
		if err == nil {
			err = errors.New("the callback returned a value outside the verdict set")
		}
		e.setErr(fmt.Errorf("%s: %w", ev.Syscall, err))
	case w.reason == "timeout":
		v = Deny
		e.stats.timeouts.Add(1)
		e.setErr(fmt.Errorf("%s: no verdict within %v", ev.Syscall, e.timeout))
	case w.reason != "":
		v = Deny
	}
	switch _, deny := v.Denies(); {
	case deny:
		e.stats.denied.Add(1)
	case v.IsAudit():
		e.stats.audited.Add(1)
		e.record(ev)
	default:
		e.stats.allowed.Add(1)
	}
	return v
}

// Func is a policy callback written in Go. It runs on one goroutine per
// sandbox (a second one joins only while the first is blocked inside the
// callback, so a slow answer holds up only its own system call); ctx is
// valid during the call only. A panic denies the event.
type Func func(ev *Event, ctx *Context) Verdict

// NewBackend implements Callback.
func (f Func) NewBackend(e *Engine) (Backend, error) {
	b := &goBackend{fn: f, e: e, q: make(chan *goReq, queueCap), quit: make(chan struct{})}
	b.mu.Lock()
	b.addLaneLocked()
	b.mu.Unlock()
	return b, nil
}

// queueCap bounds the events waiting for the callback.
const queueCap = 4096

// maxLanes bounds the goroutines or threads running one sandbox's callback.
const maxLanes = 4

type goBackend struct {
	fn     Func
	e      *Engine
	q      chan *goReq
	quit   chan struct{}
	mu     sync.Mutex
	lanes  int
	busy   int
	closed bool
}

type goReq struct {
	ev   *Event
	done chan goResult // nil for non-held events
	b    *goBackend
}

type goResult struct {
	v   Verdict
	err error
}

func (b *goBackend) submit(r *goReq) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	select {
	case b.q <- r:
		return true
	default:
		return false
	}
}

func (b *goBackend) Post(ev *Event) bool { return b.submit(&goReq{ev: ev}) }

func (b *goBackend) Begin(ev *Event) (Pending, bool) {
	r := &goReq{ev: ev, done: make(chan goResult, 1), b: b}
	return r, b.submit(r)
}

// Wait implements Pending. An abandoned request stays in the queue; its
// verdict is dropped.
func (r *goReq) Wait(w *Wait) (Verdict, bool, error) {
	select {
	case res := <-r.done:
		return res.v, res.err == nil, res.err
	default:
	}
	d, ok := w.Next()
	if !ok {
		return Deny, true, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case res := <-r.done:
			return res.v, res.err == nil, res.err
		case <-w.Closing():
			return Deny, true, nil
		case <-t.C:
			r.b.stalled()
			if d, ok = w.Next(); !ok {
				return Deny, true, nil
			}
			t.Reset(d)
		}
	}
}

// stalled adds a lane when every lane is inside the callback.
func (b *goBackend) stalled() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed && b.busy >= b.lanes && b.lanes < maxLanes {
		b.addLaneLocked()
	}
}

func (b *goBackend) addLaneLocked() {
	b.lanes++
	go b.lane()
}

func (b *goBackend) lane() {
	for {
		select {
		case <-b.quit:
			return
		case r := <-b.q:
			b.mu.Lock()
			b.busy++
			b.mu.Unlock()
			v, err := b.call(r.ev)
			b.mu.Lock()
			b.busy--
			b.mu.Unlock()
			if r.done != nil {
				r.done <- goResult{v, err}
			}
		}
	}
}

func (b *goBackend) call(ev *Event) (v Verdict, err error) {
	ctx := &Context{e: b.e}
	defer func() {
		ctx.expire()
		if p := recover(); p != nil {
			v, err = Deny, fmt.Errorf("callback panic: %v", p)
		}
	}()
	return b.fn(ev, ctx), nil
}

func (b *goBackend) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	close(b.quit)
	b.mu.Unlock()
	for {
		select {
		case r := <-b.q:
			if r.done != nil {
				r.done <- goResult{v: Deny}
			}
		default:
			return
		}
	}
}
