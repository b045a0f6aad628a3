package conformance

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: a
// connection, server or process watcher that a scenario did not stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
