package policyfn

// SetFreeze turns the argv freeze on or off, for the control of the argv
// race test.
func SetFreeze(on bool) { noFreeze.Store(!on) }
