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

// TestPlatformTrustKeepsPurpose: when our checks found problems besides
// unknown-ca (here an expired leaf), the platform is asked about trust
// alone, and a yes takes unknown-ca away. The platform may build its path
// through an intermediate the server did not send and that we never saw;
// one that does not allow serverAuth must not be trusted for it, or a user
// who accepts "expired" would accept a chain no verifier allows for a
// server.
func TestPlatformTrustKeepsPurpose(t *testing.T) {
	long := testpki.Validity(time.Now().Add(-30*24*time.Hour), time.Now().Add(30*24*time.Hour))
	root := testpki.MustCA(t, "Platform Root", long)
	clientOnly := root.MustIntermediate(t, "Client-only Inter", long, testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))
	leaf := clientOnly.MustLeaf(t, "server", testpki.DNSNames("www.example.com"), testpki.Expired())
	saved := platformVerify
	platformVerify = func(l *x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
		// The platform holds the intermediate itself (a keychain, AIA).
		held := x509.NewCertPool()
		held.AddCert(clientOnly.Cert)
		opts.Roots, opts.Intermediates = root.Pool(), held
		return l.Verify(opts)
	}
	t.Cleanup(func() { platformVerify = saved })
	db := newStoreDatabase(nil, nil, "system", true)
	got, err := db.VerifyChain(context.Background(), mustChain(t, leaf.Cert), PurposeServer, NewNetworkAddress("www.example.com", 443), nil)
	if err != nil || got&^CertificateExpired == 0 {
		t.Fatalf("VerifyChain = %v, %v; want more than expired: the platform's path does not allow serverAuth", got, err)
	}
}
