package giotls

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: a
// connection, server, process watcher or timer that a test, or the code it
// tests, did not stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
