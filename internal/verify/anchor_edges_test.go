package verify

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// Tests for what is asked of an anchor, each written against a mutant that
// scripts/mutate found living (file:line:column in parentheses, as
// gremlins reported it when the test was written).

// TestAnchorExtKeyUsageIgnored: the anchor's extended key usage is its own
// business (as in GnuTLS): a root restricted to code signing still anchors
// a server certificate, while the leaf's own usage is checked
// (verify.go:328:10 i != 0, 328:38 n+1 and -n-1: the anchor checked).
func TestAnchorExtKeyUsageIgnored(t *testing.T) {
	dns := testpki.DNSNames("example.com")
	root := testpki.MustCA(t, "Root", testpki.ExtKeyUsage(x509.ExtKeyUsageCodeSigning))
	cases := []struct {
		name string
		leaf *testpki.Leaf
		want Flags
	}{
		{"serverAuth leaf", root.MustLeaf(t, "leaf", dns, testpki.ExtKeyUsage(x509.ExtKeyUsageServerAuth)), 0},
		{"clientAuth leaf", root.MustLeaf(t, "leaf", dns, testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth)), GenericError},
	}
	for _, tc := range cases {
		res, err := Verify(context.Background(), &Options{
			Chain: tc.leaf.Chain, Store: NewStore(certs(root.Cert), nil),
			Identity: Identity{Host: "example.com"}, CheckIdentity: true, Purpose: serverAuth,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Flags != tc.want {
			t.Errorf("%s: flags = %#x, want %#x", tc.name, res.Flags, tc.want)
		}
	}
}

// TestVersion1AnchorDepth: a version 1 anchor has no basic constraints,
// hence no path length constraint: it may sit above any number of
// intermediates (verify.go:366:18 MaxPathLen >= 0, which read its zero
// MaxPathLen as a constraint of zero).
func TestVersion1AnchorDepth(t *testing.T) {
	v1 := &x509.Certificate{Version: 1}
	for i := 1; i <= 3; i++ {
		if !validIssuer(v1, i, true) {
			t.Errorf("validIssuer(version 1 anchor at index %d) = false", i)
		}
	}
	if validIssuer(v1, 1, false) {
		t.Error("validIssuer(version 1 intermediate) = true")
	}
}

// TestReissuedAnchorSubstitution: a stale reissue of an anchor sent above
// the leaf does not taint the path (the anchor itself is the issuer tried
// first, and the copy is replaced by it); but a leaf is always checked
// itself, even when it stands for an anchor (verify.go:193:16,
// len(path) <= 1 and len(path) >= 1, fail the second case).
func TestReissuedAnchorSubstitution(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	staleRoot := testpki.MustCA(t, "Root", testpki.WithSigner(root.Key), testpki.Expired())
	leaf := root.MustLeaf(t, "leaf")
	cases := []struct {
		name  string
		chain []*x509.Certificate
		want  Flags
	}{
		{"expired reissue of the anchor sent above the leaf", certs(leaf.Cert, staleRoot.Cert), 0},
		{"expired reissue of the anchor sent as the leaf", certs(staleRoot.Cert), Expired},
	}
	for _, tc := range cases {
		res, err := Verify(context.Background(), &Options{Chain: tc.chain, Store: NewStore(certs(root.Cert), nil)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Flags != tc.want || !res.Anchored {
			t.Errorf("%s: flags = %#x, anchored %v; want %#x, anchored", tc.name, res.Flags, res.Anchored, tc.want)
		}
	}
}
