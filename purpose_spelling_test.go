package giotls

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestPurposeSpelling: a Purpose is an OID string, and one spelled other than
// canonically ("01" for "1", a sign) must not mean serverAuth to
// internal/verify while crypto/x509, the second opinion, is asked for any
// usage. The chain here is refused by crypto/x509 for serverAuth (its anchor
// restricts its extended key usage to clientAuth, which crypto/x509 enforces
// and internal/verify leaves to the anchor); each spelling of serverAuth must
// give an error or flags, never an acceptance.
func TestPurposeSpelling(t *testing.T) {
	root := testpki.MustCA(t, "Client-only Root", testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))
	leaf := root.MustLeaf(t, "server", testpki.DNSNames("www.example.com"), testpki.ExtKeyUsage(x509.ExtKeyUsageServerAuth))
	chain := certificateFromChain(leaf.Chain)
	db := NewDatabase([]*x509.Certificate{root.Cert})
	id := NewNetworkAddress("www.example.com", 443)

	flags, err := db.VerifyChain(context.Background(), chain, PurposeServer, id, nil)
	if err != nil || flags == 0 {
		t.Fatalf("canonical serverAuth: flags %v, err %v; want flags (crypto/x509 refuses the anchor's usage)", flags, err)
	}
	for _, spelling := range []Purpose{
		"1.3.6.1.5.5.7.3.01",
		"01.3.6.1.5.5.7.3.1",
		"+1.3.6.1.5.5.7.3.1",
		"1.3.6.1.5.5.7.3.+1",
		"1.3.6.1.5.5.7.3.001",
	} {
		t.Run(string(spelling), func(t *testing.T) {
			flags, err := db.VerifyChain(context.Background(), chain, spelling, id, nil)
			if err == nil && flags == 0 {
				t.Fatalf("purpose %q: accepted with no flags; crypto/x509 refuses this chain for serverAuth", spelling)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("purpose %q: error %T %v, want a *giotls.Error", spelling, err, err)
				}
			}
		})
	}
}
