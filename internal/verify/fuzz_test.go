package verify

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The fixed PKI in testdata/chain (valid 2020 to 2120; see README there):
// root.der issues intermediate.der (name constraints: localhost and
// example.com; path length 0), which issues leaf.der (localhost,
// www.example.com, 127.0.0.1). other-intermediate.der has the
// intermediate's name under another root: a decoy for path building.
var fuzzNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func readChainFile(tb testing.TB, name string) []byte {
	tb.Helper()
	der, err := os.ReadFile(filepath.Join("testdata", "chain", name))
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// FuzzVerifyChain verifies mutated chains: the leaf, the intermediate and
// a third certificate as the fuzzer changes them, sent in an order (and
// with duplicates) that order chooses. Verification must end quickly, and
// must never report no problem at all unless the chain is still good: then
// crypto/x509 must verify it too, with the same root, time, name and
// purpose.
func FuzzVerifyChain(f *testing.F) {
	root, err := x509.ParseCertificate(readChainFile(f, "root.der"))
	if err != nil {
		f.Fatal(err)
	}
	store := NewStore([]*x509.Certificate{root}, nil)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	leaf, inter, other := readChainFile(f, "leaf.der"), readChainFile(f, "intermediate.der"), readChainFile(f, "other-intermediate.der")
	for order := range uint8(8) {
		f.Add(leaf, inter, other, order)
	}
	f.Add(leaf, other, inter, uint8(1))
	f.Add(leaf, inter, root.Raw, uint8(3))
	serverAuth := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	f.Fuzz(func(t *testing.T, leafDER, interDER, extraDER []byte, order uint8) {
		l, err := x509.ParseCertificate(leafDER)
		if err != nil {
			return
		}
		var sent []*x509.Certificate
		for _, der := range chainOrder(interDER, extraDER, order) {
			if c, err := x509.ParseCertificate(der); err == nil {
				sent = append(sent, c)
			}
		}
		opts := &Options{
			Chain:         append([]*x509.Certificate{l}, sent...),
			Store:         store,
			Identity:      Identity{Host: "localhost"},
			CheckIdentity: true,
			Purpose:       serverAuth,
			Now:           fuzzNow,
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		res, err := Verify(ctx, opts)
		if elapsed := time.Since(start); err != nil || elapsed > 5*time.Second {
			t.Fatalf("Verify took %v: %v", elapsed, err)
		}
		if res.Flags != 0 {
			return
		}
		inter := x509.NewCertPool()
		for _, c := range sent {
			inter.AddCert(c)
		}
		if _, err := l.Verify(x509.VerifyOptions{
			DNSName: "localhost", Roots: roots, Intermediates: inter, CurrentTime: fuzzNow,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}); err != nil {
			t.Fatalf("no flags for a chain crypto/x509 refuses (%v); path %d certificates", err, len(res.Path))
		}
	})
}

// chainOrder returns what is sent after the leaf: bit 0 of order puts a
// before b, bit 1 drops b, bit 2 sends a twice.
func chainOrder(a, b []byte, order uint8) [][]byte {
	out := [][]byte{a, b}
	if order&1 != 0 {
		out = [][]byte{b, a}
	}
	if order&2 != 0 {
		out = [][]byte{a}
	}
	if order&4 != 0 {
		out = append(out, a)
	}
	return out
}

// TestFuzzChainValid checks the fixed PKI the fuzz target starts from: the
// chain verifies with no flags, and the decoy alone does not anchor.
func TestFuzzChainValid(t *testing.T) {
	parse := func(name string) *x509.Certificate {
		c, err := x509.ParseCertificate(readChainFile(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	root, inter, leaf, other := parse("root.der"), parse("intermediate.der"), parse("leaf.der"), parse("other-intermediate.der")
	store := NewStore([]*x509.Certificate{root}, nil)
	verify := func(chain ...*x509.Certificate) Flags {
		res, err := Verify(context.Background(), &Options{Chain: chain, Store: store, Identity: Identity{Host: "localhost"},
			CheckIdentity: true, Purpose: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}, Now: fuzzNow})
		if err != nil {
			t.Fatal(err)
		}
		return res.Flags
	}
	if f := verify(leaf, other, inter); f != 0 {
		t.Errorf("leaf, decoy, intermediate: %v, want none", f)
	}
	if f := verify(leaf, other); f != UnknownCA {
		t.Errorf("leaf and decoy: %v, want unknown-ca", f)
	}
}
