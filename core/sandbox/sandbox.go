// Package sandbox is the engine's facade: it turns a policy into a
// Landlock ruleset, a seccomp program and a supervisor, starts the command
// confined by them, and reports how it ended.
//
// Go programs use it directly:
//
//	p := policy.Default()
//	p.FsReadable = []string{"/usr", "/lib", "/etc"}
//	res, err := sandbox.Run(p, []string{"ls", "/"}, sandbox.Options{})
//
// Many sandboxes may run at once from one process; a Sandbox's methods may
// be called from any goroutine.
package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/policyfn"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/spawn"
	"github.com/sandlock/sandlock/core/supervisor"
)

// Options are the per-run settings that are not part of the policy.
type Options struct {
	Stdin, Stdout, Stderr Stream
	// Timeout kills every process of the sandbox after this long; the
	// result's Reason is then Timeout. Zero means no timeout.
	Timeout time.Duration
	// Name identifies the sandbox (CLI list, hostname later).
	Name string
	// SharePgrp keeps the child in the caller's process group, for an
	// interactive CLI whose child must read the terminal. By default the
	// child leads its own group, which kill, pause and the timeout use.
	SharePgrp bool
	// OutputLimit caps each captured stream in bytes (0 = unlimited);
	// output past the cap is drained and dropped so the child never blocks.
	// Streams given as Writer or File are not capped: their destination
	// decides what to keep.
	OutputLimit int
	// PolicyFn, if set, sees the intercepted system calls and decides the
	// held ones (exec, connect, send, bind, open); see package policyfn.
	// A Go function is given as policyfn.Func(f).
	PolicyFn policyfn.Callback
	// PolicyFnTimeout bounds the wait for a verdict (0: 5 s); a verdict
	// that does not come in time denies the call.
	PolicyFnTimeout time.Duration
	// StartGate, if set, holds the command back until the channel is
	// closed: the child is confined and waits, so that the caller's own
	// preparations (a CLI's signal handlers) overlap the spawn and are
	// still done before the command runs. Spawn blocks meanwhile.
	StartGate <-chan struct{}
}

// Reason says how a sandbox ended.
type Reason int

// Reasons.
const (
	Exited   Reason = iota // the main process exited by itself
	Signaled               // killed by a signal we did not send
	Killed                 // Kill was called
	Timeout                // the timeout expired
	// MemoryLimit: the max_memory watchdog found the sandbox holding more
	// than its budget (growth no system call announced, such as stack
	// pages or a large bss mapped by execve) and killed it with SIGKILL.
	// Signal is SIGKILL. An allocation the budget refuses fails with
	// ENOMEM instead and kills nothing.
	MemoryLimit
)

