package sandbox_test

// Real-kernel tests of the file mediation every sandbox runs: /proc and
// /sys virtualisation, virtual files, hostname, the network-interface
// virtualisation, on-behalf getdents and creations. Each refusal has a
// control that shows the same operation succeeding outside the sandbox or
// under a policy that allows it.

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/internal/testprobe"
)

//go:embed testdata/filesprobe.c
var filesProbeSource []byte

var filesProbe = &testprobe.Probe{
	Name: "filesprobe", Source: filesProbeSource, What: "the files probe", Dynamic: true,
}

// fprobe returns the argv of the file-mediation probe for op.
func fprobe(t *testing.T, args ...string) []string {
	t.Helper()
	return filesProbe.ArgvIn(t, mainProbe.Dir, args...)
}

// procPolicy is basePolicy with /proc and /sys readable, so that what
// refuses an access is the mediation, not Landlock.
func procPolicy(t *testing.T) (policy.Policy, string) {
	t.Helper()
	p, w := basePolicy(t)
	p.FsReadable = append(p.FsReadable, "/proc", "/sys")
	return p, w
}

func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

// numeric returns the all-digit names among lines.
func numeric(lines string) []string {
	var out []string
	for _, l := range strings.Fields(lines) {
		if _, err := strconv.Atoi(l); err == nil {
			out = append(out, l)
		}
	}
	return out
}

func TestProcListing(t *testing.T) {
	p, _ := procPolicy(t)
	argv := sh("echo $$; ls /proc")
	res := run(t, p, argv, sandbox.Options{})
	wantExit(t, argv, res, 0)
	lines := strings.SplitN(string(res.Stdout), "\n", 2)
	if len(lines) != 2 {
		t.Fatalf("output %q", res.Stdout)
	}
	pids := numeric(lines[1])
	if !slices.Contains(pids, strings.TrimSpace(lines[0])) {
		t.Errorf("ls /proc = %v, want the shell's pid %s listed", pids, lines[0])
	}
	self := strconv.Itoa(os.Getpid())
	if slices.Contains(pids, "1") || slices.Contains(pids, self) || len(pids) > 4 {
		t.Errorf("ls /proc lists %v, want only the sandbox's processes (not 1 nor the host's %s)", pids, self)
	}
	if !strings.Contains(lines[1], "self") || !strings.Contains(lines[1], "cpuinfo") {
		t.Errorf("ls /proc = %q, want the non-process entries kept", lines[1])
	}
	t.Run("control: host", func(t *testing.T) {
		_, out, _ := hostRun(t, "ls", "/proc")
		if pids := numeric(out); !slices.Contains(pids, "1") || !slices.Contains(pids, self) {
			t.Errorf("host ls /proc = %v, want 1 and %s", pids, self)
		}
	})
	t.Run("legacy getdents", func(t *testing.T) {
		argv := fprobe(t, "list32", "/proc")
		res := run(t, p, argv, sandbox.Options{})
		wantExit(t, argv, res, 0)
		if pids := numeric(string(res.Stdout)); len(pids) == 0 || slices.Contains(pids, "1") || len(pids) > 4 {
			t.Errorf("getdents(/proc) pids = %v, want the sandbox's only", pids)
		}
	})
}

