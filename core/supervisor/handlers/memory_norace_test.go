//go:build !race

package handlers

// raceEnabled: the race detector's instrumentation allocates.
const raceEnabled = false
