package policy

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// unimplemented lists the options whose enforcement does not exist yet, in
// the order of original.md table 1.2. Validate rejects a policy that sets any
// of them, because an accepted option must work (spec README, requirement 6).
// Remove a row in the same change that makes its feature work.
var unimplemented = []struct {
	field string
	set   func(*Policy) bool
}{
	{"http_allow", func(p *Policy) bool { return len(p.HTTPAllow) > 0 }},
	{"http_deny", func(p *Policy) bool { return len(p.HTTPDeny) > 0 }},
	{"http_ports", func(p *Policy) bool { return len(p.HTTPPorts) > 0 }},
	{"https_ca", func(p *Policy) bool { return p.HTTPSCA != "" }},
	{"https_key", func(p *Policy) bool { return p.HTTPSKey != "" }},
	{"random_seed", func(p *Policy) bool { return p.RandomSeed != nil }},
	{"time_start", func(p *Policy) bool { return p.TimeStart != nil }},
	{"deterministic_dirs", func(p *Policy) bool { return p.DeterministicDirs }},
	{"gpu_devices", func(p *Policy) bool { return p.GPUDevices != nil }},
	{"chroot", func(p *Policy) bool { return p.Chroot != "" }},
	{"fs_mount", func(p *Policy) bool { return len(p.FsMount) > 0 }},
	{"uid", func(p *Policy) bool { return p.UID != nil }},
	{"workdir", func(p *Policy) bool { return p.Workdir != "" }},
	{"fs_isolation", func(p *Policy) bool { return p.FsIsolation != FsIsolationNone }},
	{"fs_storage", func(p *Policy) bool { return p.FsStorage != "" }},
	{"max_disk", func(p *Policy) bool { return p.MaxDisk != 0 }},
	{"on_exit", func(p *Policy) bool { return p.OnExit != ActionCommit }},
	{"on_error", func(p *Policy) bool { return p.OnError != ActionAbort }},
}

// Limits the kernel imposes on values that Validate can check without
// touching the host.
const (
	// pathMax is PATH_MAX from <linux/limits.h>, which counts the NUL.
	pathMax = 4096
	// maxCPUIndex is CPU_SETSIZE from glibc's <sched.h>: the fixed
	// cpu_set_t the child passes to sched_setaffinity holds this many CPUs.
	maxCPUIndex = 1024
	// hostNameMax is __NEW_UTS_LEN from <linux/utsname.h>.
	hostNameMax = 64
	// maxUID is the largest id a uid_map line accepts: (uid_t)-1 is the
	// "no change" sentinel of the set*id calls and cannot be mapped.
	maxUID = 1<<32 - 2
)

// neverWritable lists kernel interfaces that no policy may grant writable:
// writing /proc/sys/kernel/core_pattern or /sys knobs escapes a sandbox
// running as root (attacks.md PROC-06).
var neverWritable = []string{"/proc", "/sys"}

// Validate reports the first problem with p, as a *FieldError. Shape checks
// run in field order before the not-implemented checks, so a malformed value
// is reported as such even for an option that is not implemented yet.
func (p *Policy) Validate() error {
	for _, err := range []error{
		checkWritablePaths("fs_writable", p.FsWritable),
		checkPaths("fs_readable", p.FsReadable),
		checkPaths("fs_denied", p.FsDenied),
		checkSyscalls("deny_syscalls", p.DenySyscalls),
		checkSyscalls("allow_syscalls", p.AllowSyscalls),
		checkSyscallModes(p.DenySyscalls, p.AllowSyscalls),
		checkHosts("net_allow_hosts", p.NetAllowHosts),
		checkPorts("net_bind", p.NetBind),
		checkPorts("net_connect", p.NetConnect),
		checkHTTPRules("http_allow", p.HTTPAllow),
		checkHTTPRules("http_deny", p.HTTPDeny),
		checkPorts("http_ports", p.HTTPPorts),
		checkNoNUL("https_ca", p.HTTPSCA),
		checkNoNUL("https_key", p.HTTPSKey),
		checkHTTPSPair(p.HTTPSCA, p.HTTPSKey),
		checkMaxProcesses(p.MaxProcesses),
		checkMaxCPU(p.MaxCPU),
		checkCPUCores(p.CPUCores),
		checkNumCPUs(p.NumCPUs),
		checkGPUDevices(p.GPUDevices),
		checkOptionalPath("chroot", p.Chroot),
		checkFsMount(p.FsMount),
		checkNeeds("fs_mount", len(p.FsMount) > 0, "chroot", p.Chroot != ""),
		checkEnv(p.Env),
		checkUID(p.UID),
		checkOptionalPath("workdir", p.Workdir),
		checkOptionalPath("cwd", p.Cwd),
		checkFsIsolation(p.FsIsolation),
		checkNeeds("fs_isolation", p.FsIsolation.valid() && p.FsIsolation != FsIsolationNone, "workdir", p.Workdir != ""),
		checkOptionalPath("fs_storage", p.FsStorage),
		checkNeeds("fs_storage", p.FsStorage != "", "workdir", p.Workdir != ""),
		checkNeeds("max_disk", p.MaxDisk != 0, "workdir", p.Workdir != ""),
		checkBranchAction("on_exit", p.OnExit),
		checkBranchAction("on_error", p.OnError),
		checkHostname(p.Hostname),
	} {
		if err != nil {
			return err
		}
	}
	for _, u := range unimplemented {
		if u.set(p) {
			return notImplemented(u.field)
		}
	}
	return nil
}

