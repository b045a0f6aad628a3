package giotls

import (
	"crypto/x509"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestCertificateVerifySecondOpinion: Certificate.Verify with a trusted CA
// is never more lenient than crypto/x509 (SECURITY.md), as the databases
// giotls makes are not. crypto/x509, standing in, refuses a chain our checks
// accept: the verdict must carry a flag; with the real crypto/x509 the same
// chain gets none, and without a trusted CA nothing is asked (GIO never sets
// unknown-ca then, and crypto/x509 needs roots).
func TestCertificateVerifySecondOpinion(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	leaf := root.MustLeaf(t, "server", testpki.DNSNames("a.example"))
	chain, ca := mustChain(t, leaf.Chain...), mustChain(t, root.Cert)
	id := NewNetworkAddress("a.example", 443)
	if f := chain.Verify(id, ca); f != 0 {
		t.Fatalf("with crypto/x509 itself: %v, want none", f)
	}
	asked := 0
	saved := rootsVerify
	rootsVerify = func(l *x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
		asked++
		if opts.DNSName != "a.example" {
			t.Errorf("crypto/x509 asked about %q, want a.example", opts.DNSName)
		}
		return nil, x509.CertificateInvalidError{Cert: l, Reason: x509.NotAuthorizedToSign}
	}
	t.Cleanup(func() { rootsVerify = saved })
	if f := chain.Verify(id, ca); f == 0 || asked == 0 {
		t.Fatalf("crypto/x509 refusing: %v after %d questions, want a flag", f, asked)
	}
	asked = 0
	if f := chain.Verify(id, nil); f != 0 || asked != 0 {
		t.Fatalf("no trusted CA: %v after %d questions, want none and no question", f, asked)
	}
}
