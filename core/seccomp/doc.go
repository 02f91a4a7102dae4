// Package seccomp builds the classic-BPF seccomp program that the sandbox's
// child stub installs with
// seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog)
// just before exec (architecture.md section 2, step 7).
//
// # Policy
//
// The default policy is attacks.md section 3: kill foreign architectures
// and x32 numbers, answer clone3 with ENOSYS, refuse the argument patterns
// of section 3.4 with EPERM, route the configured syscalls to the
// supervisor (SECCOMP_RET_USER_NOTIF), refuse the deny list of section 3.2
// with EPERM and allow the rest. Config selects the variants: a replacement
// deny list, an allowlist mode, notified syscalls, fork and pid-target
// routing, and the UDP, raw-socket and terminal switches. A syscall that is
// both denied and notified stays denied, and so does a notified syscall
// outside the allowlist: routing a call to the supervisor never admits it
// (upstream had the opposite precedence, original.md 2.1).
//
// # Arguments
//
// seccomp_data carries every argument as a 64-bit register value. The
// kernel truncates int, pid_t and unsigned int parameters to their low 32
// bits, so the filter compares exactly those bits: ioctl(fd, TIOCSTI|1<<32)
// is refused like TIOCSTI. unsigned long parameters (prctl's arg2) are
// compared on all 64 bits.
//
// # Tables and assembly
//
// Syscall names and numbers come from github.com/elastic/go-seccomp-bpf's
// arch tables (plus the few syscalls added after them, see newerSyscalls);
// what Build needs beyond them is computed on first use, so the package's
// init does no work. The argument filters are assembled by a small label
// resolver (asm.go explains why go-seccomp-bpf's own assembler does not
// fit), and the program around them is laid out from its end by dispatch.go:
// a binary search on the syscall number, so that the kernel's emulation of
// the filter for every number at install time stays short. Unknown names
// are a build error, not silently dropped as upstream did; names that exist
// only on another architecture are skipped and reported in Program.Skipped.
//
// # Testing
//
// Program.Decide runs a program in golang.org/x/net/bpf's interpreter. The
// tests compare it with an independent reference decision written from the
// specification (FuzzProgram), and install the default program in a
// re-executed test process to check the real kernel agrees. BenchmarkInstall
// measures what installing a program costs the sandbox child.
package seccomp
