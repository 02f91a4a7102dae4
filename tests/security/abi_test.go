package security

// The deny list in try-syscall style (attacks.md 3.2, PRIV-06 and the
// table rows of other cases), io_uring, and the ABI and argument-width
// bypasses (attacks.md 1.9), in the BPF interpreter (seccomp.Program.Decide)
// and on the real kernel. core/seccomp TestDecideDefault and
// TestDecideConfigs hold the exhaustive interpreter tables; here every
// verdict is taken from the program built for the policy the sandbox runs.

import (
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/core/seccomp"
)

// programFor builds the seccomp program the sandbox facade builds for p's
// seccomp settings (captured: whether the output is captured).
func programFor(t *testing.T, p policy.Policy, captured bool) *seccomp.Program {
	t.Helper()
	prog, err := seccomp.Build(seccomp.Config{
		Deny:             p.DenySyscalls,
		Allow:            p.AllowSyscalls,
		NotifyForks:      p.MaxProcesses > 0,
		NotifyPidTargets: true,
		NoUDP:            p.NoUDP,
		NoRaw:            p.NoRawSockets,
		CapturedTTY:      captured,
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// x86 is the seccomp_data of a call on x86_64.
func x86(t *testing.T, name string, args ...uint64) seccomp.Data {
	t.Helper()
	nr, ok := seccomp.Lookup(name)
	if !ok {
		t.Fatalf("unknown syscall %s", name)
	}
	d := seccomp.Data{Nr: int32(nr), Arch: unix.AUDIT_ARCH_X86_64, InstructionPointer: 0x7f0000001000}
	copy(d.Args[:], args)
	return d
}

const hi = uint64(0xdead) << 32

// tryEntry is one row of the probe's tryall table.
type tryEntry struct {
	name string // the probe's key
	id   string
	// want is the filter's answer.
	want unix.Errno
	// call is the syscall as the filter sees it; sibling, for an argument
	// filter, an allowed call of the same syscall. They serve the control
	// when the host kernel itself answers with the filter's errno (a
	// capability check for an unprivileged caller).
	call    func(t *testing.T) seccomp.Data
	sibling func(t *testing.T) seccomp.Data
}

func byName(name string) func(t *testing.T) seccomp.Data {
	return func(t *testing.T) seccomp.Data { return x86(t, name) }
}

func withArgs(name string, args ...uint64) func(t *testing.T) seccomp.Data {
	return func(t *testing.T) seccomp.Data { return x86(t, name, args...) }
}

func tryTable() []tryEntry {
	var rows []tryEntry
	add := func(id string, names ...string) {
		for _, n := range names {
			rows = append(rows, tryEntry{name: n, id: id, want: unix.EPERM, call: byName(n)})
		}
	}
	arg := func(id, key string, want unix.Errno, call, sibling func(t *testing.T) seccomp.Data) {
		rows = append(rows, tryEntry{name: key, id: id, want: want, call: call, sibling: sibling})
	}
	add("PRIV-01", "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
		"move_mount", "open_tree", "mount_setattr", "unshare", "setns")
	add("PRIV-05", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "process_madvise", "process_mrelease")
	add("URING-01", "io_uring_setup", "io_uring_enter", "io_uring_register")
	add("PRIV-06", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
		"kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module", "delete_module",
		"swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "sethostname", "setdomainname",
		"settimeofday", "clock_settime", "clock_adjtime", "open_by_handle_at", "name_to_handle_at",
		"iopl", "ioperm", "syslog", "uselib", "ustat", "sysfs", "fanotify_init",
		"mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages", "set_mempolicy_home_node",
		"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
		"msgget", "msgsnd", "msgrcv", "msgctl",
		"mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr")
	arg("FD-01", "seccomp_new_listener", unix.EPERM,
		withArgs("seccomp", unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER),
		withArgs("seccomp", unix.SECCOMP_SET_MODE_FILTER, 0))
	getDumpable := withArgs("prctl", unix.PR_GET_DUMPABLE)
	arg("PRIV-03", "prctl_set_dumpable", unix.EPERM, withArgs("prctl", unix.PR_SET_DUMPABLE, 1), getDumpable)
	arg("PRIV-05", "prctl_set_ptracer", unix.EPERM, withArgs("prctl", unix.PR_SET_PTRACER), getDumpable)
	arg("PRIV-03", "prctl_set_mm", unix.EPERM, withArgs("prctl", unix.PR_SET_MM, 0xdead), getDumpable)
	tcgets := withArgs("ioctl", 0, unix.TCGETS)
	arg("TTY-01", "ioctl_tiocsti", unix.EPERM, withArgs("ioctl", 0, unix.TIOCSTI), tcgets)
	arg("TTY-02", "ioctl_tiocsti_hibits", unix.EPERM, withArgs("ioctl", 0, unix.TIOCSTI|0xffffffff00000000), tcgets)
	arg("TTY-02", "ioctl_tioclinux", unix.EPERM, withArgs("ioctl", 0, unix.TIOCLINUX), tcgets)
	arg("TTY-01", "ioctl_tioccons", unix.EPERM, withArgs("ioctl", 0, unix.TIOCCONS), tcgets)
	arg("TTY-01", "ioctl_tiocsetd", unix.EPERM, withArgs("ioctl", 0, unix.TIOCSETD), tcgets)
	nodelay := withArgs("setsockopt", 3, unix.IPPROTO_TCP, unix.TCP_NODELAY)
	arg("NET-03", "setsockopt_tcp_fastopen_connect", unix.EPERM, withArgs("setsockopt", 3, unix.IPPROTO_TCP, unix.TCP_FASTOPEN_CONNECT), nodelay)
	arg("NET-09", "setsockopt_so_bindtodevice", unix.EPERM, withArgs("setsockopt", 3, unix.SOL_SOCKET, unix.SO_BINDTODEVICE), nodelay)
	arg("NET-03", "sendto_msg_fastopen", unix.EPERM, withArgs("sendto", 3, 0, 1, unix.MSG_FASTOPEN), withArgs("sendto", 3, 0, 1, 0))
	arg("NET-03", "sendmsg_msg_fastopen", unix.EPERM, withArgs("sendmsg", 3, 0, unix.MSG_FASTOPEN), withArgs("sendmsg", 3, 0, 0))
	arg("NET-03", "sendmmsg_msg_fastopen", unix.EPERM, withArgs("sendmmsg", 3, 0, 1, unix.MSG_FASTOPEN), withArgs("sendmmsg", 3, 0, 1, 0))
	arg("PRIV-06", "personality_read_implies_exec", unix.EPERM, withArgs("personality", 0x0400000), withArgs("personality", 0xffffffff))
	arg("TOC-05", "clone3_newuser_newns", unix.ENOSYS, byName("clone3"), nil)
	arg("ABI-03", "prctl_set_dumpable_hibits", unix.EPERM, withArgs("prctl", unix.PR_SET_DUMPABLE|hi, 1), getDumpable)
	arg("ABI-03", "setsockopt_tcp_fastopen_connect_hibits", unix.EPERM,
		withArgs("setsockopt", 3, unix.IPPROTO_TCP|hi, unix.TCP_FASTOPEN_CONNECT|hi), nodelay)
	arg("ABI-03", "personality_read_implies_exec_hibits", unix.EPERM, withArgs("personality", 0x0400000|hi), withArgs("personality", 0xffffffff))
	return rows
}

// TestDenyTable runs the probe's tryall table (bad fds, bad pointers and
// invalid values, so that an unfiltered call fails harmlessly in the
// kernel) in the sandbox and on the host. Attack: the filter's errno for
// every row. Control: the host kernel answers something else; where it
// answers the same (an unprivileged caller failing a capability check
// first), the filter built for the sandbox must be what refuses: the row's
// syscall is allowed once the deny list is empty, or the same syscall with
// harmless arguments is allowed.
func TestDenyTable(t *testing.T) {
	p, _ := basePolicy(t)
	in := inSandbox(t, p, sandbox.Options{}, "tryall")
	wantCode(t, in, 0)
	host := onHost(t, hostOpts{}, "tryall")
	wantCode(t, host, 0)
	inKV, hostKV := in.kv(), host.kv()
	prog := programFor(t, p, true)
	q := p
	q.DenySyscalls = []string{}
	open := programFor(t, q, true)
	rows := tryTable()
	var ids []string
	for _, r := range rows {
		if len(ids) == 0 || ids[len(ids)-1] != r.id {
			ids = append(ids, r.id)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		t.Run(id+"/attack: deny-list rows", func(t *testing.T) {
			attack(t, id)
			for _, r := range rows {
				if r.id != id {
					continue
				}
				if got, want := inKV[r.name], errnoName(int(r.want)); got != want {
					t.Errorf("%s in the sandbox = %s, want %s (%v)", r.name, got, want, in)
				}
			}
		})
		t.Run(id+"/control: deny-list rows outside the filter", func(t *testing.T) {
			control(t, id)
			for _, r := range rows {
				if r.id != id {
					continue
				}
				got, ok := hostKV[r.name]
				if !ok {
					t.Errorf("%s missing from the host run: %v", r.name, host)
					continue
				}
				if got != errnoName(int(r.want)) {
					continue
				}
				d := r.call(t)
				if v := prog.Decide(d); v != seccomp.Errno(r.want) {
					t.Errorf("%s: the host kernel also answers %s, and the filter's verdict on %v is %v, want %v", r.name, got, d, v, seccomp.Errno(r.want))
				}
				var allowed seccomp.Action
				if r.sibling != nil {
					allowed = prog.Decide(r.sibling(t))
				} else {
					allowed = open.Decide(d)
				}
				if allowed != seccomp.ActionAllow {
					t.Errorf("%s: the host kernel also answers %s and the filter without the rule says %v, want ALLOW: the rule cannot be shown to matter", r.name, got, allowed)
				}
			}
		})
	}
}

// TestURING01: io_uring_setup with real arguments; the table rows cover
// enter and register, ABI-01 the x32 numbers, FS-01 an inherited ring.
func TestURING01(t *testing.T) {
	t.Run("URING-01/attack: io_uring_setup", func(t *testing.T) {
		attack(t, "URING-01")
		p, _ := basePolicy(t)
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "uring"), unix.EPERM)
	})
	t.Run("URING-01/control: io_uring_setup on the host", func(t *testing.T) {
		control(t, "URING-01")
		wantCode(t, onHost(t, hostOpts{}, "uring"), 0)
	})
}

// TestABI01X32: syscall numbers with the x32 bit are killed by the filter,
// whatever the number, in the interpreter and on the kernel (which has no
// x32 support here, so the host answers ENOSYS).
func TestABI01X32(t *testing.T) {
	p, _ := basePolicy(t)
	names := []string{"getpid", "unshare", "mount", "io_uring_setup", "openat", "ptrace", "clone3", "execve"}
	t.Run("ABI-01/attack: x32 numbers", func(t *testing.T) {
		attack(t, "ABI-01")
		for _, pol := range []policy.Policy{p, fsDenyActive(t, p)} {
			prog := programFor(t, pol, true)
			for _, n := range names {
				d := x86(t, n)
				d.Nr |= 0x40000000
				if v := prog.Decide(d); v != seccomp.ActionKillProcess {
					t.Errorf("x32 %s: verdict %v, want KILL_PROCESS", n, v)
				}
			}
		}
		for _, n := range []string{"getpid", "io_uring_setup", "unshare"} {
			nr, _ := seccomp.Lookup(n)
			r := inSandbox(t, p, sandbox.Options{}, "x32", strconv.Itoa(nr))
			if r.signal != int(syscall.SIGSYS) {
				t.Errorf("x32 %s: %v; want death by SIGSYS", n, r)
			}
		}
	})
	t.Run("ABI-01/control: the same numbers without the x32 bit, and on the host", func(t *testing.T) {
		control(t, "ABI-01")
		prog := programFor(t, p, true)
		if v := prog.Decide(x86(t, "getpid")); v != seccomp.ActionAllow {
			t.Errorf("getpid: verdict %v, want ALLOW", v)
		}
		nr, _ := seccomp.Lookup("getpid")
		wantCode(t, onHost(t, hostOpts{}, "x32", strconv.Itoa(nr)), unix.ENOSYS)
	})
}

// TestABI02I386: the i386 entry (int $0x80) is killed by the architecture
// check. This VM faults on int 0x80 from 64-bit code, so the kernel run
// only shows that getpid never returns; the interpreter shows the kill.
func TestABI02I386(t *testing.T) {
	p, _ := basePolicy(t)
	t.Run("ABI-02/attack: i386 system calls", func(t *testing.T) {
		attack(t, "ABI-02")
		prog := programFor(t, p, true)
		for _, nr := range []int32{1, 11, 20, 26, 120, 0x40000000} {
			if v := prog.Decide(seccomp.Data{Nr: nr, Arch: unix.AUDIT_ARCH_I386}); v != seccomp.ActionKillProcess {
				t.Errorf("i386 nr %d: verdict %v, want KILL_PROCESS", nr, v)
			}
		}
		r := inSandbox(t, p, sandbox.Options{}, "int80")
		if r.signal != int(syscall.SIGSYS) && r.signal != int(syscall.SIGSEGV) || strings.Contains(r.stdout, "int80=") {
			t.Errorf("%v; want death (SIGSYS, or SIGSEGV where the CPU refuses int 0x80) before getpid returns", r)
		}
	})
	t.Run("ABI-02/control: the same call on x86_64 and on the host", func(t *testing.T) {
		control(t, "ABI-02")
		if v := programFor(t, p, true).Decide(x86(t, "getpid")); v != seccomp.ActionAllow {
			t.Errorf("x86_64 getpid: verdict %v, want ALLOW", v)
		}
		r := onHost(t, hostOpts{}, "int80")
		if r.signal == int(syscall.SIGSYS) {
			t.Errorf("%v; the host has no filter and cannot die of SIGSYS", r)
		}
		t.Logf("int 0x80 on the host: %v", r)
	})
}

// TestABI03Width: the kernel truncates int arguments to 32 bits; the
// filter must compare the same bits (real-kernel rows of the deny table
// and socket(2) here; core/seccomp TestDecideDefault has the full
// interpreter table). Unknown and out-of-range numbers do not crash.
func TestABI03Width(t *testing.T) {
	p, _ := basePolicy(t)
	t.Run("ABI-03/attack: MPTCP socket with high bits in every argument", func(t *testing.T) {
		attack(t, "ABI-03")
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "socket", "0xdead00000002", "0xdead00000001", "0xdead00000106"), unix.EPERM)
		prog := programFor(t, p, true)
		for _, nr := range []int32{-1, 0x7fffffff, 0x40000000} {
			if v := prog.Decide(seccomp.Data{Nr: nr, Arch: unix.AUDIT_ARCH_X86_64}); v != seccomp.ActionKillProcess {
				t.Errorf("nr %#x: verdict %v, want KILL_PROCESS (x32 bit set)", nr, v)
			}
		}
		if v := prog.Decide(seccomp.Data{Nr: 1000, Arch: unix.AUDIT_ARCH_X86_64}); v != seccomp.ActionAllow {
			t.Errorf("unknown nr 1000: verdict %v, want ALLOW (the kernel answers ENOSYS)", v)
		}
		wantCode(t, inSandbox(t, p, sandbox.Options{}, "sys", "1000"), unix.ENOSYS)
	})
	t.Run("ABI-03/control: the kernel truncates the same call to an MPTCP socket", func(t *testing.T) {
		control(t, "ABI-03")
		wantCode(t, onHost(t, hostOpts{}, "socket", "0xdead00000002", "0xdead00000001", "0xdead00000106"), 0)
		wantCode(t, onHost(t, hostOpts{}, "sys", "1000"), unix.ENOSYS)
	})
}
