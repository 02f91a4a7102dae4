package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// variant is one way of running a command, timed from start to reaped.
type variant struct {
	name     string
	desc     string
	cmd      string       // what runs, for the report
	baseline string       // name of the bare variant it is compared with; "" for a baseline
	required bool         // a failing probe ends the run
	skip     string       // reason the variant does not run
	prepare  func() error // optional, called once before the probe
	run      func() error

	samples []time.Duration // one per round; -1 for a failed run
	errors  int
	lastErr string
}

// env holds what the variants share: the policies, /dev/null, the
// temporary directory of the launcher.
type env struct {
	readable []string
	devnull  *os.File
	tmp      string
}

func newEnv() *env {
	e := &env{}
	for _, p := range []string{"/usr", "/lib", "/lib64", "/bin", "/etc"} {
		if _, err := os.Stat(p); err == nil {
			e.readable = append(e.readable, p)
		}
	}
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fatalf("open %s: %v", os.DevNull, err)
	}
	e.devnull = f
	return e
}

func (e *env) cleanup() {
	if e.devnull != nil {
		e.devnull.Close()
		e.devnull = nil
	}
	if e.tmp != "" {
		os.RemoveAll(e.tmp)
		e.tmp = ""
	}
}

// The commands every variant runs.
var (
	trueArgv = []string{"/bin/true"}
	echoArgv = []string{"/bin/echo", "hi"}
	echoWant = []byte("hi\n")
)

// deniedPath is the fs_denied entry of the second supervised variant: a
// file inside a readable tree, so the carve-out is real.
const deniedPath = "/etc/shadow"

func (e *env) policy(denied bool) policy.Policy {
	p := policy.Default() // MaxProcesses 64: the supervisor is active
	p.FsReadable = append([]string(nil), e.readable...)
	if denied {
		p.FsDenied = []string{deniedPath}
	}
	return p
}

func (e *env) variants(launchers [2]string) []*variant {
	var vs []*variant
	add := func(v *variant) { vs = append(vs, v) }

	add(&variant{
		name: "bare", desc: "os/exec Run", cmd: "/bin/true", required: true,
		run: func() error { return exec.Command(trueArgv[0]).Run() },
	})
	add(&variant{
		name: "bare-forkexec", desc: "syscall.ForkExec + wait4", cmd: "/bin/true", baseline: "bare", required: true,
		run: func() error { return forkExecWait(trueArgv, e.devnull) },
	})

	pol := e.policy(false)
	add(&variant{
		name: "sandlock", desc: "Go API sandbox.Run, supervised", cmd: "/bin/true", baseline: "bare", required: true,
		run: func() error {
			return checkResult(sandbox.Run(pol, trueArgv, sandbox.Options{Stdout: sandbox.Null(), Stderr: sandbox.Null()}))
		},
	})
	polDenied := e.policy(true)
	add(&variant{
		name: "sandlock-fsdenied", desc: "Go API, fs_denied " + deniedPath, cmd: "/bin/true", baseline: "bare", required: true,
		run: func() error {
			return checkResult(sandbox.Run(polDenied, trueArgv, sandbox.Options{Stdout: sandbox.Null(), Stderr: sandbox.Null()}))
		},
	})

	add(&variant{
		name: "bare-echo", desc: "os/exec Output", cmd: "/bin/echo hi", required: true,
		run: func() error {
			out, err := exec.Command(echoArgv[0], echoArgv[1:]...).Output()
			if err != nil {
				return err
			}
			return checkOutput(out)
		},
	})
	add(&variant{
		name: "sandlock-echo", desc: "Go API, stdout captured", cmd: "/bin/echo hi", baseline: "bare-echo", required: true,
		run: func() error {
			res, err := sandbox.Run(pol, echoArgv, sandbox.Options{Stdout: sandbox.Capture(), Stderr: sandbox.Null()})
			if err := checkResult(res, err); err != nil {
				return err
			}
			return checkOutput(res.Stdout)
		},
	})

	// The exec-only Go launchers: the floor for any Go CLI. The static one
	// is the reference of the CLI target; the cgo one shows what dynamic
	// linking adds (the CLI is a cgo program).
	for _, l := range []struct {
		name, desc, path, flag string
		cgo                    bool
	}{
		{"go-launcher", "os/exec of a static Go exec-only launcher", launchers[0], "-launcher", false},
		{"go-launcher-cgo", "os/exec of the same launcher built with cgo", launchers[1], "-launcher-cgo", true},
	} {
		v := &variant{name: l.name, desc: l.desc, baseline: "bare"}
		path, cgo, flagName := l.path, l.cgo, l.flag
		v.prepare = func() error {
			if path == "" {
				var err error
				if path, err = e.buildLauncher(cgo); err != nil {
					return fmt.Errorf("cannot build the launcher (%v); pass %s", err, flagName)
				}
			}
			v.cmd = path + " /bin/true"
			return nil
		}
		v.run = func() error { return runQuiet(path, trueArgv...) }
		add(v)
	}

	cv := &variant{name: "cli", desc: "os/exec of sandlock run", baseline: "bare"}
	if cli := os.Getenv("SANDLOCK_CLI"); cli == "" {
		cv.skip = "skipped: SANDLOCK_CLI not set (make cli, then SANDLOCK_CLI=$PWD/build/sandlock)"
	} else {
		args := []string{"run"}
		for _, p := range e.readable {
			args = append(args, "-r", p)
		}
		args = append(append(args, "--"), trueArgv...)
		cv.cmd = cli + " " + strings.Join(args, " ")
		cv.run = func() error { return runQuiet(cli, args...) }
	}
	add(cv)

	// bwrap: the minimal read-only view (the strictest comparison), and a
	// typical isolating invocation with new namespaces, /proc and /dev.
	bw, bwErr := exec.LookPath("bwrap")
	for _, b := range []struct {
		name, desc string
		extra      []string
	}{
		{"bwrap", "os/exec of bubblewrap, read-only binds only", nil},
		{"bwrap-unshare", "os/exec of bubblewrap with --unshare-all --proc --dev", []string{"--unshare-all", "--proc", "/proc", "--dev", "/dev"}},
	} {
		v := &variant{name: b.name, desc: b.desc, baseline: "bare"}
		if bwErr != nil {
			v.skip = "skipped: bwrap not installed"
		} else {
			args := append(bwrapArgs(e.readable), b.extra...)
			args = append(args, trueArgv...)
			v.cmd = bw + " " + strings.Join(args, " ")
			v.run = func() error { return runQuiet(bw, args...) }
		}
		add(v)
	}
	return vs
}

