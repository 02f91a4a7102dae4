package policy

import (
	"maps"
	"slices"
	"time"
)

// FsIsolation selects the copy-on-write backend used for Workdir.
type FsIsolation string

// The copy-on-write backends of the original (original.md 1.2 row 38).
const (
	// FsIsolationNone means no mount-based isolation; with a Workdir the
	// supervisor implements copy-on-write itself.
	FsIsolationNone FsIsolation = "none"
	// FsIsolationOverlayFS mounts an overlay over Workdir in a user and mount
	// namespace.
	FsIsolationOverlayFS FsIsolation = "overlayfs"
	// FsIsolationBranchFS expects Workdir to be a BranchFS FUSE mount.
	FsIsolationBranchFS FsIsolation = "branchfs"
)

func (f FsIsolation) valid() bool {
	switch f {
	case FsIsolationNone, FsIsolationOverlayFS, FsIsolationBranchFS:
		return true
	}
	return false
}

// BranchAction says what happens to the copy-on-write layer when the sandbox
// ends.
type BranchAction string

// The copy-on-write outcomes of the original (original.md 1.2 rows 41-42).
const (
	// ActionCommit merges the changes into Workdir.
	ActionCommit BranchAction = "commit"
	// ActionAbort discards the changes.
	ActionAbort BranchAction = "abort"
	// ActionKeep leaves the upper layer in place for inspection.
	ActionKeep BranchAction = "keep"
)

func (a BranchAction) valid() bool {
	switch a {
	case ActionCommit, ActionAbort, ActionKeep:
		return true
	}
	return false
}

// Policy describes what a sandboxed process may do. Fields follow the order
// of the original's Python Policy (original.md table 1.2); the Python-only
// notif_policy leftover is omitted, and Hostname and AllowDegraded are added.
//
// For slices where nil and empty differ (DenySyscalls, AllowSyscalls,
// NetAllowHosts, CPUCores, GPUDevices) nil means "option not given", as None
// does in Python.
type Policy struct {
	// FsWritable lists absolute paths granted read, write, create and delete.
	FsWritable []string
	// FsReadable lists absolute paths granted read, list and execute.
	FsReadable []string
	// FsDenied lists absolute paths carved out of the granted trees.
	FsDenied []string
	// DenySyscalls replaces the default deny list; nil keeps the default.
	DenySyscalls []string
	// AllowSyscalls turns on allowlist mode when non-nil.
	AllowSyscalls []string
	// NetAllowHosts restricts destinations to these hosts; nil is
	// unrestricted, non-nil empty allows nothing.
	NetAllowHosts []string
	// NoCoredump disables core files.
	NoCoredump bool
	// NetBind lists the TCP ports allowed for bind, sorted and unique.
	NetBind []uint16
	// NetConnect lists the TCP ports allowed for connect, sorted and unique.
	NetConnect []uint16
	// NoRawSockets forbids raw IP sockets; true by default.
	NoRawSockets bool
	// NoUDP forbids UDP sockets.
	NoUDP bool
	// HTTPAllow lists "METHOD host/path" rules; non-empty means default deny.
	HTTPAllow []string
	// HTTPDeny lists "METHOD host/path" rules evaluated before HTTPAllow.
	HTTPDeny []string
	// HTTPPorts lists the ports redirected to the HTTP proxy, sorted and unique.
	HTTPPorts []uint16
	// HTTPSCA is the PEM CA certificate used to intercept TLS.
	HTTPSCA string
	// HTTPSKey is the PEM key of HTTPSCA.
	HTTPSKey string
	// MaxMemory is the anonymous-memory budget in bytes; 0 is unlimited.
	MaxMemory uint64
	// MaxProcesses caps concurrent processes; 0 is unlimited, default 64.
	MaxProcesses int
	// MaxOpenFiles sets RLIMIT_NOFILE; 0 inherits the host's limit.
	MaxOpenFiles uint64
	// MaxCPU is the share of one core in percent, 1..100; 0 is unthrottled.
	MaxCPU int
	// CPUCores pins the sandbox to these cores; nil is no pinning.
	CPUCores []int
	// NumCPUs is the CPU count the sandbox sees; 0 shows the real count.
	NumCPUs int
	// PortRemap gives the sandbox a private port space.
	PortRemap bool
	// RandomSeed makes randomness deterministic when non-nil.
	RandomSeed *uint64
	// TimeStart shifts the wall clock to start at this instant when non-nil.
	TimeStart *time.Time
	// NoRandomizeMemory disables ASLR.
	NoRandomizeMemory bool
	// NoHugePages disables transparent huge pages.
	NoHugePages bool
	// DeterministicDirs makes directory listings sorted.
	DeterministicDirs bool
	// GPUDevices grants GPU access when non-nil.
	GPUDevices []int
	// Chroot is the rootfs directory the sandbox sees as "/".
	Chroot string
	// FsMount maps virtual absolute paths inside Chroot to host directories.
	FsMount map[string]string
	// CleanEnv starts the child from an empty environment.
	CleanEnv bool
	// Env sets or overrides variables, after CleanEnv.
	Env map[string]string
	// UID is the fake user id inside a user namespace when non-nil.
	UID *int
	// Workdir is the copy-on-write root.
	Workdir string
	// Cwd is the child's working directory; empty keeps the default.
	Cwd string
	// FsIsolation selects the copy-on-write backend; default none.
	FsIsolation FsIsolation
	// FsStorage is where the copy-on-write upper layer lives.
	FsStorage string
	// MaxDisk caps the copy-on-write upper layer in bytes; 0 is unlimited.
	MaxDisk uint64
	// OnExit is the copy-on-write action after exit status 0; default commit.
	OnExit BranchAction
	// OnError is the copy-on-write action after a failure; default abort.
	OnError BranchAction
	// Hostname is the virtual host name (uname, /etc/hostname); empty keeps
	// the host's.
	Hostname string
	// AllowDegraded lets a spawn proceed when the kernel lacks a Landlock
	// protection the policy needs; the missing protections are reported.
	AllowDegraded bool
}

