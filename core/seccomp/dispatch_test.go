package seccomp

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// magicHi is the high word of args[0] that makes a synthetic snippet take
// its refusal branch. No pointer, fd or flag word the Go runtime passes has
// it, so a program made of such snippets allows everything the runtime does.
const magicHi = 0xfee1dead

// syntheticSnippet returns a snippet that refuses with Errno(errno) when
// args[0] is magicHi<<32|id and returns ALLOW otherwise, padded with pad
// dead-end loads so that snippets have various lengths. Distinct ids make
// distinct snippets, which never merge into one interval.
func syntheticSnippet(id uint32, errno unix.Errno, pad int) []unix.SockFilter {
	var a asm
	a.reset()
	r := &a.rets
	r.to(ActionAllow)
	for range pad {
		a.loadArgLo(2)
	}
	a.loadArgHi(0)
	a.jeq(magicHi, fall, r.to(ActionAllow))
	a.loadArgLo(0)
	a.jeq(id, r.to(Errno(errno)), fall)
	r.flush()
	s, err := a.finish()
	if err != nil {
		panic(err)
	}
	return append([]unix.SockFilter(nil), s...)
}

// synthetic is a dispatch problem: leaves for numbers 0 to len(leaves)-1
// and def above, over the snippets.
type synthetic struct {
	leaves   []leaf
	def      leaf
	snippets [][]unix.SockFilter
}

func (s synthetic) build(a *archSpec) []unix.SockFilter {
	e := &emitter{snippets: s.snippets}
	return e.program(a, s.leaves, s.def)
}

// want is the decision for nr with args[0] = arg0 (nr below the x32 bit on
// the right architecture).
func (s synthetic) want(nr uint32, arg0 uint64) Action {
	l := s.def
	if nr < uint32(len(s.leaves)) {
		l = s.leaves[nr]
	}
	if l.code < 0 {
		return l.act
	}
	if arg0 == magicHi<<32|uint64(l.code) {
		return Errno(unix.Errno(1000 + l.code))
	}
	return ActionAllow
}

// randomSynthetic draws n leaves: runs of constant actions among many
// distinct ones, and snippets, some shared by several numbers.
func randomSynthetic(rng *rand.Rand, n, nSnippets, maxPad int, snippetShare float64) synthetic {
	s := synthetic{def: actLeaf(ActionAllow)}
	for i := range nSnippets {
		s.snippets = append(s.snippets, syntheticSnippet(uint32(i), unix.Errno(1000+i), rng.IntN(maxPad+1)))
	}
	acts := []Action{ActionAllow, ActionEPERM, ActionUserNotif, ActionENOSYS, Errno(unix.EACCES), Errno(unix.EBUSY)}
	for len(s.leaves) < n {
		var l leaf
		if nSnippets > 0 && rng.Float64() < snippetShare {
			l = leaf{code: rng.IntN(nSnippets)}
		} else {
			l = actLeaf(acts[rng.IntN(len(acts))])
		}
		for run := 1 + rng.IntN(3); run > 0 && len(s.leaves) < n; run-- {
			s.leaves = append(s.leaves, l)
		}
	}
	if rng.IntN(2) == 0 {
		s.def = actLeaf(ActionEPERM)
	}
	return s
}

// TestDispatchSynthetic checks the emitter on random dispatch problems,
// from tiny to far larger than any Config produces, so that trampolines
// and repeated returns are exercised: every number (and a few beyond the
// table) must reach its leaf, with and without the snippets' magic
// argument, and only constant ALLOW leaves may be cached by the kernel.
func TestDispatchSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sawJa := false
	for iter := range 300 {
		n := 1 + rng.IntN(40)
		nSnippets, maxPad := rng.IntN(6), 4
		if iter%3 == 0 {
			n, nSnippets, maxPad = 300+rng.IntN(300), 20+rng.IntN(100), 20
		}
		s := randomSynthetic(rng, n, nSnippets, maxPad, rng.Float64())
		a := archAMD64
		if iter%2 == 1 {
			a = archARM64
		}
		prog := s.build(a)
		p := &Program{Instructions: prog, Arch: a.audit}
		checkProgram(t, p)
		decide := decider(t, p)
		for _, f := range prog {
			sawJa = sawJa || f.Code == opJa
		}
		nrs := []uint32{uint32(n), uint32(n) + 1, 1 << 20, 0x3fffffff, 0x80000000, 0xbfffffff, ^uint32(0)}
		for nr := range uint32(n) {
			nrs = append(nrs, nr)
		}
		for _, nr := range nrs {
			x32 := a.x32Bit != 0 && nr&a.x32Bit != 0
			for _, arg0 := range []uint64{0, magicHi<<32 | uint64(nr%uint32(max(nSnippets, 1)))} {
				d := Data{Nr: int32(nr), Arch: a.audit, Args: [6]uint64{arg0}}
				want := s.want(nr, arg0)
				if x32 {
					want = ActionKillProcess
				}
				if got := decide(d); got != want {
					t.Fatalf("iteration %d: Decide(nr %#x, arg0 %#x) = %v, want %v (%d instructions)", iter, nr, arg0, got, want, len(prog))
				}
			}
			if nr < uint32(n) && !x32 {
				l := s.leaves[nr]
				wantCached := l.code < 0 && l.act == ActionAllow
				if got, _ := constAllow(prog, a.audit, nr); got != wantCached {
					t.Fatalf("iteration %d: nr %d cached as allowed = %v, want %v", iter, nr, got, wantCached)
				}
			}
		}
		d := Data{Nr: 0, Arch: unix.AUDIT_ARCH_I386}
		if got := p.Decide(d); got != ActionKillProcess {
			t.Fatalf("iteration %d: foreign arch = %v, want KILL_PROCESS", iter, got)
		}
	}
	if !sawJa {
		t.Errorf("no program needed a JA trampoline: the test does not exercise them")
	}
}

// decider returns p.Decide with the program translated once.
func decider(t *testing.T, p *Program) func(Data) Action {
	insns := make([]bpf.Instruction, len(p.Instructions))
	for i, f := range p.Instructions {
		insns[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}.Disassemble()
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("bpf.NewVM = %v", err)
	}
	return func(d Data) Action {
		v, err := vm.Run(d.vmInput())
		if err != nil {
			return ActionKillProcess
		}
		return Action(uint32(v))
	}
}

// trampolineProgram is a filter for the running architecture that allows
// everything the Go runtime may call but, long and with every number its
// own snippet, needs JA trampolines; TestKernelFilter installs it to check
// the kernel accepts and runs such programs as the interpreter does.
func trampolineProgram() (*Program, synthetic) {
	a := native
	n := len(a.tables().byNr)
	s := synthetic{def: actLeaf(ActionAllow)}
	for nr := range n {
		s.snippets = append(s.snippets, syntheticSnippet(uint32(nr), unix.Errno(1000+nr), nr%3))
		s.leaves = append(s.leaves, leaf{code: nr})
	}
	return &Program{Instructions: s.build(a), Arch: a.audit}, s
}
