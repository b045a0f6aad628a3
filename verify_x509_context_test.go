package giotls

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// TestX509VerifyHonoursContext: crypto/x509's Verify takes no context, and
// a server that sends dozens of look-alike intermediates with 8192-bit keys
// and the largest public exponent makes each of the up to 100 signature
// checks its path building allows cost milliseconds. Its verdict, for a
// database with anchors of its own, is waited for only as long as the
// verification's context; crypto/x509 stands in here with a verifier that
// takes 2 s.
func TestX509VerifyHonoursContext(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	leaf := root.MustLeaf(t, "server", testpki.DNSNames("a.example"))
	release := make(chan struct{})
	saved := rootsVerify
	rootsVerify = func(l *x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
		select {
		case <-release:
		case <-time.After(2 * time.Second):
		}
		return x509Verify(l, opts)
	}
	t.Cleanup(func() { close(release); rootsVerify = saved })
	db := NewDatabase([]*x509.Certificate{root.Cert})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.VerifyChain(ctx, mustChain(t, leaf.Chain...), PurposeServer, NewNetworkAddress("a.example", 443), nil)
	if elapsed := time.Since(start); elapsed > time.Second || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("VerifyChain returned %v after %v; want the context's deadline within 1s", err, elapsed)
	}
}