// Default returns the defaults of the original's Policy (original.md 1.2).
func Default() Policy {
	return Policy{
		NoRawSockets: true,
		MaxProcesses: 64,
		FsIsolation:  FsIsolationNone,
		OnExit:       ActionCommit,
		OnError:      ActionAbort,
	}
}

// Clone returns a deep copy of p. Nil slices and maps stay nil and empty ones
// stay empty, because nil and empty mean different things for some fields.
func (p *Policy) Clone() Policy {
	c := *p
	c.FsWritable = slices.Clone(p.FsWritable)
	c.FsReadable = slices.Clone(p.FsReadable)
	c.FsDenied = slices.Clone(p.FsDenied)
	c.DenySyscalls = slices.Clone(p.DenySyscalls)
	c.AllowSyscalls = slices.Clone(p.AllowSyscalls)
	c.NetAllowHosts = slices.Clone(p.NetAllowHosts)
	c.NetBind = slices.Clone(p.NetBind)
	c.NetConnect = slices.Clone(p.NetConnect)
	c.HTTPAllow = slices.Clone(p.HTTPAllow)
	c.HTTPDeny = slices.Clone(p.HTTPDeny)
	c.HTTPPorts = slices.Clone(p.HTTPPorts)
	c.CPUCores = slices.Clone(p.CPUCores)
	c.GPUDevices = slices.Clone(p.GPUDevices)
	c.FsMount = maps.Clone(p.FsMount)
	c.Env = maps.Clone(p.Env)
	c.RandomSeed = clonePtr(p.RandomSeed)
	c.TimeStart = clonePtr(p.TimeStart)
	c.UID = clonePtr(p.UID)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
