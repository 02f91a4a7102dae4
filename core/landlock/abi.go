package landlock

import (
	"errors"
	"fmt"
	"sync"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// maxKnownABI is the newest Landlock ABI whose rights this package knows.
// A newer kernel is used at this level: rights added later have meanings we
// cannot grant or deny knowingly, so they stay unhandled (the kernel accepts
// a ruleset that handles fewer rights than it knows).
const maxKnownABI = 11

// Filesystem rights in the order the ABIs introduced them
// (include/uapi/linux/landlock.h; Documentation/userspace-api/landlock.rst).
const (
	// fsRightsABI1 is EXECUTE through MAKE_SYM, the 13 rights of Linux 5.13.
	fsRightsABI1 uint64 = ll.AccessFSExecute | ll.AccessFSWriteFile |
		ll.AccessFSReadFile | ll.AccessFSReadDir | ll.AccessFSRemoveDir |
		ll.AccessFSRemoveFile | ll.AccessFSMakeChar | ll.AccessFSMakeDir |
		ll.AccessFSMakeReg | ll.AccessFSMakeSock | ll.AccessFSMakeFifo |
		ll.AccessFSMakeBlock | ll.AccessFSMakeSym

	// readRights is what Config.Readable grants: list, read and execute.
	readRights uint64 = ll.AccessFSExecute | ll.AccessFSReadFile | ll.AccessFSReadDir

	// fileRights are the only rights the kernel accepts on a rule whose
	// object is not a directory (ACCESS_FILE in security/landlock/fs.c);
	// any other bit makes landlock_add_rule fail with EINVAL.
	fileRights uint64 = ll.AccessFSExecute | ll.AccessFSWriteFile |
		ll.AccessFSReadFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev |
		ll.AccessFSResolveUnix

	// tcpRights are the network rights a ruleset handles (ABI 4).
	tcpRights uint64 = ll.AccessNetBindTCP | ll.AccessNetConnectTCP

	// deviceNodeRights create character and block devices; never granted.
	deviceNodeRights uint64 = ll.AccessFSMakeChar | ll.AccessFSMakeBlock

	// scopes are the IPC scopes a ruleset requests (ABI 6).
	scopes uint64 = ll.ScopeAbstractUnixSocket | ll.ScopeSignal
)

// fsRightsFor returns every filesystem right the given ABI knows, capped at
// maxKnownABI. It is both the handled set of a ruleset and what
// Config.Writable grants.
func fsRightsFor(abi int) uint64 {
	r := uint64(0)
	if abi >= 1 {
		r |= fsRightsABI1
	}
	if abi >= 2 {
		r |= ll.AccessFSRefer
	}
	if abi >= 3 {
		r |= ll.AccessFSTruncate
	}
	if abi >= 5 {
		r |= ll.AccessFSIoctlDev
	}
	if abi >= 9 {
		// Connecting to a pathname unix socket: only Writable trees get
		// it, which matches the supervisor's gate on older kernels
		// (attacks.md NET-06).
		r |= ll.AccessFSResolveUnix
	}
	return r
}

// kernelFor names the first mainline kernel of each ABI, for error messages.
// ABIs newer than 7 are not listed because this package was written against
// a 6.18 kernel and does not guess future release numbers.
var kernelFor = map[int]string{
	1: "Linux 5.13",
	2: "Linux 5.19",
	3: "Linux 6.2",
	4: "Linux 6.7",
	5: "Linux 6.10",
	6: "Linux 6.12",
	7: "Linux 6.15",
}

// needs formats "Landlock ABI n (Linux x.y)" for messages.
func needs(abi int) string {
	if k, ok := kernelFor[abi]; ok {
		return fmt.Sprintf("Landlock ABI %d (%s)", abi, k)
	}
	return fmt.Sprintf("Landlock ABI %d", abi)
}

// abiOnce caches the probe: the ABI of a running kernel cannot change, and
// Build is called once per spawn.
var abiOnce = sync.OnceValues(probeABI)

// probeABI asks the kernel for its Landlock ABI version.
func probeABI() (int, error) {
	v, err := ll.LandlockGetABIVersion()
	if err != nil {
		return 0, errnoError("landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)", err)
	}
	if v < 1 {
		// Not a documented answer; treat it as no Landlock rather than
		// building rulesets against an unknown kernel.
		return 0, &unsupportedError{msg: fmt.Sprintf("landlock: kernel reported ABI %d", v)}
	}
	return v, nil
}

// ABIVersion returns the Landlock ABI version of the running kernel (1 for
// Linux 5.13 and up). If Landlock is not built into the kernel or not enabled
// at boot (the "lsm=" list), it returns an error that wraps [ErrUnsupported]
// and says so. The answer is probed once and cached.
func ABIVersion() (int, error) {
	return abiOnce()
}

// Errata returns the bitmask of Landlock errata fixed in the running kernel
// (LANDLOCK_CREATE_RULESET_ERRATA, Linux 6.15 and backports). A kernel that
// has Landlock but predates the errata query answers EINVAL; Errata then
// returns 0, because such a kernel reports no fixed erratum. If Landlock is
// unavailable it returns the same error as [ABIVersion].
func Errata() (int, error) {
	if _, err := ABIVersion(); err != nil {
		return 0, err
	}
	e, err := ll.LandlockGetErrata()
	if errors.Is(err, unix.EINVAL) {
		return 0, nil
	}
	if err != nil {
		return 0, errnoError("landlock_create_ruleset(LANDLOCK_CREATE_RULESET_ERRATA)", err)
	}
	return e, nil
}

// Feature is one Landlock capability, as reported by `sandlock check`.
type Feature struct {
	// Name is a stable identifier, such as "net_tcp".
	Name string
	// MinABI is the first Landlock ABI that offers the feature.
	MinABI int
	// Available is true when the running kernel's ABI is at least MinABI.
	Available bool
	// Desc says in a few words what the feature controls.
	Desc string
}

// featureList is every feature Features reports, oldest first.
var featureList = []Feature{
	{Name: "fs", MinABI: 1, Desc: "filesystem access control: execute, read, write, list, create and remove"},
	{Name: "fs_refer", MinABI: 2, Desc: "link and rename across directories (LANDLOCK_ACCESS_FS_REFER)"},
	{Name: "fs_truncate", MinABI: 3, Desc: "truncate control (LANDLOCK_ACCESS_FS_TRUNCATE)"},
	{Name: "net_tcp", MinABI: 4, Desc: "TCP bind and connect port rules"},
	{Name: "fs_ioctl_dev", MinABI: 5, Desc: "ioctl on device files (LANDLOCK_ACCESS_FS_IOCTL_DEV)"},
	{Name: "scope_abstract_unix", MinABI: 6, Desc: "abstract unix sockets outside the sandbox are unreachable"},
	{Name: "scope_signal", MinABI: 6, Desc: "signals to processes outside the sandbox are blocked"},
	{Name: "audit_log_flags", MinABI: 7, Desc: "audit logging control flags for landlock_restrict_self"},
	{Name: "tsync", MinABI: 8, Desc: "one ruleset enforced on all threads of a process (LANDLOCK_RESTRICT_SELF_TSYNC)"},
	{Name: "fs_resolve_unix", MinABI: 9, Desc: "connect to pathname unix sockets (LANDLOCK_ACCESS_FS_RESOLVE_UNIX)"},
	{Name: "net_udp", MinABI: 10, Desc: "UDP bind and connect/send port rules"},
	{Name: "quiet_rules", MinABI: 10, Desc: "rules whose denials are kept out of the audit log"},
	{Name: "restrict_no_new_privs", MinABI: 11, Desc: "landlock_restrict_self sets no_new_privs itself"},
}

// Features lists the Landlock features this package knows, oldest first, with
// Available set from the running kernel's ABI. When Landlock is unavailable
// every feature is reported unavailable; call [ABIVersion] for the reason.
func Features() []Feature {
	abi, err := ABIVersion()
	if err != nil {
		abi = 0
	}
	out := make([]Feature, len(featureList))
	for i, f := range featureList {
		f.Available = abi >= f.MinABI
		out[i] = f
	}
	return out
}
