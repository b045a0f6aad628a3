package giotls

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// policyConstraints returns a critical policyConstraints extension with
// requireExplicitPolicy = skip, under 128 (RFC 5280, section 4.2.1.11):
// SEQUENCE { [0] IMPLICIT INTEGER skip }, written out since encoding/asn1
// drops an optional zero.
func policyConstraints(skip byte) pkix.Extension {
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Critical: true, Value: []byte{0x30, 0x03, 0x80, 0x01, skip}}
}

// impostorOf returns a certificate with anchor's subject and public key,
// valid for dnsName, but signed by another key: it claims to be the anchor
// without being it.
func impostorOf(t testing.TB, anchor *testpki.CA, dnsName string) tls.Certificate {
	t.Helper()
	stranger := testpki.MustCA(t, "Stranger")
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242),
		RawSubject:   anchor.Cert.RawSubject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{dnsName},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	// The issuer named is the anchor itself, with its key identifier; the
	// signature is the stranger's.
	parent := &x509.Certificate{RawSubject: anchor.Cert.RawSubject, SubjectKeyId: anchor.Cert.SubjectKeyId}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, anchor.Key.Public(), stranger.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: anchor.Key}
}

// TestSecondOpinionHandshake: chains that internal/verify let through with
// no flags (issue 12, points 1 to 3) but crypto/x509 refuses are flagged in
// real handshakes, through each database constructor; a good chain through
// the same databases still gets none.
func TestSecondOpinionHandshake(t *testing.T) {
	root := testpki.MustCA(t, "Second Opinion Root")
	excluding := root.MustIntermediate(t, "Excludes secret", testpki.ExcludedDNSDomains("secret.example.com"))
	excludingDeep := root.MustIntermediate(t, "Excludes b.a", testpki.ExcludedDNSDomains("b.a.example.com"))
	explicit := root.MustIntermediate(t, "Requires explicit policy", testpki.Extension(policyConstraints(0)))
	inter := root.MustIntermediate(t, "Plain")

	tlsCert := func(l *testpki.Leaf) tls.Certificate { return l.TLSCertificate() }
	host := func(name string) func(uint16) Connectable {
		return func(p uint16) Connectable { return NewNetworkAddress(name, p) }
	}
	cases := []struct {
		name     string
		cert     tls.Certificate
		identity func(uint16) Connectable
		want     CertificateFlags
	}{
		{"good", tlsCert(inter.MustLeaf(t, "good", testpki.DNSNames("www.example.com"))), host("www.example.com"), 0},
		// 1: RFC 5280, section 4.2.1.10: a wildcard under an excluded
		// subtree stands for names in it.
		{"wildcard under excluded subtree", tlsCert(excluding.MustLeaf(t, "wild", testpki.DNSNames("*.example.com"))),
			host("secret.example.com"), CertificateGenericError},
		{"deeper wildcard under excluded subtree", tlsCert(excludingDeep.MustLeaf(t, "wild", testpki.DNSNames("*.a.example.com"))),
			host("b.a.example.com"), CertificateGenericError},
		// 2: RFC 5280, section 6.1.5: requireExplicitPolicy=0 with a leaf
		// asserting no policy leaves an empty valid policy tree.
		{"requireExplicitPolicy without policies", tlsCert(explicit.MustLeaf(t, "policy", testpki.DNSNames("www.example.com"))),
			host("www.example.com"), CertificateGenericError},
		// 3: the anchor's subject and key do not make a certificate the
		// anchor: its signature is not the anchor's.
		{"anchor impostor", impostorOf(t, root, "www.example.com"), host("www.example.com"), CertificateUnknownCA},
	}

	path := writeTemp(t, "anchors.pem", root.CertPEM())
	fileDB, err := NewFileDatabase(path)
	if err != nil {
		t.Fatal(err)
	}
	pemDB, err := NewDatabaseFromPEM(root.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	dbs := []struct {
		name string
		db   Database
	}{
		{"NewFileDatabase", fileDB},
		{"NewDatabase", NewDatabase([]*x509.Certificate{root.Cert})},
		{"NewDatabaseFromPEM", pemDB},
	}
	for _, tc := range cases {
		srv := startTLSServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{tc.cert}}, nil)
		for _, d := range dbs {
			t.Run(tc.name+"/"+d.name, func(t *testing.T) {
				c := dialTest(t, srv.Addr.String(), dialConfig{Identity: tc.identity(srv.Addr.Port())})
				c.SetDatabase(d.db)
				err := c.Handshake(context.Background())
				if got := c.PeerCertificateErrors(); got != tc.want {
					t.Fatalf("flags = %v, want %v (handshake: %v)", got, tc.want, err)
				}
				if tc.want == 0 && err != nil {
					t.Fatalf("good chain: %v", err)
				}
				if tc.want != 0 && !errors.Is(err, ErrBadCertificate) {
					t.Fatalf("handshake: %v, want ErrBadCertificate", err)
				}
			})
		}
	}
}

// BenchmarkSecondOpinion measures what crypto/x509's second opinion adds to
// a verification it remembers (every handshake with a server seen before):
// the chain, the identity and the time read again, and the lookup.
func BenchmarkSecondOpinion(b *testing.B) {
	root := testpki.MustCA(b, "Root")
	leaf := root.MustIntermediate(b, "Inter").MustLeaf(b, "l", testpki.DNSNames("a.test"))
	db := NewDatabase([]*x509.Certificate{root.Cert}).(*storeDatabase)
	chain := mustChain(b, leaf.Chain...)
	id := NewNetworkAddress("a.test", 443)
	ctx := context.Background()
	for b.Loop() {
		if f, err := db.x509.secondOpinion(ctx, 0, chain.chain(), verifyIdentity(id), PurposeServer, time.Now()); f != 0 || err != nil {
			b.Fatal(f, err)
		}
	}
}
