package seccomp

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe" // only to pass &sock_fprog to seccomp(2)

	"golang.org/x/sys/unix"
)

// installConfigs are the configurations BenchmarkInstall and BenchmarkBuild
// measure: the default program, one shaped like what core/sandbox builds for
// a sandbox with process accounting, captured output and fs_denied, and a
// short allowlist.
var installConfigs = map[string]Config{
	"default": {},
	"sandbox": {
		NotifyForks: true, NotifyPidTargets: true, CapturedTTY: true,
		Notify: []string{
			"open", "creat", "openat", "openat2", "rename", "renameat", "renameat2", "link", "linkat",
			"symlink", "symlinkat", "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat", "mknod", "mknodat",
			"truncate", "execve", "execveat",
		},
	},
	"allowlist": {Allow: []string{
		"brk", "mmap", "munmap", "mprotect", "openat", "fstat", "newfstatat", "lseek", "pread64",
		"getpid", "gettid", "getuid", "getgid", "geteuid", "getegid", "uname", "arch_prctl",
		"set_tid_address", "set_robust_list", "rseq", "prlimit64", "getrandom", "futex", "clone",
		"wait4", "ioctl", "fcntl", "dup", "dup2", "dup3", "pipe2", "madvise", "sigaltstack",
	}},
}

// BenchmarkInstall measures what the sandbox child pays for
// seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog): the kernel checks the
// program, converts and JIT-compiles it, and emulates it for every syscall
// number to build its action cache (seccomp_cache_prepare). "floor" is a
// one-instruction RET ALLOW program: the fixed cost of the call. Every
// sample is the first filter of a fresh re-executed test process, as in the
// sandbox: a stacked filter is only emulated for the numbers the filters
// below it still allow, which would flatter the measurement. Process
// start-up is not counted; the result is reported as ns/install, with the
// program's length as insns.
func BenchmarkInstall(b *testing.B) {
	if native == nil {
		b.Skip("no syscall table for this GOARCH")
	}
	for _, name := range []string{"floor", "default", "sandbox", "allowlist"} {
		b.Run(name, func(b *testing.B) {
			p, err := installProgram(name)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			var total time.Duration
			for range b.N {
				d, err := runInstallChild(name)
				if err != nil {
					b.Fatal(err)
				}
				total += d
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/install")
			b.ReportMetric(float64(len(p.Instructions)), "insns")
		})
	}
}

// installProgram builds the program BenchmarkInstall names.
func installProgram(name string) (*Program, error) {
	if name == "floor" {
		return &Program{Instructions: []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: retAllow}}}, nil
	}
	c, ok := installConfigs[name]
	if !ok {
		return nil, fmt.Errorf("unknown install configuration %q", name)
	}
	return Build(c)
}

// runInstallChild re-executes the test binary to install the named
// configuration's filter and returns the duration of the call.
func runInstallChild(name string) (time.Duration, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestKernelFilter$", "-test.bench=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=install:"+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("install child: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "INSTALL_NS "); ok {
			ns, err := strconv.ParseInt(v, 10, 64)
			return time.Duration(ns), err
		}
	}
	return 0, fmt.Errorf("install child printed no result\n%s", out)
}

// installChild is the child role of BenchmarkInstall, mode
// "install:<config>". It prints "INSTALL_NS <duration>" on stdout.
func installChild(t *testing.T, mode string) {
	// The filter attaches to this thread only; it dies with the test.
	runtime.LockOSThread()
	p, err := installProgram(strings.TrimPrefix(mode, "install:"))
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatalf("prctl(PR_SET_NO_NEW_PRIVS) = %v", err)
	}
	fprog := p.SockFprog()
	start := time.Now()
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(fprog)))
	d := time.Since(start)
	runtime.KeepAlive(p)
	if e != 0 {
		t.Fatalf("seccomp(SECCOMP_SET_MODE_FILTER) = %v", e)
	}
	fmt.Printf("INSTALL_NS %d\n", d.Nanoseconds())
}

// BenchmarkBuild measures Build for the configurations of BenchmarkInstall.
func BenchmarkBuild(b *testing.B) {
	if native == nil {
		b.Skip("no syscall table for this GOARCH")
	}
	for _, name := range []string{"default", "sandbox", "allowlist"} {
		b.Run(name, func(b *testing.B) {
			c := installConfigs[name]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
