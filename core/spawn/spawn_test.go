package spawn

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/internal/kernel"
)

func wait(t *testing.T, pidfd int) kernel.Exit {
	t.Helper()
	e, _, err := kernel.WaitPidfd(pidfd, 0)
	if err != nil {
		t.Fatalf("waitid: %v", err)
	}
	unix.Close(pidfd)
	return e
}

func TestSpawnTrue(t *testing.T) {
	r, w, _ := os.Pipe()
	defer r.Close()
	c, err := Start(&Plan{
		Path: "echo", SearchPath: "/nonexistent:/usr/bin:/bin", Argv: []string{"echo", "hello"},
		Env: []string{"PATH=/usr/bin"}, Stdio: [3]int{-1, int(w.Fd()), -1}, RulesetFD: -1, NewPgrp: true,
	})
	w.Close()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := c.Go(); err != nil {
		t.Fatalf("Go: %v", err)
	}
	if c.ExecErr != 0 {
		t.Fatalf("exec error %v", c.ExecErr)
	}
	out := make([]byte, 100)
	n, _ := r.Read(out)
	if got := string(out[:n]); got != "hello\n" {
		t.Fatalf("output = %q, want %q", got, "hello\n")
	}
	if st := wait(t, c.Pidfd); st.Code != 0 {
		t.Fatalf("exit status = %v", st.Code)
	}
}

func TestSpawnMissingCommand(t *testing.T) {
	r, w, _ := os.Pipe()
	defer r.Close()
	c, err := Start(&Plan{
		Path: "no-such-command-xyz", SearchPath: "/usr/bin:/bin", Argv: []string{"x"},
		Stdio: [3]int{-1, -1, int(w.Fd())}, RulesetFD: -1,
	})
	w.Close()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := c.Go(); err != nil {
		t.Fatalf("Go: %v", err)
	}
	if c.ExecErr != unix.ENOENT {
		t.Fatalf("ExecErr = %v, want ENOENT", c.ExecErr)
	}
	out := make([]byte, 200)
	n, _ := r.Read(out)
	if !strings.Contains(string(out[:n]), "No such file or directory") {
		t.Fatalf("stderr = %q", out[:n])
	}
	if st := wait(t, c.Pidfd); st.Code != 127 {
		t.Fatalf("exit status = %v, want 127", st.Code)
	}
}

func TestSpawnBadCwdFailsStep(t *testing.T) {
	_, err := Start(&Plan{Path: "/bin/true", Argv: []string{"true"}, Stdio: [3]int{-1, -1, -1}, RulesetFD: -1, Cwd: "/nonexistent-dir"})
	if err == nil || !strings.Contains(err.Error(), "chdir") {
		t.Fatalf("Start = %v, want chdir error", err)
	}
}