// bwrapArgs gives bubblewrap the same read-only view as the sandlock
// policy: directories are bound read-only, and symlinks (/bin -> usr/bin on
// merged-/usr systems) are recreated as symlinks.
func bwrapArgs(readable []string) []string {
	var args []string
	for _, p := range readable {
		if t, err := os.Readlink(p); err == nil {
			args = append(args, "--symlink", t, p)
			continue
		}
		args = append(args, "--ro-bind", p, p)
	}
	return args
}

// forkExecWait is the bare minimum: the same vfork-style clone os/exec
// uses, without its pipes, goroutines and pidfd.
func forkExecWait(argv []string, devnull *os.File) error {
	fd := devnull.Fd()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{fd, fd, fd},
	})
	if err != nil {
		return err
	}
	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return err
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return fmt.Errorf("%s: status %v", argv[0], ws)
	}
	return nil
}

// runQuiet runs a command with its output discarded, keeping stderr for
// the error message.
func runQuiet(path string, args ...string) error {
	var stderr bytes.Buffer
	c := exec.Command(path, args...)
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%v: %s", err, msg)
		}
		return err
	}
	return nil
}

func checkResult(res *sandbox.Result, err error) error {
	if err != nil {
		return err
	}
	if !res.Success() {
		return fmt.Errorf("sandboxed command: %s, exit %d, signal %d, stderr %q", res.Reason, res.ExitCode, res.Signal, res.Stderr)
	}
	return nil
}

func checkOutput(out []byte) error {
	if !bytes.Equal(out, echoWant) {
		return fmt.Errorf("output %q, want %q", out, echoWant)
	}
	return nil
}

// launcherSource is the whole exec-only launcher: the Go runtime starts,
// then the process becomes its argument. %s is empty for the static
// launcher and a cgo import for the one linked like the CLI (dynamically,
// with libc and runtime/cgo), which core/spawn's C stub requires.
const launcherSource = `package main
%s
import (
	"os"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	os.Stderr.WriteString("launcher: " + err.Error() + "\n")
	os.Exit(127)
}
`

// buildLauncher builds the exec-only launcher, with cgo or without, into
// the temporary directory.
func (e *env) buildLauncher(cgo bool) (string, error) {
	goCmd, err := goTool()
	if err != nil {
		return "", err
	}
	if e.tmp == "" {
		if e.tmp, err = os.MkdirTemp("", "sandlock-bench-launcher-"); err != nil {
			return "", err
		}
	}
	name, imp, cgoEnv := "launcher", "", "CGO_ENABLED=0"
	if cgo {
		name, imp, cgoEnv = "launcher-cgo", "\n// #include <stdlib.h>\nimport \"C\"\n", "CGO_ENABLED=1"
	}
	dir := filepath.Join(e.tmp, name+".src")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	files := map[string]string{
		"go.mod":  "module launcher\n\ngo 1.26\n",
		"main.go": fmt.Sprintf(launcherSource, imp),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	out := filepath.Join(e.tmp, name)
	c := exec.Command(goCmd, "build", "-o", out, ".")
	c.Dir = dir
	c.Env = append(os.Environ(), cgoEnv, "GOFLAGS=-buildvcs=false")
	if b, err := c.CombinedOutput(); err != nil {
		return "", errors.New(strings.TrimSpace(string(b)))
	}
	return out, nil
}
