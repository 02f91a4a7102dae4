// Package testprobe builds the C programs that the real-kernel tests run
// inside sandboxes, and holds the base policy those programs need and the
// run and poll helpers the suites share. Only tests import it.
//
// A test binary must run from any directory and as an unprivileged user
// (CI runs the suites as a nobody-like user too), so a program's source is
// embedded in the test binary and compiled into a temporary directory that
// every user can read and search.
package testprobe

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// Probe is one C program of a test package and, once built, where it is.
// Use it through a pointer: it holds a sync.Once.
type Probe struct {
	// Name is the base name of the source (Name.c) and of the binary.
	Name string
	// Source is the C source, usually embedded in the test binary.
	Source []byte
	// What names the program in a test failure ("the C probe").
	What string
	// Flags are gcc arguments placed after the source, such as -lpthread.
	Flags []string
	// Dynamic skips the static build; otherwise a static build is tried
	// first, so that a sandbox need not grant the shared library trees,
	// and a dynamic one only when it fails.
	Dynamic bool

	// Dir is the directory the program was built in.
	Dir string
	// Bin is the binary's path, "" when it could not be built.
	Bin string
	// Err says why Bin is "".
	Err error

	once sync.Once
}

// Main is the body of a TestMain whose tests run p: it builds p in a fresh
// temporary directory named after prefix, runs the tests and removes the
// directory. A build failure does not stop the run: each test that needs
// p fails with the reason (Argv). It returns the exit code for os.Exit.
func (p *Probe) Main(m *testing.M, prefix string) int {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(os.Args[0]), err)
		return 1
	}
	defer os.RemoveAll(dir)
	_ = p.Build(dir)
	return m.Run()
}

// Build compiles p into dir the first time it is called and returns the
// outcome of that build on every call. dir is made readable and searchable
// by all.
func (p *Probe) Build(dir string) error {
	p.once.Do(func() {
		p.Dir = dir
		if dir == "" {
			p.Err = errors.New("no probe directory")
			return
		}
		p.Err = p.compile(dir)
		if p.Err == nil {
			p.Bin = filepath.Join(dir, p.Name)
		}
	})
	return p.Err
}

func (p *Probe) compile(dir string) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	src := filepath.Join(dir, p.Name+".c")
	if err := os.WriteFile(src, p.Source, 0o644); err != nil {
		return err
	}
	out := filepath.Join(dir, p.Name)
	links := []bool{true, false}
	if p.Dynamic {
		links = links[1:]
	}
	var msgs []string
	for _, static := range links {
		args := append([]string{"-O2", "-Wall", "-o", out, src}, p.Flags...)
		if static {
			args = append([]string{"-static"}, args...)
		}
		b, err := exec.Command("gcc", args...).CombinedOutput()
		if err == nil {
			return os.Chmod(out, 0o755)
		}
		msgs = append(msgs, fmt.Sprintf("gcc %s: %v: %s", strings.Join(args, " "), err, b))
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// Argv returns the argv that runs p with args, failing the test when p
// could not be built.
func (p *Probe) Argv(t testing.TB, args ...string) []string {
	t.Helper()
	if p.Bin == "" {
		t.Fatalf("%s could not be built (gcc is part of the test environment): %v", p.What, p.Err)
	}
	return append([]string{p.Bin}, args...)
}

// ArgvIn is Argv for a program built on first use, in dir (usually the
// directory of the package's main probe): most tests do not need it.
func (p *Probe) ArgvIn(t testing.TB, dir string, args ...string) []string {
	t.Helper()
	_ = p.Build(dir)
	return p.Argv(t, args...)
}

// Existing returns the paths among ps that exist.
func Existing(ps ...string) []string {
	var out []string
	for _, p := range ps {
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// SystemDirs returns the read-only system trees a sandboxed probe (or a
// shell, or a dynamically linked tool) needs, those that exist.
func SystemDirs() []string {
	return Existing("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc")
}

// TempDir is t.TempDir opened up to everyone, for runs as an unprivileged
// user and for directories shared between uids.
func TempDir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	return d
}

// BasePolicy is the default policy with the system trees and readable
// readable, and /dev/null and a fresh world-writable temporary directory
// writable. It returns the policy and that directory.
func BasePolicy(t testing.TB, readable ...string) (policy.Policy, string) {
	t.Helper()
	w := TempDir(t)
	p := policy.Default()
	p.FsReadable = append(SystemDirs(), readable...)
	p.FsWritable = append(Existing("/dev/null"), w)
	return p, w
}

// teardownGrace is how long after its own timeout a sandbox may take to
// end before RunBounded gives up on it.
const teardownGrace = 30 * time.Second

// RunBounded is sandbox.Run (output captured and stdin /dev/null unless o
// says otherwise) with a watchdog: a sandbox whose teardown hangs fails the
// test instead of stalling the whole run. It returns Spawn's or Wait's
// error.
func RunBounded(t testing.TB, p policy.Policy, argv []string, o sandbox.Options) (*sandbox.Result, error) {
	t.Helper()
	if o.Stdout == (sandbox.Stream{}) {
		o.Stdout = sandbox.Capture()
	}
	if o.Stderr == (sandbox.Stream{}) {
		o.Stderr = sandbox.Capture()
	}
	if o.Stdin == (sandbox.Stream{}) {
		o.Stdin = sandbox.Null()
	}
	sb, err := sandbox.Spawn(p, argv, o)
	if err != nil {
		return nil, err
	}
	res, ok, err := sb.WaitTimeout(o.Timeout + teardownGrace)
	if !ok {
		_ = sb.Kill()
		t.Fatalf("%q: the sandbox did not end %v after its timeout (teardown hangs)", argv, teardownGrace)
	}
	return res, err
}

// Poll calls cond every interval until it holds, for up to d, and reports
// whether it did.
func Poll(d, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}
