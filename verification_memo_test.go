package giotls

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/verify"
)

// TestWholeVerdictRemembered: a database that found nothing wrong with a
// chain (its own checks and crypto/x509's) answers the same question from
// memory, so that a resumed handshake, verified again every time, costs a
// lookup; any other question (identity, purpose, what was sent, database,
// time outside every certificate's validity) is verified afresh, and a
// refusal, ours or crypto/x509's, is never remembered.
func TestWholeVerdictRemembered(t *testing.T) {
	root, _, leaf := memoPKI(t)
	verified := 0
	saved := storeVerify
	storeVerify = func(ctx context.Context, opts *verify.Options) (verify.Result, error) {
		verified++
		return verify.Verify(ctx, opts)
	}
	t.Cleanup(func() { storeVerify = saved })
	check := func(db Database, chain []*x509.Certificate, p Purpose, id Connectable) CertificateFlags {
		return verifyFlags(t, db, chain, p, id)
	}
	db := NewDatabase([]*x509.Certificate{root.Cert})
	a := NewNetworkAddress("a.example", 443)
	for i := range 3 {
		if f := check(db, leaf.Chain, PurposeServer, a); f != 0 || verified != 1 {
			t.Fatalf("verification %d: %v, %d verified; want none, once", i+1, f, verified)
		}
	}
	variants := []struct {
		name  string
		db    Database
		chain []*x509.Certificate
		p     Purpose
		id    Connectable
		flags bool
	}{
		{"another name", db, leaf.Chain, PurposeServer, NewNetworkAddress("b.example", 443), true},
		{"the IP address", db, leaf.Chain, PurposeServer, NewNetworkAddress("127.0.0.1", 443), false},
		{"another purpose", db, leaf.Chain, PurposeClient, a, false},
		{"no identity", db, leaf.Chain, PurposeServer, nil, false},
		{"the root sent too", db, append(leaf.Chain, root.Cert), PurposeServer, a, false},
		{"another database", NewDatabase([]*x509.Certificate{root.Cert}), leaf.Chain, PurposeServer, a, false},
	}
	for _, v := range variants {
		before := verified
		f := check(v.db, v.chain, v.p, v.id)
		if verified != before+1 || (f != 0) != v.flags {
			t.Errorf("%s: %v, verified %d times; want verified afresh, flags %v", v.name, f, verified-before, v.flags)
		}
	}
	// A refusal is asked again: ours (another name, above, twice) and
	// crypto/x509's.
	before := verified
	check(db, leaf.Chain, PurposeServer, NewNetworkAddress("b.example", 443))
	if verified != before+1 {
		t.Errorf("our refusal was remembered")
	}
	savedRoots := rootsVerify
	rootsVerify = func(*x509.Certificate, x509.VerifyOptions) ([][]*x509.Certificate, error) {
		return nil, errors.New("refused")
	}
	t.Cleanup(func() { rootsVerify = savedRoots })
	refusing := NewDatabase([]*x509.Certificate{root.Cert})
	for i := range 2 {
		before := verified
		if f := check(refusing, leaf.Chain, PurposeServer, a); f == 0 || verified != before+1 {
			t.Errorf("crypto/x509 refusing, verification %d: %v, verified %d times; want a flag, verified afresh", i+1, f, verified-before)
		}
	}
	// Only while every certificate of the path is valid.
	o := db.(*storeDatabase).x509
	id := identityOf(a)
	if !o.acceptedWhole(leaf.Chain, id, PurposeServer, time.Now()) {
		t.Fatal("the acceptance is not remembered now")
	}
	for _, c := range leaf.Chain {
		for _, at := range []time.Time{c.NotBefore.Add(-time.Second), c.NotAfter.Add(time.Second)} {
			if o.acceptedWhole(leaf.Chain, id, PurposeServer, at) {
				t.Errorf("remembered at %v, outside %s's validity", at, c.Subject)
			}
		}
	}
}
