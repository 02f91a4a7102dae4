package policy

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestBuilderHasSetterForEveryField(t *testing.T) {
	bt := reflect.TypeFor[*Builder]()
	pt := reflect.TypeFor[Policy]()
	for i := 0; i < pt.NumField(); i++ {
		name := pt.Field(i).Name
		m, ok := bt.MethodByName(name)
		if !ok {
			t.Errorf("Builder has no %s setter", name)
			continue
		}
		if m.Type.NumOut() != 1 || m.Type.Out(0) != bt {
			t.Errorf("Builder.%s returns %v, want *Builder", name, m.Type)
		}
	}
}

func TestBuilderBuild(t *testing.T) {
	got, err := NewBuilder().
		FsReadable("/usr", "/lib").
		FsReadable("/etc").
		FsWritable("/tmp").
		FsDenied("/etc/shadow").
		DenySyscalls("ptrace").
		NoCoredump(true).
		NetBind(8080, 80).
		NetBind(80, 22).
		NetConnect(443).
		NoRawSockets(false).
		NoUDP(true).
		MaxProcesses(10).
		MaxOpenFiles(256).
		CPUCores(0).
		CPUCores(2).
		NoRandomizeMemory(true).
		NoHugePages(true).
		CleanEnv(true).
		Env("A", "1").
		Env("B", "2").
		Env("A", "3").
		Cwd("/tmp").
		AllowDegraded(true).
		Build()
	if err != nil {
		t.Fatalf("Build() error = %v, want nil", err)
	}
	want := Default()
	want.FsReadable = []string{"/usr", "/lib", "/etc"}
	want.FsWritable = []string{"/tmp"}
	want.FsDenied = []string{"/etc/shadow"}
	want.DenySyscalls = []string{"ptrace"}
	want.NoCoredump = true
	want.NetBind = []uint16{22, 80, 8080}
	want.NetConnect = []uint16{443}
	want.NoRawSockets = false
	want.NoUDP = true
	want.MaxProcesses = 10
	want.MaxOpenFiles = 256
	want.CPUCores = []int{0, 2}
	want.NoRandomizeMemory = true
	want.NoHugePages = true
	want.CleanEnv = true
	want.Env = map[string]string{"A": "3", "B": "2"}
	want.Cwd = "/tmp"
	want.AllowDegraded = true
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Build() = %+v, want %+v", got, want)
	}
}

func TestBuilderEmptyCallsMeanGiven(t *testing.T) {
	b := NewBuilder().DenySyscalls().NetAllowHosts().GPUDevices().AllowSyscalls()
	if b.p.DenySyscalls == nil || b.p.NetAllowHosts == nil || b.p.GPUDevices == nil || b.p.AllowSyscalls == nil {
		t.Errorf("setters called with no values left nil lists: %+v", b.p)
	}
	p, err := NewBuilder().DenySyscalls().Build()
	if err != nil || p.DenySyscalls == nil || len(p.DenySyscalls) != 0 {
		t.Errorf("DenySyscalls().Build() = %v, %v, want an empty non-nil deny list", p.DenySyscalls, err)
	}
	p, err = NewBuilder().NetAllowHosts().Build()
	if err != nil || p.NetAllowHosts == nil || len(p.NetAllowHosts) != 0 {
		t.Errorf("NetAllowHosts().Build() = %v, %v, want an empty non-nil host list", p.NetAllowHosts, err)
	}
}

func TestBuilderSetterErrors(t *testing.T) {
	tests := []struct {
		name      string
		build     func(*Builder) *Builder
		wantField string
	}{
		{"FsWritable relative", func(b *Builder) *Builder { return b.FsWritable("tmp") }, "fs_writable"},
		{"FsWritable proc", func(b *Builder) *Builder { return b.FsWritable("/proc/sys") }, "fs_writable"},
		{"FsReadable empty", func(b *Builder) *Builder { return b.FsReadable("") }, "fs_readable"},
		{"FsDenied NUL", func(b *Builder) *Builder { return b.FsDenied("/a\x00") }, "fs_denied"},
		{"DenySyscalls bad name", func(b *Builder) *Builder { return b.DenySyscalls("X") }, "deny_syscalls"},
		{"AllowSyscalls bad name", func(b *Builder) *Builder { return b.AllowSyscalls("") }, "allow_syscalls"},
		{"NetAllowHosts empty", func(b *Builder) *Builder { return b.NetAllowHosts("") }, "net_allow_hosts"},
		{"HTTPAllow empty", func(b *Builder) *Builder { return b.HTTPAllow("") }, "http_allow"},
		{"HTTPDeny control", func(b *Builder) *Builder { return b.HTTPDeny("GET \n") }, "http_deny"},
		{"HTTPSCA NUL", func(b *Builder) *Builder { return b.HTTPSCA("\x00") }, "https_ca"},
		{"HTTPSKey NUL", func(b *Builder) *Builder { return b.HTTPSKey("\x00") }, "https_key"},
		{"MaxProcesses negative", func(b *Builder) *Builder { return b.MaxProcesses(-1) }, "max_processes"},
		{"MaxCPU over 100", func(b *Builder) *Builder { return b.MaxCPU(101) }, "max_cpu"},
		{"CPUCores negative", func(b *Builder) *Builder { return b.CPUCores(-1) }, "cpu_cores"},
		{"CPUCores duplicate across calls", func(b *Builder) *Builder { return b.CPUCores(1).CPUCores(1) }, "cpu_cores"},
		{"NumCPUs negative", func(b *Builder) *Builder { return b.NumCPUs(-1) }, "num_cpus"},
		{"GPUDevices negative", func(b *Builder) *Builder { return b.GPUDevices(-1) }, "gpu_devices"},
		{"Chroot relative", func(b *Builder) *Builder { return b.Chroot("r") }, "chroot"},
		{"FsMount relative", func(b *Builder) *Builder { return b.FsMount("v", "/h") }, "fs_mount"},
		{"FsMount sys", func(b *Builder) *Builder { return b.FsMount("/v", "/sys") }, "fs_mount"},
		{"Env empty key", func(b *Builder) *Builder { return b.Env("", "x") }, "env"},
		{"Env equals in key", func(b *Builder) *Builder { return b.Env("A=B", "x") }, "env"},
		{"UID negative", func(b *Builder) *Builder { return b.UID(-1) }, "uid"},
		{"Workdir relative", func(b *Builder) *Builder { return b.Workdir("w") }, "workdir"},
		{"Cwd relative", func(b *Builder) *Builder { return b.Cwd("w") }, "cwd"},
		{"FsIsolation unknown", func(b *Builder) *Builder { return b.FsIsolation("zfs") }, "fs_isolation"},
		{"FsStorage relative", func(b *Builder) *Builder { return b.FsStorage("s") }, "fs_storage"},
		{"OnExit unknown", func(b *Builder) *Builder { return b.OnExit("x") }, "on_exit"},
		{"OnError unknown", func(b *Builder) *Builder { return b.OnError("x") }, "on_error"},
		{"Hostname slash", func(b *Builder) *Builder { return b.Hostname("a/b") }, "hostname"},
		{"cross-field check in Build", func(b *Builder) *Builder { return b.AllowSyscalls("read").DenySyscalls("ptrace") }, "allow_syscalls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.build(NewBuilder()).Build()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Build() = %v, want an ErrInvalid FieldError for %s", err, tt.wantField)
			}
			if !reflect.DeepEqual(p, Policy{}) {
				t.Errorf("Build() returned %+v with an error, want the zero Policy", p)
			}
		})
	}
}

