package procindex

import (
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRegisterLookupExit(t *testing.T) {
	ix := New()
	defer ix.Close()
	exited := make(chan PidKey, 1)
	ix.OnExit = func(e *Entry) { exited <- e.Key }
	cmd := startSleep(t)
	pid := cmd.Process.Pid
	e, err := ix.Register(pid, unix.Getpid(), -1)
	if err != nil {
		t.Fatalf("Register(%d) = %v", pid, err)
	}
	if got := ix.Lookup(pid); got != e {
		t.Fatalf("Lookup(%d) = %v, want the registered entry", pid, got)
	}
	if again, _ := ix.Register(pid, unix.Getpid(), -1); again != e {
		t.Fatalf("second Register returned a new entry, want the same")
	}
	if n := ix.LiveCount(); n != 1 {
		t.Fatalf("LiveCount() = %d, want 1", n)
	}
	_ = cmd.Process.Kill()
	// Exact at once, even before the watcher runs and before reaping.
	eventually(t, "LiveCount 0", func() bool { return ix.LiveCount() == 0 })
	select {
	case k := <-exited:
		if k != e.Key {
			t.Fatalf("OnExit key = %v, want %v", k, e.Key)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("OnExit not called")
	}
	if ix.Has(pid) || ix.Len() != 0 {
		t.Fatalf("entry still present after exit: Has=%v Len=%d", ix.Has(pid), ix.Len())
	}
}

func TestRecycledPidReplacesEntry(t *testing.T) {
	ix := New()
	defer ix.Close()
	cmd := startSleep(t)
	pid := cmd.Process.Pid
	e, err := ix.Register(pid, 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	// Pretend the stored entry belonged to an older process with this pid.
	ix.mu.Lock()
	e.Key.Start--
	ix.mu.Unlock()
	e2, err := ix.Register(pid, 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	if e2 == e {
		t.Fatal("Register with a new start time returned the stale entry")
	}
	// The stale entry's watcher, woken by the replacement, must not
	// remove the fresh one.
	time.Sleep(20 * time.Millisecond)
	if ix.Lookup(pid) != e2 {
		t.Fatal("Lookup does not return the fresh entry")
	}
}

func TestSignalAndClose(t *testing.T) {
	ix := New()
	cmd := startSleep(t)
	if _, err := ix.Register(cmd.Process.Pid, 1, -1); err != nil {
		t.Fatal(err)
	}
	ix.Signal(unix.SIGKILL)
	err := cmd.Wait()
	if err == nil {
		t.Fatal("process survived Signal(SIGKILL)")
	}
	ix.Close()
	if _, err := ix.Register(unix.Getpid(), 1, -1); err != ErrClosed {
		t.Fatalf("Register after Close = %v, want ErrClosed", err)
	}
}

func TestPrune(t *testing.T) {
	ix := New()
	defer ix.Close()
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Register(cmd.Process.Pid, 1, -1); err != nil {
		t.Fatalf("Register of an unreaped child = %v", err)
	}
	_ = cmd.Wait()
	eventually(t, "pruned", func() bool { ix.Prune(); return ix.Len() == 0 })
}
