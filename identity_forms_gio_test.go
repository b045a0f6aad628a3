package giotls

import (
	"context"
	"os/exec"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestIdentityFormsAgainstGIO verifies leaves against server identities
// written in every form a user may give (case, trailing dot, Unicode and
// punycode, wildcards over IDN labels, IPv4-mapped and zoned addresses,
// numbers that only look like addresses) with giotls and with GIO's own
// file database (/usr/bin/python3 and gi): where GIO finds the identity
// wrong, giotls must too, except where it reads the same name or address
// more carefully than GnuTLS (deliberate: a trailing dot, SEMANTICS.md; an
// IPv4-mapped, bracketed or zoned address is the address the connection
// reaches, and a certificate cannot name a zone). It may be stricter;
// those cases are logged.
func TestIdentityFormsAgainstGIO(t *testing.T) {
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Fatalf("GIO reference not installed (apt-get install -y python3-gi glib-networking): %v", err)
	}
	root := testpki.MustCA(t, "Root")
	leaf := func(opts ...testpki.Option) []byte {
		return testpki.EncodeCertificates(root.MustLeaf(t, "s", opts...).Cert)
	}
	dns := func(names ...string) []byte { return leaf(testpki.DNSNames(names...)) }
	ips := func(addrs ...string) []byte { return leaf(testpki.IPAddresses(addrs...)) }
	cases := []struct {
		name       string
		pem        []byte
		host       string
		deliberate bool // giotls matches the same name or address GIO does not
	}{
		{"upper-case-host", dns("www.example.com"), "WWW.EXAMPLE.COM", false},
		{"upper-case-san", dns("WWW.Example.COM"), "www.example.com", false},
		{"trailing-dot-host", dns("www.example.com"), "www.example.com.", true},
		{"trailing-dot-san", dns("www.example.com."), "www.example.com", false},
		{"unicode-host", dns("xn--bcher-kva.example"), "bücher.example", false},
		{"unicode-upper-host", dns("xn--bcher-kva.example"), "BÜCHER.example", false},
		{"punycode-host", dns("xn--bcher-kva.example"), "xn--bcher-kva.example", false},
		{"transitional-sharp-s", dns("fass.example"), "faß.example", false},
		{"wildcard-over-a-label", dns("*.example.com"), "xn--bcher-kva.example.com", false},
		{"wildcard-over-u-label", dns("*.example.com"), "bücher.example.com", false},
		{"wildcard-in-a-label", dns("xn--*.example.com"), "xn--bcher-kva.example.com", false},
		{"partial-wildcard", dns("b*.example.com"), "bar.example.com", false},
		{"wildcard-tld", dns("*.com"), "example.com", false},
		{"wildcard-bare-domain", dns("*.example.com"), "example.com", false},
		{"wildcard-two-labels", dns("*.example.com"), "a.b.example.com", false},
		{"wildcard-host", dns("*.example.com"), "*.example.com", false},
		{"ip-in-dns-san", dns("127.0.0.1"), "127.0.0.1", false},
		{"ipv4-mapped-host", ips("127.0.0.1"), "::ffff:127.0.0.1", true},
		{"bracketed-ipv6-host", ips("::1"), "[::1]", true},
		{"zoned-host", ips("fe80::1"), "fe80::1%lo", true},
		{"leading-zero-ipv4-host", ips("10.0.0.1"), "10.0.0.01", false},
		{"decimal-ipv4-host", ips("127.0.0.1"), "2130706433", false},
		{"short-ipv4-host", ips("127.0.0.1"), "127.1", false},
		{"ipv6-expanded-host", ips("2001:db8::1"), "2001:0db8:0000:0000:0000:0000:0000:0001", false},
		{"empty-label-host", dns("a..example.com"), "a..example.com", false},
	}
	var chains []gioChain
	for _, tc := range cases {
		chains = append(chains, gioChain{tc.name, tc.pem, tc.host})
	}
	ctx := context.Background()
	gio, db := gioVerifyChain(t, python, testpki.EncodeCertificates(root.Cert), chains)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, ok := gio[tc.name]
			if !ok {
				t.Fatal("GIO gave no answer")
			}
			chain, err := NewCertificateFromPEM(tc.pem)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.VerifyChain(ctx, chain, PurposeServer, NewNetworkAddress(tc.host, 443), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.deliberate {
				if got != 0 || g != CertificateBadIdentity {
					t.Errorf("giotls: %v, GIO: %v; want none and bad-identity (the deliberate difference)", got, g)
				}
				return
			}
			if g&CertificateBadIdentity != 0 && got&CertificateBadIdentity == 0 {
				t.Errorf("giotls: %v, GIO: %v; giotls accepts an identity GIO refuses", got, g)
			} else if got != g {
				t.Logf("giotls: %v, GIO: %v (stricter)", got, g)
			}
		})
	}
}
