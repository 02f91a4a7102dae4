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
	system   string       // who spawns, for the summary table ("sandlock C ABI", "bubblewrap")
	command  string       // "true" or "echo"
	cmd      string       // what runs, for the report
	baseline string       // name of the bare variant it is compared with; "" for a baseline
	required bool         // a failing probe ends the run
	skip     string       // reason the variant does not run
	prepare  func() error // optional, called once before the probe
	run      func() error
	// timed, when set instead of run, returns the duration measured by
	// the variant itself (a host process timing its own spawn).
	timed func() (time.Duration, error)

	samples []time.Duration // one per round; -1 for a failed run
	errors  int
	lastErr string
}

// measure runs the variant once and returns how long it took.
func (v *variant) measure() (time.Duration, error) {
	if v.timed != nil {
		return v.timed()
	}
	t0 := time.Now()
	err := v.run()
	return time.Since(t0), err
}

// config names the optional programs the variants drive.
type config struct {
	launchers  [2]string // prebuilt exec-only launchers (static, cgo)
	chost      string    // tests/bench/hosts/chost.c, built against libsandlock.so.0
	pyhost     string    // tests/bench/hosts/pyhost.py
	python     string    // the interpreter for the project's package and the bare Python host
	pypath     string    // the project's python/ directory
	lib        string    // libsandlock.so.0, as SANDLOCK_LIB for the project's package
	pythonOrig string    // a venv interpreter with the original sandlock from PyPI
}

