package giotls

import (
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestCertificateVerifyNameConstraints: Certificate.Verify with a trusted
// CA has no second opinion from crypto/x509, so internal/verify's name
// constraints are all that stands between a constrained CA and a name it
// may not sign for. Each chain here is refused by crypto/x509
// (internal/verify's TestNameConstraintsNeverMoreLenient checks that);
// Verify must flag it.
func TestCertificateVerifyNameConstraints(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	cases := []struct {
		name     string
		ca, leaf testpki.Option
	}{
		{"email below excluded host", testpki.EmailConstraints(nil, []string{"example.com"}), testpki.EmailAddresses("a@x.example.com")},
		{"URI with an IP host", testpki.URIConstraints(nil, []string{"bad.com"}), testpki.URIs("https://10.0.0.1/")},
		{"malformed DNS name", testpki.ExcludedDNSDomains("bad.com"), testpki.DNSNames("www.good.com", "a..b")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inter := root.MustIntermediate(t, "Constrained", tc.ca)
			leaf := inter.MustLeaf(t, "leaf", testpki.DNSNames("www.good.com"), tc.leaf)
			got := mustChain(t, leaf.Chain...).Verify(NewNetworkAddress("www.good.com", 443), mustChain(t, root.Cert))
			if got != CertificateGenericError {
				t.Fatalf("Verify = %v, want generic-error", got)
			}
		})
	}
}
