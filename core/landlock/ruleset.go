package landlock

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// Config describes what a sandboxed child may do. Everything a ruleset
// handles and no rule allows is denied (see the package documentation).
type Config struct {
	// Readable are trees (or single files) the child may list, read and
	// execute: LANDLOCK_ACCESS_FS_EXECUTE, READ_FILE and READ_DIR.
	Readable []string
	// Writable are trees (or single files) where the child has every
	// filesystem right the kernel's ABI knows: read, write, create, remove,
	// REFER, TRUNCATE, IOCTL_DEV and, from ABI 9, RESOLVE_UNIX — except
	// creating device nodes (MAKE_CHAR, MAKE_BLOCK), which no tree grants.
	Writable []string
	// BindTCP are the TCP ports the child may bind. Port 0 allows binding
	// a kernel-chosen ephemeral port (package documentation, "TCP port 0").
	BindTCP []uint16
	// ConnectTCP are the TCP ports the child may connect to. Both TCP
	// rights are always handled, so an empty list denies every connect.
	ConnectTCP []uint16
	// NoNetwork leaves TCP unhandled, for a filesystem-only ruleset; BindTCP
	// and ConnectTCP are then ignored.
	NoNetwork bool
	// NoScopes requests no IPC scopes, for a filesystem-only ruleset: the
	// child may then reach outside abstract unix sockets and signal outside
	// processes.
	NoScopes bool
	// AllowDegraded lets Build drop a protection the kernel lacks and list
	// it in Ruleset.Degraded instead of failing. It does not cover a kernel
	// without Landlock at all, which is always an error.
	AllowDegraded bool
}

// Ruleset is a Landlock ruleset file descriptor ready for
// landlock_restrict_self. It is not safe for concurrent use.
type Ruleset struct {
	// FD is the ruleset descriptor. The kernel creates it close-on-exec, so
	// it never reaches the sandboxed program; the child stub uses it
	// between fork and execve. Close it with Close once the child has
	// applied it (or failed to start); -1 after Close.
	FD int
	// ABI is the Landlock ABI version of the running kernel.
	ABI int
	// Degraded lists, in words, each protection that was dropped because
	// the kernel lacks it. It is empty unless Config.AllowDegraded was set.
	Degraded []string
}

// Close closes the ruleset descriptor. Closing twice is a no-op, so a
// deferred Close may follow an explicit one.
func (r *Ruleset) Close() error {
	if r == nil || r.FD < 0 {
		return nil
	}
	fd := r.FD
	r.FD = -1
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("landlock: close ruleset fd %d: %w", fd, err)
	}
	return nil
}

// Build creates a ruleset in the calling process for the running kernel's
// best ABI and adds c's rules to it. It does not restrict the caller.
// Errors that mean a missing kernel feature wrap [ErrUnsupported]; a missing
// or unopenable path yields an error naming the path.
func Build(c Config) (*Ruleset, error) {
	abi, err := ABIVersion()
	if err != nil {
		return nil, err
	}
	return build(c, abi)
}

// missing is a protection the ruleset wants and the ABI lacks.
type missing struct {
	what   string // subject of "... need(s) Landlock ABI n"
	verb   string // "need" or "needs", agreeing with what
	minABI int
	loss   string // what the child can do without it
}

// build is Build at a given ABI. Tests call it with an ABI below the
// kernel's to exercise the degraded paths on a real kernel, which accepts
// any ruleset an older ABI could express.
func build(c Config, abi int) (*Ruleset, error) {
	eff := min(abi, maxKnownABI)

	attr := ll.RulesetAttr{HandledAccessFS: fsRightsFor(eff)}
	var lacks []missing
	if eff < 3 {
		lacks = append(lacks, missing{"truncate control", "needs", 3,
			"files in read-only trees can be truncated"})
	}
	if !c.NoNetwork {
		if eff >= 4 {
			attr.HandledAccessNet = tcpRights
		} else {
			lacks = append(lacks, missing{"TCP port rules", "need", 4,
				"TCP bind and connect are not restricted"})
		}
	}
	if eff < 5 {
		lacks = append(lacks, missing{"device ioctl control", "needs", 5,
			"ioctl on device files is not restricted"})
	}
	if !c.NoScopes {
		if eff >= 6 {
			attr.Scoped = scopes
		} else {
			lacks = append(lacks,
				missing{"abstract unix socket scoping", "needs", 6,
					"abstract unix sockets outside the sandbox are reachable"},
				missing{"signal scoping", "needs", 6,
					"processes outside the sandbox can be signalled"})
		}
	}

	rs := &Ruleset{FD: -1, ABI: abi}
	if len(lacks) > 0 {
		msgs := make([]string, len(lacks))
		for i, m := range lacks {
			msgs[i] = fmt.Sprintf("%s %s %s, kernel has ABI %d", m.what, m.verb, needs(m.minABI), abi)
		}
		if !c.AllowDegraded {
			return nil, &unsupportedError{msg: "landlock: " + strings.Join(msgs, "; ")}
		}
		for i, m := range lacks {
			rs.Degraded = append(rs.Degraded, msgs[i]+": "+m.loss)
		}
	}

	paths, err := mergePaths(c, attr.HandledAccessFS)
	if err != nil {
		return nil, err
	}

	fd, err := ll.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		return nil, createError(err, abi, &attr)
	}
	rs.FD = fd
	ok := false
	defer func() {
		if !ok {
			_ = rs.Close()
		}
	}()

	for _, p := range paths {
		if err := addPathRule(fd, p); err != nil {
			return nil, err
		}
	}
	if attr.HandledAccessNet != 0 {
		if err := addPortRules(fd, c); err != nil {
			return nil, err
		}
	}
	ok = true
	return rs, nil
}

