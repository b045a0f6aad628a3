package giotls

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// Fuzz targets for loading certificates and keys from files a user points
// giotls at (FuzzNewCertificateFromPEM, in certificate_test.go, covers PEM
// text). Seed corpora are in testdata/fuzz.

// checkLoaded checks what a loader returned: an *Error with one of codes,
// or a certificate whose chain is linked (each certificate named as issued
// by the next) and whose names can be shown.
func checkLoaded(t *testing.T, c *Certificate, err error, codes ...error) {
	t.Helper()
	if err != nil {
		for _, code := range codes {
			if errors.Is(err, code) {
				return
			}
		}
		t.Fatalf("err = %v (%T), want one of %v", err, err, codes)
	}
	if c == nil || c.X509() == nil {
		t.Fatal("no certificate and no error")
	}
	for x := c; x.Issuer() != nil; x = x.Issuer() {
		if !bytes.Equal(x.X509().RawIssuer, x.Issuer().X509().RawSubject) {
			t.Fatalf("chain not linked: %q is followed by %q", x.IssuerName(), x.Issuer().SubjectName())
		}
	}
	_, _ = c.SubjectName(), c.IssuerName()
	_ = c.Verify(NewNetworkAddress("example.com", 443), c)
}

// FuzzNewCertificateFromFile loads a certificate file, PEM or DER, as
// NewCertificateFromFile and CertificateListFromFile read it.
func FuzzNewCertificateFromFile(f *testing.F) {
	ca := testpki.MustCA(f, "File Root")
	inter := ca.MustIntermediate(f, "File Intermediate")
	leaf := inter.MustLeaf(f, "leaf", testpki.DNSNames("example.com"))
	f.Add(leaf.Cert.Raw)
	f.Add(cat(leaf.ChainPEM(), leaf.KeyPEM()))
	for _, name := range []string{"rsa.der", "rsa.crt", "dn.crt", "ec.crt"} {
		data, err := os.ReadFile(filepath.Join("testdata", "openssl", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "cert")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := NewCertificateFromFile(path)
		checkLoaded(t, c, err, ErrBadCertificate)
		list, err := CertificateListFromFile(path)
		if err != nil {
			checkLoaded(t, nil, err, ErrBadCertificate)
		}
		for _, c := range list {
			checkLoaded(t, c, nil)
		}
	})
}

// FuzzNewCertificateFromFiles loads a certificate file and a key file, each
// PEM or DER, the key maybe encrypted; a key that loads belongs to the
// certificate.
func FuzzNewCertificateFromFiles(f *testing.F) {
	for _, pair := range [][2]string{{"rsa.crt", "rsa-pkcs1.key"}, {"ec.crt", "ec-sec1.key"}, {"ec.crt", "ec-pkcs8.key"}, {"rsa.der", "ec-sec1.key"}} {
		cert, err := os.ReadFile(filepath.Join("testdata", "openssl", pair[0]))
		if err != nil {
			f.Fatal(err)
		}
		key, err := os.ReadFile(filepath.Join("testdata", "openssl", pair[1]))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(cert, key)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, cert, key []byte) {
		certPath, keyPath := filepath.Join(dir, "cert"), filepath.Join(dir, "key")
		if os.WriteFile(certPath, cert, 0o600) != nil || os.WriteFile(keyPath, key, 0o600) != nil {
			t.Fatal("cannot write the files")
		}
		c, err := NewCertificateFromFiles(certPath, keyPath)
		checkLoaded(t, c, err, ErrBadCertificate)
		if err != nil {
			return
		}
		if !c.HasPrivateKey() {
			t.Fatal("loaded without its key")
		}
		if k := c.privateKey(); k != nil {
			if err := checkKey(c.X509(), k); err != nil {
				t.Fatalf("loaded with a key that is not the certificate's: %v", err)
			}
		}
	})
}

// FuzzNewCertificateFromPKCS12 loads PKCS#12 files as openssl writes them
// (testdata/pkcs12), mutated, with the right password, a wrong one and
// none.
func FuzzNewCertificateFromPKCS12(f *testing.F) {
	for _, name := range []string{"aes-secret.p12", "legacy-secret.p12", "certonly-secret.p12", "empty-password.p12"} {
		data, err := os.ReadFile(filepath.Join("testdata", "pkcs12", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "secret")
		f.Add(data, "")
	}
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		if pkcs12Work(data) > 100_000 {
			// Loading would take seconds: see TestPKCS12IterationBound.
			return
		}
		c, err := NewCertificateFromPKCS12(data, password)
		checkLoaded(t, c, err, ErrBadCertificate, ErrBadCertificatePassword)
		if k := c.privateKey(); err == nil && k != nil {
			if err := checkKey(c.X509(), k); err != nil {
				t.Fatalf("loaded with a key that is not the certificate's: %v", err)
			}
		}
	})
}

// pfx is the outer PKCS#12 structure (RFC 7292, section 4), with the
// iteration count of its MAC.
type pfx struct {
	Version  int
	AuthSafe asn1.RawValue
	MacData  struct {
		Mac        asn1.RawValue
		MacSalt    []byte
		Iterations int `asn1:"optional,default:1"`
	} `asn1:"optional"`
}

// pkcs12Work returns the MAC iteration count of a PKCS#12 file (0 if it
// does not parse): the fuzz target avoids files that would spend seconds in
// the key derivation, a problem TestPKCS12IterationBound covers.
func pkcs12Work(data []byte) int {
	var p pfx
	if _, err := asn1.Unmarshal(data, &p); err != nil {
		return 0
	}
	return p.MacData.Iterations
}

// TestPKCS12IterationBound loads a PKCS#12 file whose MAC asks for 2^31-1
// iterations of the PKCS#12 key derivation: about half an hour of CPU.
// Like an encrypted PEM key, whose PBKDF2 iteration count giotls bounds
// (maxPBKDF2Iterations), it must fail at once with ErrBadCertificate rather
// than hang. The load runs in a child process, killed after the bound.
// checkPKCS12Work (pkcs12_work.go) refuses it (TestPKCS12WorkBound covers the rest).
func TestPKCS12IterationBound(t *testing.T) {
	if os.Getenv("GIOTLS_PKCS12_BOMB") != "" {
		data, err := os.ReadFile(os.Getenv("GIOTLS_PKCS12_BOMB"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewCertificateFromPKCS12(data, "secret")
		if !errors.Is(err, ErrBadCertificate) {
			t.Fatalf("NewCertificateFromPKCS12 = %v, want ErrBadCertificate", err)
		}
		return
	}
	data, err := os.ReadFile(filepath.Join("testdata", "pkcs12", "aes-secret.p12"))
	if err != nil {
		t.Fatal(err)
	}
	var p pfx
	if _, err := asn1.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	p.MacData.Iterations = 1<<31 - 1
	bomb, err := asn1.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bomb.p12")
	if err := os.WriteFile(path, bomb, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPKCS12IterationBound$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GIOTLS_PKCS12_BOMB="+path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	const bound = 10 * time.Second
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("loading the file: %v\n%s", err, out.Bytes())
		}
	case <-time.After(bound):
		cmd.Process.Kill()
		<-exited
		t.Errorf("NewCertificateFromPKCS12 still deriving keys after %v for a file asking 2^31-1 iterations", bound)
	}
}
