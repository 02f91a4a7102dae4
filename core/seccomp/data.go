package seccomp

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/net/bpf"
)

// Data is the input of a seccomp filter, struct seccomp_data from
// <linux/seccomp.h>: what the kernel shows the filter about one syscall.
type Data struct {
	Nr                 int32     // syscall number
	Arch               uint32    // AUDIT_ARCH_* of the calling convention
	InstructionPointer uint64    // address of the syscall instruction
	Args               [6]uint64 // raw register values, all 64 bits
}

// String formats d as name(args) for test messages, with the architecture
// appended when it is not the one of the running binary.
func (d Data) String() string {
	var b strings.Builder
	a := archByAudit(d.Arch)
	name := ""
	if a != nil {
		name = a.nameOf(int(d.Nr))
	}
	if name == "" {
		name = fmt.Sprintf("syscall_%#x", uint32(d.Nr))
	}
	b.WriteString(name)
	b.WriteByte('(')
	last := -1
	for i, v := range d.Args {
		if v != 0 {
			last = i
		}
	}
	for i := 0; i <= last; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%#x", d.Args[i])
	}
	b.WriteByte(')')
	if a == nil || a != native {
		fmt.Fprintf(&b, "[arch=%#x]", d.Arch)
	}
	return b.String()
}

// vmInput encodes d for golang.org/x/net/bpf's VM.
//
// The kernel lays out seccomp_data in host byte order (little-endian on
// x86_64 and arm64) and a BPF_LD|BPF_W|BPF_ABS at offset o yields the host
// u32 stored there. The x/net/bpf VM instead decodes every load as
// big-endian (network order, as for packets). Our programs only ever load
// 32-bit words at 4-aligned offsets, so storing each 32-bit word of the
// structure big-endian at its kernel offset (the low half of a u64 at o,
// the high half at o+4, as on a little-endian host) makes every VM load
// return exactly the value the kernel's load would.
func (d Data) vmInput() []byte {
	b := make([]byte, seccompData)
	put := binary.BigEndian.PutUint32
	put(b[offNr:], uint32(d.Nr))
	put(b[offArch:], d.Arch)
	put(b[8:], uint32(d.InstructionPointer))
	put(b[12:], uint32(d.InstructionPointer>>32))
	for i, v := range d.Args {
		put(b[offArgs+8*i:], uint32(v))
		put(b[offArgs+8*i+4:], uint32(v>>32))
	}
	return b
}

// Decide runs the program on d in golang.org/x/net/bpf's interpreter and
// returns its verdict: what the kernel would do with that syscall. It exists
// for tests and diagnostics (the supervisor's tests can ask which syscalls
// reach it). A program that the interpreter rejects yields
// ActionKillProcess, the fail-closed answer.
func (p *Program) Decide(d Data) Action {
	insns := make([]bpf.Instruction, len(p.Instructions))
	for i, f := range p.Instructions {
		insns[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}.Disassemble()
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		return ActionKillProcess
	}
	v, err := vm.Run(d.vmInput())
	if err != nil {
		return ActionKillProcess
	}
	return Action(uint32(v))
}
