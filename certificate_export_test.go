package giotls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// opaqueSigner is a key giotls cannot see inside, as a PKCS#11 token's.
type opaqueSigner struct{ crypto.Signer }

// TestCertificateReadBack: CertificatePEM is the leaf alone in PEM;
// PrivateKeyDER and PrivateKeyPEM are the key as unencrypted PKCS#8, as
// GIO's private-key and private-key-pem, whatever format it was read from;
// all are nil where GIO gives NULL (no key) and for keys that cannot be
// exported: still locked by a password, or opaque signers.
func TestCertificateReadBack(t *testing.T) {
	root := testpki.MustCA(t, "Read Back Root")
	inter := root.MustIntermediate(t, "Read Back Inter")
	cases := []struct {
		name    string
		leaf    *testpki.Leaf
		keyPEM  func(l *testpki.Leaf) []byte // how the key is written
		wantKey bool
	}{
		{"ecdsa sec1", inter.MustLeaf(t, "ec"), sec1PEM, true},
		{"rsa pkcs1", inter.MustLeaf(t, "rsa", testpki.Key(testpki.RSA2048)), pkcs1PEM, true},
		{"ed25519 pkcs8", inter.MustLeaf(t, "ed", testpki.Key(testpki.Ed25519)), (*testpki.Leaf).KeyPEM, true},
		{"no key", inter.MustLeaf(t, "nokey"), func(*testpki.Leaf) []byte { return nil }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCertificateFromPEM(append(tc.leaf.ChainPEM(), tc.keyPEM(tc.leaf)...))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.CertificatePEM(), tc.leaf.CertPEM(); !bytes.Equal(got, want) {
				t.Fatalf("CertificatePEM() = %q, want the leaf alone: %q", got, want)
			}
			der, p := c.PrivateKeyDER(), c.PrivateKeyPEM()
			if !tc.wantKey {
				if der != nil || p != nil {
					t.Fatalf("no key: PrivateKeyDER %x, PrivateKeyPEM %q, want nil", der, p)
				}
				return
			}
			checkPKCS8(t, der, p, tc.leaf.Key)
		})
	}

	t.Run("locked until unlocked", func(t *testing.T) {
		leaf := inter.MustLeaf(t, "locked")
		keyFile := writeKeyFile(t, t.TempDir(), "locked.key", leaf.Key)
		encrypted := opensslOutput(t, "pkcs8", "-topk8", "-in", keyFile, "-passout", "pass:secret")
		c, err := NewCertificateFromPEM(append(leaf.ChainPEM(), encrypted...))
		if err != nil {
			t.Fatal(err)
		}
		if der, p := c.PrivateKeyDER(), c.PrivateKeyPEM(); der != nil || p != nil {
			t.Fatalf("locked key: PrivateKeyDER %x, PrivateKeyPEM %q, want nil", der, p)
		}
		if _, err := c.unlock(context.Background(), &passwords{answers: []string{"secret"}}); err != nil {
			t.Fatal(err)
		}
		checkPKCS8(t, c.PrivateKeyDER(), c.PrivateKeyPEM(), leaf.Key)
	})

	t.Run("opaque signer", func(t *testing.T) {
		leaf := inter.MustLeaf(t, "opaque")
		c, err := NewCertificateFromX509(leaf.Chain, opaqueSigner{leaf.Key})
		if err != nil {
			t.Fatal(err)
		}
		if !c.HasPrivateKey() {
			t.Fatal("HasPrivateKey() = false")
		}
		if der, p := c.PrivateKeyDER(), c.PrivateKeyPEM(); der != nil || p != nil {
			t.Fatalf("opaque signer: PrivateKeyDER %x, PrivateKeyPEM %q, want nil", der, p)
		}
	})

	t.Run("nil certificate", func(t *testing.T) {
		var c *Certificate
		if c.CertificatePEM() != nil || c.PrivateKeyDER() != nil || c.PrivateKeyPEM() != nil {
			t.Fatal("a nil *Certificate read back something")
		}
	})

	t.Run("copies", func(t *testing.T) {
		leaf := inter.MustLeaf(t, "copies")
		c, err := NewCertificateFromX509(leaf.Chain, leaf.Key)
		if err != nil {
			t.Fatal(err)
		}
		der := c.PrivateKeyDER()
		clear(der)
		clear(c.CertificatePEM())
		checkPKCS8(t, c.PrivateKeyDER(), c.PrivateKeyPEM(), leaf.Key)
		if !bytes.Equal(c.CertificatePEM(), leaf.CertPEM()) {
			t.Fatal("changing what CertificatePEM returned changed the certificate")
		}
	})
}

