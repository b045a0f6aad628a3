package giotls

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// costlyIssuers returns a leaf signed by root, re-signed with a signature as
// long as an 8192-bit modulus, and certificates (about 250 KB of them, what
// one Certificate message holds) named as its issuer, each with an
// 8192-bit RSA key and the largest public exponent crypto/rsa accepts:
// every one costs a full, slow signature check, and none is the issuer.
func costlyIssuers(t *testing.T, root *testpki.CA) []*x509.Certificate {
	t.Helper()
	const bits = 8192
	leaf := root.MustLeaf(t, "server", testpki.DNSNames("a.example"))
	var outer struct {
		TBS asn1.RawValue
		Alg pkix.AlgorithmIdentifier
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(leaf.Cert.Raw, &outer); err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, bits/8)
	rand.Read(sig)
	sig[0] = 1
	outer.Sig = asn1.BitString{Bytes: sig, BitLength: bits}
	der, err := asn1.Marshal(outer)
	if err != nil {
		t.Fatal(err)
	}
	l, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), bits-1))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, bits-1, 1).SetBit(n, 0, 1) // odd, of exactly bits bits
	pub := &rsa.PublicKey{N: n, E: 1<<31 - 1}
	chain := []*x509.Certificate{l}
	for size, i := 0, 0; size < 250_000; i++ {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), RawSubject: l.RawIssuer,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, root.Cert, pub, root.Key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
		size += len(der)
	}
	return chain
}

// TestOCSPIssuerSearchBounded: with a stapled response, the leaf's issuer
// is looked for among what the server sent, by signature. A hostile server
// sends a Certificate message full of costly look-alike issuers (and any
// staple): the search checks no more certificates than path building
// considers, and ends with the handshake's context.
func TestOCSPIssuerSearchBounded(t *testing.T) {
	root := testpki.MustCA(t, "Root", testpki.Key(testpki.RSA2048))
	chain := costlyIssuers(t, root)
	peer := certificateFromChain(chain)
	cs := tls.ConnectionState{OCSPResponse: []byte{0x30, 0x00}}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if f := staplingFlags(ctx, cs, peer, nil, nil); f != 0 {
		t.Errorf("flags %v for a staple that cannot be trusted", f)
	}
	if elapsed := time.Since(start); elapsed > 400*time.Millisecond {
		t.Errorf("%d look-alike issuers: the search took %v past a 100 ms context", len(chain)-1, elapsed)
	}

	// Without a deadline, the search stops at the certificates path
	// building considers (64): the real issuer sent after 64 look-alikes
	// is not reached, one sent after 63 is.
	leaf := root.MustLeaf(t, "server", testpki.DNSNames("a.example"))
	stranger := testpki.MustCA(t, "Root") // the same name, another key
	var lookalikes []*x509.Certificate
	for range 64 {
		lookalikes = append(lookalikes, stranger.Cert)
	}
	for _, tc := range []struct {
		before int
		found  bool
	}{{63, true}, {64, false}} {
		sent := append(append([]*x509.Certificate{leaf.Cert}, lookalikes[:tc.before]...), root.Cert)
		if got := leafIssuer(context.Background(), certificateFromChain(sent), nil, nil); (got != nil) != tc.found {
			t.Errorf("the issuer sent after %d look-alikes: found %v, want %v", tc.before, got != nil, tc.found)
		}
	}
}
