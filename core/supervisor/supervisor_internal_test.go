package supervisor

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The notification hot path (dispatch of a synchronous handler and the
// answer) must not allocate: spec README section 4.
func TestDispatchDoesNotAllocate(t *testing.T) {
	s := &Supervisor{fd: -1, done: make(chan struct{})}
	s.Handle(int(unix.SYS_OPENAT), func(*Supervisor, *Notif) Response { return Allow })
	n := Notif{ID: 1}
	n.Data.Nr = int32(unix.SYS_OPENAT)
	allocs := testing.AllocsPerRun(1000, func() { s.dispatch(&n) })
	if allocs != 0 {
		t.Fatalf("dispatch allocates %.1f times per notification, want 0", allocs)
	}
}

func TestFailClosed(t *testing.T) {
	tests := []struct {
		name string
		h    Handler
		want Response
	}{
		{"panic denies", func(*Supervisor, *Notif) Response { panic("boom") }, Errno(unix.EPERM)},
		{"deny without errno becomes EPERM", func(*Supervisor, *Notif) Response { return Response{Kind: Deny} }, Errno(unix.EPERM)},
		{"value passes", func(*Supervisor, *Notif) Response { return Value(7) }, Value(7)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Supervisor{fd: -1}
			var failures int
			s.OnError = func(*Notif, error) { failures++ }
			n := Notif{}
			got := s.call(tc.h, &n)
			if got != tc.want {
				t.Fatalf("call = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestUnregisteredSyscallIsDenied(t *testing.T) {
	s := &Supervisor{fd: -1}
	var failed bool
	s.OnError = func(*Notif, error) { failed = true }
	n := Notif{}
	n.Data.Nr = 77
	s.dispatch(&n)
	if !failed {
		t.Fatal("a notification without handler was not reported as a failure")
	}
}

func TestChainOrder(t *testing.T) {
	s := &Supervisor{fd: -1}
	var order []int
	mk := func(i int, r Response) Handler {
		return func(*Supervisor, *Notif) Response { order = append(order, i); return r }
	}
	s.Handle(5, mk(1, Next))
	s.Handle(5, mk(2, Errno(unix.EACCES)))
	s.Handle(5, mk(3, Allow))
	n := Notif{}
	n.Data.Nr = 5
	if got := s.chain(s.table[5].hs, &n); got != Errno(unix.EACCES) {
		t.Fatalf("chain = %+v, want EACCES from the second handler", got)
	}
	if len(order) != 2 || order[0] != 1 || order[1] != 2 {
		t.Fatalf("handlers ran in order %v, want [1 2]", order)
	}
	s2 := &Supervisor{fd: -1}
	s2.Handle(6, mk(9, Next))
	if got := s2.chain(s2.table[6].hs, &n); got != Allow {
		t.Fatalf("all-pass chain = %+v, want Continue", got)
	}
}
