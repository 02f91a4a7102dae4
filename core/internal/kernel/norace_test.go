//go:build !race

package kernel

// raceEnabled: the race detector's instrumentation allocates.
const raceEnabled = false
