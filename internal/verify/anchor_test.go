package verify

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestVerifyAnchorMatch checks what stands for a trust anchor: the same
// certificate, or one with its subject and key whose signature that key
// made (a reissued root). A certificate that copies an anchor's subject,
// or its subject and key, but was signed by someone else is not the anchor.
func TestVerifyAnchorMatch(t *testing.T) {
	dns := testpki.DNSNames("example.com")
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	leaf := inter.MustLeaf(t, "leaf", dns)
	reissued := testpki.MustCA(t, "Root", testpki.WithSigner(root.Key))
	attacker := testpki.MustCA(t, "Attacker")
	// The anchor's subject and public key, the attacker's signature.
	copycatLeaf := attacker.MustLeaf(t, "Root", dns, testpki.WithSigner(root.Key))
	// A self-signed certificate with the anchor's name and another key,
	// sent in the chain above a leaf it issued.
	impostor := testpki.MustCA(t, "Root")
	impostorLeaf := impostor.MustLeaf(t, "leaf", dns)
	// A cross-certificate for the anchor's subject and key, issued by the
	// attacker: sent alone, it stands for the anchor only if its issuer does.
	selfClaim, err := attacker.CrossSign(root)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		chain   []*x509.Certificate
		anchors []*x509.Certificate
		want    Flags
	}{
		{"same DER", certs(leaf.Cert, inter.Cert, root.Cert), certs(root.Cert), 0},
		{"reissued root sent", certs(leaf.Cert, inter.Cert, root.Cert), certs(reissued.Cert), 0},
		{"copycat leaf", certs(copycatLeaf.Cert), certs(root.Cert), UnknownCA},
		{"impostor root sent", certs(impostorLeaf.Cert, impostor.Cert), certs(root.Cert), UnknownCA},
		{"impostor root sent first", certs(impostorLeaf.Cert, impostor.Cert, inter.Cert), certs(root.Cert), UnknownCA},
		{"cross-signed copy as leaf", certs(selfClaim), certs(root.Cert), UnknownCA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(context.Background(), &Options{
				Chain: tc.chain, Store: NewStore(tc.anchors, nil),
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Flags != tc.want {
				t.Errorf("flags = %#x, want %#x (path of %d, anchored %v)", res.Flags, tc.want, len(res.Path), res.Anchored)
			}
		})
	}
}
