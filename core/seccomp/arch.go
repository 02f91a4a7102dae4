package seccomp

import (
	"runtime"
	"sort"
	"sync"

	"github.com/elastic/go-seccomp-bpf/arch"
)

// archSpec describes one architecture the builder can emit a filter for.
//
// Names and numbers are looked up in go-seccomp-bpf's own maps (built by
// that package's init, which runs whether we use them or not) plus
// newerSyscalls, so this package's init allocates nothing. What Build needs
// beyond lookups (the dense number table and the numbers of the names it
// always resolves) is computed on first use, in tables.
type archSpec struct {
	name   string // Linux name, for messages
	audit  uint32 // AUDIT_ARCH_* value seccomp_data.arch must equal
	x32Bit uint32 // __X32_SYSCALL_BIT, or 0 where the ABI does not exist
	info   *arch.Info

	once sync.Once
	tab  *archTables
}

// archTables is what build needs on every call, precomputed once per
// architecture.
type archTables struct {
	// byNr is the name of each number from 0 to the largest syscall
	// number, "" for a hole.
	byNr []string
	// defaultDeny holds the numbers of defaultDeny that exist here.
	defaultDeny []int
	// essential pairs each name of essential with its number (-1 when
	// absent).
	essential []nrName
	// filtered holds the number of each argFilters entry (-1 when absent).
	filtered []int
	// clone3, fork and vfork are the numbers of those calls, -1 when
	// absent.
	clone3, fork, vfork int
}

type nrName struct {
	nr   int
	name string
}

// newerSyscalls lists syscalls added after the tables of go-seccomp-bpf v1.6.0
// (generated from Linux 6.15). Numbers from 424 up are shared by every
// architecture (<asm-generic/unistd.h>, arch/x86/entry/syscalls/syscall_64.tbl).
var newerSyscalls = map[string]int{
	"file_getattr": 468, // Linux 6.17
	"file_setattr": 469, // Linux 6.17
	"listns":       470, // Linux 6.19
}

var (
	// archAMD64 is the x86_64 ABI. AUDIT_ARCH_X86_64 is also reported for
	// x32 calls, which are told apart by x32SyscallBit in nr.
	archAMD64 = &archSpec{name: "x86_64", audit: uint32(arch.X86_64.ID), x32Bit: x32SyscallBit, info: arch.X86_64}
	// archARM64 is the AArch64 ABI; AArch32 compat calls report
	// AUDIT_ARCH_ARM and are killed by the arch check.
	archARM64 = &archSpec{name: "aarch64", audit: uint32(arch.AARCH64.ID), info: arch.AARCH64}
)

// archByAudit returns the table of an AUDIT_ARCH value, for Data.String, or
// nil.
func archByAudit(audit uint32) *archSpec {
	for _, a := range []*archSpec{archAMD64, archARM64} {
		if a.audit == audit {
			return a
		}
	}
	return nil
}

// native is the architecture of the running binary, or nil when the builder
// does not support it (Build then fails).
var native = func() *archSpec {
	switch runtime.GOARCH {
	case "amd64":
		return archAMD64
	case "arm64":
		return archARM64
	}
	return nil
}()

// lookup returns the number of name on a.
func (a *archSpec) lookup(name string) (int, bool) {
	if nr, ok := a.info.SyscallNames[name]; ok {
		return nr, true
	}
	if nr, ok := newerSyscalls[name]; ok {
		if _, dup := a.info.SyscallNumbers[nr]; !dup {
			return nr, true
		}
	}
	return 0, false
}

// nameOf returns the name of number nr on a, or "" when nr is not a known
// syscall.
func (a *archSpec) nameOf(nr int) string {
	if n, ok := a.info.SyscallNumbers[nr]; ok {
		return n
	}
	for n, v := range newerSyscalls {
		if v == nr {
			return n
		}
	}
	return ""
}

// tables returns a's precomputed tables, building them on first use.
func (a *archSpec) tables() *archTables {
	a.once.Do(func() {
		t := &archTables{}
		maxNr := -1
		for nr := range a.info.SyscallNumbers {
			maxNr = max(maxNr, nr)
		}
		for n := range newerSyscalls {
			if nr, ok := a.lookup(n); ok {
				maxNr = max(maxNr, nr)
			}
		}
		t.byNr = make([]string, maxNr+1)
		for nr, n := range a.info.SyscallNumbers {
			t.byNr[nr] = n
		}
		for n := range newerSyscalls {
			if nr, ok := a.lookup(n); ok {
				t.byNr[nr] = n
			}
		}
		nr := func(name string) int {
			if v, ok := a.lookup(name); ok {
				return v
			}
			return -1
		}
		for _, n := range defaultDeny {
			if v := nr(n); v >= 0 {
				t.defaultDeny = append(t.defaultDeny, v)
			}
		}
		for _, n := range essential {
			t.essential = append(t.essential, nrName{nr(n), n})
		}
		for _, f := range argFilters {
			t.filtered = append(t.filtered, nr(f.name))
		}
		t.clone3, t.fork, t.vfork = nr("clone3"), nr("fork"), nr("vfork")
		a.tab = t
	})
	return a.tab
}

// foreignArches are the tables otherArchName consults.
var foreignArches = []*arch.Info{arch.ARM, arch.AARCH64, arch.I386, arch.X32, arch.X86_64}

// otherArchName reports whether name is a syscall on some architecture
// go-seccomp-bpf has a table for. A configured name that is missing on the
// target but known here (stime and vm86 on x86_64, iopl on arm64) is
// skipped instead of being an error (attacks.md 3.1).
func otherArchName(name string) bool {
	if _, ok := newerSyscalls[name]; ok {
		return true
	}
	for _, t := range foreignArches {
		if _, ok := t.SyscallNames[name]; ok {
			return true
		}
	}
	return false
}

// names returns the syscall names of a, sorted.
func (a *archSpec) names() []string {
	var out []string
	for _, n := range a.tables().byNr {
		if n != "" {
			out = append(out, n)
		}
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
	return native.lookup(name)
}

// Name returns the name of syscall number nr on the architecture of the
// running binary, or "" when nr is not a known syscall.
func Name(nr int) string {
	if native == nil {
		return ""
	}
	return native.nameOf(nr)
}
