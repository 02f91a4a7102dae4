package sandbox_test

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// TestProcessLimits checks the limits applied in the child: max_open_files
// (RLIMIT_NOFILE), no_coredump (RLIMIT_CORE 0, which the child cannot
// raise) and cpu_cores (affinity). Each has a control without the option,
// skipped only when the host already has the value the option sets.
func TestProcessLimits(t *testing.T) {
	var nofile, core unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile); err != nil {
		t.Fatal(err)
	}
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &core); err != nil {
		t.Fatal(err)
	}
	var affinity unix.CPUSet
	if err := unix.SchedGetaffinity(0, &affinity); err != nil {
		t.Fatal(err)
	}
	var hostCpus string
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Cpus_allowed_list:") {
			hostCpus = line
		}
	}
	rlim := func(v uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	tests := []struct {
		name   string
		set    func(p *policy.Policy)
		script string
		want   string
		skip   string // reason the control cannot differ, or ""
	}{
		{
			name:   "max_open_files 16",
			set:    func(p *policy.Policy) { p.MaxOpenFiles = 16 },
			script: "ulimit -n; ulimit -Hn",
			want:   "16\n16\n",
		},
		{
			// The same mechanism with a limit above the host's fd count.
			name:   "max_open_files 256",
			set:    func(p *policy.Policy) { p.MaxOpenFiles = 256 },
			script: "ulimit -n; ulimit -Hn",
			want:   "256\n256\n",
		},
		{
			name:   "max_open_files 16/control: unset",
			script: "ulimit -n; ulimit -Hn",
			want:   rlim(nofile.Cur) + "\n" + rlim(nofile.Max) + "\n",
			skip:   map[bool]string{true: "the host's RLIMIT_NOFILE is already 16"}[nofile.Cur == 16 && nofile.Max == 16],
		},
		{
			name:   "no_coredump",
			set:    func(p *policy.Policy) { p.NoCoredump = true },
			script: "ulimit -c; ulimit -Hc; ulimit -c unlimited 2>/dev/null; ulimit -c",
			want:   "0\n0\n0\n",
		},
		{
			name:   "no_coredump/control: unset",
			script: "ulimit -c; ulimit -Hc; ulimit -c " + rlim(core.Max) + " 2>/dev/null; ulimit -c",
			want:   rlim(core.Cur) + "\n" + rlim(core.Max) + "\n" + rlim(core.Max) + "\n",
			skip:   map[bool]string{true: "the host's RLIMIT_CORE hard limit is already 0"}[core.Max == 0],
		},
		{
			name:   "cpu_cores [0]",
			set:    func(p *policy.Policy) { p.CPUCores = []int{0} },
			script: "grep Cpus_allowed_list: /proc/self/status",
			want:   "Cpus_allowed_list:\t0\n",
		},
		{
			name:   "cpu_cores [0]/control: unset",
			script: "grep Cpus_allowed_list: /proc/self/status",
			want:   hostCpus + "\n",
			skip:   map[bool]string{true: "this process may only run on CPU 0"}[affinity.Count() == 1 && affinity.IsSet(0)],
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			p, _ := basePolicy(t)
			p.FsReadable = append(p.FsReadable, "/proc")
			if tc.set != nil {
				tc.set(&p)
			}
			argv := []string{"/bin/sh", "-c", tc.script}
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, 0)
			if string(res.Stdout) != tc.want {
				t.Errorf("Run(%q) stdout = %q, want %q", argv, res.Stdout, tc.want)
			}
		})
	}
}

// TestHostFdsNotInherited opens a file and a directory in the host without
// close-on-exec and checks that the sandboxed program sees only 0, 1 and 2.
// The control execs the same probe from the host, which inherits them.
func TestHostFdsNotInherited(t *testing.T) {
	p, w := basePolicy(t)
	p.FsReadable = append(p.FsReadable, "/proc")
	f := filepath.Join(w, "host-file")
	writeFile(t, f, "host-canary")
	var leaked []string
	for _, path := range []string{f, w} {
		fd, err := syscall.Open(path, syscall.O_RDONLY, 0) // no O_CLOEXEC on purpose
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		leaked = append(leaked, strconv.Itoa(fd))
	}
	argv := probe(t, "fds")
	res := run(t, p, argv, sandbox.Options{})
	wantExit(t, argv, res, 0)
	if got := strings.TrimSpace(string(res.Stdout)); got != "0 1 2" {
		t.Errorf("Run(%q) open fds = %q, want \"0 1 2\" (host fds %v must not leak)", argv, got, leaked)
	}

	t.Run("control: host exec inherits them", func(t *testing.T) {
		code, out, stderr := hostRun(t, argv...)
		if code != 0 {
			t.Fatalf("host %q exit = %d; stderr %q", argv, code, stderr)
		}
		fds := strings.Fields(out)
		for _, fd := range leaked {
			if !slices.Contains(fds, fd) {
				t.Errorf("host %q open fds = %q, want them to include the inheritable fd %s", argv, fds, fd)
			}
		}
	})
}

// TestTCPConnect checks the Landlock TCP rules against a loopback listener
// the test owns, counting the connections it accepts: without net_connect
// (or with another port listed) connect fails with EACCES and nothing
// arrives; with the port listed, the connection is accepted.
func TestTCPConnect(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	other := port + 1
	if port == 65535 {
		other = port - 1
	}
	tests := []struct {
		name    string
		connect []uint16
		want    int
	}{
		{name: "no net_connect", want: int(syscall.EACCES)},
		{name: "another port listed", connect: []uint16{other}, want: int(syscall.EACCES)},
		{name: "control: port listed", connect: []uint16{port}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := basePolicy(t)
			p.NetConnect = tc.connect
			before := accepted.Load()
			argv := probe(t, "connect", strconv.Itoa(int(port)))
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, tc.want)
			wantConns := int64(0)
			if tc.want == 0 {
				wantConns = 1
			}
			eventually(time.Second, func() bool { return accepted.Load()-before >= wantConns })
			if tc.want != 0 {
				time.Sleep(100 * time.Millisecond)
			}
			if got := accepted.Load() - before; got != wantConns {
				t.Errorf("Run(%q) with net_connect %v: listener accepted %d connections, want %d", argv, tc.connect, got, wantConns)
			}
		})
	}
}