// pathRule is one path with the rights of every list that names it.
type pathRule struct {
	path   string
	list   string // "fs_readable" or "fs_writable", for messages
	rights uint64 // already limited to the handled set
}

// mergePaths validates the paths and merges duplicates, keeping the order
// of first appearance so errors are reproducible. Rights are limited to the
// handled set, because a rule may only allow handled rights (EINVAL).
// Spellings that differ but name one inode are merged by the kernel.
func mergePaths(c Config, handled uint64) ([]pathRule, error) {
	var out []pathRule
	index := map[string]int{}
	add := func(list string, paths []string, rights uint64) error {
		for _, p := range paths {
			if !filepath.IsAbs(p) {
				return fmt.Errorf("landlock: %s %q: path must be absolute", list, p)
			}
			if i, ok := index[p]; ok {
				out[i].rights |= rights & handled
				continue
			}
			index[p] = len(out)
			out = append(out, pathRule{path: p, list: list, rights: rights & handled})
		}
		return nil
	}
	if err := add("fs_readable", c.Readable, readRights); err != nil {
		return nil, err
	}
	// Device nodes are never created by a sandbox (attacks.md FS-10): the
	// rights stay handled, so they are denied everywhere, but no tree
	// grants them.
	if err := add("fs_writable", c.Writable, handled&^deviceNodeRights); err != nil {
		return nil, err
	}
	return out, nil
}

// addPathRule opens p and adds its path-beneath rule to the ruleset.
func addPathRule(rulesetFD int, p pathRule) error {
	fd, err := openPath(p.path)
	if err != nil {
		return fmt.Errorf("landlock: %s %q: %w", p.list, p.path, err)
	}
	defer unix.Close(fd)

	// Most entries are directories: try the rule as given first and look
	// at the object's type only when the kernel refuses it (EINVAL), which
	// saves an fstat per path on every spawn.
	attr := ll.PathBeneathAttr{AllowedAccess: p.rights, ParentFd: fd}
	err = ll.LandlockAddPathBeneathRule(rulesetFD, &attr, 0)
	if err != nil && errors.Is(err, unix.EINVAL) && p.rights&^fileRights != 0 {
		var st unix.Stat_t
		if serr := unix.Fstat(fd, &st); serr != nil {
			return fmt.Errorf("landlock: %s %q: fstat: %w", p.list, p.path, serr)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			// A file, device, socket or fifo: directory rights make
			// the kernel reject the whole rule.
			attr.AllowedAccess = p.rights & fileRights
			err = ll.LandlockAddPathBeneathRule(rulesetFD, &attr, 0)
		}
	}
	if err != nil {
		return errnoError(fmt.Sprintf("landlock_add_rule %q", p.path), err)
	}
	return nil
}

// openPath opens path with O_PATH, which needs no read permission on the
// object and follows symlinks, so the rule lands on the symlink's target.
func openPath(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		return fd, err
	}
}

// addPortRules adds one rule per port, with the rights of both lists.
func addPortRules(rulesetFD int, c Config) error {
	ports := map[uint16]uint64{}
	for _, p := range c.BindTCP {
		ports[p] |= ll.AccessNetBindTCP
	}
	for _, p := range c.ConnectTCP {
		ports[p] |= ll.AccessNetConnectTCP
	}
	for _, p := range slices.Sorted(maps.Keys(ports)) {
		attr := ll.NetPortAttr{AllowedAccess: ports[p], Port: uint64(p)}
		if err := ll.LandlockAddNetPortRule(rulesetFD, &attr, 0); err != nil {
			return errnoError(fmt.Sprintf("landlock_add_rule tcp port %d", p), err)
		}
	}
	return nil
}

// createError explains a landlock_create_ruleset failure.
//
// go-landlock's RulesetAttr carries every field up to ABI 10, so it is larger
// than what older kernels know. The kernel copies it with
// copy_struct_from_user, which accepts a larger struct whose unknown tail is
// zero and answers E2BIG otherwise; unknown bits inside a known field give
// EINVAL. Build only sets fields and bits the reported ABI has, so either
// answer means the kernel and its ABI number disagree: say what was asked.
func createError(err error, abi int, attr *ll.RulesetAttr) error {
	asked := fmt.Sprintf("handled fs %#x, net %#x, scoped %#x", attr.HandledAccessFS, attr.HandledAccessNet, attr.Scoped)
	switch {
	case errors.Is(err, unix.E2BIG):
		return fmt.Errorf("landlock_create_ruleset: kernel with ABI %d does not know a ruleset field that was set (%s): %w", abi, asked, err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("landlock_create_ruleset: kernel with ABI %d rejected the handled rights (%s): %w", abi, asked, err)
	}
	return errnoError("landlock_create_ruleset", err)
}
