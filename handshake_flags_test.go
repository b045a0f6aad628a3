package giotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/netip"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestHandshakeCertificateFlags runs real handshakes against servers that
// present problem chains, and checks for each: the exact flags, the
// rejection without a handler (ErrBadCertificate, peer set), and the
// acceptance by a handler that is shown exactly those flags.
func TestHandshakeCertificateFlags(t *testing.T) {
	dns := testpki.DNSNames("localhost")
	root := testpki.MustCA(t, "Flags Root")
	inter := root.MustIntermediate(t, "Flags Inter")
	other := testpki.MustCA(t, "Flags Stranger")
	rsaRoot := testpki.MustCA(t, "Flags RSA Root", testpki.Key(testpki.RSA2048))
	sha1Inter := rsaRoot.MustIntermediate(t, "SHA-1 Inter", testpki.SignatureAlgorithm(x509.SHA1WithRSA))
	notCA := root.MustIntermediate(t, "Not a CA", testpki.IsCA(false))
	constrained := root.MustIntermediate(t, "Constrained", testpki.PermittedDNSDomains("good.test"))
	expiredInter := root.MustIntermediate(t, "Expired Inter", testpki.Expired())
	lonely := root.MustIntermediate(t, "Lonely Inter") // in the database, never sent
	i1 := root.MustIntermediate(t, "I1")
	i2 := i1.MustIntermediate(t, "I2")
	revoked := inter.MustLeaf(t, "revoked", dns)
	crl, err := inter.CRL(revoked.Cert)
	if err != nil {
		t.Fatal(err)
	}
	db, err := NewDatabaseFromPEM(append(testpki.EncodeCertificates(root.Cert, rsaRoot.Cert, lonely.Cert), crl...))
	if err != nil {
		t.Fatal(err)
	}
	good := inter.MustLeaf(t, "localhost", dns)
	deep := i2.MustLeaf(t, "deep", dns)
	// sent builds what the server sends: a leaf's key with any chain.
	sent := func(l *testpki.Leaf, chain ...*x509.Certificate) tls.Certificate {
		if chain == nil {
			chain = l.Chain
		}
		tc := tls.Certificate{PrivateKey: l.Key}
		for _, c := range chain {
			tc.Certificate = append(tc.Certificate, c.Raw)
		}
		return tc
	}
	leafOf := func(ca *testpki.CA, opts ...testpki.Option) tls.Certificate {
		return sent(ca.MustLeaf(t, "server", opts...))
	}
	local := func(port uint16) Connectable { return NewNetworkAddress("localhost", port) }
	cases := []struct {
		name     string
		cert     tls.Certificate
		identity func(port uint16) Connectable
		want     CertificateFlags
	}{
		{"good", sent(good), local, 0},
		{"bad identity", sent(good), func(p uint16) Connectable { return NewNetworkAddress("other.example", p) }, CertificateBadIdentity},
		{"no identity", sent(good), func(uint16) Connectable { return nil }, CertificateBadIdentity},
		{"unknown CA", leafOf(other, dns), local, CertificateUnknownCA},
		{"not activated", leafOf(inter, dns, testpki.NotYetValid()), local, CertificateNotActivated},
		{"expired", leafOf(inter, dns, testpki.Expired()), local, CertificateExpired},
		{"expired, wrong host, unknown CA", leafOf(other, testpki.DNSNames("elsewhere.example"), testpki.Expired()), local,
			CertificateUnknownCA | CertificateBadIdentity | CertificateExpired},
		{"unordered chain", sent(deep, deep.Cert, i1.Cert, i2.Cert), local, 0},
		{"redundant root", sent(good, good.Cert, inter.Cert, root.Cert), local, 0},
		{"missing intermediate the database has", leafOf(lonely, dns), local, 0},
		{"missing intermediate", sent(good, good.Cert), local, CertificateUnknownCA},
		{"expired intermediate", leafOf(expiredInter, dns), local, CertificateExpired},
		{"SHA-1 intermediate", leafOf(sha1Inter, dns), local, CertificateInsecure},
		{"RSA-1024 leaf", leafOf(inter, dns, testpki.Key(testpki.RSA1024)), local, CertificateInsecure},
		{"revoked by a CRL", sent(revoked), local, CertificateRevoked},
		{"clientAuth-only leaf", leafOf(inter, dns, testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth)), local, CertificateGenericError},
		{"not-a-CA issuer", leafOf(notCA, dns), local, CertificateGenericError},
		{"name constraints violated", leafOf(constrained, dns), local, CertificateGenericError},
		{"unhandled critical extension", leafOf(inter, dns, testpki.UnhandledCriticalExtension()), local, CertificateGenericError},
		{"IP identity, IP SAN", leafOf(inter, testpki.IPAddresses("127.0.0.1")),
			func(p uint16) Connectable {
				return NewInetSocketAddress(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p))
			}, 0},
		{"trailing dot", sent(good), func(p uint16) Connectable { return NewNetworkAddress("localhost.", p) }, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startTLSServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{tc.cert}}, nil)
			id := tc.identity(srv.Addr.Port())

			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: id})
			c.SetDatabase(db)
			err := c.Handshake(context.Background())
			if got := c.PeerCertificateErrors(); got != tc.want {
				t.Fatalf("flags = %v, want %v (handshake: %v)", got, tc.want, err)
			}
			if tc.want == 0 {
				if err != nil {
					t.Fatalf("good chain: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadCertificate) || c.PeerCertificate() == nil {
				t.Fatalf("without a handler: %v, peer %v; want ErrBadCertificate with the peer set", err, c.PeerCertificate())
			}

			c = dialTest(t, srv.Addr.String(), dialConfig{Identity: id})
			c.SetDatabase(db)
			var shown CertificateFlags
			c.OnAcceptCertificate(func(_ *Certificate, f CertificateFlags) bool { shown = f; return true })
			if err := c.Handshake(context.Background()); err != nil {
				t.Fatalf("accepted by the handler: %v", err)
			}
			if shown != tc.want {
				t.Errorf("handler shown %v, want %v", shown, tc.want)
			}
		})
	}
}
