package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*Policy)
		wantField string
		wantMsg   string // substring of the message
	}{
		{"fs_writable empty", func(p *Policy) { p.FsWritable = []string{""} }, "fs_writable", "empty path"},
		{"fs_writable NUL", func(p *Policy) { p.FsWritable = []string{"/tmp/a\x00b"} }, "fs_writable", "NUL"},
		{"fs_writable relative", func(p *Policy) { p.FsWritable = []string{"/tmp", "tmp"} }, "fs_writable", "not absolute"},
		{"fs_writable too long", func(p *Policy) { p.FsWritable = []string{"/" + strings.Repeat("a", 4095)} }, "fs_writable", "PATH_MAX"},
		{"fs_writable proc", func(p *Policy) { p.FsWritable = []string{"/proc"} }, "fs_writable", "/proc writable"},
		{"fs_writable under proc", func(p *Policy) { p.FsWritable = []string{"/proc/sys/kernel"} }, "fs_writable", "/proc writable"},
		{"fs_writable under sys", func(p *Policy) { p.FsWritable = []string{"/sys/kernel/mm"} }, "fs_writable", "/sys writable"},
		{"fs_writable root", func(p *Policy) { p.FsWritable = []string{"/"} }, "fs_writable", "/proc writable"},
		{"fs_writable dotdot into proc", func(p *Policy) { p.FsWritable = []string{"/tmp/../proc/"} }, "fs_writable", "/proc writable"},
		{"fs_readable empty", func(p *Policy) { p.FsReadable = []string{""} }, "fs_readable", "empty path"},
		{"fs_readable relative", func(p *Policy) { p.FsReadable = []string{"usr"} }, "fs_readable", "not absolute"},
		{"fs_denied NUL", func(p *Policy) { p.FsDenied = []string{"/a\x00"} }, "fs_denied", "NUL"},
		{"fs_denied relative", func(p *Policy) { p.FsDenied = []string{"./x"} }, "fs_denied", "not absolute"},
		{"deny_syscalls upper case", func(p *Policy) { p.DenySyscalls = []string{"Ptrace"} }, "deny_syscalls", "not a syscall name"},
		{"deny_syscalls empty name", func(p *Policy) { p.DenySyscalls = []string{""} }, "deny_syscalls", "not a syscall name"},
		{"deny_syscalls leading digit", func(p *Policy) { p.DenySyscalls = []string{"1open"} }, "deny_syscalls", "not a syscall name"},
		{"deny_syscalls dash", func(p *Policy) { p.DenySyscalls = []string{"open-at"} }, "deny_syscalls", "not a syscall name"},
		{"allow_syscalls space", func(p *Policy) { p.AllowSyscalls = []string{"read "} }, "allow_syscalls", "not a syscall name"},
		{"deny and allow", func(p *Policy) { p.DenySyscalls = []string{}; p.AllowSyscalls = []string{"read"} }, "allow_syscalls", "deny_syscalls"},
		{"net_allow_hosts empty", func(p *Policy) { p.NetAllowHosts = []string{""} }, "net_allow_hosts", "empty host"},
		{"net_allow_hosts space", func(p *Policy) { p.NetAllowHosts = []string{"a b"} }, "net_allow_hosts", "white space"},
		{"net_bind unsorted", func(p *Policy) { p.NetBind = []uint16{443, 80} }, "net_bind", "sorted and unique"},
		{"net_bind duplicate", func(p *Policy) { p.NetBind = []uint16{80, 80} }, "net_bind", "sorted and unique"},
		{"net_connect duplicate", func(p *Policy) { p.NetConnect = []uint16{1, 2, 2} }, "net_connect", "sorted and unique"},
		{"http_allow empty", func(p *Policy) { p.HTTPAllow = []string{" "} }, "http_allow", "empty rule"},
		{"http_allow newline", func(p *Policy) { p.HTTPAllow = []string{"GET a/\nb"} }, "http_allow", "control character"},
		{"http_deny empty", func(p *Policy) { p.HTTPDeny = []string{""} }, "http_deny", "empty rule"},
		{"http_ports unsorted", func(p *Policy) { p.HTTPPorts = []uint16{443, 80} }, "http_ports", "sorted and unique"},
		{"https_ca NUL", func(p *Policy) { p.HTTPSCA = "a\x00"; p.HTTPSKey = "k" }, "https_ca", "NUL"},
		{"https_key NUL", func(p *Policy) { p.HTTPSCA = "c"; p.HTTPSKey = "k\x00" }, "https_key", "NUL"},
		{"https_ca without key", func(p *Policy) { p.HTTPSCA = "/ca.pem" }, "https_key", "required when https_ca"},
		{"https_key without ca", func(p *Policy) { p.HTTPSKey = "/ca.key" }, "https_ca", "required when https_key"},
		{"max_processes negative", func(p *Policy) { p.MaxProcesses = -1 }, "max_processes", "negative"},
		{"max_cpu negative", func(p *Policy) { p.MaxCPU = -1 }, "max_cpu", "got -1"},
		{"max_cpu over 100", func(p *Policy) { p.MaxCPU = 101 }, "max_cpu", "got 101"},
		{"cpu_cores empty", func(p *Policy) { p.CPUCores = []int{} }, "cpu_cores", "empty list"},
		{"cpu_cores negative", func(p *Policy) { p.CPUCores = []int{-1} }, "cpu_cores", "out of range"},
		{"cpu_cores too large", func(p *Policy) { p.CPUCores = []int{1024} }, "cpu_cores", "out of range"},
		{"cpu_cores duplicate", func(p *Policy) { p.CPUCores = []int{0, 3, 0} }, "cpu_cores", "listed twice"},
		{"num_cpus negative", func(p *Policy) { p.NumCPUs = -2 }, "num_cpus", "negative"},
		{"gpu_devices negative", func(p *Policy) { p.GPUDevices = []int{0, -1} }, "gpu_devices", "negative"},
		{"chroot relative", func(p *Policy) { p.Chroot = "rootfs" }, "chroot", "not absolute"},
		{"fs_mount relative key", func(p *Policy) { p.Chroot = "/r"; p.FsMount = map[string]string{"data": "/h"} }, "fs_mount", "not absolute"},
		{"fs_mount relative value", func(p *Policy) { p.Chroot = "/r"; p.FsMount = map[string]string{"/data": "h"} }, "fs_mount", "not absolute"},
		{"fs_mount empty value", func(p *Policy) { p.Chroot = "/r"; p.FsMount = map[string]string{"/data": ""} }, "fs_mount", "empty path"},
		{"fs_mount sys", func(p *Policy) { p.Chroot = "/r"; p.FsMount = map[string]string{"/data": "/sys"} }, "fs_mount", "/sys writable"},
		{"fs_mount without chroot", func(p *Policy) { p.FsMount = map[string]string{"/data": "/h"} }, "fs_mount", "requires chroot"},
		{"env empty key", func(p *Policy) { p.Env = map[string]string{"": "x"} }, "env", "empty variable name"},
		{"env key with equals", func(p *Policy) { p.Env = map[string]string{"A=B": "x"} }, "env", "'='"},
		{"env key with NUL", func(p *Policy) { p.Env = map[string]string{"A\x00": "x"} }, "env", "NUL"},
		{"env value with NUL", func(p *Policy) { p.Env = map[string]string{"A": "x\x00y"} }, "env", "value of A"},
		{"uid negative", func(p *Policy) { p.UID = ptr(-1) }, "uid", "got -1"},
		{"uid no-change sentinel", func(p *Policy) { p.UID = ptr(1<<32 - 1) }, "uid", "got 4294967295"},
		{"workdir relative", func(p *Policy) { p.Workdir = "w" }, "workdir", "not absolute"},
		{"cwd relative", func(p *Policy) { p.Cwd = "sub" }, "cwd", "not absolute"},
		{"cwd NUL", func(p *Policy) { p.Cwd = "/a\x00" }, "cwd", "NUL"},
		{"fs_isolation unknown", func(p *Policy) { p.FsIsolation = "zfs" }, "fs_isolation", `got "zfs"`},
		{"fs_isolation empty", func(p *Policy) { p.FsIsolation = "" }, "fs_isolation", "Default()"},
		{"fs_isolation without workdir", func(p *Policy) { p.FsIsolation = FsIsolationOverlayFS }, "fs_isolation", "requires workdir"},
		{"fs_storage relative", func(p *Policy) { p.Workdir = "/w"; p.FsStorage = "s" }, "fs_storage", "not absolute"},
		{"fs_storage without workdir", func(p *Policy) { p.FsStorage = "/s" }, "fs_storage", "requires workdir"},
		{"max_disk without workdir", func(p *Policy) { p.MaxDisk = 1 << 20 }, "max_disk", "requires workdir"},
		{"on_exit unknown", func(p *Policy) { p.OnExit = "merge" }, "on_exit", `got "merge"`},
		{"on_error empty", func(p *Policy) { p.OnError = "" }, "on_error", `got ""`},
		{"hostname too long", func(p *Policy) { p.Hostname = strings.Repeat("h", 65) }, "hostname", "longer than 64"},
		{"hostname slash", func(p *Policy) { p.Hostname = "a/b" }, "hostname", "'/'"},
		{"hostname NUL", func(p *Policy) { p.Hostname = "a\x00b" }, "hostname", "control character"},
		{"hostname newline", func(p *Policy) { p.Hostname = "a\nb" }, "hostname", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Default()
			tt.mutate(&p)
			err := p.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError for %s", err, tt.wantField)
			}
			if fe.Field != tt.wantField || !errors.Is(err, ErrInvalid) || !strings.Contains(fe.Msg, tt.wantMsg) {
				t.Errorf("Validate() = %q (field %s), want field %s, ErrInvalid, message containing %q", err, fe.Field, tt.wantField, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "policy: "+tt.wantField+": ") {
				t.Errorf("Validate() = %q, want prefix %q", err, "policy: "+tt.wantField+": ")
			}
		})
	}
}