func TestProcOtherProcesses(t *testing.T) {
	enoent := int(syscall.ENOENT)
	host := strconv.Itoa(os.Getpid())
	tests := []struct {
		name   string
		cwd    string
		args   func(w string) []string
		want   int
		stdout string // a substring the output must hold
	}{
		{name: "pid 1", want: enoent, args: func(string) []string { return []string{"read", "/proc/1/cmdline"} }},
		{name: "host process environ", want: enoent, args: func(string) []string { return []string{"read", "/proc/" + host + "/environ"} }},
		{name: "host process directory", cwd: "/proc/" + host, want: enoent, args: func(string) []string { return []string{"read", "status"} }},
		{name: "through /proc/self/root", want: enoent, args: func(string) []string { return []string{"read", "/proc/self/root/proc/1/cmdline"} }},
		{name: "through a symlink", want: enoent, args: func(w string) []string { return []string{"read", filepath.Join(w, "to-init")} }},
		{name: "relative to a /proc dirfd", want: enoent, args: func(string) []string { return []string{"fdread", "/proc", "1/status"} }},
		{name: "relative to the cwd /proc", cwd: "/proc", want: enoent, args: func(string) []string { return []string{"read", "1/status"} }},
		{name: "own status", stdout: "Name:\tprobe", args: func(string) []string { return []string{"read", "/proc/self/status"} }},
		{name: "own status through /proc/self/root", stdout: "Name:\tprobe", args: func(string) []string { return []string{"read", "/proc/self/root/proc/self/status"} }},
		{name: "own status through a symlink", stdout: "Name:\tprobe", args: func(w string) []string { return []string{"read", filepath.Join(w, "to-self")} }},
		{name: "own status relative to a /proc dirfd", stdout: "Name:\tprobe", args: func(string) []string { return []string{"fdread", "/proc", "self/status"} }},
		{name: "own status relative to the cwd /proc", cwd: "/proc", stdout: "Name:\tprobe", args: func(string) []string { return []string{"read", "thread-self/status"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, w := procPolicy(t)
			if err := os.Symlink("/proc/1/cmdline", filepath.Join(w, "to-init")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/proc/self/status", filepath.Join(w, "to-self")); err != nil {
				t.Fatal(err)
			}
			p.Cwd = tc.cwd
			argv := probe(t, tc.args(w)...)
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, tc.want)
			if !strings.Contains(string(res.Stdout), tc.stdout) {
				t.Errorf("stdout = %q, want it to hold %q", res.Stdout, tc.stdout)
			}
			if tc.want != 0 && len(res.Stdout) != 0 {
				t.Errorf("stdout = %q, want nothing", res.Stdout)
			}
		})
	}
	t.Run("control: host reads pid 1 and the host process", func(t *testing.T) {
		for _, path := range []string{"/proc/1/cmdline", "/proc/" + host + "/environ"} {
			if code, _, stderr := hostRun(t, probe(t, "read", path)...); code != 0 {
				t.Errorf("host read %s exit = %d, %s", path, code, stderr)
			}
		}
	})
}

// TestProcSelfIsTheChild reads /proc/self in the child with a clean
// environment: the entries of the host's own environment (the supervisor
// runs in the host process) must never appear, whatever opens the file.
func TestProcSelfIsTheChild(t *testing.T) {
	hostEnv, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	canary, _, _ := strings.Cut(string(hostEnv), "\x00")
	if canary == "" {
		t.Fatal("the host's environment is empty")
	}
	for _, path := range []string{"/proc/self/environ", "/proc/thread-self/environ", "/proc/self/cmdline"} {
		t.Run(path, func(t *testing.T) {
			p, _ := procPolicy(t)
			p.CleanEnv = true
			p.Env = map[string]string{"CHILD_MARK": "child"}
			argv := probe(t, "read", path)
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, 0)
			if strings.Contains(string(res.Stdout), canary) {
				t.Errorf("%s holds the host's %q: %q", path, canary, res.Stdout)
			}
			want := "CHILD_MARK=child"
			if strings.HasSuffix(path, "cmdline") {
				want = "probe"
			}
			if !strings.Contains(string(res.Stdout), want) {
				t.Errorf("%s = %q, want the child's (%q)", path, res.Stdout, want)
			}
		})
	}
}

func TestSensitiveKernelFiles(t *testing.T) {
	eacces := int(syscall.EACCES)
	tests := []struct {
		op, path string
	}{
		{"read", "/proc/kallsyms"},
		{"read", "/proc/keys"},
		{"read", "/proc/key-users"},
		{"list", "/sys/class/net"},
		{"list", "/sys/devices/virtual/net"},
		{"list", "/sys/kernel/security"},
		{"list", "/sys/firmware"},
	}
	for _, tc := range tests {
		if _, err := os.Stat(tc.path); err != nil {
			continue
		}
		t.Run(tc.path, func(t *testing.T) {
			p, _ := procPolicy(t)
			args := []string{tc.op, tc.path}
			argv := probe(t, args...)
			if tc.op == "list" {
				argv = fprobe(t, args...)
			}
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, eacces)
			t.Run("control: host", func(t *testing.T) {
				if code, _, stderr := hostRun(t, argv...); code != 0 {
					t.Errorf("host %q exit = %d, %s", argv, code, stderr)
				}
			})
		})
	}
}

