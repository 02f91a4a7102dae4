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

// The setters come in four shapes, one helper each, so that every field is
// stored and checked the same way: set overwrites a value, extend appends to
// a list, addPorts to a port list and put to a map.

// set overwrites a field with v and keeps err, the verdict of v's check
// (nil for fields with nothing to check).
func set[T any](b *Builder, field *T, v T, err error) *Builder {
	*field = v
	return b.note(err)
}

// extend appends vs to a list field and keeps check's verdict on the whole
// list.
func extend[T any](b *Builder, list *[]T, vs []T, check func([]T) error) *Builder {
	*list = append(*list, vs...)
	return b.note(check(*list))
}

// given turns a nil list into an empty one, for fields where calling the
// setter with no arguments must still mean "given, and empty".
func given[T any](list *[]T) *[]T {
	if *list == nil {
		*list = []T{}
	}
	return list
}

// named binds a check to the field name its errors carry.
func named[T any](field string, check func(string, T) error) func(T) error {
	return func(v T) error { return check(field, v) }
}

// addPorts appends ports to a port list, kept sorted and unique as Validate
// requires.
func addPorts(b *Builder, list *[]uint16, ports []uint16) *Builder {
	*list = append(*list, ports...)
	slices.Sort(*list)
	*list = slices.Compact(*list)
	return b
}

// put sets key to value in a map field, making the map on first use, and
// keeps check's verdict on that entry alone.
func put(b *Builder, m *map[string]string, key, value string, check func(map[string]string) error) *Builder {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[key] = value
	return b.note(check(map[string]string{key: value}))
}

// FsWritable appends paths granted read and write access.
func (b *Builder) FsWritable(paths ...string) *Builder {
	return extend(b, &b.p.FsWritable, paths, named("fs_writable", checkWritablePaths))
}

// FsReadable appends paths granted read access.
func (b *Builder) FsReadable(paths ...string) *Builder {
	return extend(b, &b.p.FsReadable, paths, named("fs_readable", checkPaths))
}

// FsDenied appends paths carved out of the granted trees.
func (b *Builder) FsDenied(paths ...string) *Builder {
	return extend(b, &b.p.FsDenied, paths, named("fs_denied", checkPaths))
}

// DenySyscalls appends to a deny list that replaces the default one; calling
// it with no names gives an empty deny list.
func (b *Builder) DenySyscalls(names ...string) *Builder {
	return extend(b, given(&b.p.DenySyscalls), names, named("deny_syscalls", checkSyscalls))
}

// AllowSyscalls appends to the syscall allowlist and turns allowlist mode on,
// even when called with no names.
func (b *Builder) AllowSyscalls(names ...string) *Builder {
	return extend(b, given(&b.p.AllowSyscalls), names, named("allow_syscalls", checkSyscalls))
}

// NetAllowHosts appends to the host allowlist; calling it with no hosts
// restricts the network to nothing.
func (b *Builder) NetAllowHosts(hosts ...string) *Builder {
	return extend(b, given(&b.p.NetAllowHosts), hosts, named("net_allow_hosts", checkHosts))
}

// NoCoredump sets whether core files are disabled.
func (b *Builder) NoCoredump(on bool) *Builder {
	return set(b, &b.p.NoCoredump, on, nil)
}

// NetBind appends TCP ports allowed for bind; the list is kept sorted and
// unique.
func (b *Builder) NetBind(ports ...uint16) *Builder {
	return addPorts(b, &b.p.NetBind, ports)
}

// NetConnect appends TCP ports allowed for connect; the list is kept sorted
// and unique.
func (b *Builder) NetConnect(ports ...uint16) *Builder {
	return addPorts(b, &b.p.NetConnect, ports)
}

// NoRawSockets sets whether raw IP sockets are forbidden (default true).
func (b *Builder) NoRawSockets(on bool) *Builder {
	return set(b, &b.p.NoRawSockets, on, nil)
}

// NoUDP sets whether UDP sockets are forbidden.
func (b *Builder) NoUDP(on bool) *Builder {
	return set(b, &b.p.NoUDP, on, nil)
}

// HTTPAllow appends HTTP allow rules.
func (b *Builder) HTTPAllow(rules ...string) *Builder {
	return extend(b, &b.p.HTTPAllow, rules, named("http_allow", checkHTTPRules))
}

// HTTPDeny appends HTTP deny rules.
func (b *Builder) HTTPDeny(rules ...string) *Builder {
	return extend(b, &b.p.HTTPDeny, rules, named("http_deny", checkHTTPRules))
}

// HTTPPorts appends ports redirected to the HTTP proxy; the list is kept
// sorted and unique.
func (b *Builder) HTTPPorts(ports ...uint16) *Builder {
	return addPorts(b, &b.p.HTTPPorts, ports)
}

// HTTPSCA sets the PEM CA certificate used to intercept TLS.
func (b *Builder) HTTPSCA(path string) *Builder {
	return set(b, &b.p.HTTPSCA, path, checkNoNUL("https_ca", path))
}

// HTTPSKey sets the PEM key of the HTTPS CA.
func (b *Builder) HTTPSKey(path string) *Builder {
	return set(b, &b.p.HTTPSKey, path, checkNoNUL("https_key", path))
}

// MaxMemory sets the memory budget in bytes; 0 is unlimited. ParseSize reads
// "512M"-style text.
func (b *Builder) MaxMemory(bytes uint64) *Builder {
	return set(b, &b.p.MaxMemory, bytes, nil)
}

