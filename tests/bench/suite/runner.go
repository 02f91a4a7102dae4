package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// runner runs a command to completion, its stdout to a writer, under one
// system (bare, sandlock with a policy, bubblewrap, firejail).
type runner struct {
	name string
	desc string
	skip string // reason it does not run
	run  func(argv []string, stdout io.Writer) error
}

func bareRunner() runner {
	return runner{name: "bare", desc: "os/exec", run: func(argv []string, stdout io.Writer) error {
		return execRun(argv, stdout)
	}}
}

func sandlockRunner(name, desc string, p policy.Policy) runner {
	return runner{name: name, desc: desc, run: func(argv []string, stdout io.Writer) error {
		res, err := sandbox.Run(p, argv, sandbox.Options{Stdout: sandbox.Writer(stdout), Stderr: sandbox.Capture()})
		if err != nil {
			return err
		}
		if !res.Success() {
			return fmt.Errorf("sandboxed %s: %s, exit %d, signal %d: %s", argv[0], res.Reason, res.ExitCode, res.Signal, oneLine(string(res.Stderr)))
		}
		return nil
	}}
}

// prefixRunner runs path prefix... argv..., for bwrap and firejail; with
// path "" it is skipped with note.
func prefixRunner(name, desc, path, note string, prefix []string) runner {
	if path == "" {
		return runner{name: name, desc: desc, skip: note}
	}
	return runner{name: name, desc: desc, run: func(argv []string, stdout io.Writer) error {
		full := append(append([]string{path}, prefix...), argv...)
		return execRun(full, stdout)
	}}
}

func execRun(argv []string, stdout io.Writer) error {
	var stderr bytes.Buffer
	c := exec.Command(argv[0], argv[1:]...)
	c.Stdout = stdout
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%s: %v: %s", argv[0], err, oneLine(msg))
		}
		return fmt.Errorf("%s: %v", argv[0], err)
	}
	return nil
}

// commonRunners are bare, sandlock (default policy), sandlock with
// fs_denied (file syscalls notified), bubblewrap and firejail; extra
// readable paths are added to every sandbox's view.
func commonRunners(withOthers bool, extra ...string) []runner {
	rs := []runner{
		bareRunner(),
		sandlockRunner("sandlock", "Go API, default policy plus fs_readable (supervised)", basePolicy(extra...)),
	}
	den := basePolicy(extra...)
	den.FsDenied = []string{deniedPath}
	rs = append(rs, sandlockRunner("sandlock-fsdenied", "Go API, the same plus fs_denied "+deniedPath+" (every call that reaches a file by path is notified)", den))
	if withOthers {
		view := append(systemDirs(), extra...)
		bw, _ := exec.LookPath("bwrap")
		fj, _ := exec.LookPath("firejail")
		rs = append(rs,
			prefixRunner("bwrap", "bubblewrap, read-only binds of the same trees", bw, missingNote("bwrap", "bubblewrap"), bwrapArgs(view)),
			prefixRunner("firejail", "firejail "+strings.Join(firejailArgs, " "), fj, missingNote("firejail", "firejail"), firejailArgs),
		)
	}
	return rs
}