func TestSyntheticProcFiles(t *testing.T) {
	p, _ := procPolicy(t)
	argv := sh("cat /proc/loadavg /proc/uptime /proc/net/dev /proc/net/if_inet6")
	res := run(t, p, argv, sandbox.Options{})
	wantExit(t, argv, res, 0)
	lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	if len(lines) < 6 {
		t.Fatalf("output %q", res.Stdout)
	}
	var l1, l5, l15 float64
	var running, total, last int
	if n, err := fmt.Sscanf(lines[0], "%f %f %f %d/%d %d", &l1, &l5, &l15, &running, &total, &last); n != 6 || err != nil {
		t.Fatalf("loadavg %q: %v", lines[0], err)
	}
	if l1 >= 1 || total < 1 || total > 4 || last <= 0 {
		t.Errorf("loadavg = %q, want the sandbox's few processes", lines[0])
	}
	var up, idle float64
	if n, err := fmt.Sscanf(lines[1], "%f %f", &up, &idle); n != 2 || err != nil {
		t.Fatalf("uptime %q: %v", lines[1], err)
	}
	if up < 0 || up > 10 {
		t.Errorf("uptime = %q, want the sandbox's age (seconds)", lines[1])
	}
	var ifaces []string
	for _, l := range lines[2:] {
		if name, _, ok := strings.Cut(l, ":"); ok && !strings.Contains(name, "|") {
			ifaces = append(ifaces, strings.TrimSpace(name))
		}
	}
	if !slices.Equal(ifaces, []string{"lo"}) {
		t.Errorf("/proc/net/dev interfaces = %v, want [lo]", ifaces)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "00000000000000000000000000000001 ") || !strings.HasSuffix(last, " lo") {
		t.Errorf("/proc/net/if_inet6 = %q, want ::1 on lo only", last)
	}
	t.Run("control: host", func(t *testing.T) {
		b, err := os.ReadFile("/proc/loadavg")
		if err != nil {
			t.Fatal(err)
		}
		var a, b2, c float64
		var r, tot int
		fmt.Sscanf(string(b), "%f %f %f %d/%d", &a, &b2, &c, &r, &tot)
		if tot <= 4 {
			t.Errorf("host loadavg %q: want more processes than the sandbox", b)
		}
		u, _ := os.ReadFile("/proc/uptime")
		var hostUp float64
		fmt.Sscanf(string(u), "%f", &hostUp)
		if hostUp <= up {
			t.Errorf("host uptime %v <= sandbox uptime %v", hostUp, up)
		}
	})
}

// TestProcessTimesAgreeWithUptime checks that the start times of the
// sandbox's processes count from the same origin as its /proc/uptime (ps
// computes ages from both) and that /proc/stat's btime moved with them.
func TestProcessTimesAgreeWithUptime(t *testing.T) {
	p, _ := procPolicy(t)
	argv := sh("cat /proc/uptime /proc/self/stat; grep btime /proc/stat; date +%s")
	res := run(t, p, argv, sandbox.Options{})
	wantExit(t, argv, res, 0)
	lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	if len(lines) != 4 {
		t.Fatalf("output %q", res.Stdout)
	}
	var up float64
	fmt.Sscanf(lines[0], "%f", &up)
	_, after, _ := strings.Cut(lines[1], ") ")
	fields := strings.Fields(after)
	if len(fields) < 20 {
		t.Fatalf("stat %q", lines[1])
	}
	start, _ := strconv.ParseFloat(fields[19], 64)
	if start/100 > up+0.5 {
		t.Errorf("process start %.2f s after the origin, uptime %.2f s: the process would start in the future", start/100, up)
	}
	var btime, now int64
	fmt.Sscanf(lines[2], "btime %d", &btime)
	fmt.Sscanf(lines[3], "%d", &now)
	if d := now - btime; d < 0 || float64(d) > up+2 {
		t.Errorf("btime %d is %d s before now, uptime %.2f: want the sandbox's start", btime, d, up)
	}
	t.Run("control: host", func(t *testing.T) {
		b, _ := os.ReadFile("/proc/self/stat")
		_, after, _ := strings.Cut(string(b), ") ")
		hostStart, _ := strconv.ParseFloat(strings.Fields(after)[19], 64)
		if hostStart/100 <= up {
			t.Errorf("host start time %.2f s since boot, not after the sandbox's uptime %.2f", hostStart/100, up)
		}
	})
}

