package verify

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestVerifyIssuers checks who may issue and which path is chosen: a
// version 1 certificate is a CA only as a trusted root, a version 3 one
// needs basic constraints even as a root; among several paths the one with
// the fewest problems wins, even when a worse issuer is offered first.
func TestVerifyIssuers(t *testing.T) {
	dns := testpki.DNSNames("example.com")
	root := testpki.MustCA(t, "Root")
	v1Root := testpki.MustCA(t, "V1 Root", testpki.Version1())
	v1Inter := root.MustIntermediate(t, "V1 Inter", testpki.Version1())
	noBCRoot := testpki.MustCA(t, "No BC Root", testpki.NoBasicConstraints())
	noBCInter := root.MustIntermediate(t, "No BC Inter", testpki.NoBasicConstraints())

	// The same intermediate (subject and key) certified twice: once in a
	// certificate that has expired, once in a valid one; and once by a
	// root that has expired, once by a valid one, as when a CA moves to a
	// new root and still sends the cross-certificate from the old one.
	inter := root.MustIntermediate(t, "Inter")
	expiredInter, err := root.CrossSign(inter, testpki.Expired())
	if err != nil {
		t.Fatal(err)
	}
	leaf := inter.MustLeaf(t, "leaf", dns)
	oldRoot := testpki.MustCA(t, "Old Root", testpki.Expired())
	newRoot := testpki.MustCA(t, "New Root")
	moved := newRoot.MustIntermediate(t, "Moved")
	movedByOld, err := oldRoot.CrossSign(moved)
	if err != nil {
		t.Fatal(err)
	}
	movedLeaf := moved.MustLeaf(t, "leaf", dns)

	cases := []struct {
		name    string
		chain   []*x509.Certificate
		anchors []*x509.Certificate
		want    Flags
	}{
		{"version 1 root", certs(v1Root.MustLeaf(t, "l", dns).Cert), certs(v1Root.Cert), 0},
		{"version 1 intermediate", v1Inter.MustLeaf(t, "l", dns).Chain, certs(root.Cert), GenericError},
		{"version 3 root without basic constraints", certs(noBCRoot.MustLeaf(t, "l", dns).Cert), certs(noBCRoot.Cert), GenericError},
		{"intermediate without basic constraints", noBCInter.MustLeaf(t, "l", dns).Chain, certs(root.Cert), GenericError},
		{"expired copy offered first", certs(leaf.Cert, expiredInter, inter.Cert), certs(root.Cert), 0},
		{"expired copy offered last", certs(leaf.Cert, inter.Cert, expiredInter), certs(root.Cert), 0},
		{"expired copy alone", certs(leaf.Cert, expiredInter), certs(root.Cert), Expired},
		{"cross-certificate from an expired root first", certs(movedLeaf.Cert, movedByOld, moved.Cert), certs(oldRoot.Cert, newRoot.Cert), 0},
		{"cross-certificate from an expired root alone", certs(movedLeaf.Cert, movedByOld), certs(oldRoot.Cert, newRoot.Cert), Expired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(context.Background(), &Options{
				Chain: tc.chain, Store: NewStore(tc.anchors, nil),
				Identity: Identity{Host: "example.com"}, CheckIdentity: true, Purpose: serverAuth,
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
