package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/spawn"
	"github.com/sandlock/sandlock/core/supervisor"
)

// childStdio opens the child's ends of the three streams and starts the
// copy goroutines for the host's ends.
func (s *Sandbox) childStdio(o Options) (fds [3]int, childEnds []io.Closer, err error) {
	streams := [3]Stream{o.Stdin, o.Stdout, o.Stderr}
	fds = [3]int{-1, -1, -1}
	null := -1
	fail := func(e error) ([3]int, []io.Closer, error) {
		for _, f := range childEnds {
			f.Close()
		}
		for _, c := range s.closers {
			c.Close()
		}
		s.closers = nil
		return fds, nil, e
	}
	for i, st := range streams {
		switch st.kind {
		case streamInherit:
		case streamNull:
			// One descriptor serves every null stream; opened raw, since an
			// os.File would first try (and fail) to register /dev/null
			// with the runtime's poller.
			if null < 0 {
				fd, e := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
				if e != nil {
					return fail(fmt.Errorf("open %s: %w", os.DevNull, e))
				}
				null = fd
				childEnds = append(childEnds, fdCloser(fd))
			}
			fds[i] = null
		case streamFile:
			if st.f == nil {
				return fail(errorf(ErrPolicy, "sandbox: nil file for stream %d", i))
			}
			fds[i] = int(st.f.Fd())
		case streamCapture, streamWriter:
			if i == 0 {
				return fail(errorf(ErrPolicy, "sandbox: stdin cannot be an output stream"))
			}
			r, w, e := os.Pipe()
			if e != nil {
				return fail(fmt.Errorf("pipe: %w", e))
			}
			childEnds = append(childEnds, w)
			fds[i] = int(w.Fd())
			var dst io.Writer = st.w
			if st.kind == streamCapture {
				buf := &lockedBuffer{}
				if i == 1 {
					s.stdout = buf
				} else {
					s.stderr = buf
				}
				dst = buf
				// The cap bounds what the Result holds in memory; a
				// Writer's destination keeps what it wants.
				if o.OutputLimit > 0 {
					dst = &capWriter{w: dst, left: o.OutputLimit}
				}
			}
			s.outputs = append(s.outputs, r)
			s.outWG.Add(1)
			go func() {
				defer s.outWG.Done()
				defer r.Close()
				// Drain to EOF whatever happens to dst, so the child never
				// blocks on a full pipe.
				if _, e := io.Copy(dst, r); e != nil {
					_, _ = io.Copy(io.Discard, r)
				}
			}()
		case streamReader:
			if i != 0 {
				return fail(errorf(ErrPolicy, "sandbox: only stdin can be a reader"))
			}
			r, w, e := os.Pipe()
			if e != nil {
				return fail(fmt.Errorf("pipe: %w", e))
			}
			childEnds = append(childEnds, r)
			fds[i] = int(r.Fd())
			s.closers = append(s.closers, w)
			src := st.r
			go func() {
				_, _ = io.Copy(w, src)
				w.Close()
			}()
		}
	}
	return fds, childEnds, nil
}

// fdCloser closes a raw descriptor.
type fdCloser int

func (f fdCloser) Close() error { return unix.Close(int(f)) }

// capWriter passes through at most left bytes and silently drops the rest.
type capWriter struct {
	w    io.Writer
	left int
}

