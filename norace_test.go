//go:build !race

package giotls

// raceEnabled reports whether the tests run under the race detector, which
// makes the tests at scale smaller.
const raceEnabled = false
