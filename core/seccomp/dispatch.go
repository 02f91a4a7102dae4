package seccomp

import (
	"math/bits"

	"golang.org/x/sys/unix"
)

// Dispatch on the syscall number.
//
// Every syscall number gets a leaf: a constant action, or an argument
// filter snippet. Consecutive numbers with the same leaf form an interval,
// and the intervals, which cover all 2^32 values of nr, are searched with a
// balanced binary tree of "jge" splits. A subtree whose intervals are all
// one background leaf except for a few single numbers becomes a chain of
// "jeq" tests instead, when that is no deeper than the tree (it is always
// shorter).
//
// Why a tree: when a filter is installed, the kernel emulates it for every
// syscall number of the architecture to build its action cache
// (seccomp_cache_prepare), stopping at the first load of an argument. A
// sequential chain made every number walk the whole chain; the tree makes
// every walk logarithmic. The walk reads only nr and arch, so the kernel
// still caches every plainly allowed number.

// leaf is what happens to one syscall number: a constant action, or the
// argument filter snippet number code.
type leaf struct {
	act  Action
	code int // index into builder.snippets, or -1 for act
}

func actLeaf(act Action) leaf { return leaf{act: act, code: -1} }

// interval is the run of numbers from lo to the next interval's lo (or
// 2^32), all with the same leaf.
type interval struct {
	lo   uint32
	leaf leaf
}

// target is where a jump goes: an instruction already emitted (pos >= 0, a
// position counted from the end, see emitter) or a leaf still to place.
type target struct {
	pos  int
	leaf leaf
}

func leafTarget(l leaf) target { return target{pos: -1, leaf: l} }

// emitter lays a program out backwards: rev[0] is the last instruction and
// an instruction's position is its index in rev. Positions never change as
// more instructions are prepended, so a jump, emitted after its targets,
// knows its exact skips: from position j to position p it is j-p-1. A target
// out of reach of a conditional jump gets a fresh RET (for an action) or a
// JA trampoline (for code) right after the jump.
type emitter struct {
	rev      []unix.SockFilter
	snippets [][]unix.SockFilter
	snipAt   []int       // position of each snippet's first instruction, -1 until emitted
	lastRet  []retPlaced // nearest emitted RET of each action
}

type retPlaced struct {
	act Action
	pos int
}

func (e *emitter) push(f unix.SockFilter) int {
	e.rev = append(e.rev, f)
	return len(e.rev) - 1
}

func (e *emitter) pushRet(act Action) int {
	p := e.push(unix.SockFilter{Code: opRet, K: uint32(act)})
	e.noteRet(act, p)
	return p
}

// noteRet records a RET of act at position p, the nearest one so far.
func (e *emitter) noteRet(act Action, p int) {
	for i := range e.lastRet {
		if e.lastRet[i].act == act {
			e.lastRet[i].pos = p
			return
		}
	}
	e.lastRet = append(e.lastRet, retPlaced{act, p})
}

// reachable reports whether a conditional jump emitted next can reach
// position p.
func (e *emitter) reachable(p int) bool { return len(e.rev)-p-1 <= maxJump }

// place returns the position of t's first instruction, emitting it when it
// is a leaf not yet emitted (or a RET no longer reachable).
func (e *emitter) place(t target) int {
	switch {
	case t.pos >= 0:
		return t.pos
	case t.leaf.code >= 0:
		if p := e.snipAt[t.leaf.code]; p < 0 {
			e.snipAt[t.leaf.code] = e.snippet(e.snippets[t.leaf.code])
		}
		return e.snipAt[t.leaf.code]
	}
	for _, r := range e.lastRet {
		if r.act == t.leaf.act && e.reachable(r.pos) {
			return r.pos
		}
	}
	return e.pushRet(t.leaf.act)
}

// snippet emits an argument filter assembled by asm and returns the
// position of its entry. The returns asm flushed at its end are not copied:
// its jumps go to the nearest RET of the same action, shared with the rest
// of the program.
func (e *emitter) snippet(s []unix.SockFilter) int {
	tail := len(s)
	for tail > 0 && s[tail-1].Code == opRet {
		tail--
	}
	at := make([]target, len(s)) // where each instruction of s went
	for i := tail; i < len(s); i++ {
		at[i] = leafTarget(actLeaf(Action(s[i].K)))
	}
	for i := tail - 1; i >= 0; i-- {
		in := s[i]
		switch {
		case in.Code == opJa:
			at[i] = at[i+1+int(in.K)]
		case in.Code&0x07 == unix.BPF_JMP:
			at[i] = e.branch(in.Code, in.K, at[i+1+int(in.Jt)], at[i+1+int(in.Jf)])
		case in.Code == opRet:
			at[i] = target{pos: e.pushRet(Action(in.K))}
		default: // a load or ALU instruction, which falls through
			e.fallTo(at[i+1])
			at[i] = target{pos: e.push(in)}
		}
	}
	return e.place(at[0])
}

