package verify

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"net/netip"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// ipSAN returns a subjectAltName extension holding the iPAddress ips
// exactly as given: 16 bytes for an IPv4-mapped IPv6 address, which
// crypto/x509 would write as 4.
func ipSAN(tb testing.TB, ips ...net.IP) pkix.Extension {
	tb.Helper()
	var names []asn1.RawValue
	for _, ip := range ips {
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 7, Bytes: ip})
	}
	der, err := asn1.Marshal(names)
	if err != nil {
		tb.Fatal(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: der}
}

// TestNameConstraintsNeverMoreLenient: email, URI, IP and malformed DNS
// names against name constraints (RFC 5280, section 4.2.1.10), where
// internal/verify once accepted what crypto/x509 refuses. Certificate.Verify
// has no second opinion from crypto/x509, so these checks are all there is.
// Each case states what crypto/x509 says, and the test checks that too.
func TestNameConstraintsNeverMoreLenient(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	mapped := net.ParseIP("::ffff:10.1.2.3") // 16 bytes
	cases := []struct {
		name       string
		ca, leaf   []testpki.Option
		host       string
		x509Refuse bool
	}{
		// crypto/x509 reads an email host constraint as a domain and its
		// subdomains; excluded, that is the reading to follow.
		{"email below excluded host", []testpki.Option{testpki.EmailConstraints(nil, []string{"example.com"})},
			[]testpki.Option{testpki.EmailAddresses("a@x.example.com")}, "www.good.com", true},
		// The local part of a mailbox is case-sensitive (RFC 5321, 2.4).
		{"email permitted mailbox, other case", []testpki.Option{testpki.EmailConstraints([]string{"Admin@example.com"}, nil)},
			[]testpki.Option{testpki.EmailAddresses("admin@example.com")}, "www.good.com", true},
		{"email not a mailbox", []testpki.Option{testpki.EmailConstraints(nil, []string{"bad.com"})},
			[]testpki.Option{testpki.EmailAddresses("no-at-sign")}, "www.good.com", true},
		{"email quoted local part of excluded mailbox", []testpki.Option{testpki.EmailConstraints(nil, []string{"bad@example.com"})},
			[]testpki.Option{testpki.EmailAddresses(`"bad"@example.com`)}, "www.good.com", true},
		// crypto/x509 reads an excluded mailbox with a quoted local part
		// as the mailbox it quotes (RFC 5321, section 4.1.2).
		{"email, excluded mailbox quoted", []testpki.Option{testpki.EmailConstraints(nil, []string{`"me"@example.com`})},
			[]testpki.Option{testpki.EmailAddresses("me@example.com")}, "www.good.com", true},
		{"email, excluded mailbox quoted with a quoted pair", []testpki.Option{testpki.EmailConstraints(nil, []string{`"m\e"@example.com`})},
			[]testpki.Option{testpki.EmailAddresses("me@example.com")}, "www.good.com", true},
		{"URI with an IP host", []testpki.Option{testpki.URIConstraints(nil, []string{"bad.com"})},
			[]testpki.Option{testpki.URIs("https://10.0.0.1/")}, "www.good.com", true},
		{"URI with no host", []testpki.Option{testpki.URIConstraints(nil, []string{"bad.com"})},
			[]testpki.Option{testpki.URIs("urn:foo:bar")}, "www.good.com", true},
		{"malformed DNS name beside a good one", []testpki.Option{testpki.ExcludedDNSDomains("bad.com")},
			[]testpki.Option{testpki.DNSNames("www.good.com", "a..b")}, "www.good.com", true},
		// crypto/x509 compares an address only with ranges of its own length.
		{"IPv4 address, permitted IPv4-mapped range", []testpki.Option{testpki.PermittedIPRanges("::ffff:0:0/96")},
			[]testpki.Option{testpki.IPAddresses("10.1.2.3")}, "10.1.2.3", true},
		{"IPv4-mapped address, permitted IPv4 range", []testpki.Option{testpki.PermittedIPRanges("10.0.0.0/8")},
			[]testpki.Option{testpki.Extension(ipSAN(t, mapped))}, "10.1.2.3", true},
		// crypto/x509 admits an address only by the last range at or below
		// it, and a mapped range, read as IPv4, is not pruned under ::/0
		// (FuzzVerifyNameTypes found it in a CI run).
		{"IPv6 address above a mapped range beside ::/0", []testpki.Option{testpki.PermittedIPRanges("::ffff:0:0/96", "::/0")},
			[]testpki.Option{testpki.IPAddresses("2001:db8::1")}, "2001:db8::1", true},
		// Any name constraint makes crypto/x509 read every name below.
		{"URI with no host, DNS constraints only", []testpki.Option{testpki.ExcludedDNSDomains("bad.com")},
			[]testpki.Option{testpki.URIs("urn:foo:bar")}, "www.good.com", true},
		{"email not a mailbox, IP constraints only", []testpki.Option{testpki.ExcludedIPRanges("10.0.0.0/8")},
			[]testpki.Option{testpki.EmailAddresses("no-at-sign")}, "www.good.com", true},
		{"URI wildcard host above excluded name", []testpki.Option{testpki.URIConstraints(nil, []string{"secret.example.com"})},
			[]testpki.Option{testpki.URIs("https://*.example.com/")}, "www.good.com", true},

		// What crypto/x509 accepts, we still accept here.
		{"email below permitted domain", []testpki.Option{testpki.EmailConstraints([]string{".example.com"}, nil)},
			[]testpki.Option{testpki.EmailAddresses("a@x.example.com")}, "www.good.com", false},
		{"email permitted mailbox", []testpki.Option{testpki.EmailConstraints([]string{"Admin@Example.com"}, nil)},
			[]testpki.Option{testpki.EmailAddresses("Admin@example.COM")}, "www.good.com", false},
		{"email outside excluded host", []testpki.Option{testpki.EmailConstraints(nil, []string{"example.com"})},
			[]testpki.Option{testpki.EmailAddresses("a@xexample.com")}, "www.good.com", false},
		{"URI with a port", []testpki.Option{testpki.URIConstraints([]string{"good.com"}, nil)},
			[]testpki.Option{testpki.URIs("https://www.good.com:8443/x")}, "www.good.com", false},
		{"IPv4 address, permitted IPv4 range", []testpki.Option{testpki.PermittedIPRanges("10.0.0.0/8")},
			[]testpki.Option{testpki.IPAddresses("10.1.2.3")}, "10.1.2.3", false},
		{"IPv6 address, permitted IPv6 range", []testpki.Option{testpki.PermittedIPRanges("2001:db8::/32")},
			[]testpki.Option{testpki.IPAddresses("2001:db8::1")}, "2001:db8::1", false},
		{"IPv6 address, permitted ::/0", []testpki.Option{testpki.PermittedIPRanges("::/0")},
			[]testpki.Option{testpki.IPAddresses("2001:db8::1")}, "2001:db8::1", false},
		{"IPv6 address below a mapped range beside ::/0", []testpki.Option{testpki.PermittedIPRanges("::ffff:0:0/96", "::/0")},
			[]testpki.Option{testpki.IPAddresses("::1")}, "::1", false},
		// The search needs the ranges sorted by address (not by mask) and
		// a range pruned under the one before it that contains it.
		{"IPv4 address in the later of two ranges", []testpki.Option{testpki.PermittedIPRanges("10.1.0.0/16", "10.0.0.0/24")},
			[]testpki.Option{testpki.IPAddresses("10.1.2.3")}, "10.1.2.3", false},
		{"IPv4 address above a range pruned under another", []testpki.Option{testpki.PermittedIPRanges("10.0.0.0/8", "10.1.0.0/16")},
			[]testpki.Option{testpki.IPAddresses("10.2.0.1")}, "10.2.0.1", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ca := root.MustIntermediate(t, "Constrained", tc.ca...)
			opts := tc.leaf
			id := Identity{Host: tc.host}
			if ip, err := netip.ParseAddr(tc.host); err == nil {
				id = Identity{IP: ip}
			} else {
				opts = append(opts, testpki.DNSNames(tc.host))
			}
			leaf := ca.MustLeaf(t, "leaf", opts...)
			inter := x509.NewCertPool()
			inter.AddCert(ca.Cert)
			_, xerr := leaf.Cert.Verify(x509.VerifyOptions{DNSName: tc.host, Roots: root.Pool(), Intermediates: inter})
			if (xerr != nil) != tc.x509Refuse {
				t.Fatalf("crypto/x509 says %v; the case expects refused=%v", xerr, tc.x509Refuse)
			}
			res, err := Verify(context.Background(), &Options{
				Chain: leaf.Chain, Store: NewStore(certs(root.Cert), nil),
				Identity: id, CheckIdentity: true, Purpose: serverAuth,
			})
			if err != nil {
				t.Fatal(err)
			}
			want := Flags(0)
			if tc.x509Refuse {
				want = GenericError
			}
			if res.Flags != want {
				t.Errorf("flags = %#x, want %#x (crypto/x509: %v)", res.Flags, want, xerr)
			}
		})
	}
}