func TestBuilderRemembersFirstError(t *testing.T) {
	_, err := NewBuilder().
		FsReadable("/usr").
		MaxCPU(150).            // first bad input
		FsReadable("relative"). // second bad input, checked earlier by Validate
		MaxCPU(50).             // a later good value does not clear the error
		Build()
	const want = "policy: max_cpu: must be between 1 and 100, got 150"
	if err == nil || err.Error() != want {
		t.Errorf("Build() error = %v, want %q", err, want)
	}
}

func TestBuilderBuildIsIndependent(t *testing.T) {
	b := NewBuilder().FsReadable("/a").Env("K", "1")
	first, err := b.Build()
	if err != nil {
		t.Fatalf("Build() error = %v", err)
	}
	b.FsReadable("/b").Env("K", "2")
	second, err := b.Build()
	if err != nil {
		t.Fatalf("second Build() error = %v", err)
	}
	first.FsReadable[0] = "/changed"
	if !slices.Equal(second.FsReadable, []string{"/a", "/b"}) || second.Env["K"] != "2" {
		t.Errorf("second Build() = %v %v, want [/a /b] map[K:2]", second.FsReadable, second.Env)
	}
	third, _ := b.Build()
	if third.FsReadable[0] != "/a" {
		t.Errorf("changing a built policy changed the builder: FsReadable = %v", third.FsReadable)
	}
}

func TestBuilderNotImplemented(t *testing.T) {
	tests := []struct {
		name      string
		build     func(*Builder) *Builder
		wantField string
	}{
		{"HTTPAllow", func(b *Builder) *Builder { return b.HTTPAllow("GET example.com/*") }, "http_allow"},
		{"HTTPDeny", func(b *Builder) *Builder { return b.HTTPDeny("POST */*") }, "http_deny"},
		{"HTTPPorts", func(b *Builder) *Builder { return b.HTTPPorts(8080, 80, 8080) }, "http_ports"},
		{"HTTPSCA and HTTPSKey", func(b *Builder) *Builder { return b.HTTPSCA("/ca.pem").HTTPSKey("/ca.key") }, "https_ca"},
		{"RandomSeed", func(b *Builder) *Builder { return b.RandomSeed(42) }, "random_seed"},
		{"TimeStart", func(b *Builder) *Builder { return b.TimeStart(time.Unix(1e9, 0)) }, "time_start"},
		{"DeterministicDirs", func(b *Builder) *Builder { return b.DeterministicDirs(true) }, "deterministic_dirs"},
		{"GPUDevices", func(b *Builder) *Builder { return b.GPUDevices(0) }, "gpu_devices"},
		{"Chroot and FsMount", func(b *Builder) *Builder { return b.Chroot("/r").FsMount("/d", "/srv/d") }, "chroot"},
		{"UID", func(b *Builder) *Builder { return b.UID(0) }, "uid"},
		{"Workdir and COW options", func(b *Builder) *Builder {
			return b.Workdir("/w").FsIsolation(FsIsolationOverlayFS).FsStorage("/s").MaxDisk(1 << 30)
		}, "workdir"},
		{"OnExit", func(b *Builder) *Builder { return b.OnExit(ActionAbort) }, "on_exit"},
		{"OnError", func(b *Builder) *Builder { return b.OnError(ActionKeep) }, "on_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.build(NewBuilder()).Build()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField || !errors.Is(err, ErrNotImplemented) {
				t.Errorf("Build() = %v, want ErrNotImplemented for %s", err, tt.wantField)
			}
		})
	}
}
