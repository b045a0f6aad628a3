package testpki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
	"time"
)

func TestChainVerifies(t *testing.T) {
	root := MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	leaf := inter.MustLeaf(t, "leaf", DNSNames("example.com"), IPAddresses("192.0.2.1", "::1"))
	if len(leaf.Chain) != 2 || leaf.Chain[1] != inter.Cert {
		t.Fatalf("chain = %d certificates, want leaf and intermediate", len(leaf.Chain))
	}
	inters := x509.NewCertPool()
	inters.AddCert(inter.Cert)
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: root.Pool(), Intermediates: inters}); err != nil {
		t.Fatal(err)
	}
	if got := len(leaf.Cert.IPAddresses); got != 2 {
		t.Errorf("IP SANs = %d, want 2", got)
	}
	tc := leaf.TLSCertificate()
	if len(tc.Certificate) != 2 || tc.PrivateKey == nil {
		t.Errorf("TLSCertificate has %d certificates", len(tc.Certificate))
	}
	if _, err := tls.X509KeyPair(leaf.ChainPEM(), leaf.KeyPEM()); err != nil {
		t.Errorf("PEM pair: %v", err)
	}
}

func TestOptions(t *testing.T) {
	root := MustCA(t, "Root", Key(RSA2048))
	cases := []struct {
		name  string
		opts  []Option
		check func(*x509.Certificate) bool
	}{
		{"expired", []Option{Expired()}, func(c *x509.Certificate) bool { return c.NotAfter.Before(time.Now()) }},
		{"not yet valid", []Option{NotYetValid()}, func(c *x509.Certificate) bool { return c.NotBefore.After(time.Now()) }},
		{"sha1", []Option{SignatureAlgorithm(x509.SHA1WithRSA)}, func(c *x509.Certificate) bool { return c.SignatureAlgorithm == x509.SHA1WithRSA }},
		{"md5", []Option{SignatureAlgorithm(x509.MD5WithRSA)}, func(c *x509.Certificate) bool {
			return c.SignatureAlgorithm == x509.MD5WithRSA && c.CheckSignatureFrom(root.Cert) != nil
		}},
		{"pss", []Option{SignatureAlgorithm(x509.SHA256WithRSAPSS)}, func(c *x509.Certificate) bool {
			return c.SignatureAlgorithm == x509.SHA256WithRSAPSS && c.CheckSignatureFrom(root.Cert) == nil
		}},
		{"rsa1024", []Option{Key(RSA1024)}, func(c *x509.Certificate) bool { return c.PublicKeyAlgorithm == x509.RSA }},
		{"ed25519", []Option{Key(Ed25519)}, func(c *x509.Certificate) bool { return c.PublicKeyAlgorithm == x509.Ed25519 }},
		{"client only", []Option{ExtKeyUsage(x509.ExtKeyUsageClientAuth)}, func(c *x509.Certificate) bool {
			return len(c.ExtKeyUsage) == 1 && c.ExtKeyUsage[0] == x509.ExtKeyUsageClientAuth
		}},
		{"no eku", []Option{ExtKeyUsage()}, func(c *x509.Certificate) bool { return len(c.ExtKeyUsage) == 0 }},
		{"critical", []Option{UnhandledCriticalExtension()}, func(c *x509.Certificate) bool { return len(c.UnhandledCriticalExtensions) == 1 }},
		{"subject", []Option{CommonName("cn"), Organization("org")}, func(c *x509.Certificate) bool {
			return c.Subject.CommonName == "cn" && c.Subject.Organization[0] == "org"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaf := root.MustLeaf(t, "leaf", tc.opts...)
			if !tc.check(leaf.Cert) {
				t.Errorf("option not applied")
			}
		})
	}
}

func TestCAOptions(t *testing.T) {
	root := MustCA(t, "Root")
	notCA := root.MustIntermediate(t, "NotCA", IsCA(false))
	if notCA.Cert.IsCA {
		t.Error("IsCA(false) ignored")
	}
	leaf := notCA.MustLeaf(t, "leaf")
	if err := leaf.Cert.CheckSignatureFrom(notCA.Cert); err == nil {
		t.Error("crypto/x509 accepted a signature from a non-CA")
	}
	nc := root.MustIntermediate(t, "NC", PermittedDNSDomains("good.test"), ExcludedDNSDomains("bad.good.test"))
	if len(nc.Cert.PermittedDNSDomains) != 1 || len(nc.Cert.ExcludedDNSDomains) != 1 {
		t.Error("name constraints missing")
	}
	a := MustCA(t, "A")
	b := MustCA(t, "B")
	ab, err := a.CrossSign(b)
	if err != nil {
		t.Fatal(err)
	}
	if ab.Subject.CommonName != "B" || ab.CheckSignatureFrom(a.Cert) != nil {
		t.Error("cross-signed certificate wrong")
	}
}

func TestCRLAndFiles(t *testing.T) {
	root := MustCA(t, "Root")
	leaf := root.MustLeaf(t, "leaf")
	p, err := root.CRL(leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(p)
	crl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(root.Cert); err != nil {
		t.Fatal(err)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.Cert.SerialNumber) != 0 {
		t.Error("CRL does not list the leaf")
	}
	dir := t.TempDir()
	certFile, keyFile, caFile, err := leaf.WriteFiles(dir, "srv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Error(err)
	}
	if b, err := os.ReadFile(caFile); err != nil || string(b) != string(root.CertPEM()) {
		t.Errorf("CA file: %v", err)
	}
}
