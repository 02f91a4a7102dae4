package security

// Signals and process-group escapes (attacks.md 1.7). The timeout path
// with a setsid'ed grandchild is core/sandbox TestTimeoutKillsGrandchild.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"golang.org/x/sys/unix"
)

// TestSIG01KillHost: every way to signal a host process (a sleep in its
// own process group) and the host itself (signal 0 only: a probe).
func TestSIG01KillHost(t *testing.T) {
	modes := []string{"kill", "killpg", "tgkill", "sigqueue", "pidfd"}
	winch := make(chan os.Signal, 8)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	t.Run("SIG-01/attack: signal host processes", func(t *testing.T) {
		attack(t, "SIG-01")
		p, _ := basePolicy(t)
		for _, pol := range []policy.Policy{p, fsDenyActive(t, p)} {
			v := newVictim(t)
			for _, m := range modes {
				wantCode(t, inSandbox(t, pol, sandbox.Options{}, "kill", m, v.pidString()), unix.EPERM)
			}
			v.alive(t)
			wantCode(t, inSandbox(t, pol, sandbox.Options{}, "kill", "probe0", strconv.Itoa(os.Getpid())), unix.EPERM)
			// The host (this process) as the canary of the signal
			// SIGWINCH, harmless to everyone: directly and through
			// kill(-1), run only now that the scope was seen to work.
			wantCode(t, inSandbox(t, pol, sandbox.Options{}, "kill", "winch", strconv.Itoa(os.Getpid())), unix.EPERM)
			_ = inSandbox(t, pol, sandbox.Options{}, "kill", "allwinch", "0")
			select {
			case <-winch:
				t.Error("the host received SIGWINCH from the sandbox")
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	t.Run("SIG-01/control: the same from the host", func(t *testing.T) {
		control(t, "SIG-01")
		for _, m := range modes {
			v := newVictim(t)
			wantCode(t, onHost(t, hostOpts{}, "kill", m, v.pidString()), 0)
			if m == "killpg" {
				if !eventually(time.Second, func() bool { return v.state() == "T" }) {
					t.Errorf("killpg: victim state %q, want T (stopped)", v.state())
				}
			} else if !v.dead(2 * time.Second) {
				t.Errorf("%s: the victim survived", m)
			}
		}
		wantCode(t, onHost(t, hostOpts{}, "kill", "probe0", strconv.Itoa(os.Getpid())), 0)
		wantCode(t, onHost(t, hostOpts{}, "kill", "winch", strconv.Itoa(os.Getpid())), 0)
		select {
		case <-winch:
		case <-time.After(2 * time.Second):
			t.Error("the host did not receive SIGWINCH from a host process")
		}
	})
}

// TestSIG02SigIO: a socket whose owner is a host process gets SIGIO on
// I/O; SIGIO's default action kills the victim.
func TestSIG02SigIO(t *testing.T) {
	modes := []string{"setown", "setown_ex", "fiosetown", "siocspgrp"}
	t.Run("SIG-02/attack: SIGIO to a host process", func(t *testing.T) {
		attack(t, "SIG-02")
		p, _ := basePolicy(t)
		for _, m := range modes {
			v := newVictim(t)
			r := inSandbox(t, p, sandbox.Options{}, "sigio", m, v.pidString())
			if r.signal != 0 {
				t.Errorf("%v", r)
			}
			v.alive(t)
		}
	})
	t.Run("SIG-02/control: the same from the host", func(t *testing.T) {
		control(t, "SIG-02")
		for _, m := range modes {
			v := newVictim(t)
			wantCode(t, onHost(t, hostOpts{}, "sigio", m, v.pidString()), 0)
			if !v.dead(2*time.Second) || v.ws.Signal() != syscall.SIGIO {
				t.Errorf("%s: the victim did not die of SIGIO (%v)", m, v.ws)
			}
		}
	})
}

// daemonScript starts a double-forked, setsid'ed sleep whose pid it writes
// to pidFile, then the main process sleeps.
func daemonScript(pidFile string) []string {
	return []string{"/bin/sh", "-c", "setsid /bin/sh -c 'sleep 300 </dev/null >/dev/null 2>&1 & echo $! > " + pidFile + "' ; exec sleep 300"}
}

func waitPidFile(t *testing.T, path string) int {
	t.Helper()
	var pid int
	if !eventually(5*time.Second, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		// Wait for the exec too: until then the daemon is a shell.
		_, comm := procState(pid)
		return err == nil && pid > 1 && comm == "sleep"
	}) {
		t.Fatalf("no pid in %s", path)
	}
	return pid
}

// gone reports whether pid is dead (gone, a zombie, or reused by another
// program) within d.
func gone(pid int, d time.Duration) bool {
	return eventually(d, func() bool {
		st, comm := procState(pid)
		return st == "" || st == "Z" || comm != "sleep"
	})
}

// TestSIG03DoubleFork: a daemon that left the process group and the
// session must still die with Kill, within a second, with and without
// process accounting (which notifies forks).
func TestSIG03DoubleFork(t *testing.T) {
	t.Run("SIG-03/attack: setsid double-fork survives Kill", func(t *testing.T) {
		attack(t, "SIG-03")
		for _, maxProcs := range []int{64, 0} {
			p, w := basePolicy(t)
			p.MaxProcesses = maxProcs
			pidFile := filepath.Join(w, "daemon.pid")
			sb, err := sandbox.Spawn(p, daemonScript(pidFile), sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Null(), Stderr: sandbox.Null()})
			if err != nil {
				t.Fatal(err)
			}
			pid := waitPidFile(t, pidFile)
			time.Sleep(100 * time.Millisecond)
			start := time.Now()
			if err := sb.Kill(); err != nil {
				t.Errorf("Kill: %v", err)
			}
			if _, ok, _ := sb.WaitTimeout(5 * time.Second); !ok {
				t.Errorf("max_processes %d: Wait did not return 5s after Kill", maxProcs)
			}
			if !gone(pid, time.Second-time.Since(start)) {
				t.Errorf("max_processes %d: daemon %d alive 1s after Kill", maxProcs, pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	t.Run("SIG-03/control: a process-group kill misses it", func(t *testing.T) {
		control(t, "SIG-03")
		w := tempDir(t)
		pidFile := filepath.Join(w, "daemon.pid")
		argv := daemonScript(pidFile)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := waitPidFile(t, pidFile)
		defer syscall.Kill(pid, syscall.SIGKILL)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if gone(pid, 300*time.Millisecond) {
			t.Errorf("the daemon died with its process group: the attack proves nothing")
		}
	})
}

// Host death (SIG-04) needs a host to kill: the test binary re-executed
// with helperEnv set becomes a host that spawns one sandbox and waits.
const (
	helperEnv  = "SANDLOCK_SECURITY_HOST"
	markerEnv  = "SANDLOCK_SECURITY_MARKER"
	helperArgv = "SANDLOCK_SECURITY_HOST_ARGV"
)

// helperMain is the host: it spawns the command in helperArgv (fields)
// with the marker in its environment, prints "ready PID" and waits to be
// killed (at most a minute).
func helperMain() int {
	p := policy.Default()
	p.FsReadable = systemDirs
	p.Env = map[string]string{markerEnv: os.Getenv(helperEnv)}
	argv := strings.Split(os.Getenv(helperArgv), "\x1f")
	sb, err := sandbox.Spawn(p, argv, sandbox.Options{Stdin: sandbox.Null(), Stdout: sandbox.Null(), Stderr: sandbox.Null()})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Printf("ready %d\n", sb.Pid())
	time.Sleep(time.Minute)
	return 0
}

// markedPids scans /proc for processes whose environment holds marker.
func markedPids(marker string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		if strings.Contains(string(b), markerEnv+"="+marker) {
			if st, _ := procState(pid); st != "Z" && st != "" {
				out = append(out, pid)
			}
		}
	}
	return out
}

// startHelper runs a helper host for argv and waits for its "ready".
func startHelper(t *testing.T, marker string, argv ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), helperEnv+"="+marker, helperArgv+"="+strings.Join(argv, "\x1f"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		for _, pid := range markedPids(marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		t.Fatalf("helper host: %q, %v", line, err)
	}
	return cmd
}

// TestSIG04HostDeath: the host running the supervisor is killed with
// SIGKILL; within a second no process of the sandbox may remain (the
// direct child: PR_SET_PDEATHSIG). Descendants are pending (catalogue).
func TestSIG04HostDeath(t *testing.T) {
	t.Run("SIG-04/attack: outlive the host", func(t *testing.T) {
		attack(t, "SIG-04")
		marker := secret("sig04")
		cmd := startHelper(t, marker, "/bin/sleep", "300")
		if n := len(markedPids(marker)); n != 1 {
			t.Fatalf("%d sandbox processes before the kill, want 1", n)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		var left []int
		if !eventually(time.Second, func() bool { left = markedPids(marker); return len(left) == 0 }) {
			t.Errorf("sandbox processes %v alive 1s after the host was killed", left)
		}
	})
	t.Run("SIG-04/control: the sandbox lives while its host does", func(t *testing.T) {
		control(t, "SIG-04")
		marker := secret("sig04")
		startHelper(t, marker, "/bin/sleep", "300")
		time.Sleep(300 * time.Millisecond)
		if n := len(markedPids(marker)); n != 1 {
			t.Errorf("%d marked processes while the host lives, want 1 (the scan must see it)", n)
		}
	})
}