// MaxProcesses sets the cap on concurrent processes; 0 is unlimited.
func (b *Builder) MaxProcesses(n int) *Builder {
	return set(b, &b.p.MaxProcesses, n, checkMaxProcesses(n))
}

// MaxOpenFiles sets RLIMIT_NOFILE; 0 inherits the host's limit.
func (b *Builder) MaxOpenFiles(n uint64) *Builder {
	return set(b, &b.p.MaxOpenFiles, n, nil)
}

// MaxCPU sets the share of one core in percent, 1..100; 0 is unthrottled.
func (b *Builder) MaxCPU(percent int) *Builder {
	return set(b, &b.p.MaxCPU, percent, checkMaxCPU(percent))
}

// CPUCores appends cores to pin the sandbox to.
func (b *Builder) CPUCores(cores ...int) *Builder {
	return extend(b, given(&b.p.CPUCores), cores, checkCPUCores)
}

// NumCPUs sets the CPU count the sandbox sees; 0 shows the real count.
func (b *Builder) NumCPUs(n int) *Builder {
	return set(b, &b.p.NumCPUs, n, checkNumCPUs(n))
}

// PortRemap sets whether the sandbox gets a private port space.
func (b *Builder) PortRemap(on bool) *Builder {
	return set(b, &b.p.PortRemap, on, nil)
}

// RandomSeed makes randomness deterministic with this seed.
func (b *Builder) RandomSeed(seed uint64) *Builder {
	return set(b, &b.p.RandomSeed, &seed, nil)
}

// TimeStart shifts the wall clock to start at t.
func (b *Builder) TimeStart(t time.Time) *Builder {
	return set(b, &b.p.TimeStart, &t, nil)
}

// NoRandomizeMemory sets whether ASLR is disabled.
func (b *Builder) NoRandomizeMemory(on bool) *Builder {
	return set(b, &b.p.NoRandomizeMemory, on, nil)
}

// NoHugePages sets whether transparent huge pages are disabled.
func (b *Builder) NoHugePages(on bool) *Builder {
	return set(b, &b.p.NoHugePages, on, nil)
}

// DeterministicDirs sets whether directory listings are sorted.
func (b *Builder) DeterministicDirs(on bool) *Builder {
	return set(b, &b.p.DeterministicDirs, on, nil)
}

// GPUDevices appends GPU indexes and turns GPU access on, even when called
// with no indexes.
func (b *Builder) GPUDevices(devices ...int) *Builder {
	return extend(b, given(&b.p.GPUDevices), devices, checkGPUDevices)
}

// Chroot sets the rootfs directory the sandbox sees as "/".
func (b *Builder) Chroot(dir string) *Builder {
	return set(b, &b.p.Chroot, dir, checkOptionalPath("chroot", dir))
}

// FsMount maps the virtual path virt inside the chroot to the host directory
// host, replacing an earlier mapping of virt.
func (b *Builder) FsMount(virt, host string) *Builder {
	return put(b, &b.p.FsMount, virt, host, checkFsMount)
}

// CleanEnv sets whether the child starts from an empty environment.
func (b *Builder) CleanEnv(on bool) *Builder {
	return set(b, &b.p.CleanEnv, on, nil)
}

// Env sets the environment variable key to value in the child.
func (b *Builder) Env(key, value string) *Builder {
	return put(b, &b.p.Env, key, value, checkEnv)
}

// UID sets the fake user id inside a user namespace.
func (b *Builder) UID(uid int) *Builder {
	return set(b, &b.p.UID, &uid, checkUID(&uid))
}

// Workdir sets the copy-on-write root.
func (b *Builder) Workdir(dir string) *Builder {
	return set(b, &b.p.Workdir, dir, checkOptionalPath("workdir", dir))
}

// Cwd sets the child's working directory.
func (b *Builder) Cwd(dir string) *Builder {
	return set(b, &b.p.Cwd, dir, checkOptionalPath("cwd", dir))
}

// FsIsolation sets the copy-on-write backend.
func (b *Builder) FsIsolation(f FsIsolation) *Builder {
	return set(b, &b.p.FsIsolation, f, checkFsIsolation(f))
}

// FsStorage sets where the copy-on-write upper layer lives.
func (b *Builder) FsStorage(dir string) *Builder {
	return set(b, &b.p.FsStorage, dir, checkOptionalPath("fs_storage", dir))
}

// MaxDisk caps the copy-on-write upper layer in bytes; 0 is unlimited.
func (b *Builder) MaxDisk(bytes uint64) *Builder {
	return set(b, &b.p.MaxDisk, bytes, nil)
}

// OnExit sets the copy-on-write action after exit status 0.
func (b *Builder) OnExit(a BranchAction) *Builder {
	return set(b, &b.p.OnExit, a, checkBranchAction("on_exit", a))
}

// OnError sets the copy-on-write action after a failure.
func (b *Builder) OnError(a BranchAction) *Builder {
	return set(b, &b.p.OnError, a, checkBranchAction("on_error", a))
}

// Hostname sets the virtual host name.
func (b *Builder) Hostname(name string) *Builder {
	return set(b, &b.p.Hostname, name, checkHostname(name))
}

// AllowDegraded sets whether a spawn may proceed, with a report, when the
// kernel lacks a Landlock protection the policy needs.
func (b *Builder) AllowDegraded(on bool) *Builder {
	return set(b, &b.p.AllowDegraded, on, nil)
}