func TestMountsReadable(t *testing.T) {
	p, _ := procPolicy(t)
	for _, path := range []string{"/proc/mounts", "/proc/self/mountinfo"} {
		argv := probe(t, "read", path)
		res := run(t, p, argv, sandbox.Options{})
		wantExit(t, argv, res, 0)
		host, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The sandbox shares the host's mount namespace: the same table.
		if first := strings.SplitN(string(host), "\n", 2)[0]; !strings.HasPrefix(string(res.Stdout), first) {
			t.Errorf("%s starts %q, want the host's %q", path, strings.SplitN(string(res.Stdout), "\n", 2)[0], first)
		}
	}
}

var virtualSeq atomic.Int32

func TestVirtualFile(t *testing.T) {
	eacces, enoent := int(syscall.EACCES), int(syscall.ENOENT)
	p, w := procPolicy(t)
	real := filepath.Join(w, "real")
	missing := filepath.Join(w, "missing")
	writeFile(t, real, "host content")
	if err := os.Symlink(real, filepath.Join(w, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(real, filepath.Join(w, "hard")); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("virtual-%d", virtualSeq.Add(1))
	sandbox.RegisterVirtualForTest(name, map[string]string{real: "virtual content", missing: "made up"})
	tests := []struct {
		name    string
		cwd     string
		argv    []string
		want    int
		stdout  string
		control string // stdout without the virtual files
		ctlWant int
	}{
		{name: "path", argv: probe(t, "read", real), stdout: "virtual content", control: "host content"},
		{name: "symlink", argv: probe(t, "read", filepath.Join(w, "link")), stdout: "virtual content", control: "host content"},
		{name: "hard link", argv: probe(t, "read", filepath.Join(w, "hard")), stdout: "virtual content", control: "host content"},
		{name: "relative", cwd: w, argv: probe(t, "read", "real"), stdout: "virtual content", control: "host content"},
		{name: "dotdot", argv: probe(t, "read", w+"/../"+filepath.Base(w)+"/./real"), stdout: "virtual content", control: "host content"},
		{name: "dirfd", argv: fprobe(t, "at", w, "real"), stdout: "virtual content", control: "host content"},
		{name: "proc self root", argv: probe(t, "read", "/proc/self/root"+real), stdout: "virtual content", control: "host content"},
		{name: "openat2", argv: probe(t, "openat2", real), stdout: "virtual content", control: "host content"},
		{name: "missing on the host", argv: probe(t, "read", missing), stdout: "made up", ctlWant: enoent},
		{name: "missing on the host relative", cwd: w, argv: probe(t, "read", "missing"), stdout: "made up", ctlWant: enoent},
		{name: "opened for writing", argv: fprobe(t, "writeread", real), want: eacces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := p
			q.Cwd = tc.cwd
			res := run(t, q, tc.argv, sandbox.Options{Name: name})
			wantExit(t, tc.argv, res, tc.want)
			if string(res.Stdout) != tc.stdout {
				t.Errorf("stdout = %q, want %q", res.Stdout, tc.stdout)
			}
			t.Run("control: not registered", func(t *testing.T) {
				res := run(t, q, tc.argv, sandbox.Options{Name: name + "-control"})
				wantExit(t, tc.argv, res, tc.ctlWant)
				if string(res.Stdout) != tc.control {
					t.Errorf("stdout = %q, want %q", res.Stdout, tc.control)
				}
			})
		})
	}
	if got := fileContent(real); got != "host content" {
		t.Errorf("host file = %q, want it untouched", got)
	}
}

func TestHostname(t *testing.T) {
	hostName, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	script := "hostname; uname -n; cat /etc/hostname /proc/sys/kernel/hostname"
	tests := []struct {
		name     string
		hostname string
		sbName   string
		want     string
	}{
		{name: "policy hostname", hostname: "sbx-policy", sbName: "ignored-name", want: "sbx-policy"},
		{name: "sandbox name", sbName: "sbx-named", want: "sbx-named"},
		{name: "sandbox name not a valid host name", sbName: "a/b", want: hostName},
		{name: "control: neither", want: hostName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := procPolicy(t)
			p.Hostname = tc.hostname
			argv := sh(script)
			res := run(t, p, argv, sandbox.Options{Name: tc.sbName})
			wantExit(t, argv, res, 0)
			lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
			if len(lines) != 4 {
				t.Fatalf("output %q, stderr %q", res.Stdout, res.Stderr)
			}
			for i, l := range lines[:2] {
				if l != tc.want {
					t.Errorf("line %d (%s) = %q, want %q", i, strings.Split(script, ";")[i], l, tc.want)
				}
			}
			if tc.want != hostName {
				for _, l := range lines[2:] {
					if l != tc.want {
						t.Errorf("hostname file = %q, want %q", l, tc.want)
					}
				}
			}
		})
	}
	t.Run("uname syscall", func(t *testing.T) {
		p, _ := procPolicy(t)
		p.Hostname = "sbx-uname"
		argv := fprobe(t, "uname")
		res := run(t, p, argv, sandbox.Options{})
		wantExit(t, argv, res, 0)
		if got := strings.TrimSpace(string(res.Stdout)); got != "sbx-uname" {
			t.Errorf("uname nodename = %q, want sbx-uname", got)
		}
	})
}

