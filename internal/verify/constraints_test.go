package verify

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestVerifyNameConstraints checks name constraints beyond the plain DNS
// cases of TestVerify: a wildcard name against the excluded names it could
// stand for (RFC 5280, section 4.2.1.10, as crypto/x509 reads it), and the
// email and URI constraints.
func TestVerifyNameConstraints(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	ca := func(opts ...testpki.Option) *testpki.CA { return root.MustIntermediate(t, "Constrained", opts...) }
	excluding := func(names ...string) *testpki.CA { return ca(testpki.ExcludedDNSDomains(names...)) }
	emailCA := ca(testpki.EmailConstraints([]string{"good.test", ".good.test", "boss@else.test"}, []string{"spy@good.test"}))
	uriCA := ca(testpki.URIConstraints([]string{".good.test"}, []string{"bad.good.test"}))

	cases := []struct {
		name string
		ca   *testpki.CA
		opts []testpki.Option
		host string
		want Flags
	}{
		{"wildcard above excluded name", excluding("secret.example.com"), []testpki.Option{testpki.DNSNames("*.example.com")}, "secret.example.com", GenericError},
		{"wildcard above excluded name, other host", excluding("secret.example.com"), []testpki.Option{testpki.DNSNames("*.example.com")}, "www.example.com", GenericError},
		{"deeper wildcard above excluded name", excluding("b.a.example.com"), []testpki.Option{testpki.DNSNames("*.a.example.com")}, "b.a.example.com", GenericError},
		{"wildcard above excluded name, upper case", excluding("Secret.Example.COM"), []testpki.Option{testpki.DNSNames("*.EXAMPLE.com")}, "secret.example.com", GenericError},
		{"wildcard out of reach of excluded name", excluding("deep.secret.example.com"), []testpki.Option{testpki.DNSNames("*.example.com")}, "www.example.com", 0},
		{"wildcard beside excluded domain", excluding(".secret.example.com"), []testpki.Option{testpki.DNSNames("*.example.com")}, "www.example.com", 0},
		{"wildcard of a sibling", excluding("secret.example.com"), []testpki.Option{testpki.DNSNames("*.other.example.com")}, "a.other.example.com", 0},
		{"plain name beside excluded name", excluding("secret.example.com"), []testpki.Option{testpki.DNSNames("www.example.com")}, "www.example.com", 0},

		{"email host permitted", emailCA, []testpki.Option{testpki.DNSNames("h.test"), testpki.EmailAddresses("me@good.test")}, "h.test", 0},
		{"email below permitted domain", emailCA, []testpki.Option{testpki.DNSNames("h.test"), testpki.EmailAddresses("me@mail.good.test")}, "h.test", 0},
		{"email mailbox permitted", emailCA, []testpki.Option{testpki.DNSNames("h.test"), testpki.EmailAddresses("boss@else.test")}, "h.test", 0},
		{"email not permitted", emailCA, []testpki.Option{testpki.DNSNames("h.test"), testpki.EmailAddresses("me@evil.test")}, "h.test", GenericError},
		{"email mailbox not permitted", emailCA, []testpki.Option{testpki.DNSNames("h.test"), testpki.EmailAddresses("clerk@else.test")}, "h.test", GenericError},
		{"email excluded", emailCA, []testpki.Option{testpki.DNSNames("h.test"), testpki.EmailAddresses("spy@good.test")}, "h.test", GenericError},
		{"URI permitted", uriCA, []testpki.Option{testpki.DNSNames("h.test"), testpki.URIs("https://www.good.test/x")}, "h.test", 0},
		{"URI not permitted", uriCA, []testpki.Option{testpki.DNSNames("h.test"), testpki.URIs("https://evil.test/x")}, "h.test", GenericError},
		{"URI excluded", uriCA, []testpki.Option{testpki.DNSNames("h.test"), testpki.URIs("https://bad.good.test/")}, "h.test", GenericError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaf := tc.ca.MustLeaf(t, "leaf", tc.opts...)
			res, err := Verify(context.Background(), &Options{
				Chain: leaf.Chain, Store: NewStore(certs(root.Cert), nil),
				Identity: Identity{Host: tc.host}, CheckIdentity: true, Purpose: serverAuth,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Flags != tc.want {
				t.Errorf("flags = %#x, want %#x", res.Flags, tc.want)
			}
			// crypto/x509 must agree: we are never more lenient, and these
			// chains have nothing else for us to be stricter about.
			inter := x509.NewCertPool()
			inter.AddCert(tc.ca.Cert)
			_, err = leaf.Cert.Verify(x509.VerifyOptions{DNSName: tc.host, Roots: root.Pool(), Intermediates: inter})
			if (err == nil) != (tc.want == 0) {
				t.Errorf("crypto/x509 says %v", err)
			}
		})
	}
}
