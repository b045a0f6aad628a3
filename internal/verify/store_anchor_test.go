package verify

import (
	"crypto/x509"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestAnchorNotSelfSigned: an anchor that is not self-signed (an
// intermediate the user chose to trust) stands for itself by its DER alone;
// its signature was made by a key the store does not hold
// (store.go:84:36 a == nil, which sent it to the subject-and-signature
// match, where it fails).
func TestAnchorNotSelfSigned(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	s := NewStore(certs(inter.Cert), nil)
	if got := s.Anchor(inter.Cert); got != inter.Cert {
		t.Errorf("Anchor(the trusted intermediate) = %v, want itself", subjectOf(got))
	}
	if got := s.Anchor(root.Cert); got != nil {
		t.Errorf("Anchor(its untrusted issuer) = %v, want nil", subjectOf(got))
	}
}

func subjectOf(c *x509.Certificate) string {
	if c == nil {
		return "nil"
	}
	return c.Subject.String()
}