// TestCertificateReadBackAgainstGIO reads the same files with GIO (through
// /usr/bin/python3 and gi) and giotls: the same certificate-pem, the same
// private-key-pem text and private-key bytes.
func TestCertificateReadBackAgainstGIO(t *testing.T) {
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Fatalf("GIO reference not installed (apt-get install -y python3-gi glib-networking): %v", err)
	}
	root := testpki.MustCA(t, "GIO Read Back Root")
	dir := t.TempDir()
	files := map[string]*testpki.Leaf{}
	for _, tc := range []struct {
		name   string
		key    testpki.KeyType
		keyPEM func(*testpki.Leaf) []byte
	}{
		{"ec", testpki.ECDSAP256, sec1PEM},
		{"ec384", testpki.ECDSAP384, (*testpki.Leaf).KeyPEM},
		{"rsa", testpki.RSA2048, pkcs1PEM},
		{"rsa8", testpki.RSA3072, (*testpki.Leaf).KeyPEM},
	} {
		leaf := root.MustLeaf(t, tc.name, testpki.Key(tc.key))
		path := filepath.Join(dir, tc.name+".pem")
		if err := os.WriteFile(path, append(leaf.CertPEM(), tc.keyPEM(leaf)...), 0o600); err != nil {
			t.Fatal(err)
		}
		files[path] = leaf
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{filepath.Join("testdata", "gio", "export_key.py")}
	for path := range files {
		args = append(args, path)
	}
	out, err := exec.CommandContext(ctx, python, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("GIO: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(files) {
		t.Fatalf("GIO printed %d lines for %d files:\n%s", len(lines), len(files), out)
	}
	for _, line := range lines {
		f := strings.Split(line, "\t")
		if len(f) != 4 || files[f[0]] == nil {
			t.Fatalf("GIO printed %q", line)
		}
		c, err := NewCertificateFromFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		unescape := func(s string) string { return strings.ReplaceAll(s, `\n`, "\n") }
		if got, want := string(c.CertificatePEM()), unescape(f[1]); got != want {
			t.Errorf("%s: certificate-pem: giotls %q, GIO %q", f[0], got, want)
		}
		gioDER, err := hex.DecodeString(f[3])
		if err != nil {
			t.Fatalf("GIO printed %q", line)
		}
		// Both are PKCS#8 of the same key. RSA keys have one encoding; for
		// EC keys GnuTLS writes the private scalar with a leading zero byte
		// and repeats the curve, where crypto/x509 writes the fixed length
		// RFC 5915 (section 3) asks and leaves the optional curve out.
		checkPKCS8(t, gioDER, []byte(unescape(f[2])), files[f[0]].Key)
		checkPKCS8(t, c.PrivateKeyDER(), c.PrivateKeyPEM(), files[f[0]].Key)
		if _, isRSA := files[f[0]].Key.(*rsa.PrivateKey); isRSA {
			if got, want := string(c.PrivateKeyPEM()), unescape(f[2]); got != want {
				t.Errorf("%s: private-key-pem: giotls %q, GIO %q", f[0], got, want)
			}
		}
	}
}

// checkPKCS8 checks that der is want as unencrypted PKCS#8 and p the same in
// a "PRIVATE KEY" PEM block.
func checkPKCS8(t *testing.T, der, p []byte, want crypto.Signer) {
	t.Helper()
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatalf("private key DER is not PKCS#8: %v", err)
	}
	if !want.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.(crypto.Signer).Public()) {
		t.Fatal("private key DER holds another key")
	}
	block, rest := pem.Decode(p)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 || !bytes.Equal(block.Bytes, der) {
		t.Fatalf("private key PEM %q is not the DER in one PRIVATE KEY block", p)
	}
}

// sec1PEM writes an ECDSA key as OpenSSL's "EC PRIVATE KEY".
func sec1PEM(l *testpki.Leaf) []byte {
	der, err := x509.MarshalECPrivateKey(l.Key.(*ecdsa.PrivateKey))
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// pkcs1PEM writes an RSA key as "RSA PRIVATE KEY".
func pkcs1PEM(l *testpki.Leaf) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(l.Key.(*rsa.PrivateKey))})
}
