package seccomp

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// A tiny forward-only label assembler over golang.org/x/net/bpf
// instructions.
//
// go-seccomp-bpf's own assembler (seccomp.Program) resolves labels well, but
// it can only load syscall arguments, not nr or arch, has no ALU
// instructions (the socket type must be masked) and its Policy compares
// whole 64-bit values, while int arguments must be compared on their low 32
// bits only. Its Policy.Assemble also sends foreign architectures to the
// default action and x32 numbers to ENOSYS, where we must kill. So we only
// take its syscall tables and emit every instruction ourselves. Classic BPF
// allows only forward jumps, and conditional ones of at most 255
// instructions; the layout in build.go keeps every conditional target close
// (blocks are small and name chains are cut into chunks), and finish reports
// a violation instead of emitting a wrong program.

// label names an instruction index, bound with bind.
type label int

// fall is the label of the next instruction (a skip of 0).
const fall label = -1

type fixup struct {
	at     int   // index of the conditional jump instruction
	jt, jf label // its targets
}

type asm struct {
	ins   []bpf.Instruction
	fix   []fixup
	bound []int // label -> instruction index, -1 while unbound
}

func (a *asm) newLabel() label {
	a.bound = append(a.bound, -1)
	return label(len(a.bound) - 1)
}

// bind points l at the next instruction to be emitted.
func (a *asm) bind(l label) { a.bound[l] = len(a.ins) }

func (a *asm) load(off uint32) {
	a.ins = append(a.ins, bpf.LoadAbsolute{Off: off, Size: 4})
}

func (a *asm) loadNr()   { a.load(offNr) }
func (a *asm) loadArch() { a.load(offArch) }

// loadArgLo loads the low 32 bits of args[i]: what the kernel consumes for
// an int, pid_t or unsigned int parameter.
func (a *asm) loadArgLo(i int) { a.load(uint32(offArgs + 8*i)) }

// loadArgHi loads the high 32 bits of args[i].
func (a *asm) loadArgHi(i int) { a.load(uint32(offArgs + 8*i + 4)) }

func (a *asm) and(k uint32) {
	a.ins = append(a.ins, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: k})
}

// jeq jumps to jt when A == k and to jf otherwise.
func (a *asm) jeq(k uint32, jt, jf label) { a.jump(bpf.JumpEqual, k, jt, jf) }

// jset jumps to jt when A & k != 0 and to jf otherwise.
func (a *asm) jset(k uint32, jt, jf label) { a.jump(bpf.JumpBitsSet, k, jt, jf) }

func (a *asm) jump(cond bpf.JumpTest, k uint32, jt, jf label) {
	a.fix = append(a.fix, fixup{at: len(a.ins), jt: jt, jf: jf})
	a.ins = append(a.ins, bpf.JumpIf{Cond: cond, Val: k})
}

func (a *asm) ret(act Action) {
	a.ins = append(a.ins, bpf.RetConstant{Val: uint32(act)})
}

// skip returns the distance from the jump at index at to label l.
func (a *asm) skip(at int, l label) (int, error) {
	if l == fall {
		return 0, nil
	}
	to := a.bound[l]
	if to < 0 {
		return 0, fmt.Errorf("seccomp: internal error: label %d never bound", l)
	}
	d := to - at - 1
	if d < 0 {
		return 0, fmt.Errorf("seccomp: internal error: backward jump from %d to %d", at, to)
	}
	return d, nil
}

// finish resolves every jump.
func (a *asm) finish() ([]bpf.Instruction, error) {
	for _, f := range a.fix {
		t, err := a.skip(f.at, f.jt)
		if err != nil {
			return nil, err
		}
		e, err := a.skip(f.at, f.jf)
		if err != nil {
			return nil, err
		}
		if t > 255 || e > 255 {
			return nil, fmt.Errorf("seccomp: internal error: conditional jump at %d too long (%d, %d)", f.at, t, e)
		}
		j := a.ins[f.at].(bpf.JumpIf)
		j.SkipTrue, j.SkipFalse = uint8(t), uint8(e)
		a.ins[f.at] = j
	}
	return a.ins, nil
}

// rets collects the returns of one block: jumps inside the block target
// rets.to(action), and flush emits each used return once, at the block's end.
type rets struct {
	a     *asm
	order []Action
	lbl   map[Action]label
}

func (a *asm) newRets() *rets { return &rets{a: a, lbl: make(map[Action]label)} }

func (r *rets) to(act Action) label {
	l, ok := r.lbl[act]
	if !ok {
		l = r.a.newLabel()
		r.lbl[act] = l
		r.order = append(r.order, act)
	}
	return l
}

func (r *rets) flush() {
	for _, act := range r.order {
		r.a.bind(r.lbl[act])
		r.a.ret(act)
	}
}