func (r Reason) String() string {
	switch r {
	case Exited:
		return "exited"
	case Signaled:
		return "signaled"
	case Killed:
		return "killed"
	case Timeout:
		return "timeout"
	case MemoryLimit:
		return "memory_limit"
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// Result is how a sandbox ended.
type Result struct {
	// ExitCode is the exit status, or -1 when the process did not exit
	// normally.
	ExitCode int
	// Signal is the terminating signal, 0 if the process exited.
	Signal int
	Reason Reason
	Stdout []byte
	Stderr []byte
	// ExecError is set when the command could not be executed (the exit
	// code is then 127 and stderr carries a message).
	ExecError error
	// Degraded lists the protections the kernel lacked (AllowDegraded).
	Degraded []string
	Duration time.Duration
}

// Success reports whether the main process exited with status 0.
func (r *Result) Success() bool { return r.Reason == Exited && r.ExitCode == 0 }

// Error kinds, for errors.Is.
var (
	// ErrPolicy: the policy is invalid or names something that does not exist.
	ErrPolicy = errors.New("invalid policy")
	// ErrConfinement: the kernel refused a confinement step.
	ErrConfinement = errors.New("confinement failed")
	// ErrSpawn: the child could not be started.
	ErrSpawn = errors.New("spawn failed")
	// ErrState: the call does not fit the sandbox's state.
	ErrState = errors.New("wrong sandbox state")
)

type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string                { return e.err.Error() }
func (e *kindError) Unwrap() []error              { return []error{e.kind, e.err} }
func wrapKind(kind, err error) error              { return &kindError{kind, err} }
func errorf(kind error, f string, a ...any) error { return wrapKind(kind, fmt.Errorf(f, a...)) }

// Sandbox is a running (or finished) confined command.
type Sandbox struct {
	pid     int
	pidfd   int
	pgrp    bool
	sup     *supervisor.Supervisor
	index   *procindex.Index
	procs   procLimiter
	started time.Time
	name    string
	command string
	// virtual is the synthetic-file table features registered (buildCtx.Virtual).
	virtual map[string]func(s *Sandbox) ([]byte, error)
	// policyFn is the policy callback's part (feature_policyfn.go), nil
	// without one; paths takes its run-time path denials.
	policyFn *policyFnInstance
	paths    pathDenier

	// sigMu serializes the decisions to stop and continue the sandbox:
	// Pause, Resume and the max_cpu throttle, so that a paused sandbox
	// stays paused.
	sigMu sync.Mutex
	// onStart runs once the command has been executed (features that act
	// on the running command, such as the max_cpu throttle).
	onStart []func()
	// memory is the max_memory accounting, nil when it is off.
	memory memLimiter

	mu           sync.Mutex
	killedBy     Reason // Killed, Timeout or MemoryLimit when we killed it; Exited otherwise
	paused       bool
	mainExited   bool
	stopDiscover chan struct{}
	outputs      []*os.File
	done         chan struct{}
	result       *Result
	resErr       error

	outWG    sync.WaitGroup
	stdout   *lockedBuffer
	stderr   *lockedBuffer
	closers  []io.Closer
	timer    *time.Timer
	execErr  unix.Errno
	degraded []string
	cleanup  []func()
}

// procLimiter is the part of handlers.Procs the facade needs.
type procLimiter interface {
	SetMax(int)
	Max() int
}

// Run spawns argv under p, waits for it and returns the result. Streams
// left at their zero value are captured.
func Run(p policy.Policy, argv []string, o Options) (*Result, error) {
	if o.Stdout.kind == streamInherit {
		o.Stdout = Capture()
	}
	if o.Stderr.kind == streamInherit {
		o.Stderr = Capture()
	}
	if o.Stdin.kind == streamInherit {
		o.Stdin = Null()
	}
	sb, err := Spawn(p, argv, o)
	if err != nil {
		return nil, err
	}
	return sb.Wait()
}

// Spawn validates p, confines and starts argv, and returns once the
// command has been executed (or failed to execute: the result then says
// exit 127).
func Spawn(p policy.Policy, argv []string, o Options) (*Sandbox, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errorf(ErrPolicy, "sandbox: empty command")
	}
	if err := p.Validate(); err != nil {
		return nil, wrapKind(ErrPolicy, err)
	}
	plan, err := compile(&p, o)
	if err != nil {
		return nil, err
	}
	defer plan.close()
	sb, err := start(&p, plan, argv, o)
	if err != nil {
		plan.closeInstances() // a no-op once install took them
	}
	return sb, err
}

// Pid returns the main process id.
func (s *Sandbox) Pid() int { return s.pid }

// Name returns the sandbox name given in Options.
func (s *Sandbox) Name() string { return s.name }

// Pids returns the processes the supervisor knows to be in the sandbox.
func (s *Sandbox) Pids() []int { return s.index.Pids() }

// Done is closed when the sandbox has ended and its result is ready.
func (s *Sandbox) Done() <-chan struct{} { return s.done }

// Wait blocks until the sandbox ends and returns its result.
func (s *Sandbox) Wait() (*Result, error) {
	<-s.done
	return s.result, s.resErr
}

// WaitTimeout is Wait with a bound; ok is false if d elapsed first (the
// sandbox keeps running).
func (s *Sandbox) WaitTimeout(d time.Duration) (res *Result, ok bool, err error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.done:
		return s.result, true, s.resErr
	case <-t.C:
		return nil, false, nil
	}
}

// Kill ends every process of the sandbox with SIGKILL.
func (s *Sandbox) Kill() error { return s.killWith(Killed) }

