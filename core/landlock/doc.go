// Package landlock builds the Landlock ruleset that confines a sandboxed child.
//
// The ruleset is created in the parent (the host process, in Go) and handed
// to the C child stub as a file descriptor; the stub calls
// landlock_restrict_self(fd, 0) after PR_SET_NO_NEW_PRIVS, between fork and
// execve. Nothing here confines the calling process: the multithreaded Go
// runtime of a host program cannot be restricted thread by thread, and the
// high-level go-landlock Restrict* API, which does confine the caller, is
// deliberately not used. Only go-landlock's low-level landlock/syscall wrappers
// are.
//
// # What the ruleset handles
//
// A ruleset denies every action it "handles" unless a rule allows it. Build
// handles:
//
//   - every filesystem right the running kernel's ABI knows (up to the newest
//     ABI this package knows), so an unlisted tree is neither readable,
//     writable nor executable;
//   - LANDLOCK_ACCESS_NET_BIND_TCP and LANDLOCK_ACCESS_NET_CONNECT_TCP from
//     ABI 4 on, unless [Config.NoNetwork]: a TCP port that is not listed can be
//     neither bound nor connected to;
//   - the scopes LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET and LANDLOCK_SCOPE_SIGNAL
//     from ABI 6 on, unless [Config.NoScopes]: the child cannot connect to
//     abstract unix sockets created outside its domain, nor signal processes
//     outside it (the host included).
//
// UDP port rights (ABI 10) are not handled: UDP is mediated by the seccomp
// layer and the supervisor, and handling it here would deny every UDP socket
// (DNS included) with no Config field to allow it.
//
// # Kernel support and degraded mode
//
// The spec asks for the best ABI the kernel offers and for a clear failure
// when a protection the policy needs is missing. The protections Build
// requires, and what is lost without them:
//
//   - truncate control (ABI 3, Linux 6.2): without it, files in read-only
//     trees can be truncated (truncate(2), or open with O_TRUNC);
//   - TCP port rules (ABI 4, Linux 6.7): without them TCP bind and connect
//     are unrestricted;
//   - device ioctl control (ABI 5, Linux 6.10): without it, ioctl(2) on device
//     files opened through a granted path is unrestricted;
//   - abstract unix socket and signal scoping (ABI 6, Linux 6.12).
//
// If the kernel lacks one, Build fails with an error that wraps
// [ErrUnsupported] and names the feature, the ABI and kernel it needs and the
// ABI the kernel has. With [Config.AllowDegraded] the missing protection is
// dropped instead and described in [Ruleset.Degraded], so the caller can
// report it.
//
// LANDLOCK_ACCESS_FS_REFER (ABI 2) is not on that list: a kernel with ABI 1
// always refuses to link or rename a file into another directory, which is
// stricter, not weaker, so nothing is reported for it.
//
// A kernel without Landlock (not built in, or not enabled at boot) is an error
// even with AllowDegraded: a sandbox with no filesystem confinement at all is
// not a degraded sandbox but none, and that must be an explicit decision of
// the caller (who can test for [ErrUnsupported] and skip Build).
//
// # Paths
//
// Each path is opened with O_PATH|O_CLOEXEC, following symlinks, when Build
// runs; the rule is attached to the object found then, not to the string.
// Paths must be absolute, because the child may run in another working
// directory than the host. A path that is not a directory only gets the
// rights that apply to files (the kernel answers EINVAL to directory rights on
// a file). A path in both [Config.Readable] and [Config.Writable] gets the
// union, as the kernel also does for two rules on the same inode.
//
// # TCP port 0
//
// bind(2) to port 0 asks the kernel to pick a free port from the ephemeral
// range (net.ipv4.ip_local_port_range). Landlock checks the requested port,
// not the chosen one: binding to port 0 is allowed only if port 0 is in
// [Config.BindTCP], and then the child may bind any ephemeral port that way.
// A client socket that connects without binding first gets its local port
// from the kernel without a bind check, so clients need no BindTCP rule; for
// the same reason listen(2) on a socket that was never bound gets an
// ephemeral port with no Landlock check (Landlock has no listen hook yet), so
// an empty BindTCP does not stop a child from listening somewhere. A
// rule for port 0 in ConnectTCP is accepted and means nothing useful (TCP
// cannot connect to port 0).
//
// # Known limits of Landlock itself
//
// Landlock does not restrict metadata changes (chmod, chown, utime, xattrs),
// files opened before the ruleset is applied, MPTCP or TCP Fast Open implicit
// connects, UDP, or (below ABI 9) pathname unix sockets. The seccomp layer
// and the supervisor cover those (see shared/spec/attacks.md section 0).
package landlock