func (c *capWriter) Write(p []byte) (int, error) {
	n := len(p)
	if c.left <= 0 {
		return n, nil
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	c.left -= len(p)
	if _, err := c.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

func start(p *policy.Policy, c *compiled, argv []string, o Options) (*Sandbox, error) {
	s := &Sandbox{
		started:  time.Now(),
		name:     o.Name,
		done:     make(chan struct{}),
		pgrp:     !o.SharePgrp,
		degraded: c.degraded,
		command:  argv[0],
		virtual:  c.virtual,
	}
	stdio, childEnds, err := s.childStdio(o)
	if err != nil {
		return nil, err
	}
	env := append(envList(p), c.env...)
	plan := &spawn.Plan{
		Path:        argv[0],
		SearchPath:  lookupPath(env),
		Argv:        argv,
		Env:         env,
		Stdio:       stdio,
		RulesetFD:   c.rulesetFD(),
		Filter:      c.filter,
		Rlimits:     c.rlimits,
		NoRandomize: p.NoRandomizeMemory,
		NoTHP:       p.NoHugePages,
		CPUs:        p.CPUCores,
		Cwd:         p.Cwd,
		NewPgrp:     s.pgrp,
	}
	child, err := spawn.Clone(plan)
	for _, f := range childEnds {
		f.Close()
	}
	if err != nil {
		return nil, s.spawnFailed(p, err)
	}
	s.pid = child.Pid
	s.pidfd = child.Pidfd
	s.index = procindex.New()
	// Registered while the child confines itself, so that the two overlap.
	// The index gets its own pidfd so that its lifetime is independent of
	// the one Wait uses.
	mainEntry, err := s.index.Register(child.Pid, os.Getpid(), -1)
	if err != nil {
		child.Abort()
		s.index.Close()
		s.abortStreams()
		return nil, wrapKind(ErrSpawn, err)
	}
	if err := child.Confined(); err != nil {
		s.index.Close()
		return nil, s.spawnFailed(p, err)
	}
	sup, err := supervisor.New(child.Listener)
	if err != nil {
		child.Abort()
		s.index.Close()
		s.abortStreams()
		return nil, wrapKind(ErrSpawn, err)
	}
	s.sup = sup
	if err := c.install(s); err != nil {
		child.Abort()
		sup.Stop()
		s.index.Close()
		s.abortStreams()
		for _, f := range s.cleanup {
			f()
		}
		return nil, err
	}
	if o.StartGate != nil {
		<-o.StartGate
	}
	sup.Start()
	if err := child.Go(); err != nil {
		// The child is dead; let the normal path reap it and report.
		s.resErr = wrapKind(ErrSpawn, err)
	}
	s.execErr = child.ExecErr
	for _, f := range s.onStart {
		f()
	}
	if o.Timeout > 0 {
		s.timer = time.AfterFunc(o.Timeout, func() { _ = s.killWith(Timeout) })
	}
	s.stopDiscover = make(chan struct{})
	go s.discoverLoop()
	go s.waitMain(mainEntry)
	return s, nil
}

// spawnFailed ends the streams of a child that could not be started and
// classifies the error.
func (s *Sandbox) spawnFailed(p *policy.Policy, err error) error {
	s.abortStreams()
	var se *spawn.StepError
	if errors.As(err, &se) && se.IsConfinement() {
		return wrapKind(ErrConfinement, err)
	}
	if errors.As(err, &se) && se.Step == "chdir" {
		return wrapKind(ErrPolicy, fmt.Errorf("cwd %q: %w", p.Cwd, se.Errno))
	}
	return wrapKind(ErrSpawn, err)
}

func (s *Sandbox) abortStreams() {
	for _, cl := range s.closers {
		cl.Close()
	}
	s.outWG.Wait()
}

// waitMain waits for the main process to exit, then tears the sandbox
// down: remaining processes killed, output drained, the supervisor
// finished, every fd closed.
func (s *Sandbox) waitMain(main *procindex.Entry) {
	// The index's watcher of the main process already waits in the
	// runtime poller for its pidfd to become readable: ride on it instead
	// of registering a second pidfd. Exited also closes if that watcher
	// fails, so the exit is confirmed on our own pidfd, blocking if need
	// be (s.pidfd is a blocking descriptor).
	<-main.Exited()
	if r, err := kernel.PollIn(s.pidfd); err != nil || r == 0 {
		pfd := []unix.PollFd{{Fd: int32(s.pidfd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(pfd, -1); err != unix.EINTR {
				break
			}
		}
	}
	// The main process is a zombie now, so its pid, which is also the
	// process group id, cannot be recycled until we reap it: kill the rest
	// of the group first. The sandbox ends with its main process.
	close(s.stopDiscover)
	s.index.Discover()
	s.mu.Lock()
	s.mainExited = true
	if s.pgrp {
		_ = unix.Kill(-s.pid, unix.SIGKILL)
	}
	s.mu.Unlock()
	s.sweepKnown(unix.SIGKILL)
	ex, _, werr := kernel.WaitPidfd(s.pidfd, 0)
	end := time.Now()
	if s.timer != nil {
		s.timer.Stop()
	}
	for _, cl := range s.closers {
		cl.Close()
	}
	// Output ends when the last writer is gone. A process that escaped
	// every kill could hold the pipe open forever: bound the drain.
	drained := make(chan struct{})
	go func() { s.outWG.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(2 * time.Second):
		for _, r := range s.outputs {
			r.Close()
		}
		<-drained
	}
	// POLLHUP on the listener comes once every task that used the filter
	// has been reaped. A process that escaped both the group and the index
	// would keep it from coming: bound the wait, then close the listener,
	// which fails its notified syscalls.
	select {
	case <-s.sup.Done():
	case <-time.After(2 * time.Second):
		s.sup.Stop()
		<-s.sup.Done()
	}
	s.index.Close()
	unix.Close(s.pidfd)
	for _, f := range s.cleanup {
		f()
	}

	res := &Result{Duration: end.Sub(s.started), Degraded: s.degraded}
	if s.stdout != nil {
		res.Stdout = s.stdout.Bytes()
	}
	if s.stderr != nil {
		res.Stderr = s.stderr.Bytes()
	}
	s.mu.Lock()
	killedBy := s.killedBy
	s.mu.Unlock()
	switch {
	case werr != nil:
		res.ExitCode = -1
		res.Reason = Signaled
		if s.resErr == nil {
			s.resErr = wrapKind(ErrSpawn, fmt.Errorf("waitid: %w", werr))
		}
	case ex.Signal != 0:
		res.ExitCode = -1
		res.Signal = ex.Signal
		res.Reason = Signaled
		if killedBy != Exited {
			res.Reason = killedBy
		}
	default:
		res.ExitCode = ex.Code
		res.Reason = Exited
	}
	if s.execErr != 0 {
		res.ExecError = fmt.Errorf("execve %q: %w", s.command, s.execErr)
	}
	s.result = res
	close(s.done)
}