func TestNetworkInterfacesLoopbackOnly(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	py, _ = filepath.EvalSymlinks(py)
	const script = `import socket
print(socket.if_nameindex())
print(sorted({a[4][0] for a in socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM, 0, socket.AI_ADDRCONFIG)}))
try:
    socket.if_nametoindex("lo")
    print("nametoindex ok")
except OSError:
    print("nametoindex failed")
`
	p, _ := procPolicy(t)
	p.FsReadable = append(p.FsReadable, filepath.Dir(filepath.Dir(py)))
	argv := []string{py, "-S", "-c", script}
	res := run(t, p, argv, sandbox.Options{})
	wantExit(t, argv, res, 0)
	lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	if len(lines) != 3 {
		t.Fatalf("output %q, stderr %q", res.Stdout, res.Stderr)
	}
	if lines[0] != "[(1, 'lo')]" {
		t.Errorf("if_nameindex() = %s, want [(1, 'lo')]", lines[0])
	}
	if !strings.Contains(lines[1], "127.0.0.1") {
		t.Errorf("getaddrinfo(localhost, AI_ADDRCONFIG) = %s, want 127.0.0.1", lines[1])
	}
	if lines[2] != "nametoindex failed" {
		t.Errorf("if_nametoindex(lo) = %q, want a failure (SIOCGIFINDEX is refused)", lines[2])
	}
	t.Run("control: host", func(t *testing.T) {
		_, out, stderr := hostRun(t, argv...)
		hl := strings.Split(strings.TrimSpace(out), "\n")
		if len(hl) != 3 || hl[0] == lines[0] || hl[2] != "nametoindex ok" {
			t.Errorf("host output %q (stderr %q), want more interfaces than lo and a working if_nametoindex", out, stderr)
		}
	})
	t.Run("SIOCGIFCONF", func(t *testing.T) {
		argv := fprobe(t, "siocgifconf")
		res := run(t, p, argv, sandbox.Options{})
		wantExit(t, argv, res, int(syscall.EPERM))
		if code, _, stderr := hostRun(t, argv...); code != 0 {
			t.Errorf("control: host SIOCGIFCONF exit %d, %s", code, stderr)
		}
	})
	if ip, err := exec.LookPath("ip"); err == nil {
		t.Run("ip addr", func(t *testing.T) {
			ip, _ = filepath.EvalSymlinks(ip)
			q := p
			q.FsReadable = append(q.FsReadable, filepath.Dir(ip))
			argv := []string{ip, "-o", "addr"}
			res := run(t, q, argv, sandbox.Options{})
			wantExit(t, argv, res, 0)
			out := string(res.Stdout)
			if !strings.Contains(out, "lo    inet 127.0.0.1/8") || !strings.Contains(out, "lo    inet6 ::1/128") || strings.Count(strings.TrimSpace(out), "\n") != 1 {
				t.Errorf("ip -o addr = %q, want lo's two addresses only", out)
			}
			if _, hout, _ := hostRun(t, argv...); strings.Count(strings.TrimSpace(hout), "\n") <= 1 {
				t.Errorf("control: host ip -o addr = %q, want more than lo", hout)
			}
		})
	}
}

