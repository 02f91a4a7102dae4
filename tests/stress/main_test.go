// Package stress holds the reliability and load tests of attacks.md
// section 4: long runs of sequential sandboxes with a leak check, many
// concurrent sandboxes, SIGKILL storms in the middle of notified system
// calls, fork bombs under max_processes and the death of the host.
//
// The default sizes fit CI (a few tens of seconds); SANDLOCK_SOAK=1 (make
// soak) multiplies counts and durations. Memory-hog containment waits for
// max_memory and is listed as pending at the end of every run.
package stress

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/internal/testprobe"
)

//go:embed testdata/load.c
var loadSource []byte

// workload is the C program the stress runs start in their sandboxes.
var workload = &testprobe.Probe{Name: "load", Source: loadSource, What: "the workload"}

// soak is set by make soak.
var soak = os.Getenv("SANDLOCK_SOAK") != ""

// scale returns ci, or soakValue under make soak.
func scale[T any](ci, soakValue T) T {
	if soak {
		return soakValue
	}
	return ci
}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	// A private TMPDIR: the leak checks count the library's temporary
	// entries, and the other packages' tests, which go test runs at the
	// same time, create and remove theirs in the shared /tmp.
	tmp, err := os.MkdirTemp("", "sandlock-stress-tmp-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "stress: private TMPDIR:", err)
		os.Exit(1)
	}
	os.Setenv("TMPDIR", tmp)
	code := workload.Main(m, "sandlock-stress-")
	os.RemoveAll(tmp)
	if !maxMemoryImplemented() {
		fmt.Println("stress: pending: memory-hog containment (attacks.md 4.2) needs max_memory")
	}
	os.Exit(code)
}

// maxMemoryImplemented reports whether policy.Validate accepts max_memory.
func maxMemoryImplemented() bool {
	p := policy.Default()
	p.MaxMemory = 64 << 20
	return !errors.Is(p.Validate(), policy.ErrNotImplemented)
}

func load(t *testing.T, args ...string) []string {
	t.Helper()
	return workload.Argv(t, args...)
}

var existing = testprobe.Existing

// basePolicy grants the system trees and the workload, and a fresh
// world-writable directory, which it returns.
func basePolicy(t *testing.T) (policy.Policy, string) {
	t.Helper()
	return testprobe.BasePolicy(t, workload.Dir)
}

// counts is the host's resource use the leak checks compare.
type counts struct {
	fds, threads, goroutines, zombies int
	rssKiB                            int
	temp                              string
}

func (c counts) String() string {
	return fmt.Sprintf("fds %d, threads %d, goroutines %d, zombie children %d, RSS %d KiB, temp entries [%s]",
		c.fds, c.threads, c.goroutines, c.zombies, c.rssKiB, c.temp)
}

func hostCounts(t *testing.T) counts {
	t.Helper()
	debug.FreeOSMemory()
	var c counts
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	c.fds = len(ents) - 1 // the directory's own descriptor
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			c.threads, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			c.rssKiB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	c.goroutines = runtime.NumGoroutine()
	c.zombies = zombieChildren()
	var temp []string
	if ents, err := os.ReadDir(os.TempDir()); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "sandlock-") && !strings.HasPrefix(e.Name(), "sandlock-stress-") &&
				!strings.HasPrefix(e.Name(), "sandlock-security-") && !strings.HasPrefix(e.Name(), "sandlock-probe-") &&
				!strings.HasPrefix(e.Name(), "sandlock-ci") {
				temp = append(temp, e.Name())
			}
		}
	}
	c.temp = strings.Join(temp, " ")
	return c
}

// zombieChildren counts this process's children that exited and were not
// reaped.
func zombieChildren() int {
	self := strconv.Itoa(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 1 && f[0] == "Z" && f[1] == self {
			n++
		}
	}
	return n
}

// settled polls until the counts are back to base (threads within
// slack), for up to d, and returns the last counts.
func settled(t *testing.T, base counts, threadSlack int, d time.Duration) counts {
	t.Helper()
	var c counts
	deadline := time.Now().Add(d)
	for {
		c = hostCounts(t)
		if c.fds <= base.fds && c.goroutines <= base.goroutines && c.threads <= base.threads+threadSlack &&
			c.zombies == 0 && c.temp == base.temp {
			return c
		}
		if time.Now().After(deadline) {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkLeaks compares c with base: descriptors, goroutines, zombies and
// temporary entries exactly, threads within the Go runtime's slack (it
// never ends idle Ms, golang/go#14592), RSS within rssSlackKiB.
func checkLeaks(t *testing.T, what string, base, c counts, threadSlack, rssSlackKiB int) {
	t.Helper()
	t.Logf("%s: before %v; after %v", what, base, c)
	if c.fds != base.fds {
		t.Errorf("%s: open descriptors %d, want %d", what, c.fds, base.fds)
	}
	if c.goroutines != base.goroutines {
		t.Errorf("%s: goroutines %d, want %d", what, c.goroutines, base.goroutines)
	}
	if c.threads > base.threads+threadSlack {
		t.Errorf("%s: OS threads %d, want at most %d (baseline %d + runtime slack %d)", what, c.threads, base.threads+threadSlack, base.threads, threadSlack)
	}
	if c.zombies != 0 {
		t.Errorf("%s: %d unreaped children", what, c.zombies)
	}
	if c.temp != base.temp {
		t.Errorf("%s: temporary entries [%s], want [%s]", what, c.temp, base.temp)
	}
	if rssSlackKiB > 0 && c.rssKiB > base.rssKiB+rssSlackKiB {
		t.Errorf("%s: RSS %d KiB, want at most %d KiB (baseline %d + %d)", what, c.rssKiB, base.rssKiB+rssSlackKiB, base.rssKiB, rssSlackKiB)
	}
}
