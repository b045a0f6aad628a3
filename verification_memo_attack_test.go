package giotls

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
	"github.com/giotls/giotls/internal/verify"
)

// TestWholeVerdictNeverMoreLenient: whatever a database remembers, each
// question (identity spellings that resolve alike or not, IP against name,
// NetworkService, nil, purposes, the intermediates sent in other orders or
// numbers, a database with CRLs), asked concurrently and repeatedly of one
// database, gets the flags a database asked only once gives (run with
// -race). TestWholeVerdictRemembered checks a few questions one after
// another; this one crosses them, so that a question answered from memory
// for another key is seen.
func TestWholeVerdictNeverMoreLenient(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	leaf := inter.MustLeaf(t, "server", testpki.DNSNames("a.example"), testpki.IPAddresses("127.0.0.1"),
		testpki.ExtKeyUsage(x509.ExtKeyUsageServerAuth))
	other := inter.MustLeaf(t, "other", testpki.DNSNames("b.example"), testpki.ExtKeyUsage(x509.ExtKeyUsageServerAuth))
	crlDER, err := root.CRLDER(leaf.Cert.NotBefore, leaf.Cert.NotAfter, inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	anchors := []*x509.Certificate{root.Cert}
	ids := []Connectable{
		NewNetworkAddress("a.example", 443), NewNetworkAddress("A.Example", 443), NewNetworkAddress("a.example.", 443),
		NewNetworkAddress("b.example", 443), NewNetworkAddress("127.0.0.1", 443), NewNetworkAddress("::1", 443),
		NewInetSocketAddress(netip.MustParseAddrPort("127.0.0.1:443")), NewNetworkService("https", "tcp", "a.example"),
		NewNetworkService("https", "tcp", "b.example"), nil, NewNetworkAddress("", 443),
	}
	// Spellings of serverAuth that are not canonical are refused (purposeOID),
	// never answered from serverAuth's memory.
	purposes := []Purpose{PurposeServer, PurposeClient, "", "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.01", "1.3.6.1.5.5.7.3.1 "}
	chains := [][]*x509.Certificate{
		leaf.Chain, {leaf.Cert}, {leaf.Cert, inter.Cert, inter.Cert}, {leaf.Cert, root.Cert, inter.Cert}, other.Chain,
	}
	type question struct {
		name  string
		crl   bool
		chain []*x509.Certificate
		p     Purpose
		id    Connectable
	}
	var qs []question
	for _, crls := range []bool{false, true} {
		for ci, c := range chains {
			for _, p := range purposes {
				for ii, id := range ids {
					qs = append(qs, question{fmt.Sprintf("crl=%v chain %d purpose %q identity %d", crls, ci, p, ii), crls, c, p, id})
				}
			}
		}
	}
	ctx := context.Background()
	verifyOn := func(db Database, q question) (CertificateFlags, error) {
		return db.VerifyChain(ctx, mustChain(t, q.chain...), q.p, q.id, nil)
	}
	want := make([]CertificateFlags, len(qs))
	wantErr := make([]bool, len(qs))
	for i, q := range qs {
		fresh := NewDatabase(anchors)
		if q.crl {
			fresh = NewDatabase(anchors, crl)
		}
		want[i], err = verifyOn(fresh, q)
		wantErr[i] = err != nil
	}
	plain, revoking := NewDatabase(anchors), NewDatabase(anchors, crl)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 3 {
				for j := range qs {
					i := (j*(g+1) + round*7) % len(qs) // each goroutine its own order
					q, db := qs[i], plain
					if q.crl {
						db = revoking
					}
					f, err := verifyOn(db, q)
					if (err != nil) != wantErr[i] || f != want[i] {
						t.Errorf("%s (round %d): %v, %v; a database asked once: %v", q.name, round, f, err, want[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestWholeVerdictPlatformNotRemembered: with the platform's trust
// (SystemDatabase on macOS and Windows) and a chain our own anchors accept
// too (the system's roots are loaded there as well), the platform's yes is
// not remembered as a whole verdict: once the platform distrusts the root,
// the same question is refused. TestPlatformDistrustHonoured covers chains
// only the platform anchors (ours say unknown-ca); this is the path where
// ours say nothing.
func TestWholeVerdictPlatformNotRemembered(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	leaf := root.MustIntermediate(t, "Inter").MustLeaf(t, "server", testpki.DNSNames("www.example.com"))
	p := &fakePlatform{roots: root.Pool()}
	usePlatform(t, p)
	db := newStoreDatabase([]*x509.Certificate{root.Cert}, nil, "system", true)
	ask := func() CertificateFlags {
		t.Helper()
		f, err := db.VerifyChain(context.Background(), mustChain(t, leaf.Chain...), PurposeServer, NewNetworkAddress("www.example.com", 443), nil)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for i := range 2 {
		if f := ask(); f != 0 {
			t.Fatalf("trusted, verification %d: %v", i+1, f)
		}
	}
	p.mu.Lock()
	p.roots = x509.NewCertPool() // the administrator distrusts the root
	p.mu.Unlock()
	if f := ask(); f == 0 {
		t.Fatal("the platform's earlier yes was remembered after it distrusted the root")
	}
}

// TestWholeVerdictWindowEdges: at and just outside every validity bound of
// the chain's certificates (each different; the root's sent too, with other
// bounds than the anchor's), a remembered whole verdict answers only where
// a fresh verification at that time, internal/verify's and crypto/x509's,
// finds nothing. Both treat NotBefore and NotAfter as inside (RFC 5280,
// section 4.1.2.5), and so must the memory.
func TestWholeVerdictWindowEdges(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	at := func(before, after time.Duration) testpki.Option {
		return testpki.Validity(now.Add(-before), now.Add(after))
	}
	root := testpki.MustCA(t, "Root", at(5*time.Hour, 50*time.Hour))
	inter := root.MustIntermediate(t, "Inter", at(3*time.Hour, 30*time.Hour))
	leaf := inter.MustLeaf(t, "server", testpki.DNSNames("a.example"), at(2*time.Hour, 20*time.Hour))
	// The root again, as a server may send it, valid for less than the anchor.
	sentRoot, err := root.CrossSign(root, at(4*time.Hour, 10*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := identityOf(NewNetworkAddress("a.example", 443))
	oid, err := purposeOID(PurposeServer)
	if err != nil {
		t.Fatal(err)
	}
	for _, chain := range [][]*x509.Certificate{leaf.Chain, append(leaf.Chain, sentRoot)} {
		db := NewDatabase([]*x509.Certificate{root.Cert}).(*storeDatabase)
		if f, err := db.VerifyChain(ctx, mustChain(t, chain...), PurposeServer, NewNetworkAddress("a.example", 443), nil); err != nil || f != 0 {
			t.Fatalf("%d certificates sent: %v, %v", len(chain), f, err)
		}
		answered := 0
		for _, c := range append([]*x509.Certificate{root.Cert}, chain...) {
			for _, when := range []time.Time{c.NotBefore.Add(-time.Nanosecond), c.NotBefore, c.NotAfter, c.NotAfter.Add(time.Nanosecond)} {
				if !db.x509.acceptedWhole(chain, id, PurposeServer, when) {
					continue
				}
				answered++
				res, err := verify.Verify(ctx, &verify.Options{Chain: chain, Store: db.store, Identity: id.Identity,
					CheckIdentity: true, Purpose: oid, Now: when})
				if err != nil || res.Flags != 0 {
					t.Errorf("%d sent, at %v (%s): remembered, but internal/verify finds %v, %v", len(chain), when, c.Subject.CommonName, res.Flags, err)
				}
				refusal, err := newX509Opinion([]*x509.Certificate{root.Cert}, false).check(ctx, chain, id.Identity, PurposeServer, when)
				if err != nil || refusal != nil {
					t.Errorf("%d sent, at %v (%s): remembered, but crypto/x509 refuses: %v, %v", len(chain), when, c.Subject.CommonName, refusal, err)
				}
			}
		}
		if answered == 0 {
			t.Errorf("%d sent: no edge answered from memory; the test checks nothing", len(chain))
		}
	}
}
