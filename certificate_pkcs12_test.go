package giotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
	"software.sslmate.com/src/go-pkcs12"
)

func TestNewCertificateFromPKCS12(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	leaf := inter.MustLeaf(t, "leaf", testpki.DNSNames("p12.test"))
	// Issuers out of order, with the root: the chain must come out ordered.
	modern, err := pkcs12.Modern.Encode(leaf.Key, leaf.Cert, []*x509.Certificate{root.Cert, inter.Cert}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := pkcs12.LegacyRC2.Encode(leaf.Key, leaf.Cert, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "pkcs12", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name     string
		data     []byte
		password string
		chain    int   // certificates, 0 for an error
		err      error // the error expected when chain is 0
		key      bool
	}{
		{"modern", modern, "pw", 3, nil, true},
		{"legacy RC2", legacy, "pw", 1, nil, true},
		{"modern, wrong password", modern, "nope", 0, ErrBadCertificatePassword, false},
		{"modern, no password", modern, "", 0, ErrBadCertificatePassword, false},
		{"legacy, wrong password", legacy, "nope", 0, ErrBadCertificatePassword, false},
		{"openssl AES", fixture("aes-secret.p12"), "secret", 2, nil, true},
		{"openssl AES, wrong password", fixture("aes-secret.p12"), "wrong", 0, ErrBadCertificatePassword, false},
		{"openssl AES, no password", fixture("aes-secret.p12"), "", 0, ErrBadCertificatePassword, false},
		{"openssl legacy", fixture("legacy-secret.p12"), "secret", 2, nil, true},
		{"openssl empty password", fixture("empty-password.p12"), "", 1, nil, true},
		{"openssl certificate only", fixture("certonly-secret.p12"), "secret", 0, ErrBadCertificate, false},
		{"PEM is not PKCS#12", fixture("ca.crt"), "", 0, ErrBadCertificate, false},
		{"garbage", []byte("garbage"), "", 0, ErrBadCertificate, false},
		{"empty", nil, "", 0, ErrBadCertificate, false},
		{"truncated", modern[:len(modern)/2], "pw", 0, ErrBadCertificate, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCertificateFromPKCS12(tc.data, tc.password)
			if tc.chain == 0 {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(c.chain()); n != tc.chain {
				t.Errorf("chain of %d, want %d", n, tc.chain)
			}
			if c.HasPrivateKey() != tc.key {
				t.Errorf("HasPrivateKey = %v", c.HasPrivateKey())
			}
		})
	}
	store, err := pkcs12.Passwordless.EncodeTrustStore([]*x509.Certificate{root.Cert}, "")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := NewCertificateFromPKCS12(store, ""); err != nil || !c.X509().Equal(root.Cert) || c.HasPrivateKey() {
		t.Errorf("trust store: %v", err)
	}
	c, err := NewCertificateFromPKCS12(modern, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if !c.X509().Equal(leaf.Cert) || !c.Issuer().X509().Equal(inter.Cert) || !c.Issuer().Issuer().X509().Equal(root.Cert) {
		t.Error("chain not ordered leaf, intermediate, root")
	}
	ca, err := NewCertificateFromFile(filepath.Join("testdata", "pkcs12", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	p12, err := NewCertificateFromPKCS12(fixture("aes-secret.p12"), "secret")
	if err != nil {
		t.Fatal(err)
	}
	if got := p12.Verify(NewNetworkAddress("p12.example", 443), ca); got != 0 {
		t.Errorf("Verify = %v, want none", got)
	}
	if _, err := p12.tlsCertificate(); err != nil {
		t.Error(err)
	}
}

// TestPKCS12FromOpenSSL loads what openssl pkcs12 -export writes at test
// time, modern (PBES2, AES, PBKDF2) and -legacy (RC2, 3DES), with the right
// password, refuses a wrong or missing one with ErrBadCertificatePassword,
// and presents the loaded certificate to a server requiring one.
func TestPKCS12FromOpenSSL(t *testing.T) {
	p := newClientAuthPKI(t)
	dir := t.TempDir()
	cert, key, _, err := p.leafB.WriteFiles(dir, "client") // leaf B and its intermediate
	if err != nil {
		t.Fatal(err)
	}
	root, err := p.caB.WriteCertFile(dir, "root.crt")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"modern", nil},
		{"legacy", []string{"-legacy"}},
		{"AES-128, SHA-512 MAC", []string{"-keypbe", "AES-128-CBC", "-certpbe", "AES-128-CBC", "-macalg", "sha512"}},
		{"3DES, SHA-1 MAC", []string{"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".p12")
			args := append([]string{"pkcs12", "-export", "-in", cert, "-inkey", key, "-certfile", root,
				"-passout", "pass:p12 secret", "-out", out}, tc.args...)
			opensslOutput(t, args...)
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, wrong := range []string{"p12 Secret", ""} {
				if _, err := NewCertificateFromPKCS12(data, wrong); !errors.Is(err, ErrBadCertificatePassword) {
					t.Errorf("password %q: err = %v, want ErrBadCertificatePassword", wrong, err)
				}
			}
			c, err := NewCertificateFromPKCS12(data, "p12 secret")
			if err != nil {
				t.Fatal(err)
			}
			chain := c.chain()
			if len(chain) != 3 || !chain[0].Equal(p.leafB.Cert) || !chain[1].Equal(p.leafB.Chain[1]) || !chain[2].Equal(p.caB.Cert) {
				t.Fatalf("chain of %d, not leaf, intermediate, root", len(chain))
			}
			if !samePublicKey(c, p.leafB.Key) {
				t.Fatal("the key is not the leaf's")
			}
			for _, version := range tlsVersions {
				srv := startClientAuthServer(t, p, version, tls.RequireAndVerifyClientCert, p.caB.Cert)
				conn := srv.connect(t, p, nil)
				conn.SetCertificate(c)
				if err := conn.Handshake(context.Background()); err != nil {
					t.Fatalf("%s: %v", versionName(version), err)
				}
				roundTrip(t, conn)
				if v := srv.views(); len(v) != 1 || len(v[0].chain) != 3 || !v[0].chain[0].Equal(p.leafB.Cert) {
					t.Errorf("%s: server did not see the PKCS#12 chain", versionName(version))
				}
			}
		})
	}
}

// TestNewCertificateFromFilePKCS12 loads .p12 and .pfx files as GIO 2.72
// does: NewCertificateFromFile as PKCS#12 without a password
// (g_tls_certificate_new_from_file), NewCertificateFromFileWithPassword
// with one, and only those (g_tls_certificate_new_from_file_with_password:
// G_IO_ERROR_NOT_SUPPORTED for other names). Seen with GIO 2.74: the same
// results, wrong or missing passwords as G_TLS_ERROR_BAD_CERTIFICATE_PASSWORD.
func TestNewCertificateFromFilePKCS12(t *testing.T) {
	dir := t.TempDir()
	copyAs := func(fixture, name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "pkcs12", fixture))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	empty := copyAs("empty-password.p12", "empty.p12")
	emptyPFX := copyAs("empty-password.p12", "empty.pfx")
	secret := copyAs("aes-secret.p12", "secret.p12")
	secretPFX := copyAs("aes-secret.p12", "secret.pfx")
	legacy := copyAs("legacy-secret.p12", "legacy.p12")
	pem := copyAs("ca.crt", "ca.pem")
	der := copyAs("empty-password.p12", "empty.der") // PKCS#12 named otherwise: not read as PKCS#12
	missing := filepath.Join(dir, "missing.p12")
	fromFile := func(path, _ string) (*Certificate, error) { return NewCertificateFromFile(path) }
	cases := []struct {
		name     string
		load     func(path, password string) (*Certificate, error)
		path     string
		password string
		chain    int   // certificates, 0 for an error
		err      error // the error expected when chain is 0
	}{
		{"file .p12, empty password", fromFile, empty, "", 1, nil},
		{"file .pfx, empty password", fromFile, emptyPFX, "", 1, nil},
		{"file .p12, password needed", fromFile, secret, "", 0, ErrBadCertificatePassword},
		{"file, PKCS#12 under another name", fromFile, der, "", 0, ErrBadCertificate},
		{"file, missing", fromFile, missing, "", 0, fs.ErrNotExist},
		{"with password .p12", NewCertificateFromFileWithPassword, secret, "secret", 2, nil},
		{"with password .pfx", NewCertificateFromFileWithPassword, secretPFX, "secret", 2, nil},
		{"with password, legacy", NewCertificateFromFileWithPassword, legacy, "secret", 2, nil},
		{"with password, empty", NewCertificateFromFileWithPassword, empty, "", 1, nil},
		{"with password, wrong", NewCertificateFromFileWithPassword, secret, "wrong", 0, ErrBadCertificatePassword},
		{"with password, PEM", NewCertificateFromFileWithPassword, pem, "secret", 0, errors.ErrUnsupported},
		{"with password, other name", NewCertificateFromFileWithPassword, der, "", 0, errors.ErrUnsupported},
		{"with password, missing", NewCertificateFromFileWithPassword, missing, "", 0, fs.ErrNotExist},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.load(tc.path, tc.password)
			if tc.chain == 0 {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				var e *Error
				if tc.err != fs.ErrNotExist && !errors.As(err, &e) {
					t.Errorf("err = %T, want a giotls *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(c.chain()); n != tc.chain || !c.HasPrivateKey() || c.SubjectName() != "CN=p12.example" {
				t.Errorf("chain of %d (want %d), key %v, subject %q", n, tc.chain, c.HasPrivateKey(), c.SubjectName())
			}
		})
	}
}
