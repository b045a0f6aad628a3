package giotls

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: a
// connection, server, process watcher or timer that a test, or the code it
// tests, did not stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// TestNotTLS's servers hold their connections open with a 30 s
		// sleep that outlives the test; the only exception.
		goleak.IgnoreAnyFunction("github.com/giotls/giotls.TestNotTLS.func1.1"),
	)
}
