package giotls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestNewCertificateFromPEM(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	leaf := inter.MustLeaf(t, "leaf", testpki.DNSNames("example.com"))
	rsaLeaf := root.MustLeaf(t, "rsa", testpki.Key(testpki.RSA2048))
	other := root.MustLeaf(t, "other")
	ecKey := leaf.Key.(*ecdsa.PrivateKey)
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaLeaf.Key.(*rsa.PrivateKey))
	chainPEM := testpki.EncodeCertificates(leaf.Cert, inter.Cert, root.Cert)

	cases := []struct {
		name      string
		data      []byte
		wantChain int  // certificates linked, 0 for an error
		wantKey   bool // HasPrivateKey
		leaf      *x509.Certificate
	}{
		{"leaf", leaf.CertPEM(), 1, false, leaf.Cert},
		{"chain in order", chainPEM, 3, false, leaf.Cert},
		{"chain with PKCS#8 key", cat(chainPEM, leaf.KeyPEM()), 3, true, leaf.Cert},
		{"key first", cat(leaf.KeyPEM(), leaf.CertPEM()), 1, true, leaf.Cert},
		{"SEC 1 key", cat(leaf.CertPEM(), pemBlock("EC PRIVATE KEY", sec1)), 1, true, leaf.Cert},
		{"PKCS#1 key", cat(rsaLeaf.CertPEM(), pemBlock("RSA PRIVATE KEY", pkcs1)), 1, true, rsaLeaf.Cert},
		{"text around blocks", cat([]byte("subject=CN=leaf\n"), leaf.CertPEM(), []byte("junk\n")), 1, false, leaf.Cert},
		{"unrelated second certificate", testpki.EncodeCertificates(leaf.Cert, other.Cert), 1, false, leaf.Cert},
		{"chain broken in the middle", testpki.EncodeCertificates(leaf.Cert, inter.Cert, other.Cert, root.Cert), 2, false, leaf.Cert},
		{"garbage", []byte("this is not a certificate"), 0, false, nil},
		{"empty", nil, 0, false, nil},
		{"key only", leaf.KeyPEM(), 0, false, nil},
		{"bad DER in block", pemBlock("CERTIFICATE", []byte{0x30, 0x03, 0x01, 0x02}), 0, false, nil},
		{"truncated DER", pemBlock("CERTIFICATE", leaf.Cert.Raw[:len(leaf.Cert.Raw)/2]), 0, false, nil},
		{"bad key", cat(leaf.CertPEM(), pemBlock("PRIVATE KEY", []byte("nope"))), 0, false, nil},
		{"mismatched key", cat(leaf.CertPEM(), other.KeyPEM()), 0, false, nil},
		{"malformed encrypted PKCS#8 key", cat(leaf.CertPEM(), pemBlock("ENCRYPTED PRIVATE KEY", []byte{0x30, 0})), 0, false, nil},
		{"encrypted legacy key, IV too short", cat(leaf.CertPEM(), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: sec1})), 0, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCertificateFromPEM(tc.data)
			if tc.wantChain == 0 {
				if !errors.Is(err, ErrBadCertificate) {
					t.Fatalf("err = %v, want ErrBadCertificate", err)
				}
				var e *Error
				if !errors.As(err, &e) || e.Code != ErrorBadCertificate {
					t.Fatalf("err = %#v, want an *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(c.chain()); n != tc.wantChain {
				t.Errorf("chain of %d, want %d", n, tc.wantChain)
			}
			if c.HasPrivateKey() != tc.wantKey {
				t.Errorf("HasPrivateKey = %v, want %v", c.HasPrivateKey(), tc.wantKey)
			}
			if !c.X509().Equal(tc.leaf) {
				t.Error("wrong certificate")
			}
		})
	}
}

