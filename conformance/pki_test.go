package conformance

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// pki is the throwaway PKI every scenario draws from, written to files both
// clients read.
type pki struct {
	t   *testing.T
	dir string

	root        *testpki.CA // trusted
	inter       *testpki.CA // below root
	second      *testpki.CA // trusted too: a second accepted CA
	other       *testpki.CA // not trusted
	rsaRoot     *testpki.CA // trusted, RSA: signs SHA-1 and MD5 intermediates
	pathLenRoot *testpki.CA // trusted, path length 0
	lonely      *testpki.CA // an intermediate the database holds
	revoked     *testpki.Leaf

	anchors string // the trust anchors (and a CRL revoking revoked)
	client  *testpki.Leaf
	// clientCert, clientKey are client's files.
	clientCert, clientKey string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{t: t, dir: t.TempDir()}
	p.root = testpki.MustCA(t, "Conformance Root")
	p.inter = p.root.MustIntermediate(t, "Conformance Intermediate")
	p.second = testpki.MustCA(t, "Conformance Second Root")
	p.other = testpki.MustCA(t, "Untrusted Root")
	p.rsaRoot = testpki.MustCA(t, "Conformance RSA Root", testpki.Key(testpki.RSA2048))
	p.pathLenRoot = testpki.MustCA(t, "Conformance PathLen Root", testpki.MaxPathLen(0))
	p.lonely = p.root.MustIntermediate(t, "Conformance Database Intermediate")
	p.revoked = p.inter.MustLeaf(t, "revoked", testpki.DNSNames("localhost"))
	crl, err := p.inter.CRL(p.revoked.Cert)
	if err != nil {
		t.Fatal(err)
	}
	anchors := testpki.EncodeCertificates(p.root.Cert, p.second.Cert, p.rsaRoot.Cert, p.pathLenRoot.Cert, p.lonely.Cert)
	p.anchors = p.write("anchors.pem", append(anchors, crl...))
	p.client = p.second.MustLeaf(t, "conformance client")
	p.clientCert, p.clientKey, _, err = p.client.WriteFiles(p.dir, "client")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pki) write(name string, data []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// leaf is a localhost server certificate from inter.
func (p *pki) leaf(opts ...testpki.Option) *testpki.Leaf {
	p.t.Helper()
	return p.inter.MustLeaf(p.t, "localhost", append([]testpki.Option{testpki.DNSNames("localhost")}, opts...)...)
}

// serverCert is a chain as a server sends it, in any order, and its key.
type serverCert struct {
	chain []*x509.Certificate
	key   crypto.Signer
}

func certOf(l *testpki.Leaf) serverCert { return serverCert{l.Chain, l.Key} }

func (c serverCert) tls() tls.Certificate {
	tc := tls.Certificate{PrivateKey: c.key, Leaf: c.chain[0]}
	for _, x := range c.chain {
		tc.Certificate = append(tc.Certificate, x.Raw)
	}
	return tc
}
