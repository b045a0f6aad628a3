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

// TestPurposeEKUsKnownToX509: every purpose crypto/x509 has a name for is
// given to it as that usage, not as "any": it then checks the usage along
// the whole path, the anchor included (internal/verify leaves the anchor's
// usage to the anchor). Here the anchor allows serverAuth only, so
// crypto/x509 refuses each chain for its leaf's usage.
func TestPurposeEKUsKnownToX509(t *testing.T) {
	root := testpki.MustCA(t, "serverAuth-only Root", testpki.ExtKeyUsage(x509.ExtKeyUsageServerAuth))
	db := NewDatabase([]*x509.Certificate{root.Cert})
	id := NewNetworkAddress("www.example.com", 443)
	for _, tc := range []struct {
		purpose Purpose
		usage   x509.ExtKeyUsage
	}{
		{"1.3.6.1.5.5.7.3.5", x509.ExtKeyUsageIPSECEndSystem},
		{"1.3.6.1.5.5.7.3.6", x509.ExtKeyUsageIPSECTunnel},
		{"1.3.6.1.5.5.7.3.7", x509.ExtKeyUsageIPSECUser},
		{"1.3.6.1.5.5.7.3.3", x509.ExtKeyUsageCodeSigning},
	} {
		t.Run(string(tc.purpose), func(t *testing.T) {
			leaf := root.MustLeaf(t, "leaf", testpki.DNSNames("www.example.com"), testpki.ExtKeyUsage(tc.usage))
			if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: root.Pool(), KeyUsages: []x509.ExtKeyUsage{tc.usage}}); err == nil {
				t.Fatal("crypto/x509 accepts the chain; the test needs one it refuses")
			}
			flags, err := db.VerifyChain(context.Background(), certificateFromChain(leaf.Chain), tc.purpose, id, nil)
			if err != nil || flags != CertificateGenericError {
				t.Fatalf("VerifyChain = %v, %v; want generic-error (crypto/x509 refuses the usage)", flags, err)
			}
		})
	}
}
