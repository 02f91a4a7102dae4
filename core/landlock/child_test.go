package landlock

// The confinement tests re-execute the test binary: a child that applies the
// ruleset the parent built, runs probes on the confined thread and prints
// one result per probe. Confining the test process itself would be
// irreversible and would leak into every later test.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	// childEnv switches TestMain into probe mode.
	childEnv = "SANDLOCK_LANDLOCK_TEST_CHILD"
	// probesEnv carries the JSON list of probes to run.
	probesEnv = "SANDLOCK_LANDLOCK_TEST_PROBES"
	// childRulesetFD is where exec.Cmd.ExtraFiles puts the ruleset.
	childRulesetFD = 3
	// ok is the result of a probe whose syscall succeeded.
	ok = "OK"
)

// probe is one action to try inside the sandbox and the result expected.
type probe struct {
	Op   string // see runProbe
	Path string `json:",omitempty"`
	To   string `json:",omitempty"` // rename target
	Port int    `json:",omitempty"`
	Pid  int    `json:",omitempty"`
	Want string `json:"-"` // "OK" or an errno name such as "EACCES"
}

func (p probe) String() string {
	switch {
	case p.Path != "" && p.To != "":
		return fmt.Sprintf("%s(%s, %s)", p.Op, p.Path, p.To)
	case p.Path != "":
		return fmt.Sprintf("%s(%s)", p.Op, p.Path)
	case p.Pid != 0:
		return fmt.Sprintf("%s(pid %d)", p.Op, p.Pid)
	default:
		return fmt.Sprintf("%s(port %d)", p.Op, p.Port)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

// childMain applies the ruleset on fd 3 to this thread, as the C stub does
// for the whole child (PR_SET_NO_NEW_PRIVS, then landlock_restrict_self
// with flags 0), and runs the probes on the same locked thread: without
// TSYNC the domain covers only the calling thread.
func childMain() int {
	runtime.LockOSThread()
	var probes []probe
	if err := json.Unmarshal([]byte(os.Getenv(probesEnv)), &probes); err != nil {
		fmt.Fprintln(os.Stderr, "child: bad probes:", err)
		return 2
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "child: prctl(PR_SET_NO_NEW_PRIVS):", err)
		return 2
	}
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, childRulesetFD, 0, 0); e != 0 {
		fmt.Fprintln(os.Stderr, "child: landlock_restrict_self:", e)
		return 2
	}
	results := make([]string, len(probes))
	for i, p := range probes {
		results[i] = errName(runProbe(p))
	}
	out, _ := json.Marshal(results)
	// unix.Write, not os.Stdout: stay on this thread with raw syscalls.
	if _, err := unix.Write(1, out); err != nil {
		return 2
	}
	return 0
}

func errName(err error) string {
	if err == nil {
		return ok
	}
	if e, isErrno := err.(unix.Errno); isErrno {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
	}
	return err.Error()
}

var loopback = [4]byte{127, 0, 0, 1}

// runProbe performs one probe with raw syscalls on the calling thread.
func runProbe(p probe) error {
	openClose := func(flags int, mode uint32) error {
		fd, err := unix.Open(p.Path, flags|unix.O_CLOEXEC, mode)
		if err == nil {
			unix.Close(fd)
		}
		return err
	}
	withSocket := func(domain int, use func(fd int) error) error {
		fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return use(fd)
	}
	switch p.Op {
	case "read":
		return openClose(unix.O_RDONLY, 0)
	case "readdir":
		return openClose(unix.O_RDONLY|unix.O_DIRECTORY, 0)
	case "write":
		return openClose(unix.O_WRONLY, 0)
	case "create":
		return openClose(unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o600)
	case "truncate":
		return unix.Truncate(p.Path, 0)
	case "mkdir":
		return unix.Mkdir(p.Path, 0o700)
	case "unlink":
		return unix.Unlink(p.Path)
	case "rename":
		return unix.Rename(p.Path, p.To)
	case "connect":
		return withSocket(unix.AF_INET, func(fd int) error {
			return unix.Connect(fd, &unix.SockaddrInet4{Port: p.Port, Addr: loopback})
		})
	case "bind":
		return withSocket(unix.AF_INET, func(fd int) error {
			return unix.Bind(fd, &unix.SockaddrInet4{Port: p.Port, Addr: loopback})
		})
	case "listen_unbound":
		return withSocket(unix.AF_INET, func(fd int) error {
			return unix.Listen(fd, 1)
		})
	case "connect_abstract":
		return withSocket(unix.AF_UNIX, func(fd int) error {
			// A leading '@' selects the abstract namespace.
			return unix.Connect(fd, &unix.SockaddrUnix{Name: "@" + p.Path})
		})
	case "kill":
		return unix.Kill(p.Pid, 0)
	case "kill_self":
		return unix.Kill(unix.Getpid(), 0)
	}
	return fmt.Errorf("unknown probe %q", p.Op)
}

// confine builds c with Build and checks every probe in a confined child.
func confine(t *testing.T, c Config, probes ...probe) {
	t.Helper()
	rs, err := Build(c)
	if err != nil {
		t.Fatalf("Build(%+v) = %v, want nil error", c, err)
	}
	defer rs.Close()
	checkProbes(t, rs, probes)
}

// checkProbes runs probes in a child confined by rs and compares results.
func checkProbes(t *testing.T, rs *Ruleset, probes []probe) {
	t.Helper()
	got := runChild(t, rs, probes)
	for i, p := range probes {
		if got[i] != p.Want {
			t.Errorf("%v = %s, want %s", p, got[i], p.Want)
		}
	}
}

func runChild(t *testing.T, rs *Ruleset, probes []probe) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := json.Marshal(probes)
	if err != nil {
		t.Fatal(err)
	}
	// ExtraFiles takes ownership of its *os.File, so hand it a duplicate
	// and leave rs.FD to rs.Close.
	dup, err := unix.FcntlInt(uintptr(rs.FD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(dup), "ruleset")
	defer f.Close()

	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"=1", probesEnv+"="+string(enc))
	cmd.ExtraFiles = []*os.File{f}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("confined child: %v, stderr: %s", err, strings.TrimSpace(stderr.String()))
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(probes) {
		t.Fatalf("confined child printed %q (%v), want %d results", out, err, len(probes))
	}
	return got
}

// loopbackAddr is 127.0.0.1:port for net.Listen.
func loopbackAddr(port int) string {
	return netip.AddrPortFrom(netip.AddrFrom4(loopback), uint16(port)).String()
}
