package giotls

import (
	"context"
	"crypto/x509"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// memoPKI is the chain the memory tests verify: a leaf for a.example and
// 127.0.0.1, for both purposes, under an intermediate of root.
func memoPKI(t *testing.T) (root, inter *testpki.CA, leaf *testpki.Leaf) {
	root = testpki.MustCA(t, "Root")
	inter = root.MustIntermediate(t, "Inter")
	leaf = inter.MustLeaf(t, "server", testpki.DNSNames("a.example"), testpki.IPAddresses("127.0.0.1"),
		testpki.ExtKeyUsage(x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth))
	return root, inter, leaf
}

// verifyFlags is db's verdict on chain, which must not be an error.
func verifyFlags(t *testing.T, db Database, chain []*x509.Certificate, p Purpose, id Connectable) CertificateFlags {
	t.Helper()
	f, err := db.VerifyChain(context.Background(), mustChain(t, chain...), p, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestX509MemoNotReplayed: crypto/x509's remembered acceptance is used
// only for the chain, identity, purpose, database and time it was given
// for. Here crypto/x509 (standing in) accepts its first question and
// refuses every later one, so a verification that is answered from memory
// gets no flags and one that asks gets a refusal: each variant must ask,
// each spelling of the same identity must not.
func TestX509MemoNotReplayed(t *testing.T) {
	root, inter, leaf := memoPKI(t)
	asked := 0
	saved := rootsVerify
	rootsVerify = func(l *x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
		asked++
		if asked > 1 {
			return nil, errors.New("refused: not the first question")
		}
		return x509Verify(l, opts)
	}
	t.Cleanup(func() { rootsVerify = saved })
	db := NewDatabase([]*x509.Certificate{root.Cert})
	ctx := context.Background()
	verifyChain := func(db Database, chain []*x509.Certificate, p Purpose, id Connectable) CertificateFlags {
		return verifyFlags(t, db, chain, p, id)
	}
	if f := verifyChain(db, leaf.Chain, PurposeServer, NewNetworkAddress("a.example", 443)); f != 0 || asked != 1 {
		t.Fatalf("first verification: %v, %d questions; want none, 1", f, asked)
	}
	for _, id := range []Connectable{NewNetworkAddress("A.Example.", 8443), NewNetworkService("https", "tcp", "a.example")} {
		if f := verifyChain(db, leaf.Chain, PurposeServer, id); f != 0 || asked != 1 {
			t.Fatalf("%v, the same identity: %v, %d questions; want none from memory", id, f, asked)
		}
	}
	variants := []struct {
		name  string
		db    Database
		chain []*x509.Certificate
		p     Purpose
		id    Connectable
	}{
		{"the IP address", db, leaf.Chain, PurposeServer, NewNetworkAddress("127.0.0.1", 443)},
		{"the IPv4-mapped address", db, leaf.Chain, PurposeServer, &InetSocketAddress{AddrPort: netip.MustParseAddrPort("[::ffff:127.0.0.1]:443")}},
		{"another purpose", db, leaf.Chain, PurposeClient, NewNetworkAddress("a.example", 443)},
		{"no purpose", db, leaf.Chain, "", NewNetworkAddress("a.example", 443)},
		{"no identity", db, leaf.Chain, PurposeServer, nil},
		{"the root sent too", db, append(leaf.Chain, root.Cert), PurposeServer, NewNetworkAddress("a.example", 443)},
		{"the intermediate left out, a database holding it", NewDatabase([]*x509.Certificate{root.Cert, inter.Cert}), leaf.Chain[:1], PurposeServer, NewNetworkAddress("a.example", 443)},
		{"another database with the same anchors", NewDatabase([]*x509.Certificate{root.Cert}), leaf.Chain, PurposeServer, NewNetworkAddress("a.example", 443)},
	}
	for _, v := range variants {
		before := asked
		if f := verifyChain(v.db, v.chain, v.p, v.id); f == 0 || asked != before+1 {
			t.Errorf("%s: %v after %d questions; want crypto/x509 asked once and its refusal flagged", v.name, f, asked-before)
		}
	}
	// Outside the validity of the path crypto/x509 built.
	before := asked
	o := db.(*storeDatabase).x509
	id := verifyIdentity(NewNetworkAddress("a.example", 443))
	for _, at := range []time.Time{leaf.Cert.NotBefore.Add(-time.Second), leaf.Cert.NotAfter.Add(time.Second)} {
		if f, err := o.secondOpinion(ctx, 0, leaf.Chain, id, PurposeServer, at); err != nil || f == 0 {
			t.Errorf("at %v: %v, %v; want a refusal", at, f, err)
		}
	}
	if asked != before+2 {
		t.Errorf("outside the validity: %d questions, want 2", asked-before)
	}
}