// checkPath is the shape every host or virtual path must have. Existence is
// checked at spawn time, where the answer is not stale.
func checkPath(field, path string) error {
	switch {
	case path == "":
		return invalid(field, "empty path")
	case strings.IndexByte(path, 0) >= 0:
		return invalid(field, "path %q contains a NUL byte", path)
	case len(path) >= pathMax:
		return invalid(field, "path of %d bytes is longer than PATH_MAX", len(path))
	case !filepath.IsAbs(path):
		// Relative paths would be resolved against whatever directory the
		// host process has at spawn time, which a library caller rarely
		// controls; bindings make paths absolute where the user typed them.
		return invalid(field, "path %q is not absolute", path)
	}
	return nil
}

func checkOptionalPath(field, path string) error {
	if path == "" {
		return nil
	}
	return checkPath(field, path)
}

func checkPaths(field string, paths []string) error {
	for _, p := range paths {
		if err := checkPath(field, p); err != nil {
			return err
		}
	}
	return nil
}

// checkWritablePaths also refuses any path that contains or lies under a
// neverWritable tree. The check is lexical; the Landlock layer repeats it on
// the resolved path because a symlink can point anywhere.
func checkWritablePaths(field string, paths []string) error {
	if err := checkPaths(field, paths); err != nil {
		return err
	}
	for _, p := range paths {
		if err := checkNotKernelTree(field, p); err != nil {
			return err
		}
	}
	return nil
}

func checkNotKernelTree(field, path string) error {
	clean := filepath.Clean(path)
	for _, tree := range neverWritable {
		if within(clean, tree) || within(tree, clean) {
			return invalid(field, "path %q would make %s writable, which is never allowed", path, tree)
		}
	}
	return nil
}

// within reports whether the clean absolute path lies in the tree rooted at
// root, comparing whole components so that /processes is not under /proc.
func within(path, root string) bool {
	return root == "/" || path == root || strings.HasPrefix(path, root+"/")
}

// checkSyscalls checks that each name looks like a syscall name. Whether it
// exists depends on the architecture and is decided by the seccomp package.
func checkSyscalls(field string, names []string) error {
	for _, n := range names {
		if !isSyscallName(n) {
			return invalid(field, "%q is not a syscall name (lower-case letters, digits and '_', not starting with a digit)", n)
		}
	}
	return nil
}

func isSyscallName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkSyscallModes rejects a deny list next to an allowlist: which one wins
// would be a guess, and the original refuses it too.
func checkSyscallModes(deny, allow []string) error {
	if deny != nil && allow != nil {
		return invalid("allow_syscalls", "cannot be combined with deny_syscalls")
	}
	return nil
}

// checkHosts checks the shape of host names and IP literals. Resolution
// happens at spawn time.
func checkHosts(field string, hosts []string) error {
	for _, h := range hosts {
		if h == "" {
			return invalid(field, "empty host name")
		}
		if strings.IndexFunc(h, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return invalid(field, "host %q contains white space or a control character", h)
		}
	}
	return nil
}

// checkPorts insists on the sorted, unique form so that enforcement code can
// binary-search the list; ParsePorts and the Builder produce that form.
func checkPorts(field string, ports []uint16) error {
	for i := 1; i < len(ports); i++ {
		if ports[i] <= ports[i-1] {
			return invalid(field, "ports must be sorted and unique, got %d after %d", ports[i], ports[i-1])
		}
	}
	return nil
}

