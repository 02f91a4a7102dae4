package policy

import (
	"slices"
	"time"
)

// Builder assembles a Policy with chained setters, starting from Default.
// Setters that take a list append to what earlier calls gave; the others
// overwrite. Each setter checks its own field's shape as soon as it is called,
// so the error Build returns points at the first bad value the caller passed,
// not at whichever field Validate happens to check first. Checks that involve
// several fields, and the not-implemented checks, run in Build.
//
// A Builder is not safe for concurrent use. It may be reused after Build:
// later calls do not affect policies already built.
type Builder struct {
	p   Policy
	err error
}

// NewBuilder returns a Builder holding Default().
func NewBuilder() *Builder {
	return &Builder{p: Default()}
}

// Build validates the assembled policy and returns a copy of it. It returns
// the first error a setter recorded, if any, and otherwise Validate's.
func (b *Builder) Build() (Policy, error) {
	if b.err != nil {
		return Policy{}, b.err
	}
	p := b.p.Clone()
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// note keeps the first error so that later, possibly valid, setters do not
// hide it.
func (b *Builder) note(err error) *Builder {
	if b.err == nil {
		b.err = err
	}
	return b
}

// nonNil turns nil into an empty slice, for fields where calling the setter
// with no arguments must still mean "given, and empty".
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// sortedUnique puts a port list in the form Validate requires.
func sortedUnique(ports []uint16) []uint16 {
	slices.Sort(ports)
	return slices.Compact(ports)
}

// FsWritable appends paths granted read and write access.
func (b *Builder) FsWritable(paths ...string) *Builder {
	b.p.FsWritable = append(b.p.FsWritable, paths...)
	return b.note(checkWritablePaths("fs_writable", b.p.FsWritable))
}

// FsReadable appends paths granted read access.
func (b *Builder) FsReadable(paths ...string) *Builder {
	b.p.FsReadable = append(b.p.FsReadable, paths...)
	return b.note(checkPaths("fs_readable", b.p.FsReadable))
}

// FsDenied appends paths carved out of the granted trees.
func (b *Builder) FsDenied(paths ...string) *Builder {
	b.p.FsDenied = append(b.p.FsDenied, paths...)
	return b.note(checkPaths("fs_denied", b.p.FsDenied))
}

// DenySyscalls appends to a deny list that replaces the default one; calling
// it with no names gives an empty deny list.
func (b *Builder) DenySyscalls(names ...string) *Builder {
	b.p.DenySyscalls = append(nonNil(b.p.DenySyscalls), names...)
	return b.note(checkSyscalls("deny_syscalls", b.p.DenySyscalls))
}

// AllowSyscalls appends to the syscall allowlist and turns allowlist mode on,
// even when called with no names.
func (b *Builder) AllowSyscalls(names ...string) *Builder {
	b.p.AllowSyscalls = append(nonNil(b.p.AllowSyscalls), names...)
	return b.note(checkSyscalls("allow_syscalls", b.p.AllowSyscalls))
}

// NetAllowHosts appends to the host allowlist; calling it with no hosts
// restricts the network to nothing.
func (b *Builder) NetAllowHosts(hosts ...string) *Builder {
	b.p.NetAllowHosts = append(nonNil(b.p.NetAllowHosts), hosts...)
	return b.note(checkHosts("net_allow_hosts", b.p.NetAllowHosts))
}

// NoCoredump sets whether core files are disabled.
func (b *Builder) NoCoredump(on bool) *Builder {
	b.p.NoCoredump = on
	return b
}

// NetBind appends TCP ports allowed for bind; the list is kept sorted and
// unique.
func (b *Builder) NetBind(ports ...uint16) *Builder {
	b.p.NetBind = sortedUnique(append(b.p.NetBind, ports...))
	return b
}

// NetConnect appends TCP ports allowed for connect; the list is kept sorted
// and unique.
func (b *Builder) NetConnect(ports ...uint16) *Builder {
	b.p.NetConnect = sortedUnique(append(b.p.NetConnect, ports...))
	return b
}

// NoRawSockets sets whether raw IP sockets are forbidden (default true).
func (b *Builder) NoRawSockets(on bool) *Builder {
	b.p.NoRawSockets = on
	return b
}

// NoUDP sets whether UDP sockets are forbidden.
func (b *Builder) NoUDP(on bool) *Builder {
	b.p.NoUDP = on
	return b
}

// HTTPAllow appends HTTP allow rules.
func (b *Builder) HTTPAllow(rules ...string) *Builder {
	b.p.HTTPAllow = append(b.p.HTTPAllow, rules...)
	return b.note(checkHTTPRules("http_allow", b.p.HTTPAllow))
}

// HTTPDeny appends HTTP deny rules.
func (b *Builder) HTTPDeny(rules ...string) *Builder {
	b.p.HTTPDeny = append(b.p.HTTPDeny, rules...)
	return b.note(checkHTTPRules("http_deny", b.p.HTTPDeny))
}

// HTTPPorts appends ports redirected to the HTTP proxy; the list is kept
// sorted and unique.
func (b *Builder) HTTPPorts(ports ...uint16) *Builder {
	b.p.HTTPPorts = sortedUnique(append(b.p.HTTPPorts, ports...))
	return b
}

// HTTPSCA sets the PEM CA certificate used to intercept TLS.
func (b *Builder) HTTPSCA(path string) *Builder {
	b.p.HTTPSCA = path
	return b.note(checkNoNUL("https_ca", path))
}

// HTTPSKey sets the PEM key of the HTTPS CA.
func (b *Builder) HTTPSKey(path string) *Builder {
	b.p.HTTPSKey = path
	return b.note(checkNoNUL("https_key", path))
}

// MaxMemory sets the memory budget in bytes; 0 is unlimited. ParseSize reads
// "512M"-style text.
func (b *Builder) MaxMemory(bytes uint64) *Builder {
	b.p.MaxMemory = bytes
	return b
}

// MaxProcesses sets the cap on concurrent processes; 0 is unlimited.
func (b *Builder) MaxProcesses(n int) *Builder {
	b.p.MaxProcesses = n
	return b.note(checkMaxProcesses(n))
}

// MaxOpenFiles sets RLIMIT_NOFILE; 0 inherits the host's limit.
func (b *Builder) MaxOpenFiles(n uint64) *Builder {
	b.p.MaxOpenFiles = n
	return b
}

// MaxCPU sets the share of one core in percent, 1..100; 0 is unthrottled.
func (b *Builder) MaxCPU(percent int) *Builder {
	b.p.MaxCPU = percent
	return b.note(checkMaxCPU(percent))
}

// CPUCores appends cores to pin the sandbox to.
func (b *Builder) CPUCores(cores ...int) *Builder {
	b.p.CPUCores = append(nonNil(b.p.CPUCores), cores...)
	return b.note(checkCPUCores(b.p.CPUCores))
}

// NumCPUs sets the CPU count the sandbox sees; 0 shows the real count.
func (b *Builder) NumCPUs(n int) *Builder {
	b.p.NumCPUs = n
	return b.note(checkNumCPUs(n))
}

// PortRemap sets whether the sandbox gets a private port space.
func (b *Builder) PortRemap(on bool) *Builder {
	b.p.PortRemap = on
	return b
}

// RandomSeed makes randomness deterministic with this seed.
func (b *Builder) RandomSeed(seed uint64) *Builder {
	b.p.RandomSeed = &seed
	return b
}

// TimeStart shifts the wall clock to start at t.
func (b *Builder) TimeStart(t time.Time) *Builder {
	b.p.TimeStart = &t
	return b
}

// NoRandomizeMemory sets whether ASLR is disabled.
func (b *Builder) NoRandomizeMemory(on bool) *Builder {
	b.p.NoRandomizeMemory = on
	return b
}

// NoHugePages sets whether transparent huge pages are disabled.
func (b *Builder) NoHugePages(on bool) *Builder {
	b.p.NoHugePages = on
	return b
}

// DeterministicDirs sets whether directory listings are sorted.
func (b *Builder) DeterministicDirs(on bool) *Builder {
	b.p.DeterministicDirs = on
	return b
}

// GPUDevices appends GPU indexes and turns GPU access on, even when called
// with no indexes.
func (b *Builder) GPUDevices(devices ...int) *Builder {
	b.p.GPUDevices = append(nonNil(b.p.GPUDevices), devices...)
	return b.note(checkGPUDevices(b.p.GPUDevices))
}

// Chroot sets the rootfs directory the sandbox sees as "/".
func (b *Builder) Chroot(dir string) *Builder {
	b.p.Chroot = dir
	return b.note(checkOptionalPath("chroot", dir))
}

// FsMount maps the virtual path virt inside the chroot to the host directory
// host, replacing an earlier mapping of virt.
func (b *Builder) FsMount(virt, host string) *Builder {
	if b.p.FsMount == nil {
		b.p.FsMount = map[string]string{}
	}
	b.p.FsMount[virt] = host
	return b.note(checkFsMount(map[string]string{virt: host}))
}

// CleanEnv sets whether the child starts from an empty environment.
func (b *Builder) CleanEnv(on bool) *Builder {
	b.p.CleanEnv = on
	return b
}

// Env sets the environment variable key to value in the child.
func (b *Builder) Env(key, value string) *Builder {
	if b.p.Env == nil {
		b.p.Env = map[string]string{}
	}
	b.p.Env[key] = value
	return b.note(checkEnv(map[string]string{key: value}))
}

// UID sets the fake user id inside a user namespace.
func (b *Builder) UID(uid int) *Builder {
	b.p.UID = &uid
	return b.note(checkUID(&uid))
}

// Workdir sets the copy-on-write root.
func (b *Builder) Workdir(dir string) *Builder {
	b.p.Workdir = dir
	return b.note(checkOptionalPath("workdir", dir))
}

// Cwd sets the child's working directory.
func (b *Builder) Cwd(dir string) *Builder {
	b.p.Cwd = dir
	return b.note(checkOptionalPath("cwd", dir))
}

// FsIsolation sets the copy-on-write backend.
func (b *Builder) FsIsolation(f FsIsolation) *Builder {
	b.p.FsIsolation = f
	return b.note(checkFsIsolation(f))
}

// FsStorage sets where the copy-on-write upper layer lives.
func (b *Builder) FsStorage(dir string) *Builder {
	b.p.FsStorage = dir
	return b.note(checkOptionalPath("fs_storage", dir))
}

// MaxDisk caps the copy-on-write upper layer in bytes; 0 is unlimited.
func (b *Builder) MaxDisk(bytes uint64) *Builder {
	b.p.MaxDisk = bytes
	return b
}

// OnExit sets the copy-on-write action after exit status 0.
func (b *Builder) OnExit(a BranchAction) *Builder {
	b.p.OnExit = a
	return b.note(checkBranchAction("on_exit", a))
}

// OnError sets the copy-on-write action after a failure.
func (b *Builder) OnError(a BranchAction) *Builder {
	b.p.OnError = a
	return b.note(checkBranchAction("on_error", a))
}

// Hostname sets the virtual host name.
func (b *Builder) Hostname(name string) *Builder {
	b.p.Hostname = name
	return b.note(checkHostname(name))
}

// AllowDegraded sets whether a spawn may proceed, with a report, when the
// kernel lacks a Landlock protection the policy needs.
func (b *Builder) AllowDegraded(on bool) *Builder {
	b.p.AllowDegraded = on
	return b
}
