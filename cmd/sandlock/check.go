package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// requiredABI is the Landlock ABI whose protections every sandbox gets
// unless --allow-degraded is given: truncate control (3), TCP port rules
// (4), device ioctl control (5) and the IPC scopes (6).
const requiredABI = 6

// probeChildCmd is the hidden command "check" runs inside a test sandbox.
const probeChildCmd = "__check-probe"

// feature is one row of the table "check" prints.
type feature struct {
	name      string
	needs     string
	available bool
	required  bool
	desc      string
	detail    string // why it is unavailable, or a measured value
}

const checkHelp = `usage: sandlock check

Report what the running kernel offers sandlock: the Landlock ABI and errata,
seccomp user notification, the pidfd calls the supervisor uses, and a table
of features with what each needs. It also starts a small confined process
to prove the whole chain works.

Exit status: 0 when everything sandlock needs is available (features marked
"required"), 1 otherwise, 2 on a usage error.
`

// checkCmd is "sandlock check".
func checkCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(stdout, checkHelp)
			return 0
		}
		fmt.Fprintf(stderr, "sandlock check: unexpected argument %q\nusage: sandlock check\n", args[0])
		return exitUsage
	}

	var u unix.Utsname
	release := "unknown"
	if unix.Uname(&u) == nil {
		release = unix.ByteSliceToString(u.Release[:])
	}
	fmt.Fprintf(stdout, "sandlock %s, Linux %s\n\n", version, release)

	var rows []feature

	// Landlock.
	abi, abiErr := landlock.ABIVersion()
	if abiErr != nil {
		fmt.Fprintf(stdout, "Landlock:        unavailable: %v\n", abiErr)
	} else {
		errata, err := landlock.Errata()
		if err != nil {
			fmt.Fprintf(stdout, "Landlock:        ABI %d (errata unknown: %v)\n", abi, err)
		} else {
			fmt.Fprintf(stdout, "Landlock:        ABI %d, errata %#x\n", abi, errata)
		}
	}
	for _, f := range landlock.Features() {
		rows = append(rows, feature{
			name:      "landlock_" + f.Name,
			needs:     fmt.Sprintf("Landlock ABI %d", f.MinABI),
			available: f.Available,
			required:  f.MinABI <= requiredABI,
			desc:      f.Desc,
		})
	}

	// seccomp.
	notif := probeNotif()
	if notif.available {
		fmt.Fprintf(stdout, "seccomp:         user notification supported (%s)\n", notif.detail)
	} else {
		fmt.Fprintf(stdout, "seccomp:         user notification unavailable: %s\n", notif.detail)
	}
	rows = append(rows, notif)

	// pidfd.
	open, send := probePidfdSelf()
	rows = append(rows, open, send)

	// A real sandbox: spawn, supervisor mediation and pidfd_getfd on the
	// confined child. AllowDegraded keeps this row about the mechanism
	// on kernels whose Landlock rows above already say what is missing.
	getfd, spawned := probeSandbox()
	rows = append(rows, getfd, spawned)
	fmt.Fprintf(stdout, "pidfd:           pidfd_open %s, pidfd_send_signal %s, pidfd_getfd %s\n",
		yesNo(open.available, open.detail), yesNo(send.available, send.detail), yesNo(getfd.available, getfd.detail))
	fmt.Fprintf(stdout, "sandbox:         %s\n\n", yesNo(spawned.available, spawned.detail))

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tNEEDS\tAVAILABLE\tREQUIRED\tDESCRIPTION")
	ok := abiErr == nil
	var missing []string
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.name, r.needs, yn(r.available), yn(r.required), r.desc)
		if r.required && !r.available {
			ok = false
			missing = append(missing, r.name)
		}
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	if ok {
		fmt.Fprintln(stdout, "All features sandlock needs are available.")
		return 0
	}
	if abiErr != nil {
		missing = append([]string{"landlock"}, missing...)
	}
	fmt.Fprintf(stdout, "Missing: %s.\n", strings.Join(missing, ", "))
	if abiErr == nil && abi < requiredABI {
		fmt.Fprintf(stdout, "With Landlock ABI %d, sandboxes only run with --allow-degraded.\n", abi)
	}
	return 1
}

