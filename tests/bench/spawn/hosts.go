package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sandlock/sandlock/tests/bench/internal/linehost"
)

// host is a long-running process that spawns commands itself, driven one
// request per line over its stdin (tests/bench/hosts: chost.c through the C
// ABI, pyhost.py through a Python package). It times each request itself,
// so the pipe between the benchmark and the host is not counted: the
// number is what a C or Python program pays for one spawn.
type host struct {
	name  string
	p     *linehost.Proc
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
	h := &host{name: name}
	p, err := linehost.Start(name, argv, env)
	if err != nil {
		h.err = err
		return h
	}
	h.p = p
	if greets {
		text, skip, err := p.Greet(hostTimeout)
		switch {
		case err != nil:
			h.fail(err)
		case skip:
			h.fail(errors.New(text))
		default:
			h.ready = text
		}
	}
	return h
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
	if err := h.p.Send(req); err != nil {
		h.fail(err)
		return 0, err
	}
	line, err := h.p.Read(hostTimeout)
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

// stop keeps h.p: a request after it then fails on the closed pipe, as
// it should, instead of on a nil host.
func (h *host) stop() {
	h.p.Stop()
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
