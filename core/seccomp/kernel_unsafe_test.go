package seccomp

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe" // only to pass &sock_fprog to seccomp(2), as the C stub will

	"golang.org/x/sys/unix"
)

// childEnv selects the child role of TestKernelFilter in a re-executed test
// binary; its value names the scenario.
const childEnv = "SANDLOCK_SECCOMP_TEST_CHILD"

// TestKernelFilter installs the default program in a re-executed test
// process and checks that the kernel answers as the interpreter does. The
// filter is installed without a listener (Notify is empty) on one locked
// thread; the rest of the Go runtime keeps running unfiltered, and the
// default-allow filter admits everything the runtime needs anyway. Every
// probe is paired with its result before the filter (the control), and
// uses bad pointers or a bad fd so that it has no side effect.
func TestKernelFilter(t *testing.T) {
	if mode := os.Getenv(childEnv); mode != "" {
		if strings.HasPrefix(mode, "install:") {
			installChild(t, mode) // BenchmarkInstall
			return
		}
		kernelChild(t, mode)
		return
	}
	if native == nil {
		t.Skip("no syscall table for this GOARCH")
	}
	tests := []struct {
		name       string
		mode       string
		wantSignal syscall.Signal // 0: the child must exit 0
	}{
		{"verdicts", "verdicts", 0},
		{"x32 number killed", "x32", syscall.SIGSYS},
		{"trampolines", "trampolines", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mode == "x32" && native != archAMD64 {
				t.Skip("x32 exists only on x86_64")
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestKernelFilter$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+tt.mode)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case tt.wantSignal == 0 && err != nil:
				t.Fatalf("child %s: %v\n%s", tt.mode, err, out)
			case tt.wantSignal != 0:
				if !errors.As(err, &exit) {
					t.Fatalf("child %s = %v, want killed by %v\n%s", tt.mode, err, tt.wantSignal, out)
				}
				ws := exit.Sys().(syscall.WaitStatus)
				if !ws.Signaled() || ws.Signal() != tt.wantSignal {
					t.Fatalf("child %s exit = %v, want killed by %v\n%s", tt.mode, ws, tt.wantSignal, out)
				}
				if !strings.Contains(string(out), "filter installed") {
					t.Fatalf("child %s died before installing the filter\n%s", tt.mode, out)
				}
			}
			t.Logf("child %s:\n%s", tt.mode, out)
		})
	}
}

// probe is one raw syscall made before and after the filter is installed.
type probe struct {
	name   string
	call   func() (uintptr, unix.Errno)
	before unix.Errno // expected errno without the filter (0: success); skipped when noControl
	after  unix.Errno // expected errno under the filter (0: success)
	// noControl skips the unfiltered call, for probes whose success would
	// change the process.
	noControl bool
}

func sys3(nr, a0, a1, a2 uintptr) func() (uintptr, unix.Errno) {
	return func() (uintptr, unix.Errno) {
		r, _, e := unix.Syscall(nr, a0, a1, a2)
		return r, e
	}
}

func sys6(nr, a0, a1, a2, a3, a4, a5 uintptr) func() (uintptr, unix.Errno) {
	return func() (uintptr, unix.Errno) {
		r, _, e := unix.Syscall6(nr, a0, a1, a2, a3, a4, a5)
		return r, e
	}
}

func errnoName(e unix.Errno) string {
	if e == 0 {
		return "success"
	}
	return unix.ErrnoName(e)
}

// runProbe calls p and closes the fd a successful socket call returns.
func runProbe(t *testing.T, p probe, phase string, want unix.Errno) {
	t.Helper()
	r, e := p.call()
	if e != want {
		t.Errorf("%s %s = %s, want %s", phase, p.name, errnoName(e), errnoName(want))
	}
	if e == 0 && strings.HasPrefix(p.name, "socket(") {
		unix.Close(int(r))
	}
}

func installFilter(t *testing.T, c Config) {
	t.Helper()
	p, err := Build(c)
	if err != nil {
		t.Fatalf("Build(%+v) = %v", c, err)
	}
	installProg(t, p)
}

func installProg(t *testing.T, p *Program) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatalf("prctl(PR_SET_NO_NEW_PRIVS) = %v", err)
	}
	fprog := p.SockFprog()
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(fprog))); e != 0 {
		t.Fatalf("seccomp(SECCOMP_SET_MODE_FILTER, 0, %d instructions) = %v", len(p.Instructions), e)
	}
	runtime.KeepAlive(p)
	t.Logf("filter installed: %d instructions", len(p.Instructions))
}

