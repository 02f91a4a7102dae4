package seccomp

import (
	"runtime"
	"sort"

	"github.com/elastic/go-seccomp-bpf/arch"
)

// archSpec describes one architecture the builder can emit a filter for.
type archSpec struct {
	name   string // Linux name, for messages
	audit  uint32 // AUDIT_ARCH_* value seccomp_data.arch must equal
	x32Bit uint32 // __X32_SYSCALL_BIT, or 0 where the ABI does not exist
	byName map[string]int
	byNr   map[int]string
}

// newerSyscalls lists syscalls added after the tables of go-seccomp-bpf v1.6.0
// (generated from Linux 6.15). Numbers from 424 up are shared by every
// architecture (<asm-generic/unistd.h>, arch/x86/entry/syscalls/syscall_64.tbl).
var newerSyscalls = map[string]int{
	"file_getattr": 468, // Linux 6.17
	"file_setattr": 469, // Linux 6.17
	"listns":       470, // Linux 6.19
}

func newArchSpec(name string, audit, x32Bit uint32, table *arch.Info) *archSpec {
	a := &archSpec{
		name:   name,
		audit:  audit,
		x32Bit: x32Bit,
		byName: make(map[string]int, len(table.SyscallNames)+len(newerSyscalls)),
		byNr:   make(map[int]string, len(table.SyscallNumbers)+len(newerSyscalls)),
	}
	for nr, n := range table.SyscallNumbers {
		a.byName[n] = nr
		a.byNr[nr] = n
	}
	for n, nr := range newerSyscalls {
		if _, dup := a.byNr[nr]; !dup {
			a.byName[n] = nr
			a.byNr[nr] = n
		}
	}
	return a
}

var (
	// archAMD64 is the x86_64 ABI. AUDIT_ARCH_X86_64 is also reported for
	// x32 calls, which are told apart by x32SyscallBit in nr.
	archAMD64 = newArchSpec("x86_64", uint32(arch.X86_64.ID), x32SyscallBit, arch.X86_64)
	// archARM64 is the AArch64 ABI; AArch32 compat calls report
	// AUDIT_ARCH_ARM and are killed by the arch check.
	archARM64 = newArchSpec("aarch64", uint32(arch.AARCH64.ID), 0, arch.AARCH64)
)

// archsByAudit maps an AUDIT_ARCH value to its table, for Data.String.
var archsByAudit = map[uint32]*archSpec{
	archAMD64.audit: archAMD64,
	archARM64.audit: archARM64,
}

// native is the architecture of the running binary, or nil when the builder
// does not support it (Build then fails).
var native = map[string]*archSpec{
	"amd64": archAMD64,
	"arm64": archARM64,
}[runtime.GOARCH]

// otherArchNames holds every syscall name known on some architecture
// go-seccomp-bpf has a table for. A configured name that is missing on the
// target but present here (stime and vm86 on x86_64, iopl on arm64) is
// skipped instead of being an error (attacks.md 3.1).
var otherArchNames = func() map[string]bool {
	m := make(map[string]bool)
	for _, t := range []*arch.Info{arch.ARM, arch.AARCH64, arch.I386, arch.X32, arch.X86_64} {
		for n := range t.SyscallNames {
			m[n] = true
		}
	}
	for n := range newerSyscalls {
		m[n] = true
	}
	return m
}()

// names returns the syscall names of a, sorted.
func (a *archSpec) names() []string {
	out := make([]string, 0, len(a.byName))
	for n := range a.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the syscall number of name on the architecture of the
// running binary (x86_64 or arm64); ok is false when the name does not exist
// there.
func Lookup(name string) (nr int, ok bool) {
	if native == nil {
		return 0, false
	}
	nr, ok = native.byName[name]
	return nr, ok
}

// Name returns the name of syscall number nr on the architecture of the
// running binary, or "" when nr is not a known syscall.
func Name(nr int) string {
	if native == nil {
		return ""
	}
	return native.byNr[nr]
}
