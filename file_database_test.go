package giotls

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustChain(t testing.TB, certs ...*x509.Certificate) *Certificate {
	t.Helper()
	c, err := NewCertificateFromX509(certs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFileDatabaseVerifyChain checks the exact flags VerifyChain gives,
// through the public API, for the cases of issue 2 and GIO's
// tests/file-database.c.
func TestFileDatabaseVerifyChain(t *testing.T) {
	dns := testpki.DNSNames("server.example.com")
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	other := testpki.MustCA(t, "Other")
	rsaRoot := testpki.MustCA(t, "RSA Root", testpki.Key(testpki.RSA2048))
	sha1Inter := rsaRoot.MustIntermediate(t, "SHA-1 Inter", testpki.SignatureAlgorithm(x509.SHA1WithRSA))
	notCA := root.MustIntermediate(t, "Not a CA", testpki.IsCA(false))
	constrained := root.MustIntermediate(t, "Constrained", testpki.PermittedDNSDomains("good.test"))
	expiredInter := root.MustIntermediate(t, "Expired Inter", testpki.Expired())
	i1 := root.MustIntermediate(t, "I1")
	i2 := i1.MustIntermediate(t, "I2")
	x, y := testpki.MustCA(t, "X"), testpki.MustCA(t, "Y")
	xByY, err := y.CrossSign(x)
	if err != nil {
		t.Fatal(err)
	}
	yByX, err := x.CrossSign(y)
	if err != nil {
		t.Fatal(err)
	}

	leaf := inter.MustLeaf(t, "server", dns)
	revoked := inter.MustLeaf(t, "server", dns)
	deep := i2.MustLeaf(t, "server", dns)
	crl, err := inter.CRL(revoked.Cert)
	if err != nil {
		t.Fatal(err)
	}
	// The anchors file: the root, the other CAs' roots, Y, an intermediate
	// the peers below forget to send, and a CRL.
	lonelyInter := root.MustIntermediate(t, "Lonely Inter")
	anchors := cat(testpki.EncodeCertificates(root.Cert, rsaRoot.Cert, y.Cert, lonelyInter.Cert), crl)
	db, err := NewFileDatabase(writeTemp(t, "anchors.pem", anchors))
	if err != nil {
		t.Fatal(err)
	}
	host := NewNetworkAddress("server.example.com", 443)
	ipHost := NewInetSocketAddress(netip.MustParseAddrPort("[::1]:443"))
	leafOf := func(ca *testpki.CA, opts ...testpki.Option) *Certificate {
		return mustChain(t, ca.MustLeaf(t, "server", opts...).Chain...)
	}

	cases := []struct {
		name     string
		chain    *Certificate
		identity Connectable
		want     CertificateFlags
	}{
		{"good", mustChain(t, leaf.Chain...), host, 0},
		{"bad identity", mustChain(t, leaf.Chain...), NewNetworkAddress("other.example.com", 443), CertificateBadIdentity},
		// GIO's contract: a nil identity is not checked (the connection adds bad-identity).
		{"no identity", mustChain(t, leaf.Chain...), nil, 0},
		{"unknown CA", leafOf(other, dns), host, CertificateUnknownCA},
		{"not activated", leafOf(inter, dns, testpki.NotYetValid()), host, CertificateNotActivated},
		{"expired", leafOf(inter, dns, testpki.Expired()), host, CertificateExpired},
		{"combo", leafOf(other, dns, testpki.Expired()), NewNetworkAddress("wrong.example.com", 443),
			CertificateUnknownCA | CertificateBadIdentity | CertificateExpired},
		{"unknown CA without identity", leafOf(other, dns), nil, CertificateUnknownCA},
		{"typed nil identity", mustChain(t, leaf.Chain...), (*NetworkAddress)(nil), 0},
		{"redundant root", mustChain(t, leaf.Cert, inter.Cert, root.Cert), host, 0},
		{"duplicated leaf", mustChain(t, leaf.Cert, leaf.Cert, inter.Cert), host, 0},
		{"unordered", mustChain(t, deep.Cert, i1.Cert, i2.Cert), host, 0},
		{"missing intermediate in database", leafOf(lonelyInter, dns), host, 0},
		{"missing intermediate", mustChain(t, leaf.Cert), host, CertificateUnknownCA},
		{"expired intermediate", leafOf(expiredInter, dns), host, CertificateExpired},
		{"SHA-1 intermediate", leafOf(sha1Inter, dns), host, CertificateInsecure},
		{"RSA-1024 leaf", leafOf(inter, dns, testpki.Key(testpki.RSA1024)), host, CertificateInsecure},
		{"revoked", mustChain(t, revoked.Chain...), host, CertificateRevoked},
		{"clientAuth-only leaf", leafOf(inter, dns, testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth)), host, CertificateGenericError},
		{"not-a-CA issuer", leafOf(notCA, dns), host, CertificateGenericError},
		{"name constraints violated", leafOf(constrained, testpki.DNSNames("evil.test")), NewNetworkAddress("evil.test", 443), CertificateGenericError},
		{"unhandled critical extension", leafOf(inter, dns, testpki.UnhandledCriticalExtension()), host, CertificateGenericError},
		{"cyclic chain", mustChain(t, x.MustLeaf(t, "server", dns).Cert, xByY, yByX), host, 0},
		{"cyclic chain, untrusted", mustChain(t, other.MustLeaf(t, "s", dns).Cert, xByY, yByX), host, CertificateUnknownCA},
		{"IP identity, IP SAN", leafOf(inter, testpki.IPAddresses("::1")), ipHost, 0},
		{"IP literal hostname, IP SAN", leafOf(inter, testpki.IPAddresses("::1")), NewNetworkAddress("::1", 443), 0},
		{"IP identity, DNS-only certificate", leafOf(inter, testpki.DNSNames("localhost", "::1")), ipHost, CertificateBadIdentity},
		{"trailing dot", mustChain(t, leaf.Chain...), NewNetworkAddress("server.example.com.", 443), 0},
		{"upper case identity", mustChain(t, leaf.Chain...), NewNetworkAddress("SERVER.Example.COM", 443), 0},
		{"service identity", mustChain(t, leaf.Chain...), NewNetworkService("https", "tcp", "server.example.com"), 0},
		{"IDN identity", leafOf(inter, testpki.DNSNames("xn--bcher-kva.example")), NewNetworkAddress("bücher.example", 443), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.VerifyChain(context.Background(), tc.chain, PurposeServer, tc.identity, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("flags = %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("client purpose", func(t *testing.T) {
		c := leafOf(inter, dns, testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))
		if got, err := db.VerifyChain(context.Background(), c, PurposeClient, host, nil); err != nil || got != 0 {
			t.Errorf("flags = %v, err = %v; want none", got, err)
		}
		if _, err := db.VerifyChain(context.Background(), c, Purpose("not an oid"), host, nil); err == nil {
			t.Error("bad purpose accepted")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := db.VerifyChain(ctx, mustChain(t, leaf.Chain...), PurposeServer, host, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if _, err := db.LookupCertificateIssuer(ctx, mustChain(t, leaf.Cert), nil); !errors.Is(err, context.Canceled) {
			t.Errorf("lookup: err = %v, want context.Canceled", err)
		}
	})
	t.Run("nil chain", func(t *testing.T) {
		if _, err := db.VerifyChain(context.Background(), nil, PurposeServer, host, nil); err == nil {
			t.Error("nil chain verified")
		}
	})
}

func TestFileDatabaseLoad(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	crl, err := root.CRL()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"garbage":           []byte("this is not PEM at all\n"),
		"empty":             nil,
		"CRL only":          crl,
		"bad certificate":   pemBlock("CERTIFICATE", []byte{1, 2, 3}),
		"bad CRL":           cat(root.CertPEM(), pemBlock("X509 CRL", []byte{1, 2, 3})),
		"private key alone": root.MustLeaf(t, "l").KeyPEM(),
	} {
		t.Run(name, func(t *testing.T) {
			db, err := NewFileDatabase(writeTemp(t, "anchors.pem", data))
			if err == nil {
				t.Fatalf("loaded %v", db)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("err = %v, not an *Error", err)
			}
		})
	}
	if _, err := NewFileDatabase(filepath.Join(t.TempDir(), "missing.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := NewFileDatabase(writeTemp(t, "root.der", root.Cert.Raw)); err != nil {
		t.Errorf("DER anchor: %v", err)
	}
}

func TestDatabaseLookups(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	inter1 := root.MustIntermediate(t, "Inter 1")
	inter2 := root.MustIntermediate(t, "Inter 2")
	impostor := testpki.MustCA(t, "Inter 1") // Inter 1's name, another key
	leaf := inter1.MustLeaf(t, "leaf")
	db, err := NewDatabaseFromPEM(testpki.EncodeCertificates(root.Cert, inter1.Cert, inter2.Cert, impostor.Cert, inter1.Cert))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	issuer, err := db.LookupCertificateIssuer(ctx, mustChain(t, leaf.Cert), nil)
	if err != nil || issuer == nil || !issuer.X509().Equal(inter1.Cert) {
		t.Fatalf("issuer of leaf = %v, %v; want Inter 1", issuer, err)
	}
	issuer, err = db.LookupCertificateIssuer(ctx, mustChain(t, inter1.Cert), nil)
	if err != nil || issuer == nil || !issuer.X509().Equal(root.Cert) {
		t.Fatalf("issuer of Inter 1 = %v, %v; want Root", issuer, err)
	}
	stranger := testpki.MustCA(t, "Stranger").MustLeaf(t, "l")
	if issuer, err := db.LookupCertificateIssuer(ctx, mustChain(t, stranger.Cert), nil); issuer != nil || err != nil {
		t.Errorf("issuer of stranger = %v, %v; want none", issuer, err)
	}
	issued, err := db.LookupCertificatesIssuedBy(ctx, root.Cert.RawSubject, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The root issued itself and both intermediates; the duplicate is gone.
	if len(issued) != 3 {
		t.Fatalf("issued by Root: %d certificates, want 3", len(issued))
	}
	for _, c := range issued {
		if !bytes.Equal(c.X509().RawIssuer, root.Cert.RawSubject) {
			t.Errorf("%s not issued by Root", c.SubjectName())
		}
	}
	if issued, _ := db.LookupCertificatesIssuedBy(ctx, []byte("nobody"), nil); len(issued) != 0 {
		t.Errorf("issued by nobody: %d", len(issued))
	}
}

func TestNewDatabase(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	leaf := root.MustLeaf(t, "l", testpki.DNSNames("a.test"))
	crlPEM, err := root.CRL(leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	db, err := NewDatabaseFromPEM(cat(root.CertPEM(), crlPEM))
	if err != nil {
		t.Fatal(err)
	}
	id := NewNetworkAddress("a.test", 443)
	if f, _ := db.VerifyChain(context.Background(), mustChain(t, leaf.Cert), PurposeServer, id, nil); f != CertificateRevoked {
		t.Errorf("PEM database: %v, want revoked", f)
	}
	mem := NewDatabase([]*x509.Certificate{root.Cert})
	if f, _ := mem.VerifyChain(context.Background(), mustChain(t, leaf.Cert), PurposeServer, id, nil); f != 0 {
		t.Errorf("in-memory database: %v, want none", f)
	}
	if f, _ := NewDatabase(nil).VerifyChain(context.Background(), mustChain(t, leaf.Cert), PurposeServer, id, nil); f != CertificateUnknownCA {
		t.Errorf("empty database: %v, want unknown-ca", f)
	}
}

func TestVerifyPeerWithoutDatabase(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	good := mustChain(t, root.MustLeaf(t, "l", testpki.DNSNames("a.test")).Cert)
	expired := mustChain(t, root.MustLeaf(t, "l", testpki.DNSNames("a.test"), testpki.Expired()).Cert)
	id := NewNetworkAddress("a.test", 443)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		db   Database
		peer *Certificate
		id   Connectable
		want CertificateFlags
	}{
		{"no database", nil, good, id, CertificateUnknownCA},
		{"no database, wrong host", nil, good, NewNetworkAddress("b.test", 443), CertificateUnknownCA | CertificateBadIdentity},
		{"no database, no identity", nil, good, nil, CertificateUnknownCA | CertificateBadIdentity},
		{"no database, expired", nil, expired, id, CertificateUnknownCA | CertificateExpired},
		{"database", NewDatabase([]*x509.Certificate{root.Cert}), good, id, 0},
		{"typed nil database", (*storeDatabase)(nil), good, id, CertificateUnknownCA},
		// GIO's contract: the database ignores a nil identity; the connection adds bad-identity.
		{"user database, no identity", contractDatabase{rootPool(root.Cert)}, good, nil, CertificateBadIdentity},
		{"user database, typed nil identity", contractDatabase{rootPool(root.Cert)}, good, (*NetworkAddress)(nil), CertificateBadIdentity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, _ := resolveIdentity(tc.id)
			got, err := verifyPeer(ctx, tc.db, tc.peer, tc.id, name, nil)
			if err != nil || got != tc.want {
				t.Errorf("verifyPeer = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestSystemDatabase(t *testing.T) {
	a, err := SystemDatabase()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SystemDatabase()
	if a != b {
		t.Error("SystemDatabase is not a singleton")
	}

	root := testpki.MustCA(t, "Root")
	leaf := root.MustLeaf(t, "l", testpki.DNSNames("a.test"))
	dir := t.TempDir()
	file := filepath.Join(dir, "bundle.pem")
	if err := os.WriteFile(file, root.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	other := testpki.MustCA(t, "Other")
	if err := os.WriteFile(filepath.Join(certDir, "other.pem"), other.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("other.pem", filepath.Join(certDir, "abcd1234.0")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", file)
	t.Setenv("SSL_CERT_DIR", certDir)
	db, err := loadSystemDatabase()
	if err != nil {
		t.Fatal(err)
	}
	if n := db.(*storeDatabase).store.Len(); n != 2 {
		t.Errorf("%d anchors, want 2", n)
	}
	if f, _ := db.VerifyChain(context.Background(), mustChain(t, leaf.Cert), PurposeServer, NewNetworkAddress("a.test", 1), nil); f != 0 {
		t.Errorf("flags = %v, want none", f)
	}
	t.Setenv("SSL_CERT_FILE", filepath.Join(dir, "missing.pem"))
	if _, err := loadSystemDatabase(); err == nil {
		t.Error("a missing SSL_CERT_FILE was accepted")
	}
}

// BenchmarkVerifyChain measures a handshake's verification against the
// system database: the anchors are indexed, so this is a couple of
// signature checks.
func BenchmarkVerifyChain(b *testing.B) {
	root := testpki.MustCA(b, "Root")
	inter := root.MustIntermediate(b, "Inter")
	leaf := inter.MustLeaf(b, "l", testpki.DNSNames("a.test"))
	sys, err := loadSystemDatabase()
	if err != nil {
		b.Fatal(err)
	}
	anchors := append([]*x509.Certificate{root.Cert}, sys.(*storeDatabase).store.Anchors()...)
	db := NewDatabase(anchors)
	chain := mustChain(b, leaf.Chain...)
	id := NewNetworkAddress("a.test", 443)
	b.ResetTimer()
	for b.Loop() {
		if f, err := db.VerifyChain(context.Background(), chain, PurposeServer, id, nil); f != 0 || err != nil {
			b.Fatal(f, err)
		}
	}
}

// TestFlagsAgainstGIO verifies the same chains with giotls and with GIO's
// own file database (through /usr/bin/python3 and gi), and checks both
// against the expected flags: the same, except where SEMANTICS.md and
// internal/verify's documentation say GIO is too lenient.
func TestFlagsAgainstGIO(t *testing.T) {
	// The reference GIO is never skipped: scripts/test installs it.
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Fatalf("GIO reference not installed (apt-get install -y python3-gi glib-networking): %v", err)
	}
	dns := testpki.DNSNames("server.example.com")
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	other := testpki.MustCA(t, "Other")
	rsaRoot := testpki.MustCA(t, "RSA Root", testpki.Key(testpki.RSA2048))
	lonely := root.MustIntermediate(t, "Lonely")
	expiredRoot := testpki.MustCA(t, "Expired Root", testpki.Expired())
	pathLenRoot := testpki.MustCA(t, "PathLen Root", testpki.MaxPathLen(0))
	revoked := inter.MustLeaf(t, "server", dns)
	crl, err := inter.CRL(revoked.Cert)
	if err != nil {
		t.Fatal(err)
	}
	anchors := cat(testpki.EncodeCertificates(root.Cert, rsaRoot.Cert, lonely.Cert, expiredRoot.Cert, pathLenRoot.Cert), crl)
	const same = CertificateFlags(0xffff) // GIO gives what we give
	host := "server.example.com"
	cases := []struct {
		name  string
		chain []*x509.Certificate
		host  string
		want  CertificateFlags
		gio   CertificateFlags
	}{
		{"good", inter.MustLeaf(t, "s", dns).Chain, host, 0, same},
		{"bad-identity", inter.MustLeaf(t, "s", dns).Chain, "other.example.com", CertificateBadIdentity, same},
		{"unknown-ca", other.MustLeaf(t, "s", dns).Chain, host, CertificateUnknownCA, same},
		{"expired", inter.MustLeaf(t, "s", dns, testpki.Expired()).Chain, host, CertificateExpired, same},
		{"not-activated", inter.MustLeaf(t, "s", dns, testpki.NotYetValid()).Chain, host, CertificateNotActivated, same},
		{"combo", other.MustLeaf(t, "s", dns, testpki.Expired()).Chain, "wrong.example.com",
			CertificateUnknownCA | CertificateBadIdentity | CertificateExpired, same},
		{"expired-intermediate", root.MustIntermediate(t, "Expired Inter", testpki.Expired()).MustLeaf(t, "s", dns).Chain, host, CertificateExpired, same},
		{"expired-anchor", expiredRoot.MustLeaf(t, "s", dns).Chain, host, CertificateExpired, same},
		{"sha1-intermediate", rsaRoot.MustIntermediate(t, "SHA-1", testpki.SignatureAlgorithm(x509.SHA1WithRSA)).MustLeaf(t, "s", dns).Chain, host, CertificateInsecure, same},
		{"md5-intermediate", rsaRoot.MustIntermediate(t, "MD5", testpki.SignatureAlgorithm(x509.MD5WithRSA)).MustLeaf(t, "s", dns).Chain, host, CertificateInsecure, same},
		{"missing-intermediate-in-database", lonely.MustLeaf(t, "s", dns).Chain[:1], host, 0, same},
		{"missing-intermediate", inter.MustLeaf(t, "s", dns).Chain[:1], host, CertificateUnknownCA, same},
		{"redundant-root", append(inter.MustLeaf(t, "s", dns).Chain, root.Cert), host, 0, same},
		{"no-cert-sign", root.MustIntermediate(t, "No certSign", testpki.KeyUsage(x509.KeyUsageDigitalSignature)).MustLeaf(t, "s", dns).Chain, host, CertificateGenericError, same},
		{"path-length", pathLenRoot.MustIntermediate(t, "I").MustLeaf(t, "s", dns).Chain, host, CertificateGenericError, same},
		{"name-constraints", root.MustIntermediate(t, "NC", testpki.PermittedDNSDomains("good.test")).MustLeaf(t, "s", dns).Chain, host, CertificateGenericError, same},
		{"critical-extension", inter.MustLeaf(t, "s", dns, testpki.UnhandledCriticalExtension()).Chain, host, CertificateGenericError, same},
		{"ip-san", inter.MustLeaf(t, "s", testpki.IPAddresses("127.0.0.1")).Chain, "127.0.0.1", 0, same},
		{"wildcard", inter.MustLeaf(t, "s", testpki.DNSNames("*.example.com")).Chain, "www.example.com", 0, same},
		// Where GIO is too lenient.
		{"common-name-only", inter.MustLeaf(t, host).Chain, host, CertificateBadIdentity, 0},
		{"revoked", revoked.Chain, host, CertificateRevoked, 0},
		{"rsa-1024", inter.MustLeaf(t, "s", dns, testpki.Key(testpki.RSA1024)).Chain, host, CertificateInsecure, 0},
		{"client-auth-only", inter.MustLeaf(t, "s", dns, testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth)).Chain, host, CertificateGenericError, 0},
		// GIO cannot link a non-CA issuer, so finds no path.
		{"not-a-ca", root.MustIntermediate(t, "Not a CA", testpki.IsCA(false)).MustLeaf(t, "s", dns).Chain, host, CertificateGenericError, CertificateUnknownCA},
	}
	var chains []gioChain
	for _, tc := range cases {
		chains = append(chains, gioChain{tc.name, testpki.EncodeCertificates(tc.chain...), tc.host})
	}
	ctx := context.Background()
	gio, db := gioVerifyChain(t, python, anchors, chains)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.VerifyChain(ctx, mustChain(t, tc.chain...), PurposeServer, NewNetworkAddress(tc.host, 443), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("giotls: %v, want %v", got, tc.want)
			}
			wantGIO := tc.gio
			if wantGIO == same {
				wantGIO = tc.want
			}
			if g, ok := gio[tc.name]; !ok || g != wantGIO {
				t.Errorf("GIO: %v (reported %v), want %v", g, ok, wantGIO)
			}
		})
	}
}

// gioChain is one chain for GIO to verify: its PEM, as sent, and the host
// name checked.
type gioChain struct {
	name string
	pem  []byte
	host string
}

// gioVerifyChain has GIO's own file database of anchors (PEM) verify each
// chain, through testdata/gio/verify_chain.py, and returns the flags GIO
// gave each, by name, and a giotls file database of the same anchors file.
func gioVerifyChain(t *testing.T, python string, anchors []byte, chains []gioChain) (map[string]CertificateFlags, Database) {
	t.Helper()
	dir := t.TempDir()
	var manifest bytes.Buffer
	for _, c := range chains {
		if err := os.WriteFile(filepath.Join(dir, c.name+".pem"), c.pem, 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&manifest, "%s\t%s\n", c.name, c.host)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest"), manifest.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	anchorsPath := filepath.Join(dir, "anchors.pem")
	if err := os.WriteFile(anchorsPath, anchors, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, filepath.Join("testdata", "gio", "verify_chain.py"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("GIO: %v\n%s", err, out)
	}
	gio := map[string]CertificateFlags{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, num, ok := strings.Cut(line, "\t")
		n, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil {
			t.Fatalf("GIO printed %q", line)
		}
		gio[name] = CertificateFlags(n)
	}
	db, err := NewFileDatabase(anchorsPath)
	if err != nil {
		t.Fatal(err)
	}
	return gio, db
}
