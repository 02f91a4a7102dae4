package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// host is a long-running process that spawns commands itself, driven one
// request per line over its stdin (tests/bench/hosts: chost.c through the C
// ABI, pyhost.py through a Python package). It times each request itself,
// so the pipe between the benchmark and the host is not counted: the
// number is what a C or Python program pays for one spawn.
type host struct {
	name  string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	err   error // why the host is unusable; set once
	ready string
	mu    sync.Mutex
}

// hostTimeout bounds one request: a host that hangs costs a failed run and
// a restart of the host, not the benchmark.
const hostTimeout = 10 * time.Second

// maxRestarts bounds the restarts of one host per run.
const maxRestarts = 3

// startHost starts argv with env added. A Python host first says "ready
// PATH VERSION" or "skip REASON"; a C host says nothing and is probed by
// the first request.
func startHost(name string, argv, env []string, greets bool) *host {
	h := &host{name: name, lines: make(chan string, 1)}
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = append(os.Environ(), env...)
	c.Stderr = os.Stderr
	in, err := c.StdinPipe()
	if err != nil {
		h.err = err
		return h
	}
	out, err := c.StdoutPipe()
	if err != nil {
		h.err = err
		return h
	}
	if err := c.Start(); err != nil {
		h.err = err
		return h
	}
	h.cmd, h.in = c, in
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	if greets {
		line, err := h.read()
		switch {
		case err != nil:
			h.fail(err)
		case strings.HasPrefix(line, "skip "):
			h.fail(errors.New(strings.TrimPrefix(line, "skip ")))
		case strings.HasPrefix(line, "ready "):
			h.ready = strings.TrimPrefix(line, "ready ")
		default:
			h.fail(fmt.Errorf("unexpected greeting %q", line))
		}
	}
	return h
}

func (h *host) read() (string, error) {
	select {
	case line, ok := <-h.lines:
		if !ok {
			return "", fmt.Errorf("%s host exited", h.name)
		}
		return line, nil
	case <-time.After(hostTimeout):
		return "", fmt.Errorf("%s host did not answer within %v", h.name, hostTimeout)
	}
}

// fail records err and stops the host.
func (h *host) fail(err error) {
	if h.err == nil {
		h.err = err
	}
	h.stop()
}

// request sends one request and returns the duration the host measured.
func (h *host) request(req string) (time.Duration, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return 0, h.err
	}
	if _, err := io.WriteString(h.in, req+"\n"); err != nil {
		h.fail(err)
		return 0, err
	}
	line, err := h.read()
	if err != nil {
		h.fail(err)
		return 0, err
	}
	if msg, ok := strings.CutPrefix(line, "err "); ok {
		return 0, errors.New(msg)
	}
	ns, ok := strings.CutPrefix(line, "ok ")
	if !ok {
		return 0, fmt.Errorf("unexpected answer %q", line)
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected answer %q", line)
	}
	return time.Duration(n), nil
}

func (h *host) stop() {
	if h.cmd == nil {
		return
	}
	io.WriteString(h.in, "quit\n")
	h.in.Close()
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		h.cmd.Process.Kill()
		<-done
	}
	h.cmd = nil
}

// hostVariants adds, for one host, a variant per request. The host starts
// on the first prepare; a host that cannot start skips all its variants
// with its reason.
type hostSpec struct {
	name  string   // host name in messages
	argv  []string // "" in argv[0]: the host is not configured
	env   []string
	greet bool
	// check vets the greeting (the package the host imported).
	check func(ready string) error
	// missing is the skip reason when argv[0] is empty.
	missing string
}

func (e *env) hostVariants(spec hostSpec, reqs []hostReq) []*variant {
	var h *host
	var once sync.Once
	restarts := 0
	launch := func() *host {
		nh := startHost(spec.name, spec.argv, spec.env, spec.greet)
		if nh.err == nil && spec.check != nil {
			if err := spec.check(nh.ready); err != nil {
				nh.fail(err)
			}
		}
		e.hosts = append(e.hosts, nh)
		return nh
	}
	start := func() error {
		once.Do(func() {
			if spec.argv[0] == "" {
				h = &host{err: errors.New(spec.missing)}
				return
			}
			h = launch()
		})
		return h.err
	}
	var vs []*variant
	for _, r := range reqs {
		req := r.req
		v := &variant{name: r.name, desc: r.desc, system: r.system, command: r.command, baseline: r.baseline}
		v.prepare = func() error {
			if err := start(); err != nil {
				return err
			}
			v.cmd = spec.name + " host: " + req
			if h.ready != "" && !strings.HasPrefix(h.ready, "-") {
				v.cmd += " (" + h.ready + ")"
			}
			return nil
		}
		v.timed = func() (time.Duration, error) {
			d, err := h.request(req)
			if err != nil && h.err != nil && restarts < maxRestarts {
				restarts++
				// The host hung or died (not a refused request): count
				// the failed run and start a new host for the next one.
				err = fmt.Errorf("%v (host restarted)", err)
				h = launch()
			}
			return d, err
		}
		vs = append(vs, v)
	}
	return vs
}

type hostReq struct {
	name, desc, system, command, baseline, req string
}

// underDir reports whether path is dir or below it, after resolving
// symlinks of both.
func underDir(path, dir string) bool {
	p, err1 := filepath.EvalSymlinks(path)
	d, err2 := filepath.EvalSymlinks(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