// env holds what the variants share: the policies, /dev/null, the
// temporary directory of the launcher, the host processes.
type env struct {
	readable []string
	devnull  *os.File
	tmp      string
	hosts    []*host
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
	for _, h := range e.hosts {
		h.stop()
	}
	e.hosts = nil
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

func (e *env) variants(cfg config) []*variant {
	var vs []*variant
	add := func(v *variant) { vs = append(vs, v) }

	add(&variant{
		name: "bare", desc: "os/exec Run", system: "bare (Go os/exec)", command: "true", cmd: "/bin/true", required: true,
		run: func() error { return exec.Command(trueArgv[0]).Run() },
	})
	add(&variant{
		name: "bare-forkexec", desc: "syscall.ForkExec + wait4", system: "bare (Go fork+exec)", command: "true", cmd: "/bin/true", baseline: "bare", required: true,
		run: func() error { return forkExecWait(trueArgv, e.devnull) },
	})
	add(&variant{
		name: "bare-echo", desc: "os/exec Output", system: "bare (Go os/exec)", command: "echo", cmd: "/bin/echo hi", required: true,
		run: func() error {
			out, err := exec.Command(echoArgv[0], echoArgv[1:]...).Output()
			if err != nil {
				return err
			}
			return checkOutput(out)
		},
	})

	pol := e.policy(false)
	add(&variant{
		name: "sandlock", desc: "Go API sandbox.Run, supervised", system: "sandlock Go API", command: "true", cmd: "/bin/true", baseline: "bare", required: true,
		run: func() error {
			return checkResult(sandbox.Run(pol, trueArgv, sandbox.Options{Stdout: sandbox.Null(), Stderr: sandbox.Null()}))
		},
	})
	add(&variant{
		name: "sandlock-echo", desc: "Go API, stdout captured", system: "sandlock Go API", command: "echo", cmd: "/bin/echo hi", baseline: "bare-echo", required: true,
		run: func() error {
			res, err := sandbox.Run(pol, echoArgv, sandbox.Options{Stdout: sandbox.Capture(), Stderr: sandbox.Null()})
			if err := checkResult(res, err); err != nil {
				return err
			}
			return checkOutput(res.Stdout)
		},
	})
	polDenied := e.policy(true)
	add(&variant{
		name: "sandlock-fsdenied", desc: "Go API, fs_denied " + deniedPath, system: "sandlock Go API, fs_denied", command: "true", cmd: "/bin/true", baseline: "bare", required: true,
		run: func() error {
			return checkResult(sandbox.Run(polDenied, trueArgv, sandbox.Options{Stdout: sandbox.Null(), Stderr: sandbox.Null()}))
		},
	})

	// The C ABI, from a C program linked to libsandlock.so.0. Its bare
	// variants are posix_spawn in the same process: the fair baseline.
	for _, v := range e.hostVariants(hostSpec{
		name: "C", argv: append([]string{cfg.chost}, e.readable...),
		missing: "skipped: no C host (make bench builds it: build/bench/chost, or pass -chost)",
	}, []hostReq{
		{"c-bare", "posix_spawn + waitpid in the C host", "bare (C posix_spawn)", "true", "bare", "bare true"},
		{"c-bare-echo", "posix_spawn, stdout on a pipe, in the C host", "bare (C posix_spawn)", "echo", "bare-echo", "bare echo"},
		{"capi", "C ABI sandlock_spawn + wait + free", "sandlock C ABI", "true", "c-bare", "sandlock true"},
		{"capi-echo", "C ABI, stdout captured", "sandlock C ABI", "echo", "c-bare-echo", "sandlock echo"},
	}) {
		add(v)
	}

	// Python: a bare host (os.posix_spawn) that imports nothing, the
	// project's package (python/) and the original sandlock from PyPI.
	pyhost := func(python string) []string {
		if python == "" || cfg.pyhost == "" {
			return []string{""}
		}
		return append([]string{python, cfg.pyhost}, e.readable...)
	}
	for _, v := range e.hostVariants(hostSpec{
		name: "Python bare", argv: append(pyhost(cfg.python), "--bare"), greet: true,
		missing: "skipped: no python3 (or no pyhost.py: pass -pyhost)",
	}, []hostReq{
		{"py-bare", "os.posix_spawn + waitpid in Python", "bare (Python posix_spawn)", "true", "bare", "bare true"},
		{"py-bare-echo", "os.posix_spawn, stdout on a pipe, in Python", "bare (Python posix_spawn)", "echo", "bare-echo", "bare echo"},
	}) {
		add(v)
	}
	var pyEnv []string
	if cfg.pypath != "" {
		pyEnv = append(pyEnv, "PYTHONPATH="+filepath.Join(cfg.pypath, "src")+string(os.PathListSeparator)+cfg.pypath)
	}
	if cfg.lib != "" {
		pyEnv = append(pyEnv, "SANDLOCK_LIB="+cfg.lib)
	}
	pypath := cfg.pypath
	for _, v := range e.hostVariants(hostSpec{
		name: "Python", argv: pyhost(cfg.python), env: pyEnv, greet: true,
		missing: "skipped: no python3 (or no pyhost.py: pass -pyhost)",
		check: func(ready string) error {
			if pypath == "" {
				return errors.New("no -pypath (the project's python/ directory) given")
			}
			dir, _, _ := strings.Cut(ready, " ")
			if !underDir(dir, pypath) {
				return fmt.Errorf("imported %s, not the project's package under %s", dir, pypath)
			}
			return nil
		},
	}, []hostReq{
		{"python", "Python package Sandbox(Policy).run", "sandlock Python", "true", "py-bare", "sandlock true"},
		{"python-echo", "Python package, output checked", "sandlock Python", "echo", "py-bare-echo", "sandlock echo"},
	}) {
		add(v)
	}
	for _, v := range e.hostVariants(hostSpec{
		name: "original Python", argv: pyhost(cfg.pythonOrig), env: []string{"PYTHONPATH="}, greet: true,
		missing: "skipped: no interpreter with the original sandlock (pip install sandlock) given; pass -python-orig",
	}, []hostReq{
		{"python-orig", "original sandlock (PyPI) Sandbox.run", "original sandlock (PyPI, Python)", "true", "py-bare", "sandlock true"},
		{"python-orig-echo", "original sandlock (PyPI), output checked", "original sandlock (PyPI, Python)", "echo", "py-bare-echo", "sandlock echo"},
	}) {
		add(v)
	}

	// The exec-only Go launchers: the floor for any Go CLI. The static one
	// is the reference of the CLI target; the cgo one shows what dynamic
	// linking adds (the CLI is a cgo program).
	for _, l := range []struct {
		name, desc, system, path, flag string
		cgo                            bool
	}{
		{"go-launcher", "os/exec of a static Go exec-only launcher", "Go exec-only launcher", cfg.launchers[0], "-launcher", false},
		{"go-launcher-cgo", "os/exec of the same launcher built with cgo", "Go exec-only launcher (cgo)", cfg.launchers[1], "-launcher-cgo", true},
	} {
		v := &variant{name: l.name, desc: l.desc, system: l.system, command: "true", baseline: "bare"}
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

	// Command-line sandboxes: the sandlock CLI, bubblewrap (binds only, the
	// strictest comparison, and a typical isolating run with new
	// namespaces) and firejail with a comparable confinement.
	cli := os.Getenv("SANDLOCK_CLI")
	cliArgs := []string{"run"}
	for _, p := range e.readable {
		cliArgs = append(cliArgs, "-r", p)
	}
	cliArgs = append(cliArgs, "--")
	bw, bwErr := exec.LookPath("bwrap")
	fj, fjErr := exec.LookPath("firejail")
	for _, c := range []struct {
		name, desc, system, path, missing string
		args                              []string
	}{
		{"cli", "os/exec of sandlock run", "sandlock CLI", cli, "skipped: SANDLOCK_CLI not set (make cli, then SANDLOCK_CLI=$PWD/build/sandlock)", cliArgs},
		{"bwrap", "os/exec of bubblewrap, read-only binds only", "bubblewrap (binds only)", bw, missingTool("bwrap", "bubblewrap", bwErr), bwrapArgs(e.readable)},
		{"bwrap-unshare", "os/exec of bubblewrap with --unshare-all --proc --dev", "bubblewrap --unshare-all", bw, missingTool("bwrap", "bubblewrap", bwErr),
			append(bwrapArgs(e.readable), "--unshare-all", "--proc", "/proc", "--dev", "/dev")},
		{"firejail", "os/exec of firejail --noprofile --seccomp --nonewprivs --caps.drop=all --read-only=/", "firejail", fj, missingTool("firejail", "firejail", fjErr), firejailArgs},
	} {
		for _, echo := range []bool{false, true} {
			v := &variant{name: c.name, desc: c.desc, system: c.system, command: "true", baseline: "bare"}
			argv := trueArgv
			if echo {
				v.name += "-echo"
				v.desc += ", output checked"
				v.command, v.baseline, argv = "echo", "bare-echo", echoArgv
			}
			if c.path == "" {
				v.skip = c.missing
				add(v)
				continue
			}
			path, args := c.path, append(append([]string(nil), c.args...), argv...)
			v.cmd = path + " " + strings.Join(args, " ")
			if echo {
				v.run = func() error {
					out, err := outputQuiet(path, args...)
					if err != nil {
						return err
					}
					return checkOutput(out)
				}
			} else {
				v.run = func() error { return runQuiet(path, args...) }
			}
			add(v)
		}
	}
	return vs
}

// firejailArgs confine about as much as sandlock's default policy does: a
// read-only view of the whole file system, firejail's default seccomp
// deny list, no_new_privs, no capabilities. (sandlock's view is narrower:
// only the listed trees are visible at all.)
var firejailArgs = []string{"--quiet", "--noprofile", "--seccomp", "--nonewprivs", "--caps.drop=all", "--read-only=/"}

func missingTool(bin, pkg string, err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf("skipped: %s not installed (make bench installs it as root: apt-get install -y %s)", bin, pkg)
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

// outputQuiet runs a command and returns its stdout, keeping stderr for
// the error message.
func outputQuiet(path string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	c := exec.Command(path, args...)
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%v: %s", err, msg)
		}
		return nil, err
	}
	return out, nil
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