func (s *Sandbox) killWith(r Reason) error {
	select {
	case <-s.done:
		return errorf(ErrState, "sandbox: not running")
	default:
	}
	s.mu.Lock()
	if s.killedBy == Exited {
		s.killedBy = r
	}
	s.mu.Unlock()
	s.sweep(unix.SIGKILL)
	return nil
}

// sweep signals every known process, then looks for children that were
// created since the last look (they may have left the process group and
// never made a notified syscall) and signals those too, until no new one
// turns up.
func (s *Sandbox) sweep(sig unix.Signal) {
	s.index.Discover()
	s.sweepKnown(sig)
}

// sweepKnown is sweep for a caller that has just run Discover itself.
func (s *Sandbox) sweepKnown(sig unix.Signal) {
	for i := 0; i < 8; i++ {
		s.signalAll(sig)
		if len(s.index.Discover()) == 0 {
			return
		}
	}
	s.signalAll(sig)
}

// discoverLoop registers new processes while the sandbox runs, so that a
// child that leaves the process group and never makes a notified syscall
// is still known when the sandbox is killed. Each look examines only the
// pids allocated since the previous one.
func (s *Sandbox) discoverLoop() {
	t := time.NewTicker(discoverEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopDiscover:
			return
		case <-t.C:
			s.index.Discover()
		}
	}
}

const discoverEvery = 50 * time.Millisecond

// signalAll reaches the main process by pidfd, its process group, and
// every process the supervisor registered (some may have left the group).
func (s *Sandbox) signalAll(sig unix.Signal) {
	s.mu.Lock()
	// Once the main process is reaped its pid and group id may belong to
	// someone else: only the index's pidfds are safe then.
	if !s.mainExited {
		_ = kernel.PidfdSendSignal(s.pidfd, sig)
		if s.pgrp {
			_ = unix.Kill(-s.pid, sig)
		}
	}
	s.mu.Unlock()
	s.index.Signal(sig)
}

// Pause stops every process of the sandbox (SIGSTOP).
func (s *Sandbox) Pause() error { return s.setPaused(unix.SIGSTOP, true) }

// Resume continues a paused sandbox (SIGCONT).
func (s *Sandbox) Resume() error { return s.setPaused(unix.SIGCONT, false) }

// setPaused sends sig to the whole sandbox and records the new state, both
// under sigMu: the max_cpu throttle must never see the flag disagree with
// the signal sent last, or it would continue a paused sandbox.
func (s *Sandbox) setPaused(sig unix.Signal, paused bool) error {
	select {
	case <-s.done:
		return errorf(ErrState, "sandbox: not running")
	default:
	}
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	s.sweep(sig)
	s.mu.Lock()
	s.paused = paused
	s.mu.Unlock()
	return nil
}

// SetMaxProcesses changes the process limit of a running sandbox.
func (s *Sandbox) SetMaxProcesses(n int) error {
	if s.procs == nil {
		return errorf(ErrState, "sandbox: process accounting is off (max_processes 0)")
	}
	s.procs.SetMax(n)
	return nil
}

// Output returns what has been captured so far.
func (s *Sandbox) Output() (stdout, stderr []byte) {
	if s.stdout != nil {
		stdout = s.stdout.Bytes()
	}
	if s.stderr != nil {
		stderr = s.stderr.Bytes()
	}
	return
}

func envList(p *policy.Policy) []string {
	var env []string
	if !p.CleanEnv {
		env = os.Environ()
	}
	if len(p.Env) > 0 {
		keys := make([]string, 0, len(p.Env))
		for k := range p.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		set := make(map[string]bool, len(keys))
		for _, k := range keys {
			set[k] = true
		}
		out := env[:0:0]
		for _, kv := range env {
			k, _, _ := strings.Cut(kv, "=")
			if !set[k] {
				out = append(out, kv)
			}
		}
		for _, k := range keys {
			out = append(out, k+"="+p.Env[k])
		}
		env = out
	}
	return env
}

func lookupPath(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return v
		}
	}
	return "/usr/local/bin:/usr/bin:/bin"
}

var _ = landlock.Build
var _ = spawn.Start
