package verify

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"net/netip"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

var serverAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}

type pkiCase struct {
	chain   []*x509.Certificate
	anchors []*x509.Certificate
	crls    []*x509.RevocationList
	id      Identity
	noCheck bool // do not check the identity
	purpose asn1.ObjectIdentifier
}

func crlOf(t *testing.T, ca *testpki.CA, revoked ...*x509.Certificate) *x509.RevocationList {
	t.Helper()
	p, err := ca.CRL(revoked...)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(p)
	l, err := x509.ParseRevocationList(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func certs(cs ...*x509.Certificate) []*x509.Certificate { return cs }

func TestVerify(t *testing.T) {
	host := Identity{Host: "example.com"}
	dns := testpki.DNSNames("example.com")
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	leaf := inter.MustLeaf(t, "leaf", dns)
	rootLeaf := root.MustLeaf(t, "leaf", dns)
	other := testpki.MustCA(t, "Other Root")

	rsaRoot := testpki.MustCA(t, "RSA Root", testpki.Key(testpki.RSA2048))
	sha1Inter := rsaRoot.MustIntermediate(t, "SHA-1 Inter", testpki.SignatureAlgorithm(x509.SHA1WithRSA))
	sha1Root := testpki.MustCA(t, "SHA-1 Root", testpki.Key(testpki.RSA2048), testpki.SignatureAlgorithm(x509.SHA1WithRSA))
	impostor := testpki.MustCA(t, "Root") // same name as root, another key

	// X and Y issue each other: a cycle.
	x := testpki.MustCA(t, "X")
	y := testpki.MustCA(t, "Y")
	xByY, err := y.CrossSign(x)
	if err != nil {
		t.Fatal(err)
	}
	yByX, err := x.CrossSign(y)
	if err != nil {
		t.Fatal(err)
	}
	xLeaf := x.MustLeaf(t, "leaf", dns)

	inter1 := root.MustIntermediate(t, "Inter 1")
	inter2 := inter1.MustIntermediate(t, "Inter 2")
	deepLeaf := inter2.MustLeaf(t, "leaf", dns)

	reissuedRoot := testpki.MustCA(t, "Root", testpki.WithSigner(root.Key))
	notCA := root.MustIntermediate(t, "Not a CA", testpki.IsCA(false))
	noCertSign := root.MustIntermediate(t, "No certSign", testpki.KeyUsage(x509.KeyUsageDigitalSignature))
	pathLenRoot := testpki.MustCA(t, "PathLen Root", testpki.MaxPathLen(0))
	pathLenInter := pathLenRoot.MustIntermediate(t, "Inter")
	constrained := root.MustIntermediate(t, "Constrained", testpki.PermittedDNSDomains("good.test"))
	excluding := root.MustIntermediate(t, "Excluding", testpki.ExcludedDNSDomains("bad.test"))
	ipConstrained := root.MustIntermediate(t, "IP constrained", testpki.PermittedIPRanges("10.0.0.0/8"))
	expiredInter := root.MustIntermediate(t, "Expired Inter", testpki.Expired())
	futureInter := root.MustIntermediate(t, "Future Inter", testpki.NotYetValid())
	expiredRoot := testpki.MustCA(t, "Expired Root", testpki.Expired())
	clientInter := root.MustIntermediate(t, "Client Inter", testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))
	selfSigned := testpki.MustCA(t, "example.com", dns)

	revokedLeaf := inter.MustLeaf(t, "leaf", dns)
	crl := crlOf(t, inter, revokedLeaf.Cert)
	forgedCRL := crlOf(t, impostor, rootLeaf.Cert)
	interCRL := crlOf(t, root, inter.Cert)

	cases := []struct {
		name string
		c    pkiCase
		want Flags
	}{
		{"good direct", pkiCase{chain: certs(rootLeaf.Cert), anchors: certs(root.Cert), id: host}, 0},
		{"good in order", pkiCase{chain: leaf.Chain, anchors: certs(root.Cert), id: host}, 0},
		{"unordered", pkiCase{chain: certs(deepLeaf.Cert, inter1.Cert, inter2.Cert), anchors: certs(root.Cert), id: host}, 0},
		{"redundant root", pkiCase{chain: certs(leaf.Cert, inter.Cert, root.Cert), anchors: certs(root.Cert), id: host}, 0},
		{"duplicated leaf", pkiCase{chain: certs(leaf.Cert, leaf.Cert, inter.Cert), anchors: certs(root.Cert), id: host}, 0},
		{"unrelated extras", pkiCase{chain: certs(leaf.Cert, other.Cert, x.Cert, inter.Cert), anchors: certs(root.Cert), id: host}, 0},
		{"missing intermediate in store", pkiCase{chain: certs(leaf.Cert), anchors: certs(root.Cert, inter.Cert), id: host}, 0},
		{"missing intermediate", pkiCase{chain: certs(leaf.Cert), anchors: certs(root.Cert), id: host}, UnknownCA},
		{"unknown CA", pkiCase{chain: leaf.Chain, anchors: certs(other.Cert), id: host}, UnknownCA},
		{"no anchors", pkiCase{chain: leaf.Chain, id: host}, UnknownCA},
		{"peer-sent untrusted root", pkiCase{chain: certs(leaf.Cert, inter.Cert, root.Cert), anchors: certs(other.Cert), id: host}, UnknownCA},
		{"self-signed trusted", pkiCase{chain: certs(selfSigned.Cert), anchors: certs(selfSigned.Cert), id: host}, 0},
		{"self-signed untrusted", pkiCase{chain: certs(selfSigned.Cert), id: host}, UnknownCA},
		{"anchor by subject and key", pkiCase{chain: certs(leaf.Cert, inter.Cert, root.Cert), anchors: certs(reissuedRoot.Cert), id: host}, 0},
		{"impostor anchor", pkiCase{chain: leaf.Chain, anchors: certs(impostor.Cert), id: host}, UnknownCA},

		{"bad identity", pkiCase{chain: leaf.Chain, anchors: certs(root.Cert), id: Identity{Host: "other.com"}}, BadIdentity},
		{"no identity", pkiCase{chain: leaf.Chain, anchors: certs(root.Cert)}, BadIdentity},
		{"identity not checked", pkiCase{chain: leaf.Chain, anchors: certs(root.Cert), noCheck: true}, 0},
		{"not activated", pkiCase{chain: certs(root.MustLeaf(t, "l", dns, testpki.NotYetValid()).Cert), anchors: certs(root.Cert), id: host}, NotActivated},
		{"expired", pkiCase{chain: certs(root.MustLeaf(t, "l", dns, testpki.Expired()).Cert), anchors: certs(root.Cert), id: host}, Expired},
		{"expired intermediate", pkiCase{chain: expiredInter.MustLeaf(t, "l", dns).Chain, anchors: certs(root.Cert), id: host}, Expired},
		{"not activated intermediate", pkiCase{chain: futureInter.MustLeaf(t, "l", dns).Chain, anchors: certs(root.Cert), id: host}, NotActivated},
		{"expired anchor", pkiCase{chain: expiredRoot.MustLeaf(t, "l", dns).Chain, anchors: certs(expiredRoot.Cert), id: host}, Expired},
		{"expired, wrong host, unknown CA", pkiCase{chain: certs(other.MustLeaf(t, "l", dns, testpki.Expired()).Cert), anchors: certs(root.Cert), id: Identity{Host: "wrong.example"}},
			UnknownCA | BadIdentity | Expired},
		{"expired unanchored intermediate", pkiCase{chain: expiredInter.MustLeaf(t, "l", dns).Chain, anchors: certs(other.Cert), id: host}, UnknownCA | Expired},

		{"SHA-1 intermediate", pkiCase{chain: sha1Inter.MustLeaf(t, "l", dns).Chain, anchors: certs(rsaRoot.Cert), id: host}, Insecure},
		{"SHA-1 leaf", pkiCase{chain: certs(rsaRoot.MustLeaf(t, "l", dns, testpki.SignatureAlgorithm(x509.SHA1WithRSA)).Cert), anchors: certs(rsaRoot.Cert), id: host}, Insecure},
		{"MD5 leaf", pkiCase{chain: certs(rsaRoot.MustLeaf(t, "l", dns, testpki.SignatureAlgorithm(x509.MD5WithRSA)).Cert), anchors: certs(rsaRoot.Cert), id: host}, Insecure},
		{"ECDSA SHA-1 leaf", pkiCase{chain: certs(root.MustLeaf(t, "l", dns, testpki.SignatureAlgorithm(x509.ECDSAWithSHA1)).Cert), anchors: certs(root.Cert), id: host}, Insecure},
		{"SHA-1 self-signed anchor", pkiCase{chain: sha1Root.MustLeaf(t, "l", dns).Chain, anchors: certs(sha1Root.Cert), id: host}, 0},
		{"RSA-1024 leaf", pkiCase{chain: certs(root.MustLeaf(t, "l", dns, testpki.Key(testpki.RSA1024)).Cert), anchors: certs(root.Cert), id: host}, Insecure},
		{"RSA-2048 PSS", pkiCase{chain: certs(rsaRoot.MustLeaf(t, "l", dns, testpki.SignatureAlgorithm(x509.SHA256WithRSAPSS)).Cert), anchors: certs(rsaRoot.Cert), id: host}, 0},
		{"Ed25519", pkiCase{chain: certs(testpki.MustCA(t, "Ed", testpki.Key(testpki.Ed25519)).MustLeaf(t, "l", dns, testpki.Key(testpki.Ed25519)).Cert), anchors: nil, id: host}, UnknownCA},

		{"revoked", pkiCase{chain: revokedLeaf.Chain, anchors: certs(root.Cert), crls: []*x509.RevocationList{crl}, id: host}, Revoked},
		{"CRL of another leaf", pkiCase{chain: leaf.Chain, anchors: certs(root.Cert), crls: []*x509.RevocationList{crl}, id: host}, 0},
		{"forged CRL", pkiCase{chain: certs(rootLeaf.Cert), anchors: certs(root.Cert), crls: []*x509.RevocationList{forgedCRL}, id: host}, 0},
		{"revoked intermediate", pkiCase{chain: leaf.Chain, anchors: certs(root.Cert), crls: []*x509.RevocationList{interCRL}, id: host}, Revoked},

		{"clientAuth-only leaf", pkiCase{chain: certs(root.MustLeaf(t, "l", dns, testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth)).Cert), anchors: certs(root.Cert), id: host, purpose: serverAuth}, GenericError},
		{"no EKU leaf", pkiCase{chain: certs(root.MustLeaf(t, "l", dns, testpki.ExtKeyUsage()).Cert), anchors: certs(root.Cert), id: host, purpose: serverAuth}, 0},
		{"any EKU leaf", pkiCase{chain: certs(root.MustLeaf(t, "l", dns, testpki.ExtKeyUsage(x509.ExtKeyUsageAny)).Cert), anchors: certs(root.Cert), id: host, purpose: serverAuth}, 0},
		{"clientAuth-only intermediate", pkiCase{chain: clientInter.MustLeaf(t, "l", dns).Chain, anchors: certs(root.Cert), id: host, purpose: serverAuth}, GenericError},
		{"not-a-CA issuer", pkiCase{chain: notCA.MustLeaf(t, "l", dns).Chain, anchors: certs(root.Cert), id: host}, GenericError},
		{"issuer without certSign", pkiCase{chain: noCertSign.MustLeaf(t, "l", dns).Chain, anchors: certs(root.Cert), id: host}, GenericError},
		{"path length exceeded", pkiCase{chain: pathLenInter.MustLeaf(t, "l", dns).Chain, anchors: certs(pathLenRoot.Cert), id: host}, GenericError},
		{"path length respected", pkiCase{chain: certs(pathLenRoot.MustLeaf(t, "l", dns).Cert), anchors: certs(pathLenRoot.Cert), id: host}, 0},
		{"name constraints violated", pkiCase{chain: constrained.MustLeaf(t, "l", testpki.DNSNames("bad.test")).Chain, anchors: certs(root.Cert), id: Identity{Host: "bad.test"}}, GenericError},
		{"name constraints respected", pkiCase{chain: constrained.MustLeaf(t, "l", testpki.DNSNames("www.good.test")).Chain, anchors: certs(root.Cert), id: Identity{Host: "www.good.test"}}, 0},
		{"excluded name", pkiCase{chain: excluding.MustLeaf(t, "l", testpki.DNSNames("x.bad.test", "example.com")).Chain, anchors: certs(root.Cert), id: host}, GenericError},
		{"excluded wildcard", pkiCase{chain: excluding.MustLeaf(t, "l", testpki.DNSNames("*.bad.test")).Chain, anchors: certs(root.Cert), id: Identity{Host: "a.bad.test"}}, GenericError},
		{"IP constraint violated", pkiCase{chain: ipConstrained.MustLeaf(t, "l", testpki.IPAddresses("192.0.2.1")).Chain, anchors: certs(root.Cert), id: Identity{IP: netip.MustParseAddr("192.0.2.1")}}, GenericError},
		{"IP constraint respected", pkiCase{chain: ipConstrained.MustLeaf(t, "l", testpki.IPAddresses("10.1.2.3")).Chain, anchors: certs(root.Cert), id: Identity{IP: netip.MustParseAddr("10.1.2.3")}}, 0},
		{"unhandled critical extension", pkiCase{chain: certs(root.MustLeaf(t, "l", dns, testpki.UnhandledCriticalExtension()).Cert), anchors: certs(root.Cert), id: host}, GenericError},

		{"cycle, untrusted", pkiCase{chain: certs(xLeaf.Cert, xByY, yByX), anchors: certs(other.Cert), id: host}, UnknownCA},
		{"cycle, trusted", pkiCase{chain: certs(xLeaf.Cert, xByY, yByX), anchors: certs(y.Cert), id: host}, 0},

		{"IP identity, IP SAN", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.IPAddresses("127.0.0.1", "::1")).Cert), anchors: certs(root.Cert), id: Identity{IP: netip.MustParseAddr("::1")}}, 0},
		{"IPv4-mapped identity", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.IPAddresses("127.0.0.1")).Cert), anchors: certs(root.Cert), id: Identity{IP: netip.MustParseAddr("::ffff:127.0.0.1")}}, 0},
		{"IP identity, DNS-only cert", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.DNSNames("127.0.0.1", "localhost")).Cert), anchors: certs(root.Cert), id: Identity{IP: netip.MustParseAddr("127.0.0.1")}}, BadIdentity},
		{"host identity, IP-only cert", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.IPAddresses("127.0.0.1")).Cert), anchors: certs(root.Cert), id: Identity{Host: "localhost"}}, BadIdentity},
		{"trailing dot in certificate", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.DNSNames("example.com.")).Cert), anchors: certs(root.Cert), id: host}, 0},
		{"upper case in certificate", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.DNSNames("EXAMPLE.com")).Cert), anchors: certs(root.Cert), id: host}, 0},
		{"no common name fallback", pkiCase{chain: certs(root.MustLeaf(t, "example.com").Cert), anchors: certs(root.Cert), id: host}, BadIdentity},
		{"wildcard", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.DNSNames("*.example.com")).Cert), anchors: certs(root.Cert), id: Identity{Host: "www.example.com"}}, 0},
		{"wildcard, two labels", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.DNSNames("*.example.com")).Cert), anchors: certs(root.Cert), id: Identity{Host: "a.b.example.com"}}, BadIdentity},
		{"wildcard, bare domain", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.DNSNames("*.example.com")).Cert), anchors: certs(root.Cert), id: host}, BadIdentity},
		{"wildcard TLD", pkiCase{chain: certs(root.MustLeaf(t, "l", testpki.DNSNames("*.com")).Cert), anchors: certs(root.Cert), id: host}, BadIdentity},

		{"everything", pkiCase{chain: certs(other.MustLeaf(t, "l", testpki.Expired(), testpki.Key(testpki.RSA1024), testpki.UnhandledCriticalExtension()).Cert), anchors: certs(root.Cert), id: host},
			UnknownCA | BadIdentity | Expired | Insecure | GenericError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(context.Background(), &Options{
				Chain:         tc.c.chain,
				Store:         NewStore(tc.c.anchors, tc.c.crls),
				Identity:      tc.c.id,
				CheckIdentity: !tc.c.noCheck,
				Purpose:       tc.c.purpose,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Flags != tc.want {
				t.Errorf("flags = %#x, want %#x (path of %d, anchored %v)", res.Flags, tc.want, len(res.Path), res.Anchored)
			}
		})
	}
}

func TestVerifyCancelled(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	leaf := root.MustLeaf(t, "l")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, &Options{Chain: leaf.Chain, Store: NewStore(certs(root.Cert), nil)}); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestVerifyManyCrossSigned gives the builder a dense web of CAs that all
// issue one another, which must end quickly with the budget, not hang.
func TestVerifyManyCrossSigned(t *testing.T) {
	const n = 8
	cas := make([]*testpki.CA, n)
	for i := range cas {
		cas[i] = testpki.MustCA(t, "Web")
	}
	var chain []*x509.Certificate
	leaf := cas[0].MustLeaf(t, "leaf")
	chain = append(chain, leaf.Cert)
	for i := range cas {
		for j := range cas {
			if i != j {
				c, err := cas[i].CrossSign(cas[j])
				if err != nil {
					t.Fatal(err)
				}
				chain = append(chain, c)
			}
		}
	}
	start := time.Now()
	res, err := Verify(context.Background(), &Options{Chain: chain, Store: NewStore(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Flags&UnknownCA == 0 {
		t.Errorf("flags = %#x, want unknown-ca", res.Flags)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}