func TestGetdentsOnBehalf(t *testing.T) {
	p, w := basePolicy(t)
	dir := filepath.Join(w, "many")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	for i := range n {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("entry-with-a-longish-name-%04d", i)), "")
	}
	for _, op := range []string{"list", "list32"} {
		t.Run(op, func(t *testing.T) {
			argv := fprobe(t, op, dir)
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, 0)
			names := strings.Fields(string(res.Stdout))
			if len(names) != n+2 || !slices.Contains(names, "entry-with-a-longish-name-2999") {
				t.Errorf("%s listed %d names, want %d", op, len(names), n+2)
			}
			if _, out, _ := hostRun(t, argv...); len(strings.Fields(out)) != n+2 {
				t.Errorf("control: host listed %d names", len(strings.Fields(out)))
			}
		})
	}
}

func TestCreationModeFollowsUmask(t *testing.T) {
	p, w := basePolicy(t)
	for _, tc := range []struct{ mask, want string }{{"077", "600"}, {"022", "644"}, {"0", "666"}, {"027", "640"}} {
		t.Run(tc.mask, func(t *testing.T) {
			path := filepath.Join(w, "f"+tc.mask)
			argv := fprobe(t, "creat", tc.mask, path)
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, 0)
			if got := strings.TrimSpace(string(res.Stdout)); got != tc.want {
				t.Errorf("mode = %s, want %s", got, tc.want)
			}
			if st, err := os.Stat(path); err != nil || fmt.Sprintf("%o", st.Mode().Perm()) != tc.want {
				t.Errorf("host stat = %v, %v, want mode %s", st, err, tc.want)
			}
			os.Remove(path)
			if _, out, _ := hostRun(t, argv...); strings.TrimSpace(out) != tc.want {
				t.Errorf("control: host mode = %q", out)
			}
		})
	}
	t.Run("umask changed in a shell", func(t *testing.T) {
		argv := sh("umask 077; echo x > " + filepath.Join(w, "sh1") + "; umask 002; echo y > " + filepath.Join(w, "sh2"))
		res := run(t, p, argv, sandbox.Options{})
		wantExit(t, argv, res, 0)
		for f, want := range map[string]os.FileMode{"sh1": 0o600, "sh2": 0o664} {
			if st, err := os.Stat(filepath.Join(w, f)); err != nil || st.Mode().Perm() != want {
				t.Errorf("%s: %v, %v, want mode %o", f, st, err, want)
			}
		}
	})
}

func TestMagicLinkOpens(t *testing.T) {
	p, w := basePolicy(t)
	writeFile(t, filepath.Join(w, "f"), "through the fd")
	tests := []struct {
		name, script, want string
	}{
		{"dev stdin", "cat /dev/stdin", "piped"},
		{"proc self fd", "cat /proc/self/fd/0", "piped"},
		{"reopen of a file", "exec 3<" + filepath.Join(w, "f") + "; cat /proc/self/fd/3", "through the fd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			argv := sh(tc.script)
			res := run(t, p, argv, sandbox.Options{Stdin: sandbox.Reader(strings.NewReader("piped"))})
			wantExit(t, argv, res, 0)
			if string(res.Stdout) != tc.want {
				t.Errorf("stdout = %q, want %q (stderr %q)", res.Stdout, tc.want, res.Stderr)
			}
		})
	}
	t.Run("reopen for writing refused outside writable trees", func(t *testing.T) {
		q, _ := basePolicy(t)
		ro := tempDir(t)
		writeFile(t, filepath.Join(ro, "f"), "read-only")
		q.FsReadable = append(q.FsReadable, ro)
		argv := sh("exec 3<" + filepath.Join(ro, "f") + "; echo pwned > /proc/self/fd/3")
		res := run(t, q, argv, sandbox.Options{})
		if res.ExitCode == 0 || fileContent(filepath.Join(ro, "f")) != "read-only" {
			t.Errorf("write through /proc/self/fd: exit %d, file %q, want a refusal", res.ExitCode, fileContent(filepath.Join(ro, "f")))
		}
		q.FsWritable = append(q.FsWritable, ro)
		res = run(t, q, argv, sandbox.Options{})
		wantExit(t, argv, res, 0)
		if got := fileContent(filepath.Join(ro, "f")); got != "pwned\n" {
			t.Errorf("control: writable tree: file = %q", got)
		}
	})
}