func yn(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func yesNo(ok bool, detail string) string {
	if ok {
		if detail != "" {
			return "ok (" + detail + ")"
		}
		return "ok"
	}
	return "unavailable (" + detail + ")"
}

// seccompGetNotifSizes is SECCOMP_GET_NOTIF_SIZES; seccompGetActionAvail is
// SECCOMP_GET_ACTION_AVAIL (<linux/seccomp.h>).
const (
	seccompGetActionAvail = 2
	seccompGetNotifSizes  = 3
	seccompRetUserNotif   = 0x7fc00000
)

// notifSizes mirrors struct seccomp_notif_sizes.
type notifSizes struct {
	notif, resp, data uint16
}

// probeNotif asks the kernel whether the seccomp user-notification action
// exists and how large its structures are (Linux 5.0).
func probeNotif() feature {
	f := feature{name: "seccomp_user_notif", needs: "Linux 5.0", required: true,
		desc: "system calls routed to the supervisor (SECCOMP_RET_USER_NOTIF)"}
	var s notifSizes
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, seccompGetNotifSizes, 0, uintptr(unsafe.Pointer(&s))); e != 0 {
		f.detail = "SECCOMP_GET_NOTIF_SIZES: " + e.Error()
		return f
	}
	action := uint32(seccompRetUserNotif)
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, seccompGetActionAvail, 0, uintptr(unsafe.Pointer(&action))); e != 0 {
		f.detail = "SECCOMP_RET_USER_NOTIF: " + e.Error()
		return f
	}
	f.available = true
	f.detail = fmt.Sprintf("notif %d, resp %d, data %d bytes", s.notif, s.resp, s.data)
	return f
}

// probePidfdSelf tries pidfd_open and pidfd_send_signal on this process.
func probePidfdSelf() (open, send feature) {
	open = feature{name: "pidfd_open", needs: "Linux 5.3", required: true,
		desc: "race-free handles on sandboxed processes"}
	send = feature{name: "pidfd_send_signal", needs: "Linux 5.1", required: true,
		desc: "signals that cannot hit a recycled pid (kill, timeout)"}
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		open.detail = err.Error()
		send.detail = "no pidfd to test with"
		return
	}
	defer unix.Close(fd)
	open.available = true
	if err := unix.PidfdSendSignal(fd, 0, nil, 0); err != nil {
		send.detail = err.Error()
	} else {
		send.available = true
	}
	return
}

// probeSandbox starts this binary as a confined child (probeChild) with a
// carve-out, so that its file opens go through the supervisor, and copies
// one of its file descriptors with pidfd_getfd, as the supervisor does.
func probeSandbox() (getfd, spawned feature) {
	getfd = feature{name: "pidfd_getfd", needs: "Linux 5.6", required: true,
		desc: "the supervisor reads a sandboxed process's file descriptors"}
	spawned = feature{name: "supervised_spawn", needs: "all of the above", required: true,
		desc: "a confined, supervised test process starts, opens a file and exits"}
	exe, err := os.Executable()
	if err != nil {
		spawned.detail = "cannot find this executable: " + err.Error()
		getfd.detail = "not tested"
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		spawned.detail = err.Error()
		getfd.detail = "not tested"
		return
	}
	defer r.Close()
	defer w.Close()

	p := policy.Default()
	// The binary needs its dynamic loader and libc: use the same system
	// directories "run" grants by default.
	p.FsReadable = append(existing(defaultReadable), exe)
	// A carve-out that matches nothing: it turns on the supervisor's file
	// mediation, so the probe's open is done on its behalf.
	p.FsDenied = []string{"/nonexistent/sandlock-check"}
	p.AllowDegraded = true
	p.CleanEnv = true
	sb, err := sandbox.Spawn(p, []string{exe, probeChildCmd, exe}, sandbox.Options{
		Stdin:   sandbox.File(r),
		Stdout:  sandbox.Capture(),
		Stderr:  sandbox.Capture(),
		Timeout: 10 * time.Second,
	})
	if err != nil {
		spawned.detail = err.Error()
		getfd.detail = "not tested"
		return
	}
	r.Close()
	getfd.available, getfd.detail = tryGetfd(sb.Pid())
	w.Close() // the child's stdin reaches EOF and it exits
	res, err := sb.Wait()
	switch {
	case err != nil:
		spawned.detail = err.Error()
	case res.Reason != sandbox.Exited || res.ExitCode != 0:
		msg := strings.TrimSpace(string(bytes.TrimSpace(res.Stderr)))
		if msg == "" {
			msg = "no message"
		}
		spawned.detail = fmt.Sprintf("test process ended with %s, exit %d, signal %d: %s", res.Reason, res.ExitCode, res.Signal, msg)
	default:
		spawned.available = true
	}
	return
}

func tryGetfd(pid int) (bool, string) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return false, "pidfd_open: " + err.Error()
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, 0, 0)
	if err != nil {
		return false, err.Error()
	}
	unix.Close(fd)
	return true, ""
}

// probeChild runs inside the test sandbox of "check": it opens the file
// named by its argument (mediated by the supervisor), reads its first
// bytes, then waits for its stdin to close so the parent can copy a file
// descriptor from it.
func probeChild(args []string) int {
	if len(args) != 1 {
		return 2
	}
	f, err := os.Open(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "open %s: %v\n", args[0], err)
		return 3
	}
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "read %s: %v\n", args[0], err)
		return 4
	}
	if string(magic[:]) != "\x7fELF" {
		fmt.Fprintf(os.Stderr, "read %s: unexpected content %q\n", args[0], magic[:])
		return 4
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}
