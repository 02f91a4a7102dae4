package security

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sandlock/sandlock/core/policy"
)

// catalogue lists every P0 and P1 case of attacks.md section 1 (P2 cases,
// FS-09 and TIME-01, are out of this suite's scope). Each must either run
// here (an attack/control pair registered with attack and control) or be
// pending; the run fails if one is neither.
var catalogue = []string{
	"FS-01", "FS-02", "FS-03", "FS-04", "FS-05", "FS-06", "FS-07", "FS-08", "FS-10", "FS-11",
	"PROC-01", "PROC-02", "PROC-03", "PROC-04", "PROC-05", "PROC-06",
	"FD-01", "FD-02", "FD-03", "FD-04",
	"NET-01", "NET-02", "NET-03", "NET-04", "NET-05", "NET-06", "NET-07", "NET-08", "NET-09", "NET-10", "NET-11",
	"TOC-01", "TOC-02", "TOC-03", "TOC-04", "TOC-05", "TOC-06", "TOC-07",
	"PRIV-01", "PRIV-02", "PRIV-03", "PRIV-04", "PRIV-05", "PRIV-06",
	"SIG-01", "SIG-02", "SIG-03", "SIG-04",
	"TTY-01", "TTY-02", "TTY-03",
	"URING-01", "ABI-01", "ABI-02", "ABI-03",
	"COW-01", "COW-02", "COW-03", "COW-04", "COW-05", "COW-06",
	"RES-01", "RES-02", "RES-03", "RES-04", "RES-05", "RES-06", "RES-07",
}

// pendingCase is a case, or a variant of one, whose feature is not built
// yet. It is listed at the end of every run, never skipped silently.
// feature, when the missing feature is a policy option, sets it: once
// policy.Validate stops refusing it as not implemented, the report says
// that the attack can (and should) now be written.
//
// tested marks the variants the suite already has an attack for, run as
// soon as the feature is there (feature_test.go): they leave the pending
// list then. present detects a feature that has no policy option.
type pendingCase struct {
	id, what, missing string
	feature           func(*policy.Policy)
	tested            bool
	present           func() bool
}

// here reports whether the feature of a pending case now exists.
func (p pendingCase) here() bool {
	return p.feature != nil && implemented(p.feature) || p.present != nil && p.present()
}

// Options of the pending features.
var (
	optChroot     = func(p *policy.Policy) { p.Chroot = "/" }
	optWorkdir    = func(p *policy.Policy) { p.Workdir = "/tmp" }
	optAllowHosts = func(p *policy.Policy) { p.NetAllowHosts = []string{"127.0.0.1"} }
	optPortRemap  = func(p *policy.Policy) { p.PortRemap = true }
	optHTTP       = func(p *policy.Policy) { p.HTTPAllow = []string{"GET example.test/ok"} }
	optMaxMemory  = func(p *policy.Policy) { p.MaxMemory = 64 << 20 }
	optMaxDisk    = func(p *policy.Policy) { p.Workdir = "/tmp"; p.MaxDisk = 1 << 30 }
)

// implemented reports whether policy.Validate accepts the option set by
// set, that is, whether its enforcement exists.
func implemented(set func(*policy.Policy)) bool {
	p := policy.Default()
	set(&p)
	return !errors.Is(p.Validate(), policy.ErrNotImplemented)
}

