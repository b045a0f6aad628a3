package verify

import (
	"bytes"
	"crypto/x509"
)

// anyPolicy is the special policy that stands for every policy (RFC 5280,
// section 4.2.1.4).
const anyPolicy = "2.5.29.32.0"

// maxPolicyWork bounds the policy graph steps of one verification (a node
// made or carried, a policy or mapping read): real chains take tens, and a
// hostile one, thousands of policies and mappings per certificate on each
// of many paths, could take millions. Beyond it, a path's policies count as
// invalid.
const maxPolicyWork = 100000

// policiesValid runs the certificate policy processing of RFC 5280, section
// 6.1 (as updated by RFC 9618) over chain, leaf first and anchor excluded,
// with any policy acceptable to the user, as crypto/x509 does: it fails
// when a certificate or the path requires an explicit policy (policy
// constraints, counted down per RFC 5280, section 6.1.4 (h) to (j)) and no
// policy is valid for the whole path, or when a mapping involves anyPolicy.
//
// With every policy acceptable, only whether the valid policy graph is empty
// at the end matters, so only its last level is kept: each node's valid
// policy with its expected policy set.
//
// spend is charged the steps of each certificate before they are taken, and
// ends the processing (invalid) when it returns false.
func policiesValid(chain []*x509.Certificate, spend func(steps int) bool) bool {
	n := len(chain)
	if n == 0 {
		return true
	}
	explicit, mapping, inhibitAny := n+1, n+1, n+1
	level := map[string][]string{anyPolicy: {anyPolicy}}
	for i := n - 1; i >= 0; i-- {
		c := chain[i]
		if !spend(len(level) + len(c.Policies) + len(c.PolicyMappings)) {
			return false
		}
		selfIssued := bytes.Equal(c.RawIssuer, c.RawSubject)
		// A certificate without policies leaves an empty level, the NULL
		// graph of 6.1.3 (e), which nothing refills. Step (f), failing at
		// once when an explicit policy is then required, is left to the
		// final check: neither the graph nor explicit can grow back.
		level = nextPolicyLevel(level, c, inhibitAny > 0 || (i > 0 && selfIssued))
		if i > 0 && !applyPolicyMappings(level, c, mapping > 0) {
			return false
		}
		if i > 0 {
			if !selfIssued { // 6.1.4 (h)
				explicit, mapping, inhibitAny = max(explicit-1, 0), max(mapping-1, 0), max(inhibitAny-1, 0)
			}
			// 6.1.4 (i) and (j): a constraint of zero is told from an
			// absent one by its Zero field.
			explicit = lower(explicit, c.RequireExplicitPolicy, c.RequireExplicitPolicyZero)
			mapping = lower(mapping, c.InhibitPolicyMapping, c.InhibitPolicyMappingZero)
			inhibitAny = lower(inhibitAny, c.InhibitAnyPolicy, c.InhibitAnyPolicyZero)
		}
	}
	if explicit > 0 { // 6.1.5 (a)
		explicit--
	}
	if chain[0].RequireExplicitPolicyZero { // 6.1.5 (b)
		explicit = 0
	}
	return explicit > 0 || len(level) > 0 // 6.1.5 (g)
}

func lower(counter, constraint int, zero bool) int {
	if (constraint > 0 || zero) && constraint < counter {
		return constraint
	}
	return counter
}

// nextPolicyLevel returns the graph level of c's policies below level (RFC
// 9618's 6.1.3 (d)): each policy some node expects, or any policy under an
// anyPolicy node; and, when c asserts anyPolicy and expandAny, every policy
// expected above that c does not name.
func nextPolicyLevel(level map[string][]string, c *x509.Certificate, expandAny bool) map[string][]string {
	next := map[string][]string{}
	_, anyAbove := level[anyPolicy]
	// Indexed once, not searched per policy: both lists are the peer's to
	// make long.
	expected := map[string]bool{}
	for _, exp := range level {
		for _, e := range exp {
			expected[e] = true
		}
	}
	hasAny := false
	for _, oid := range c.Policies {
		p := oid.String()
		if p == anyPolicy {
			hasAny = true
			continue
		}
		if anyAbove || expected[p] {
			next[p] = []string{p}
		}
	}
	if hasAny && expandAny {
		for e := range expected {
			if _, ok := next[e]; !ok {
				next[e] = []string{e}
			}
		}
	}
	return next
}

// applyPolicyMappings applies c's policy mappings to level (RFC 9618's
// 6.1.4 (a) and (b)): when mapping is allowed, each issuer domain policy
// then expects its subject domain policies; when it is inhibited, a mapped
// policy leaves the graph. A mapping to or from anyPolicy is invalid.
func applyPolicyMappings(level map[string][]string, c *x509.Certificate, allowed bool) bool {
	mapped := map[string][]string{}
	for _, m := range c.PolicyMappings {
		from, to := m.IssuerDomainPolicy.String(), m.SubjectDomainPolicy.String()
		if !allowed {
			delete(level, from)
			continue
		}
		if from == anyPolicy || to == anyPolicy {
			return false
		}
		mapped[from] = append(mapped[from], to)
	}
	_, anyHere := level[anyPolicy]
	for from, to := range mapped {
		if _, ok := level[from]; ok || anyHere {
			level[from] = to
		}
	}
	return true
}