func kernelChild(t *testing.T, mode string) {
	// The filter attaches to this thread only (no TSYNC); keep the test on
	// it and never unlock, so the thread dies with the goroutine.
	runtime.LockOSThread()
	const badFd = ^uintptr(0) // -1
	const highBit = uintptr(1) << 32

	switch mode {
	case "x32":
		// A killed Go test binary must not leave a core file behind.
		if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
			t.Fatalf("setrlimit(RLIMIT_CORE) = %v", err)
		}
		installFilter(t, Config{})
		// Without the filter this is ENOSYS here (CONFIG_X86_X32_ABI
		// is off, attacks.md 0); with it the process must die.
		_, _, e := unix.Syscall(x32SyscallBit|unix.SYS_GETPID, 0, 0, 0)
		t.Fatalf("x32 getpid returned %v, want the process killed", e)
	case "verdicts":
		probes := []probe{
			{name: "mount(NULL, NULL, NULL, 0, NULL)", call: sys6(unix.SYS_MOUNT, 0, 0, 0, 0, 0, 0), before: unix.EFAULT, after: unix.EPERM},
			{name: "clone3(NULL, 0)", call: sys3(unix.SYS_CLONE3, 0, 0, 0), before: unix.EINVAL, after: unix.ENOSYS},
			{name: "socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP)", call: sys3(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_MPTCP), before: 0, after: unix.EPERM},
			{name: "socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_MPTCP)", call: sys3(unix.SYS_SOCKET, unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_MPTCP), before: 0, after: unix.EPERM},
			{name: "socket(AF_INET, SOCK_STREAM, 0)", call: sys3(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, 0), before: 0, after: 0},
			{name: "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)", call: sys3(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP), before: 0, after: 0},
			{name: "socket(AF_PACKET, SOCK_RAW, 0)", call: sys3(unix.SYS_SOCKET, unix.AF_PACKET, unix.SOCK_RAW, 0), noControl: true, after: unix.EPERM},
			{name: "ioctl(-1, TIOCSTI|1<<32, NULL)", call: sys3(unix.SYS_IOCTL, badFd, unix.TIOCSTI|highBit, 0), before: unix.EBADF, after: unix.EPERM},
			{name: "ioctl(-1, TIOCSTI, NULL)", call: sys3(unix.SYS_IOCTL, badFd, unix.TIOCSTI, 0), before: unix.EBADF, after: unix.EPERM},
			{name: "ioctl(-1, TCGETS, NULL)", call: sys3(unix.SYS_IOCTL, badFd, unix.TCGETS, 0), before: unix.EBADF, after: unix.EBADF},
			{name: "prlimit64(getppid(), RLIMIT_NOFILE, NULL, NULL)", call: sys6(unix.SYS_PRLIMIT64, uintptr(os.Getppid()), unix.RLIMIT_NOFILE, 0, 0, 0, 0), before: 0, after: unix.EPERM},
			{name: "prlimit64(0, RLIMIT_NOFILE, NULL, NULL)", call: sys6(unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, 0, 0, 0, 0), before: 0, after: 0},
			{name: "personality(0xffffffff)", call: sys3(unix.SYS_PERSONALITY, 0xffffffff, 0, 0), before: 0, after: 0},
			{name: "personality(READ_IMPLIES_EXEC)", call: sys3(unix.SYS_PERSONALITY, 0x0400000, 0, 0), noControl: true, after: unix.EPERM},
			{name: "getpid()", call: sys3(unix.SYS_GETPID, 0, 0, 0), before: 0, after: 0},
		}
		for _, p := range probes {
			if !p.noControl {
				runProbe(t, p, "unfiltered", p.before)
			}
		}
		installFilter(t, Config{})
		for _, p := range probes {
			runProbe(t, p, "filtered", p.after)
		}
	case "trampolines":
		// A long program of one synthetic snippet per number, which
		// allows everything but a magic first argument (dispatch_test.go):
		// the kernel must accept its JA trampolines and agree with the
		// interpreter.
		p, s := trampolineProgram()
		ja := 0
		for _, f := range p.Instructions {
			if f.Code == opJa {
				ja++
			}
		}
		if ja == 0 {
			t.Fatalf("trampoline program of %d instructions has no JA", len(p.Instructions))
		}
		last := len(native.tables().byNr) - 1
		decide := decider(t, p)
		var probes []probe
		for _, c := range []struct {
			name  string
			nr    int
			magic bool
		}{
			{"getpid()", unix.SYS_GETPID, false},
			{"getppid()", unix.SYS_GETPPID, false},
			{"getpid(magic)", unix.SYS_GETPID, true},
			{"getppid(magic)", unix.SYS_GETPPID, true},
			{"getuid(magic)", unix.SYS_GETUID, true},
			{"read(magic)", unix.SYS_READ, true},
			{"last number(magic)", last, true},
		} {
			var arg0 uint64
			if c.magic {
				arg0 = magicHi<<32 | uint64(c.nr)
			}
			// The interpreter's verdict is the expectation.
			d := Data{Nr: int32(c.nr), Arch: p.Arch, Args: [6]uint64{arg0}}
			want := decide(d)
			if want != s.want(uint32(c.nr), arg0) {
				t.Fatalf("interpreter %s = %v, want %v", d, want, s.want(uint32(c.nr), arg0))
			}
			pr := probe{name: c.name, call: sys3(uintptr(c.nr), uintptr(arg0), 0, 0)}
			if e, ok := want.Errno(); ok {
				pr.after = e
			} else if want != ActionAllow || c.magic {
				t.Fatalf("interpreter %s = %v, want ALLOW or an errno", d, want)
			}
			probes = append(probes, pr)
		}
		installProg(t, p)
		t.Logf("%d JA trampolines", ja)
		for _, pr := range probes {
			runProbe(t, pr, "filtered", pr.after)
		}
	default:
		t.Fatalf("unknown child mode %q", mode)
	}
}