// checkHTTPRules only checks what any rule grammar needs; the rule parser
// arrives with the HTTP proxy.
func checkHTTPRules(field string, rules []string) error {
	for _, r := range rules {
		if strings.TrimSpace(r) == "" {
			return invalid(field, "empty rule")
		}
		if strings.IndexFunc(r, unicode.IsControl) >= 0 {
			return invalid(field, "rule %q contains a control character", r)
		}
	}
	return nil
}

func checkNoNUL(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return invalid(field, "%q contains a NUL byte", s)
	}
	return nil
}

func checkHTTPSPair(ca, key string) error {
	switch {
	case ca != "" && key == "":
		return invalid("https_key", "required when https_ca is set")
	case ca == "" && key != "":
		return invalid("https_ca", "required when https_key is set")
	}
	return nil
}

func checkMaxProcesses(n int) error {
	if n < 0 {
		return invalid("max_processes", "must not be negative (0 means unlimited), got %d", n)
	}
	return nil
}

func checkMaxCPU(pct int) error {
	if pct < 0 || pct > 100 {
		return invalid("max_cpu", "must be between 1 and 100, got %d", pct)
	}
	return nil
}

// checkCPUCores also refuses an empty non-nil list: sched_setaffinity with an
// empty mask fails, so the spawn would fail later with a worse message.
func checkCPUCores(cores []int) error {
	if cores != nil && len(cores) == 0 {
		return invalid("cpu_cores", "empty list (use nil for no pinning)")
	}
	for i, c := range cores {
		if c < 0 || c >= maxCPUIndex {
			return invalid("cpu_cores", "core %d out of range 0..%d", c, maxCPUIndex-1)
		}
		if slices.Contains(cores[:i], c) {
			return invalid("cpu_cores", "core %d listed twice", c)
		}
	}
	return nil
}

func checkNumCPUs(n int) error {
	if n < 0 {
		return invalid("num_cpus", "must not be negative (0 shows the real count), got %d", n)
	}
	return nil
}

func checkGPUDevices(devs []int) error {
	for _, d := range devs {
		if d < 0 {
			return invalid("gpu_devices", "device index must not be negative, got %d", d)
		}
	}
	return nil
}

// checkFsMount checks both sides; host directories get the writable-path
// rules because mounted paths are always readable and writable.
func checkFsMount(mounts map[string]string) error {
	for _, virt := range sortedKeys(mounts) {
		if err := checkPath("fs_mount", virt); err != nil {
			return err
		}
		if err := checkWritablePaths("fs_mount", []string{mounts[virt]}); err != nil {
			return err
		}
	}
	return nil
}

// checkNeeds reports an option that only has meaning together with another.
func checkNeeds(field string, set bool, needed string, present bool) error {
	if set && !present {
		return invalid(field, "requires %s", needed)
	}
	return nil
}

func checkEnv(env map[string]string) error {
	for _, k := range sortedKeys(env) {
		switch {
		case k == "":
			return invalid("env", "empty variable name")
		case strings.ContainsAny(k, "=\x00"):
			return invalid("env", "variable name %q contains '=' or a NUL byte", k)
		case strings.IndexByte(env[k], 0) >= 0:
			return invalid("env", "value of %s contains a NUL byte", k)
		}
	}
	return nil
}

func checkUID(uid *int) error {
	if uid != nil && (*uid < 0 || *uid > maxUID) {
		return invalid("uid", "must be between 0 and %d, got %d", maxUID, *uid)
	}
	return nil
}

func checkFsIsolation(f FsIsolation) error {
	if !f.valid() {
		return invalid("fs_isolation", "must be %q, %q or %q, got %q (start from Default())",
			FsIsolationNone, FsIsolationOverlayFS, FsIsolationBranchFS, f)
	}
	return nil
}

func checkBranchAction(field string, a BranchAction) error {
	if !a.valid() {
		return invalid(field, "must be %q, %q or %q, got %q (start from Default())",
			ActionCommit, ActionAbort, ActionKeep, a)
	}
	return nil
}

// checkHostname keeps the name servable both as the uname nodename and as
// the one-line /etc/hostname file.
func checkHostname(h string) error {
	switch {
	case len(h) > hostNameMax:
		return invalid("hostname", "%d bytes is longer than %d", len(h), hostNameMax)
	case strings.ContainsRune(h, '/'):
		return invalid("hostname", "%q contains '/'", h)
	case strings.IndexFunc(h, unicode.IsControl) >= 0:
		return invalid("hostname", "%q contains a control character", h)
	}
	return nil
}

// sortedKeys makes map checks report the same entry on every run.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