// fallTo makes t the next instruction, for an instruction that falls
// through.
func (e *emitter) fallTo(t target) {
	p := e.place(t)
	if p == len(e.rev)-1 {
		return
	}
	if t.pos < 0 && t.leaf.code < 0 {
		e.pushRet(t.leaf.act)
		return
	}
	e.push(unix.SockFilter{Code: opJa, K: uint32(len(e.rev) - p - 1)})
}

// reach makes position p, where t was placed, reachable from the next
// instruction.
func (e *emitter) reach(t target, p int) int {
	if e.reachable(p) {
		return p
	}
	if t.pos < 0 && t.leaf.code < 0 {
		return e.pushRet(t.leaf.act)
	}
	return e.push(unix.SockFilter{Code: opJa, K: uint32(len(e.rev) - p - 1)})
}

// branch emits a conditional jump to t when the test holds and to f
// otherwise, and returns it as a target. f is placed last, so a leaf f
// usually directly follows the jump.
func (e *emitter) branch(op uint16, k uint32, t, f target) target {
	pt := e.place(t)
	pf := e.place(f)
	for !e.reachable(pt) || !e.reachable(pf) {
		pt = e.reach(t, pt)
		pf = e.reach(f, pf)
	}
	j := len(e.rev)
	return target{pos: e.push(unix.SockFilter{Code: op, K: k, Jt: uint8(j - pt - 1), Jf: uint8(j - pf - 1)})}
}

// tree emits the dispatch over iv, whose last interval ends at hi (2^32
// for the whole range), and returns its entry.
func (e *emitter) tree(iv []interval, hi uint64) target {
	if len(iv) == 1 {
		return leafTarget(iv[0].leaf)
	}
	if bg, n, ok := singletons(iv, hi); ok && n <= bits.Len(uint(len(iv)-1)) {
		next := leafTarget(bg)
		for i := len(iv) - 1; i >= 0; i-- {
			if iv[i].leaf != bg {
				next = e.branch(opJeq, iv[i].lo, leafTarget(iv[i].leaf), next)
			}
		}
		return next
	}
	m := len(iv) / 2
	right := e.tree(iv[m:], hi)
	left := e.tree(iv[:m], uint64(iv[m].lo))
	return e.branch(opJge, iv[m].lo, right, left)
}

// singletons reports whether every interval of iv but one-number ones has
// the same leaf, bg, and counts the others.
func singletons(iv []interval, hi uint64) (bg leaf, n int, ok bool) {
	width := func(i int) uint64 {
		if i+1 < len(iv) {
			return uint64(iv[i+1].lo) - uint64(iv[i].lo)
		}
		return hi - uint64(iv[i].lo)
	}
	// The background is the leaf of the first wide interval, or of the
	// first interval when all are single numbers.
	bg = iv[0].leaf
	for i := range iv {
		if width(i) > 1 {
			bg = iv[i].leaf
			break
		}
	}
	for i, v := range iv {
		if v.leaf == bg {
			continue
		}
		if width(i) > 1 {
			return bg, 0, false
		}
		n++
	}
	return bg, n, true
}

// intervals merges the leaves of numbers 0 to len(leaves)-1, and def for
// every number above, into intervals.
func intervals(leaves []leaf, def leaf) []interval {
	iv := make([]interval, 0, 128)
	add := func(lo int, l leaf) {
		if len(iv) == 0 || iv[len(iv)-1].leaf != l {
			iv = append(iv, interval{uint32(lo), l})
		}
	}
	for nr, l := range leaves {
		add(nr, l)
	}
	add(len(leaves), def)
	return iv
}

// program emits the whole filter: the arch check, the x32 check where the
// ABI exists, then the dispatch over leaves (def above them).
func (e *emitter) program(a *archSpec, leaves []leaf, def leaf) []unix.SockFilter {
	e.rev = make([]unix.SockFilter, 0, 256)
	e.snipAt = make([]int, len(e.snippets))
	for i := range e.snipAt {
		e.snipAt[i] = -1
	}
	e.fallTo(e.tree(intervals(leaves, def), 1<<32))
	kill := leafTarget(actLeaf(ActionKillProcess))
	if a.x32Bit != 0 {
		e.branch(opJset, a.x32Bit, kill, target{pos: len(e.rev) - 1})
	}
	// The load of nr falls into the x32 check or the dispatch.
	loadNr := target{pos: e.push(unix.SockFilter{Code: opLoad, K: offNr})}
	e.branch(opJeq, a.audit, loadNr, kill)
	e.push(unix.SockFilter{Code: opLoad, K: offArch})
	prog := make([]unix.SockFilter, len(e.rev))
	for i, f := range e.rev {
		prog[len(prog)-1-i] = f
	}
	return prog
}