func TestValidateMaxCPUMessage(t *testing.T) {
	p := Default()
	p.MaxCPU = 150
	const want = "policy: max_cpu: must be between 1 and 100, got 150"
	if err := p.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %q", err, want)
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Policy)
	}{
		{"default", func(*Policy) {}},
		{"hostname", func(p *Policy) { p.Hostname = "sandbox-1" }},
		{"paths", func(p *Policy) {
			p.FsWritable = []string{"/tmp", "/processes", "/system", "/var/tmp/"}
			p.FsReadable = []string{"/", "/usr", "/proc", "/sys"}
			p.FsDenied = []string{"/etc/shadow"}
		}},
		{"empty deny list", func(p *Policy) { p.DenySyscalls = []string{} }},
		{"deny list", func(p *Policy) { p.DenySyscalls = []string{"ptrace", "_sysctl", "io_uring_setup", "mount"} }},
		{"allowlist", func(p *Policy) { p.AllowSyscalls = []string{"read", "write", "exit_group"} }},
		{"network", func(p *Policy) {
			p.NetBind = []uint16{0, 8080}
			p.NetConnect = []uint16{80, 443}
			p.NoRawSockets = false
			p.NoUDP = true
		}},
		{"host allowlist", func(p *Policy) { p.NetAllowHosts = []string{"example.com", "127.0.0.1", "::1"} }},
		{"empty host allowlist", func(p *Policy) { p.NetAllowHosts = []string{} }},
		{"port remapping", func(p *Policy) { p.PortRemap = true }},
		{"resource limits", func(p *Policy) {
			p.MaxMemory = 512 << 20
			p.MaxCPU = 50
			p.NumCPUs = 2
		}},
		{"resource limits at their bounds", func(p *Policy) {
			p.MaxMemory = 1
			p.MaxCPU = 100
			p.NumCPUs = 1
		}},
		{"limits", func(p *Policy) {
			p.MaxProcesses = 0
			p.MaxOpenFiles = 1 << 20
			p.CPUCores = []int{0, 1023}
		}},
		{"process", func(p *Policy) {
			p.NoCoredump = true
			p.NoRandomizeMemory = true
			p.NoHugePages = true
			p.CleanEnv = true
			p.Env = map[string]string{"PATH": "/usr/bin", "EMPTY": "", "LANG": "C.UTF-8"}
			p.Cwd = "/tmp"
			p.AllowDegraded = true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Default()
			tt.mutate(&p)
			if err := p.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

// notImplementedCases sets each not-yet-implemented option to a value of
// valid shape. wantField is the first option Validate rejects, which differs
// from field when the option needs another one that is not implemented
// either.
var notImplementedCases = map[string]struct {
	mutate    func(*Policy)
	wantField string
}{
	"http_allow":         {func(p *Policy) { p.HTTPAllow = []string{"GET example.com/*"} }, ""},
	"http_deny":          {func(p *Policy) { p.HTTPDeny = []string{"* */admin"} }, ""},
	"http_ports":         {func(p *Policy) { p.HTTPPorts = []uint16{8080} }, ""},
	"https_ca":           {func(p *Policy) { p.HTTPSCA, p.HTTPSKey = "/ca.pem", "/ca.key" }, ""},
	"https_key":          {func(p *Policy) { p.HTTPSCA, p.HTTPSKey = "/ca.pem", "/ca.key" }, "https_ca"},
	"random_seed":        {func(p *Policy) { p.RandomSeed = ptr(uint64(0)) }, ""},
	"time_start":         {func(p *Policy) { p.TimeStart = ptr(time.Unix(0, 0)) }, ""},
	"deterministic_dirs": {func(p *Policy) { p.DeterministicDirs = true }, ""},
	"gpu_devices":        {func(p *Policy) { p.GPUDevices = []int{} }, ""},
	"chroot":             {func(p *Policy) { p.Chroot = "/rootfs" }, ""},
	"fs_mount":           {func(p *Policy) { p.Chroot = "/rootfs"; p.FsMount = map[string]string{"/data": "/srv/data"} }, "chroot"},
	"uid":                {func(p *Policy) { p.UID = ptr(0) }, ""},
	"workdir":            {func(p *Policy) { p.Workdir = "/work" }, ""},
	"fs_isolation":       {func(p *Policy) { p.Workdir = "/work"; p.FsIsolation = FsIsolationBranchFS }, "workdir"},
	"fs_storage":         {func(p *Policy) { p.Workdir = "/work"; p.FsStorage = "/var/tmp/cow" }, "workdir"},
	"max_disk":           {func(p *Policy) { p.Workdir = "/work"; p.MaxDisk = 1 << 30 }, "workdir"},
	"on_exit":            {func(p *Policy) { p.OnExit = ActionKeep }, ""},
	"on_error":           {func(p *Policy) { p.OnError = ActionCommit }, ""},
}

func TestValidateNotImplemented(t *testing.T) {
	for _, u := range unimplemented {
		t.Run(u.field, func(t *testing.T) {
			tc, ok := notImplementedCases[u.field]
			if !ok {
				t.Fatalf("no test case for unimplemented field %s", u.field)
			}
			p := Default()
			tc.mutate(&p)
			if !u.set(&p) {
				t.Fatalf("the %s case does not set %s", u.field, u.field)
			}
			want := tc.wantField
			if want == "" {
				want = u.field
			}
			err := p.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != want || !errors.Is(err, ErrNotImplemented) || errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want field %s wrapping only ErrNotImplemented", err, want)
			}
			if wantText := "policy: " + want + ": not implemented yet"; err.Error() != wantText {
				t.Errorf("Validate() = %q, want %q", err, wantText)
			}
		})
	}
}

// TestNotImplementedCasesAreCurrent catches a stale test case once a feature
// lands and its row leaves the table: the case must move to TestValidateAccepts.
func TestNotImplementedCasesAreCurrent(t *testing.T) {
	rows := map[string]bool{}
	for _, u := range unimplemented {
		rows[u.field] = true
	}
	for field := range notImplementedCases {
		if !rows[field] {
			t.Errorf("%s has a not-implemented test case but no row in unimplemented", field)
		}
	}
}

func TestValidateShapeBeforeNotImplemented(t *testing.T) {
	// A malformed value of an unimplemented option is reported as malformed,
	// so callers fix it once rather than twice.
	p := Default()
	p.MaxCPU = 150
	if err := p.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate() = %v, want ErrInvalid", err)
	}
}
