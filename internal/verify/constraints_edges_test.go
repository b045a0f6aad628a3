package verify

import (
	"context"
	"crypto/x509"
	"net"
	"net/url"
	"testing"
)

// Tests for edges of the name-constraint and policy checks, each written
// against a mutant that scripts/mutate found living (file:line:column in
// parentheses, as gremlins reported it when the test was written). They
// call the checks on certificate fields directly: what is tested is the
// arithmetic, not the parsing.

// TestExcludedOnlyConstraints: a CA that only excludes names of a type
// still has constraints of that type (constraints.go:28:35 and 29:44,
// permitted - excluded), and a name using exactly the budget left passes
// (constraints.go:39:20 comparisons >= budget).
func TestExcludedOnlyConstraints(t *testing.T) {
	_, banned, err := net.ParseCIDR("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		ca, leaf  *x509.Certificate
		budget    int
		violation bool
	}{
		{"excluded IP range", &x509.Certificate{ExcludedIPRanges: []*net.IPNet{banned}},
			&x509.Certificate{IPAddresses: []net.IP{net.ParseIP("10.1.2.3")}}, constraintBudget, true},
		{"outside excluded IP range", &x509.Certificate{ExcludedIPRanges: []*net.IPNet{banned}},
			&x509.Certificate{IPAddresses: []net.IP{net.ParseIP("192.0.2.1")}}, constraintBudget, false},
		{"excluded email host", &x509.Certificate{ExcludedEmailAddresses: []string{"evil.test"}},
			&x509.Certificate{EmailAddresses: []string{"me@evil.test"}}, constraintBudget, true},
		{"outside excluded email host", &x509.Certificate{ExcludedEmailAddresses: []string{"evil.test"}},
			&x509.Certificate{EmailAddresses: []string{"me@good.test"}}, constraintBudget, false},
		// Two constraints, one name: reading the name and two comparisons,
		// all the budget.
		{"budget exactly spent", &x509.Certificate{PermittedDNSDomains: []string{"a.test", "b.test"}},
			&x509.Certificate{DNSNames: []string{"www.b.test"}}, 3, false},
		{"budget one short", &x509.Certificate{PermittedDNSDomains: []string{"a.test", "b.test"}},
			&x509.Certificate{DNSNames: []string{"www.b.test"}}, 2, true},
	}
	defer func(n int) { constraintBudget = n }(constraintBudget)
	for _, tc := range cases {
		constraintBudget = tc.budget
		b := &builder{ctx: context.Background()}
		if got := b.violatesNameConstraints(tc.ca, []*x509.Certificate{tc.leaf}); got != tc.violation {
			t.Errorf("%s: violation = %v, want %v", tc.name, got, tc.violation)
		}
	}
}

// TestUnconstrainedAfterBudgetSpent: a CA without name constraints of a
// type compares no name of that type, so it refuses none even once an
// earlier path spent the whole budget; otherwise a constraint bomb sent
// beside a valid chain would sink it (constraints.go:31:42, 31:51, 31:63,
// 31:73, nX >= 0).
func TestUnconstrainedAfterBudgetSpent(t *testing.T) {
	u, err := url.Parse("https://www.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		DNSNames: []string{"www.example.com"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.1")},
		EmailAddresses: []string{"me@example.com"}, URIs: []*url.URL{u},
	}
	b := &builder{ctx: context.Background(), comparisons: constraintBudget + 1}
	if b.violatesNameConstraints(&x509.Certificate{}, []*x509.Certificate{leaf}) {
		t.Error("a CA without name constraints refused a name once the budget was spent")
	}
}

// TestConstraintMatchEdges: a leading-dot DNS constraint does not cover
// the name it spells, and an email constraint naming a host excludes the
// mailboxes on it, while a name with no @ is no mailbox at all.
func TestConstraintMatchEdges(t *testing.T) {
	if matchDomain(".example.com", ".example.com") {
		t.Error(`matchDomain(".example.com", ".example.com") = true: only names below it are`)
	}
	if !matchDomain("a.example.com", ".example.com") {
		t.Error(`matchDomain("a.example.com", ".example.com") = false`)
	}
	if allowedEmail("a@evil.test", nil, []string{"evil.test"}) {
		t.Error(`allowedEmail("a@evil.test", excluded "evil.test") = true: the mailbox escapes an exclusion of its host`)
	}
	if allowedEmail("evil.test", []string{"evil.test"}, nil) {
		t.Error(`allowedEmail("evil.test", permitted "evil.test") = true for a name with no @`)
	}
}

// TestPolicyWorkCharged: policy processing charges, per certificate, the
// graph level it starts from plus the policies and mappings the certificate
// sent, all of which the peer makes long (policy.go:41:24 and 41:42,
// a + sign turned into -).
func TestPolicyWorkCharged(t *testing.T) {
	oid := func(s string) x509.OID {
		o, err := x509.ParseOID(s)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	c := &x509.Certificate{
		Policies: []x509.OID{oid("1.2.3.1"), oid("1.2.3.2")},
		PolicyMappings: []x509.PolicyMapping{
			{IssuerDomainPolicy: oid("1.2.3.1"), SubjectDomainPolicy: oid("1.2.3.9")},
		},
	}
	spent := 0
	policiesValid([]*x509.Certificate{c}, func(n int) bool { spent += n; return true })
	// The level starts as the single anyPolicy node.
	if want := 1 + len(c.Policies) + len(c.PolicyMappings); spent != want {
		t.Errorf("charged %d steps, want %d", spent, want)
	}
}

// TestPolicyWorkBudgetExact: steps that use exactly the policy budget left
// are allowed, one more is not (verify.go:339:24 >= maxPolicyWork).
func TestPolicyWorkBudgetExact(t *testing.T) {
	b := &builder{ctx: context.Background(), policyWork: maxPolicyWork - 5}
	if !b.spendPolicyWork(5) {
		t.Error("spendPolicyWork refused steps that use exactly the budget left")
	}
	if b.spendPolicyWork(1) {
		t.Error("spendPolicyWork allowed a step over the budget")
	}
}
