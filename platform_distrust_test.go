package giotls

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// TestPlatformDistrustHonoured: the platform's trust (macOS keychains,
// Windows' CryptoAPI and its disallowed store) changes while a process runs,
// and crypto/x509 asks the platform afresh on every Verify. A root the
// platform stops trusting must stop anchoring chains at once, also chains
// the platform accepted before: the platform's verdicts are not remembered.
func TestPlatformDistrustHonoured(t *testing.T) {
	long := testpki.Validity(time.Now().Add(-30*24*time.Hour), time.Now().Add(30*24*time.Hour))
	root := testpki.MustCA(t, "Soon Distrusted Root", long)
	inter := root.MustIntermediate(t, "Inter", long)
	dns := testpki.DNSNames("www.example.com")
	cases := []struct {
		name              string
		chain             []*x509.Certificate
		trusted, distrust CertificateFlags
	}{
		// Ours are unknown-ca only: the platform is asked with the identity.
		{"good chain", inter.MustLeaf(t, "server", dns).Chain, 0, CertificateUnknownCA},
		// Ours include expired: the platform is asked about trust alone.
		{"expired leaf", inter.MustLeaf(t, "server", dns, testpki.Expired()).Chain,
			CertificateExpired, CertificateUnknownCA | CertificateExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakePlatform{roots: root.Pool()}
			usePlatform(t, p)
			db := newStoreDatabase(nil, nil, "system", true)
			verifyTwice := func(want CertificateFlags, when string) {
				for i := range 2 {
					got, err := db.VerifyChain(context.Background(), mustChain(t, tc.chain...), PurposeServer,
						NewNetworkAddress("www.example.com", 443), nil)
					if err != nil || got != want {
						t.Fatalf("%s, verification %d: %v, %v; want %v", when, i+1, got, err, want)
					}
				}
			}
			verifyTwice(tc.trusted, "while the platform trusts the root")
			p.mu.Lock()
			p.roots = x509.NewCertPool() // the administrator distrusts the root
			p.mu.Unlock()
			verifyTwice(tc.distrust, "after the platform stopped trusting the root")
		})
	}
}
