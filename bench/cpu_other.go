//go:build !unix

package bench

import "time"

// CPUTime returns the CPU time the process has used, and whether it could be
// read: it cannot here.
func CPUTime() (time.Duration, bool) { return 0, false }