// pending is what the suite cannot test yet, and why. A variant listed
// here may belong to a case whose other variants do run.
var pending = []pendingCase{
	{"FS-03", "chmod, fchmod, fchmodat2, chown, utimensat, setxattr, removexattr on a read-only file", "metadata-write mediation (Landlock does not cover metadata; observed: chmod 0777 and utimensat succeed)", nil, false, nil},
	{"FS-04", "hard link made by the supervisor under chroot/fs_mount", "chroot and fs_mount", optChroot, false, nil},
	{"FS-06", "symlink deputy under copy-on-write and chroot", "copy-on-write and chroot", optWorkdir, false, nil},
	{"FS-08", "chmod, chown, utime(s), futimesat, utimensat, *setxattr, *removexattr on an fs_denied path; the table generated from the syscall list", "metadata-write mediation for fs_denied", nil, false, nil},
	{"FS-10", "mknod performed on behalf of the child under copy-on-write", "copy-on-write", optWorkdir, false, nil},
	{"FS-11", "rename/link through a disconnected directory; refusing to start without Landlock erratum 3", "a start-up errata check (and the bind-mount setup needs a private mount namespace)", nil, false, nil},
	{"PROC-01", "host pids in /proc listing, /proc/1/cmdline, /proc/self/root spellings", "/proc virtualisation", nil, true, func() bool { return procVirt.on }},
	{"PROC-02", "supervisor /proc/self under copy-on-write and chroot", "copy-on-write and chroot", optWorkdir, false, nil},
	{"PROC-04", "/proc/net, mountinfo, /sys/class/net, NETLINK_SOCK_DIAG dump", "/proc and netlink virtualisation", nil, false, nil},
	{"FD-02", "pidfd_getfd swap race on an on-behalf connect", "on-behalf connect (net_allow_hosts)", optAllowHosts, false, nil},
	{"FD-03", "sealed memfds injected for virtual files", "/proc and file virtualisation", nil, false, nil},
	{"FD-04", "policy callback timeout or error is a deny", "policy callback", nil, false, nil},
	{"NET-01", "connect outside net_allow_hosts (on-behalf connect)", "net_allow_hosts", optAllowHosts, true, nil},
	{"NET-01", "the policy callback re-applies the port rules on its own connects", "policy callback tests", nil, false, nil},
	{"NET-04", "UDP under an IP allowlist", "net_allow_hosts", optAllowHosts, true, nil},
	{"NET-05", "aliasing against a host allowlist (0.0.0.0, ::ffff:127.0.0.1, scope ids, sin_zero, addrlen)", "net_allow_hosts", optAllowHosts, false, nil},
	{"NET-06", "connect to a pathname unix socket outside the grants (Landlock ABI < 9)", "a supervisor gate on unix connect/sendto (this kernel has ABI 7)", nil, false, nil},
	{"NET-07", "squatting a well-known abstract name", "an abstract-bind filter (or its documentation)", nil, false, nil},
	{"NET-08", "route requests answered by netlink virtualisation; RTM_NEWADDR/DELLINK as root", "netlink virtualisation", nil, false, nil},
	{"NET-10", "bind through the supervisor under port_remap/net_allow_hosts", "port_remap and net_allow_hosts", optPortRemap, false, nil},
	{"NET-11", "HTTP ACL evasion", "HTTP rules", optHTTP, false, nil},
	{"TOC-01", "execve path flip (the supervisor checks the exec path and continues the call); flips under copy-on-write and chroot", "the argv freeze of the policy-callback work; copy-on-write and chroot", nil, false, nil},
	{"TOC-03", "sockaddr/msghdr flips against on-behalf connect, sendto, sendmsg, sendmmsg", "on-behalf connect and send (net_allow_hosts)", optAllowHosts, false, nil},
	{"TOC-06", "SIGALRM storm during notified connect", "on-behalf connect", optAllowHosts, false, nil},
	{"PRIV-02", "dropping the capability bounding set of a root caller (what root keeps is logged by the PRIV-02 attack)", "capability dropping", nil, false, nil},
	{"COW-01", "commit-time traversal", "copy-on-write", optWorkdir, false, nil},
	{"COW-02", "whiteout/log injection", "copy-on-write", optWorkdir, false, nil},
	{"COW-03", "lower-file handles", "copy-on-write", optWorkdir, false, nil},
	{"COW-04", "unrouted syscalls against the workdir", "copy-on-write", optWorkdir, false, nil},
	{"COW-05", "commit race", "copy-on-write", optWorkdir, false, nil},
	{"COW-06", "storage tampering", "copy-on-write", optWorkdir, false, nil},
	{"RES-03", "thread bomb", "a thread/task cap", nil, false, nil},
	{"RES-04", "memory-limit bypasses (malloc, mprotect, /dev/zero, memfd, children)", "max_memory", optMaxMemory, true, nil},
	{"RES-05", "disk quota bypasses", "max_disk (copy-on-write)", optMaxDisk, false, nil},
	{"RES-06", "inotify, pipe, mqueue, memlock and epoll per-uid quotas", "per-uid quota caps (or their documentation)", nil, false, nil},
	{"RES-07", "connect to a port that never answers through the supervisor", "on-behalf connect", optAllowHosts, false, nil},
	{"SIG-04", "grandchildren (one setsid'ed) surviving the host's death", "descendant cleanup on host death (a subreaper stub or tracked kills): PR_SET_PDEATHSIG covers the direct child only", nil, false, nil},
}

