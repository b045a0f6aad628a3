package verify

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// TestVerifyConstraintBomb verifies the chain of issue 12 that a hostile
// server can send without any trusted CA: 6,000 names under 6,000 excluded
// constraints that match none of them, above 8 look-alike roots. Compared
// name by constraint on every path, that is 288 million comparisons (21.7 s
// in a handshake); with a 1 s context, Verify must end within 1.5 s, with
// little memory, and flag the chain.
func TestVerifyConstraintBomb(t *testing.T) {
	leaf := testpki.ConstraintBomb(t, 6000, 6000, 8, "localhost")
	trusted := testpki.MustCA(t, "Trusted")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := Verify(ctx, &Options{
		Chain: leaf.Chain, Store: NewStore(certs(trusted.Cert), nil),
		Identity: Identity{Host: "localhost"}, CheckIdentity: true, Purpose: serverAuth,
	})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if elapsed > 1500*time.Millisecond {
		t.Errorf("Verify took %v with a 1 s context", elapsed)
	}
	if err != nil {
		t.Fatalf("Verify = %v after %v, want flags: the comparison budget ends it first", err, elapsed)
	}
	if want := UnknownCA | GenericError; res.Flags != want {
		t.Errorf("flags = %#x, want %#x (unknown-ca, and generic-error for the constraints not checked)", res.Flags, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("Verify allocated %d bytes", alloc)
	}
	t.Logf("ended in %v", elapsed)
}

// TestVerifyConstraintBombCancelled lifts the comparison budget to show that
// the context alone also ends the comparisons: checked inside their loops,
// not only between paths.
func TestVerifyConstraintBombCancelled(t *testing.T) {
	leaf := testpki.ConstraintBomb(t, 6000, 6000, 8, "localhost")
	defer func(n int) { constraintBudget = n }(constraintBudget)
	constraintBudget = math.MaxInt
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Verify(ctx, &Options{Chain: leaf.Chain, Identity: Identity{Host: "localhost"}, CheckIdentity: true})
	if elapsed := time.Since(start); elapsed > 700*time.Millisecond {
		t.Errorf("Verify took %v with a 200 ms context", elapsed)
	}
	if err != context.DeadlineExceeded {
		t.Errorf("Verify = %v, want context.DeadlineExceeded", err)
	}
}