func TestCertificateFiles(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	leaf := inter.MustLeaf(t, "leaf")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	chainFile := write("chain.pem", leaf.ChainPEM())
	derFile := write("leaf.der", leaf.Cert.Raw)
	keyFile := write("key.pem", leaf.KeyPEM())
	derKeyFile := write("key.der", pkcs8)
	bothFile := write("both.pem", cat(leaf.ChainPEM(), leaf.KeyPEM()))
	garbage := write("garbage", []byte("garbage\x00\x01"))
	empty := write("empty", nil)
	missing := filepath.Join(dir, "missing")

	t.Run("PEM file", func(t *testing.T) {
		c, err := NewCertificateFromFile(chainFile)
		if err != nil || len(c.chain()) != 2 || c.HasPrivateKey() {
			t.Fatalf("c = %v, err = %v", c, err)
		}
		c, err = NewCertificateFromFile(bothFile)
		if err != nil || !c.HasPrivateKey() {
			t.Fatalf("with key: err = %v", err)
		}
	})
	t.Run("DER file", func(t *testing.T) {
		c, err := NewCertificateFromFile(derFile)
		if err != nil || !c.X509().Equal(leaf.Cert) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("files", func(t *testing.T) {
		for _, kf := range []string{keyFile, derKeyFile, bothFile} {
			c, err := NewCertificateFromFiles(chainFile, kf)
			if err != nil {
				t.Fatalf("%s: %v", kf, err)
			}
			if !c.HasPrivateKey() || len(c.chain()) != 2 {
				t.Errorf("%s: key %v, chain %d", kf, c.HasPrivateKey(), len(c.chain()))
			}
			if _, err := c.tlsCertificate(); err != nil {
				t.Error(err)
			}
		}
		if _, err := NewCertificateFromFiles(chainFile, chainFile); !errors.Is(err, ErrBadCertificate) {
			t.Errorf("no key: err = %v", err)
		}
		if _, err := NewCertificateFromFiles(chainFile, garbage); !errors.Is(err, ErrBadCertificate) {
			t.Errorf("garbage key: err = %v", err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, p := range []string{garbage, empty} {
			if _, err := NewCertificateFromFile(p); !errors.Is(err, ErrBadCertificate) {
				t.Errorf("%s: err = %v, want ErrBadCertificate", p, err)
			}
		}
		if _, err := NewCertificateFromFile(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("missing: err = %v", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		list, err := CertificateListFromFile(write("list.pem", testpki.EncodeCertificates(leaf.Cert, inter.Cert, root.Cert)))
		if err != nil || len(list) != 3 {
			t.Fatalf("list of %d, err = %v", len(list), err)
		}
		for i, want := range []*x509.Certificate{leaf.Cert, inter.Cert, root.Cert} {
			if !list[i].X509().Equal(want) || list[i].Issuer() != nil {
				t.Errorf("certificate %d wrong", i)
			}
		}
		if list, err := CertificateListFromFile(empty); err != nil || len(list) != 0 {
			t.Errorf("empty: %d, %v", len(list), err)
		}
		if list, err := CertificateListFromFile(derFile); err != nil || len(list) != 1 {
			t.Errorf("DER: %d, %v", len(list), err)
		}
		if _, err := CertificateListFromFile(garbage); !errors.Is(err, ErrBadCertificate) {
			t.Errorf("garbage: err = %v", err)
		}
	})
}

func TestNewCertificateFromX509(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	leaf := root.MustLeaf(t, "leaf")
	other := root.MustLeaf(t, "other", testpki.Key(testpki.Ed25519))
	c, err := NewCertificateFromX509([]*x509.Certificate{leaf.Cert, root.Cert}, leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasPrivateKey() || !c.Issuer().X509().Equal(root.Cert) || c.Issuer().Issuer() != nil {
		t.Error("chain or key lost")
	}
	tc, err := c.tlsCertificate()
	if err != nil || len(tc.Certificate) != 2 || tc.PrivateKey == nil {
		t.Fatalf("tlsCertificate: %v", err)
	}
	if _, err := tls.X509KeyPair(leaf.ChainPEM(), leaf.KeyPEM()); err != nil {
		t.Fatal(err)
	}
	if c, err := NewCertificateFromX509([]*x509.Certificate{other.Cert}, other.Key); err != nil || !c.HasPrivateKey() {
		t.Errorf("Ed25519: %v", err)
	}
	noKey, err := NewCertificateFromX509([]*x509.Certificate{leaf.Cert}, nil)
	if err != nil || noKey.HasPrivateKey() {
		t.Fatalf("no key: %v", err)
	}
	if _, err := noKey.tlsCertificate(); err == nil {
		t.Error("tlsCertificate without a key succeeded")
	}
	for name, f := range map[string]func() error{
		"mismatched key": func() error { _, err := NewCertificateFromX509([]*x509.Certificate{leaf.Cert}, other.Key); return err },
		"empty chain":    func() error { _, err := NewCertificateFromX509(nil, nil); return err },
		"nil entry":      func() error { _, err := NewCertificateFromX509([]*x509.Certificate{leaf.Cert, nil}, nil); return err },
		"not a signer":   func() error { _, err := NewCertificateFromX509([]*x509.Certificate{leaf.Cert}, "key"); return err },
	} {
		if err := f(); !errors.Is(err, ErrBadCertificate) {
			t.Errorf("%s: err = %v, want ErrBadCertificate", name, err)
		}
	}
}

func TestCertificateProperties(t *testing.T) {
	root := testpki.MustCA(t, "Root", testpki.Organization("Test Org"))
	nb := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	na := time.Date(2040, 1, 2, 3, 4, 5, 0, time.UTC)
	leaf := root.MustLeaf(t, "leaf", testpki.Organization("Leaf Org"), testpki.Validity(nb, na),
		testpki.DNSNames("example.com", "*.example.org"), testpki.IPAddresses("127.0.0.1", "::1"))
	c, err := NewCertificateFromPEM(leaf.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	// crypto/x509 writes O before CN; GIO shows the DER order.
	if got, want := c.SubjectName(), "O=Leaf Org,CN=leaf"; got != want {
		t.Errorf("SubjectName = %q, want %q", got, want)
	}
	if got, want := c.IssuerName(), "O=Test Org,CN=Root"; got != want {
		t.Errorf("IssuerName = %q, want %q", got, want)
	}
	if !c.NotValidBefore().Equal(nb) || !c.NotValidAfter().Equal(na) {
		t.Errorf("validity %v .. %v", c.NotValidBefore(), c.NotValidAfter())
	}
	if got := c.DNSNames(); len(got) != 2 || got[0] != "example.com" || got[1] != "*.example.org" {
		t.Errorf("DNSNames = %q", got)
	}
	ips := c.IPAddresses()
	if len(ips) != 2 || ips[0] != netip.MustParseAddr("127.0.0.1") || ips[1] != netip.MustParseAddr("::1") {
		t.Errorf("IPAddresses = %v", ips)
	}
	again, err := NewCertificateFromX509([]*x509.Certificate{leaf.Cert}, leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	other := root.MustLeaf(t, "leaf")
	otherC, _ := NewCertificateFromX509([]*x509.Certificate{other.Cert}, nil)
	if !c.IsSame(again) || c.IsSame(otherC) || c.IsSame(nil) {
		t.Error("IsSame wrong")
	}
	var nilCert *Certificate
	if nilCert.SubjectName() != "" || nilCert.X509() != nil || nilCert.HasPrivateKey() || !nilCert.IsSame(nil) {
		t.Error("nil certificate methods")
	}
}

// TestCertificateVerify follows GIO's tests/certificate.c verify cases.
func TestCertificateVerify(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	other := testpki.MustCA(t, "Other")
	inter := root.MustIntermediate(t, "Inter")
	names := []testpki.Option{testpki.DNSNames("server.example.com"), testpki.IPAddresses("192.168.1.10")}
	mk := func(ca *testpki.CA, opts ...testpki.Option) *Certificate {
		l := ca.MustLeaf(t, "server", append(opts, names...)...)
		c, err := NewCertificateFromX509(l.Chain, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ca := func(x *testpki.CA) *Certificate { return certificateFromChain([]*x509.Certificate{x.Cert}) }
	good := mk(root)
	host := NewNetworkAddress("server.example.com", 443)
	cases := []struct {
		name     string
		cert     *Certificate
		identity Connectable
		trusted  *Certificate
		want     CertificateFlags
	}{
		{"good", good, host, ca(root), 0},
		{"good, no identity", good, nil, ca(root), 0},
		{"good, IP address", good, NewNetworkAddress("192.168.1.10", 80), ca(root), 0},
		{"good, IP socket address", good, NewInetSocketAddress(netip.MustParseAddrPort("192.168.1.10:80")), ca(root), 0},
		{"good, trailing dot", good, NewNetworkAddress("server.example.com.", 443), ca(root), 0},
		{"good, service", good, NewNetworkService("https", "tcp", "server.example.com"), ca(root), 0},
		{"good, through intermediate", mk(inter), host, ca(root), 0},
		{"bad identity", good, NewNetworkAddress("other.example.com", 443), ca(root), CertificateBadIdentity},
		{"bad IP", good, NewNetworkAddress("192.168.1.11", 443), ca(root), CertificateBadIdentity},
		{"bad CA", good, host, ca(other), CertificateUnknownCA},
		// GIO: unknown-ca is never set when trusted_ca is NULL.
		{"no CA", good, host, nil, 0},
		{"no CA, untrusted", mk(other), host, nil, 0},
		{"empty CA certificate", good, host, &Certificate{}, CertificateUnknownCA},
		{"no CA, expired, bad identity", mk(root, testpki.Expired()), NewNetworkAddress("other.example.com", 443), nil,
			CertificateBadIdentity | CertificateExpired},
		{"not activated", mk(root, testpki.NotYetValid()), host, ca(root), CertificateNotActivated},
		{"expired", mk(root, testpki.Expired()), host, ca(root), CertificateExpired},
		{"combo", mk(root, testpki.Expired()), NewNetworkAddress("other.example.com", 443), ca(other),
			CertificateUnknownCA | CertificateBadIdentity | CertificateExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cert.Verify(tc.identity, tc.trusted); got != tc.want {
				t.Errorf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzNewCertificateFromPEM checks that no input makes the parser panic
// and that what it accepts is self-consistent.
func FuzzNewCertificateFromPEM(f *testing.F) {
	root := testpki.MustCA(f, "Root")
	leaf := root.MustLeaf(f, "leaf")
	f.Add(cat(leaf.ChainPEM(), leaf.KeyPEM()))
	f.Add(leaf.CertPEM())
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n"))
	f.Add(cat(leaf.CertPEM(), pemBlock("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x03, 0x30, 0x01, 0x06})))
	f.Add(cat(leaf.CertPEM(), []byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAAAAAAAAAAAAAAAAAAAA==\n-----END EC PRIVATE KEY-----\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewCertificateFromPEM(data)
		if err != nil {
			if !errors.Is(err, ErrBadCertificate) {
				t.Fatalf("err = %v, not ErrBadCertificate", err)
			}
			return
		}
		if c.X509() == nil {
			t.Fatal("nil certificate without an error")
		}
		_ = c.SubjectName()
		_ = c.Verify(NewNetworkAddress("example.com", 443), c)
		if c.locked != nil {
			_, err := NewCertificateFromPEMWithPassword(data, "password")
			if err != nil && !errors.Is(err, ErrBadCertificate) && !errors.Is(err, ErrBadCertificatePassword) {
				t.Fatalf("decrypting: err = %v", err)
			}
		}
	})
}

// TestOpenSSLFixtures reads keys and certificates written by openssl and
// compares names with what GIO (GnuTLS backend) gives for the same files.
func TestOpenSSLFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "openssl")
	p := func(name string) string { return filepath.Join(dir, name) }
	cases := []struct {
		cert, key string
		subject   string
	}{
		{"rsa.crt", "rsa-pkcs1.key", `C=FR,O=Example\, Inc.,CN=rsa.example`},
		{"rsa.der", "rsa-pkcs1.key", `C=FR,O=Example\, Inc.,CN=rsa.example`},
		{"ec.crt", "ec-sec1.key", `CN=ec.example,O=Ordered Last`},
		{"ec.crt", "ec-pkcs8.key", `CN=ec.example,O=Ordered Last`},
		{"dn.crt", "", `C=DE,ST=Bay ern,L=M\+u,O=Org\;x\, \<y\>,OU=Unit A+OU=Unit B,CN=\#hash  sp\ ,EMAIL=a@b.c,` +
			`serialNumber=42,UID=u1,DC=example,title=Dr=x,street=1 \"Q\" St,postalCode=80331,givenName=Jürgen`},
	}
	for _, tc := range cases {
		t.Run(tc.cert+"+"+tc.key, func(t *testing.T) {
			var c *Certificate
			var err error
			if tc.key != "" {
				c, err = NewCertificateFromFiles(p(tc.cert), p(tc.key))
			} else {
				c, err = NewCertificateFromFile(p(tc.cert))
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.key != "" && !c.HasPrivateKey() {
				t.Error("key not loaded")
			}
			if got := c.SubjectName(); got != tc.subject {
				t.Errorf("SubjectName = %s\nwant            %s", got, tc.subject)
			}
			if got := c.IssuerName(); got != tc.subject {
				t.Errorf("IssuerName = %s, want the subject", got)
			}
			if got := c.Verify(nil, c); got != 0 {
				t.Errorf("self-verification: %v", got)
			}
		})
	}
	// The key and certificate in one PEM text, the key first, as some
	// servers' configuration files hold them.
	key, _ := os.ReadFile(p("ec-sec1.key"))
	crt, _ := os.ReadFile(p("ec.crt"))
	c, err := NewCertificateFromPEM(cat(key, crt))
	if err != nil || !c.HasPrivateKey() {
		t.Fatalf("combined PEM: %v", err)
	}
	rsa, err := NewCertificateFromFile(p("rsa.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := rsa.IPAddresses(); len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("IPAddresses = %v", got)
	}
	if got := rsa.Verify(NewNetworkAddress("rsa.example", 443), rsa); got != 0 {
		t.Errorf("Verify(rsa.example) = %v", got)
	}
}