func init() {
	if isRoot {
		pending = append(pending, pendingCase{"RES-06", "as root: raising RLIMIT_NOFILE past max_open_files (CAP_SYS_RESOURCE)", "capability dropping", nil, false, nil})
		pending = append(pending, pendingCase{"PROC-03", "as root: /proc/<host pid>/environ, auxv and maps of the host (and of other root processes) are readable: CAP_PERFMON lets mm_access skip the ptrace check for PTRACE_MODE_READ",
			"capability dropping or /proc virtualisation", nil, true, func() bool { return procVirt.on }})
	}
}

// tally counts the pairs as they finish.
var tally struct {
	sync.Mutex
	contained    int
	controls     int
	notContained []string
	badControls  []string
	ran          map[string]bool
}

func knownID(id string) bool { return slices.Contains(catalogue, id) }

// attack marks t as the attack half of a case of catalogue id: when t
// ends without failing, the attack counts as contained.
func attack(t *testing.T, id string) {
	t.Helper()
	mark(t, id, true)
}

// control marks t as the control half of a case: when t ends without
// failing, the control counts as passed.
func control(t *testing.T, id string) {
	t.Helper()
	mark(t, id, false)
}

func mark(t *testing.T, id string, isAttack bool) {
	t.Helper()
	if !knownID(id) {
		t.Fatalf("%s is not a P0/P1 id of attacks.md", id)
	}
	t.Cleanup(func() {
		tally.Lock()
		defer tally.Unlock()
		if tally.ran == nil {
			tally.ran = map[string]bool{}
		}
		tally.ran[id] = true
		switch {
		case isAttack && t.Failed():
			tally.notContained = append(tally.notContained, t.Name())
		case isAttack:
			tally.contained++
		case t.Failed():
			tally.badControls = append(tally.badControls, t.Name())
		default:
			tally.controls++
		}
	})
}

// report prints the pending list, what failed and the summary line; it
// returns false when a catalogue id was neither run nor pending.
func report(w io.Writer, checkCoverage bool) bool {
	tally.Lock()
	defer tally.Unlock()
	ok := true
	byID := map[string][]pendingCase{}
	npending := 0
	for _, p := range pending {
		if p.tested && p.here() {
			continue // the attack ran
		}
		byID[p.id] = append(byID[p.id], p)
		npending++
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return slices.Index(catalogue, ids[i]) < slices.Index(catalogue, ids[j]) })
	fmt.Fprintln(w, "security: pending (feature not built yet):")
	for _, id := range ids {
		for _, p := range byID[id] {
			state := "variant"
			if !tally.ran[id] {
				state = "whole case"
			}
			note := ""
			if p.here() {
				note = " [FEATURE NOW ACCEPTED BY policy.Validate: write this attack]"
			}
			fmt.Fprintf(w, "  %-8s %-10s %s -- needs %s%s\n", id, state, p.what, p.missing, note)
		}
	}
	if checkCoverage {
		var missing []string
		for _, id := range catalogue {
			if !tally.ran[id] && byID[id] == nil {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			ok = false
			fmt.Fprintf(w, "security: NOT COVERED (neither run nor pending): %s\n", strings.Join(missing, " "))
		}
	}
	for _, n := range tally.notContained {
		fmt.Fprintf(w, "security: NOT CONTAINED: %s\n", n)
	}
	for _, n := range tally.badControls {
		fmt.Fprintf(w, "security: CONTROL FAILED (the attack proves nothing): %s\n", n)
	}
	fmt.Fprintf(w, "security: %d attacks contained, %d controls passed, %d pending\n", tally.contained, tally.controls, npending)
	return ok
}
