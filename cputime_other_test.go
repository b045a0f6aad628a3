//go:build !unix

package giotls

import (
	"testing"
	"time"
)

// cpuTime fails the test: the process's CPU time is read with getrusage,
// which only Unix has. The tests run on Unix; this lets them compile
// elsewhere (scripts/test vets them for darwin and windows).
func cpuTime(t *testing.T) time.Duration {
	t.Fatal("cpuTime: getrusage is Unix-only")
	return 0
}
