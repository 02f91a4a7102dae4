//go:build !race

package sandbox_test

// raceEnabled: the race detector's instrumentation allocates.
const raceEnabled = false
