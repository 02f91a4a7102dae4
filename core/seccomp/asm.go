package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Two small assemblers emit the program as struct sock_filter values.
//
// go-seccomp-bpf's own assembler (seccomp.Program) resolves labels well, but
// it can only load syscall arguments, not nr or arch, has no ALU
// instructions (the socket type must be masked) and its Policy compares
// whole 64-bit values, while int arguments must be compared on their low 32
// bits only. Its Policy.Assemble also sends foreign architectures to the
// default action and x32 numbers to ENOSYS, where we must kill. So we only
// take its syscall tables and emit every instruction ourselves.
//
// Classic BPF allows only forward jumps, and conditional ones of at most 255
// instructions. asm, a forward label assembler, emits the argument filter of
// one syscall (a short, self-contained snippet); finish reports a jump it
// cannot encode instead of emitting a wrong program. The emitter of
// dispatch.go lays the whole program out from its end, where every jump
// target is already placed and its distance known.

// Instruction encodings, from <linux/bpf_common.h>.
const (
	opLoad = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opAnd  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	opRet  = unix.BPF_RET | unix.BPF_K
	opJa   = unix.BPF_JMP | unix.BPF_JA
	opJeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	opJset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
)

// maxJump is the longest skip of a conditional jump.
const maxJump = 255

// label names an instruction index, bound with bind.
type label int

// fall is the label of the next instruction (a skip of 0).
const fall label = -1

type fixup struct {
	at     int   // index of the conditional jump instruction
	jt, jf label // its targets
}

type asm struct {
	ins   []unix.SockFilter
	fix   []fixup
	bound []int // label -> instruction index, -1 while unbound
	rets  rets
}

// reset empties a for the next snippet, keeping its storage.
func (a *asm) reset() {
	a.ins, a.fix, a.bound = a.ins[:0], a.fix[:0], a.bound[:0]
	a.rets = rets{a: a, order: a.rets.order[:0]}
}

func (a *asm) newLabel() label {
	a.bound = append(a.bound, -1)
	return label(len(a.bound) - 1)
}

// bind points l at the next instruction to be emitted.
func (a *asm) bind(l label) { a.bound[l] = len(a.ins) }

func (a *asm) load(off uint32) {
	a.ins = append(a.ins, unix.SockFilter{Code: opLoad, K: off})
}

// loadArgLo loads the low 32 bits of args[i]: what the kernel consumes for
// an int, pid_t or unsigned int parameter.
func (a *asm) loadArgLo(i int) { a.load(uint32(offArgs + 8*i)) }

// loadArgHi loads the high 32 bits of args[i].
func (a *asm) loadArgHi(i int) { a.load(uint32(offArgs + 8*i + 4)) }

func (a *asm) and(k uint32) {
	a.ins = append(a.ins, unix.SockFilter{Code: opAnd, K: k})
}

// jeq jumps to jt when A == k and to jf otherwise.
func (a *asm) jeq(k uint32, jt, jf label) { a.jump(opJeq, k, jt, jf) }

// jset jumps to jt when A & k != 0 and to jf otherwise.
func (a *asm) jset(k uint32, jt, jf label) { a.jump(opJset, k, jt, jf) }

func (a *asm) jump(op uint16, k uint32, jt, jf label) {
	a.fix = append(a.fix, fixup{at: len(a.ins), jt: jt, jf: jf})
	a.ins = append(a.ins, unix.SockFilter{Code: op, K: k})
}

func (a *asm) ret(act Action) {
	a.ins = append(a.ins, unix.SockFilter{Code: opRet, K: uint32(act)})
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

// finish resolves every jump and returns the instructions, which stay a's
// storage until the next reset.
func (a *asm) finish() ([]unix.SockFilter, error) {
	for _, f := range a.fix {
		t, err := a.skip(f.at, f.jt)
		if err != nil {
			return nil, err
		}
		e, err := a.skip(f.at, f.jf)
		if err != nil {
			return nil, err
		}
		if t > maxJump || e > maxJump {
			return nil, fmt.Errorf("seccomp: internal error: conditional jump at %d too long (%d, %d)", f.at, t, e)
		}
		a.ins[f.at].Jt, a.ins[f.at].Jf = uint8(t), uint8(e)
	}
	return a.ins, nil
}

// rets collects the returns of one snippet: jumps inside it target
// rets.to(action), and flush emits each used return once, at its end.
type rets struct {
	a     *asm
	order []retLabel
}

type retLabel struct {
	act Action
	lbl label
}

func (r *rets) to(act Action) label {
	for _, rl := range r.order {
		if rl.act == act {
			return rl.lbl
		}
	}
	l := r.a.newLabel()
	r.order = append(r.order, retLabel{act, l})
	return l
}

func (r *rets) flush() {
	for _, rl := range r.order {
		r.a.bind(rl.lbl)
		r.a.ret(rl.act)
	}
}
