package verify

import (
	"context"
	"crypto/x509"
	"net/url"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// Tests for the reading of names below a constrained CA
// (constraints_syntax.go) and for what reading them costs, each written
// against a mutant that scripts/mutate found living (file:line:column as
// gremlins reported it). Each verdict is also asked of crypto/x509, a name
// in a leaf below a CA with a name constraint, so that we are never more
// lenient than it, and never stricter where the mutant is.

// x509Reads reports whether crypto/x509 verifies a leaf carrying the
// given extra name below a CA that excludes an unrelated DNS domain: any
// name constraint makes it read every name below (constraints_syntax.go).
func x509Reads(t *testing.T, root, ca *testpki.CA, opt testpki.Option) bool {
	t.Helper()
	leaf := ca.MustLeaf(t, "leaf", testpki.DNSNames("www.good.test"), opt)
	inter := x509.NewCertPool()
	inter.AddCert(ca.Cert)
	_, err := leaf.Cert.Verify(x509.VerifyOptions{DNSName: "www.good.test", Roots: root.Pool(), Intermediates: inter})
	return err == nil
}

// TestValidDNSNameBytes: a label may hold any byte from '!' to '~', the
// bounds included (constraints_syntax.go:44:16 and 44:34, < and > turned
// into <= and >=), and none outside; every byte of every label is looked
// at (43:17, i < len(label) negated, which looked at none).
func TestValidDNSNameBytes(t *testing.T) {
	cases := []struct {
		name  string
		valid bool
	}{
		{"www.good.test", true},
		{"a!b.good.test", true},
		{"!.good.test", true},
		{"a~b.good.test", true},
		{"~.good.test", true},
		{"a b.good.test", false},
		{"www.good.test ", false},
		{"a\x7fb.good.test", false},
		{"a\x1fb.good.test", false},
		{"a..good.test", false},
		{"www.good.test.", false},
	}
	root := testpki.MustCA(t, "Root")
	ca := root.MustIntermediate(t, "Constrained", testpki.ExcludedDNSDomains("bad.test"))
	for _, tc := range cases {
		if got := validDNSName(tc.name); got != tc.valid {
			t.Errorf("validDNSName(%q) = %v, want %v", tc.name, got, tc.valid)
		}
		if x := x509Reads(t, root, ca, testpki.DNSNames(tc.name)); x != tc.valid {
			t.Errorf("crypto/x509 verdict on DNS name %q: accepted=%v; the case expects %v", tc.name, x, tc.valid)
		}
	}
}

// TestParseMailboxLocalPart: a dot-atom local part (RFC 5321, section
// 4.1.2; RFC 5322, section 3.2.3) may hold every letter and digit, the
// range ends included (constraints_syntax.go:71:23, 71:47, 71:61, 71:71,
// each <= turned into < or negated), and every atext character, the
// first of the list included (71:109, >= 0 turned into > 0); nothing
// else.
func TestParseMailboxLocalPart(t *testing.T) {
	// stricter: crypto/x509 accepts the address, we refuse it on purpose
	// (only a dot-atom local part, RFC 5321, section 4.1.2).
	type mailboxCase struct {
		addr     string
		valid    bool
		stricter bool
	}
	cases := []mailboxCase{
		{"abcdefghijklmnopqrstuvwxyz@good.test", true, false},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ@good.test", true, false},
		{"0123456789@good.test", true, false},
		{"z@good.test", true, false},
		{"Z@good.test", true, false},
		{"0@good.test", true, false},
		{"9@good.test", true, false},
		{"a.b@good.test", true, false},
		{"@good.test", false, false},
		{"a..b@good.test", false, false},
		{".a@good.test", false, false},
		{"a b@good.test", false, false},
		{"a:b@good.test", false, false}, // ':' follows '9'
		{"a[b@good.test", false, false}, // '[' follows 'Z'
		{"a@b@good.test", false, true},
		{`"a"@good.test`, false, true},
		{"a\\b@good.test", false, true},
		{"a@good..test", false, false},
	}
	for _, c := range atext {
		cases = append(cases, mailboxCase{"a" + string(c) + "b@good.test", true, false})
	}
	root := testpki.MustCA(t, "Root")
	ca := root.MustIntermediate(t, "Constrained", testpki.ExcludedDNSDomains("bad.test"))
	for _, tc := range cases {
		local, domain, ok := parseMailbox(tc.addr)
		if ok != tc.valid {
			t.Errorf("parseMailbox(%q) ok = %v, want %v", tc.addr, ok, tc.valid)
		}
		if at := strings.LastIndexByte(tc.addr, '@'); ok && (local != tc.addr[:at] || domain != tc.addr[at+1:]) {
			t.Errorf("parseMailbox(%q) = %q, %q", tc.addr, local, domain)
		}
		if x := x509Reads(t, root, ca, testpki.EmailAddresses(tc.addr)); x != (tc.valid || tc.stricter) {
			t.Errorf("crypto/x509 verdict on email %q: accepted=%v; the case expects %v", tc.addr, x, tc.valid || tc.stricter)
		}
	}
}

// TestNameReadingCharged: reading an email address or a URI below a
// constrained CA costs one comparison, and each constraint of its type one
// more (constraints.go:64:15 and 70:15, 1+n turned into 1-n, which gave
// budget back for every name), as a DNS name does.
func TestNameReadingCharged(t *testing.T) {
	u, err := url.Parse("https://www.good.test/")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		ca, leaf *x509.Certificate
		want     int
	}{
		{"email", &x509.Certificate{PermittedEmailAddresses: []string{"a.test", "good.test"}, ExcludedEmailAddresses: []string{"bad.test"}},
			&x509.Certificate{EmailAddresses: []string{"me@good.test", "you@good.test"}}, 2 * (1 + 3)},
		{"URI", &x509.Certificate{PermittedURIDomains: []string{"a.test", "good.test"}, ExcludedURIDomains: []string{"bad.test"}},
			&x509.Certificate{URIs: []*url.URL{u, u}}, 2 * (1 + 3)},
		{"DNS", &x509.Certificate{PermittedDNSDomains: []string{"a.test", "good.test"}, ExcludedDNSDomains: []string{"bad.test"}},
			&x509.Certificate{DNSNames: []string{"www.good.test", "ftp.good.test"}}, 2 * (1 + 3)},
	}
	for _, tc := range cases {
		b := &builder{ctx: context.Background()}
		if b.violatesNameConstraints(tc.ca, []*x509.Certificate{tc.leaf}) {
			t.Errorf("%s: violation, want none", tc.name)
		}
		if b.comparisons != tc.want {
			t.Errorf("%s: charged %d comparisons, want %d", tc.name, b.comparisons, tc.want)
		}
	}
}

// TestUnquoteMailbox: an excluded mailbox constraint is read as crypto/x509
// reads it, a quoted local part as the text it quotes.
func TestUnquoteMailbox(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"me@example.com", "me@example.com"},
		{`"me"@example.com`, "me@example.com"},
		{`"m\e"@example.com`, "me@example.com"},
		{`"a\"b"@example.com`, `a"b@example.com`},
		{`"a b"@example.com`, "a b@example.com"},
		{`""@example.com`, "@example.com"},
		{`"me\"@example.com`, `"me\"@example.com`}, // the closing quote is quoted: no quoted string
		{`"a"b"@example.com`, `"a"b"@example.com`}, // two strings
		{`"me@example.com`, `"me@example.com`},
		{`me"@example.com`, `me"@example.com`},
		{`"@example.com`, `"@example.com`},
		{"example.com", "example.com"},
	} {
		if got := unquoteMailbox(tc.in); got != tc.want {
			t.Errorf("unquoteMailbox(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
