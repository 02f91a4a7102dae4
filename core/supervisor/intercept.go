package supervisor

// Interception of whole chains, for a feature that must see every
// notification together with the answer the other handlers gave (the policy
// callback: its events say whether the built-in policy denied the call, and
// it holds some calls until the callback's verdict). It is installed after
// every other handler.

// Registered returns the syscall numbers that have a handler chain.
func (s *Supervisor) Registered() []int {
	var nrs []int
	for nr := range s.table {
		if len(s.table[nr].hs) > 0 {
			nrs = append(nrs, nr)
		}
	}
	return nrs
}

// Intercept replaces the chain of syscall nr by the single handler wrap
// returns. next, given to wrap, runs the chain as it was (Continue when it
// was empty or every handler passed); the wrapper decides whether and when
// to call it and may change its answer. async makes the chain run in its own
// goroutine per notification, for a wrapper that may block; false keeps the
// chain's current mode. Call it only before Start, after the handlers it
// wraps were added.
func (s *Supervisor) Intercept(nr int, async bool, wrap func(next Handler) Handler) {
	e := &s.table[nr]
	hs := e.hs
	next := func(s *Supervisor, n *Notif) Response {
		if len(hs) == 0 {
			return Allow
		}
		return s.chain(hs, n)
	}
	e.hs = []Handler{wrap(next)}
	if async {
		e.async = true
	}
}
