package verify

import (
	"crypto/x509"
	"net"
	"strings"
)

// maxConstraintComparisons bounds the name-by-constraint comparisons of one
// verification, as crypto/x509 long did (it allowed 250,000): a hostile
// chain may carry thousands of names under thousands of constraints on each
// of many paths. Beyond it, names are not compared and count as violating.
const maxConstraintComparisons = 250000

// constraintBudget is maxConstraintComparisons, but for tests that lift it
// to see the context end the comparisons.
var constraintBudget = maxConstraintComparisons

// violatesNameConstraints reports whether a name of a certificate in below
// breaks ca's name constraints (RFC 5280, section 4.2.1.10): DNS names,
// IP addresses, email addresses and URI hosts, each against the
// constraints of its own type. A name it has no budget left to compare
// counts as a violation, as crypto/x509's TooManyConstraints; so does a
// cancelled context, recorded in b.err.
func (b *builder) violatesNameConstraints(ca *x509.Certificate, below []*x509.Certificate) bool {
	nDNS := len(ca.PermittedDNSDomains) + len(ca.ExcludedDNSDomains)
	nIP := len(ca.PermittedIPRanges) + len(ca.ExcludedIPRanges)
	nEmail := len(ca.PermittedEmailAddresses) + len(ca.ExcludedEmailAddresses)
	nURI := len(ca.PermittedURIDomains) + len(ca.ExcludedURIDomains)
	hasDNS, hasIP, hasEmail, hasURI := nDNS > 0, nIP > 0, nEmail > 0, nURI > 0
	if !hasDNS && !hasIP && !hasEmail && !hasURI && !hasNameConstraintsExtension(ca) {
		return false
	}
	// spend charges the comparisons of one name, and checks the context
	// as often: the loops below scale with what the peer sent.
	spend := func(n int) bool {
		b.comparisons += n
		if b.comparisons > constraintBudget {
			return false
		}
		if err := b.ctx.Err(); err != nil {
			b.err = err
			return false
		}
		return true
	}
	var permitted *permittedIPs // sorted when the first address needs it
	// Every name is read (constraints_syntax.go), whatever the types
	// constrained; one that cannot be is a violation, as in crypto/x509.
	for _, c := range below {
		for _, d := range c.DNSNames {
			if !spend(1+nDNS) || !validDNSName(d) ||
				hasDNS && !allowed(d, ca.PermittedDNSDomains, ca.ExcludedDNSDomains, matchDomain, excludesDomain) {
				return true
			}
		}
		if hasIP {
			for _, ip := range c.IPAddresses {
				if permitted == nil { // the sort, charged as one more pass
					if !spend(nIP) {
						return true
					}
					p := newPermittedIPs(ca.PermittedIPRanges)
					permitted = &p
				}
				if !spend(nIP) || !allowedIP(ip, *permitted, ca.ExcludedIPRanges) {
					return true
				}
			}
		}
		for _, e := range c.EmailAddresses {
			if !spend(1+nEmail) || !allowedEmail(e, ca.PermittedEmailAddresses, ca.ExcludedEmailAddresses) {
				return true
			}
		}
		for _, u := range c.URIs {
			host, ok := uriDomain(u)
			if !spend(1+nURI) || !ok ||
				hasURI && !allowed(host, ca.PermittedURIDomains, ca.ExcludedURIDomains, matchDomain, excludesDomain) {
				return true
			}
		}
	}
	return false
}

// allowed reports whether name is outside every excluded subtree (by
// excludes) and, if any are permitted, inside one of them (by match).
func allowed[N, C any](name N, permitted, excluded []C, match, excludes func(N, C) bool) bool {
	for _, e := range excluded {
		if excludes(name, e) {
			return false
		}
	}
	if len(permitted) == 0 {
		return true
	}
	for _, p := range permitted {
		if match(name, p) {
			return true
		}
	}
	return false
}

// matchDomain matches a DNS name against a DNS constraint: "example.com"
// covers it and every name below it, ".example.com" only the names below.
// A wildcard label counts as a label, so "*.bad.example" falls under
// "bad.example".
func matchDomain(name, constraint string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	constraint = strings.ToLower(strings.TrimSuffix(constraint, "."))
	if constraint == "" {
		return true
	}
	if strings.HasPrefix(constraint, ".") {
		return strings.HasSuffix(name, constraint) && len(name) > len(constraint)
	}
	return name == constraint || strings.HasSuffix(name, "."+constraint)
}

// excludesDomain reports whether the excluded DNS subtree constraint
// reaches name: as matchDomain, and a wildcard name whose wildcard could
// stand for the constraint's first label ("*.example.com" could be
// "secret.example.com"), as crypto/x509 reads RFC 5280, section 4.2.1.10.
func excludesDomain(name, constraint string) bool {
	if matchDomain(name, constraint) {
		return true
	}
	rest, ok := strings.CutPrefix(name, "*.")
	if !ok {
		return false
	}
	constraint = strings.TrimSuffix(constraint, ".")
	_, parent, ok := strings.Cut(constraint, ".")
	// A leading-dot constraint needs no such rule: matchDomain has
	// already found "*.example.com" under ".example.com".
	return ok && strings.EqualFold(parent, strings.TrimSuffix(rest, "."))
}

// allowedEmail reports whether addr is a mailbox (parseMailbox) outside
// every excluded subtree and, if any are permitted, inside one of them.
// Each side reads its constraints so as never to be more lenient than
// crypto/x509, which reads a host constraint as a DNS one: permitted, a
// mailbox matches with its local part as written (RFC 5321, section 2.4)
// and a host exactly ("example.com"), or below a domain (".example.com");
// excluded, a mailbox matches in any case and a host also below it.
func allowedEmail(addr string, permitted, excluded []string) bool {
	local, domain, ok := parseMailbox(addr)
	if !ok {
		return false
	}
	for _, e := range excluded {
		if strings.Contains(e, "@") && strings.EqualFold(addr, unquoteMailbox(e)) || !strings.Contains(e, "@") && excludesDomain(domain, e) {
			return false
		}
	}
	if len(permitted) == 0 {
		return true
	}
	for _, p := range permitted {
		if pl, pd, ok := parseMailbox(p); ok {
			if pl == local && pd == domain {
				return true
			}
			continue
		}
		p = strings.ToLower(p)
		if !strings.Contains(p, "@") && (p == domain || strings.HasPrefix(p, ".") && strings.HasSuffix(domain, p)) {
			return true
		}
	}
	return false
}

// allowedIP is allowed for addresses: an excluded range takes ip in either
// form (net.IPNet.Contains reads a mapped IPv4 address as IPv4, stricter
// than crypto/x509), a permitted one only as crypto/x509 finds it
// (permittedIPs).
func allowedIP(ip net.IP, permitted permittedIPs, excluded []*net.IPNet) bool {
	for _, n := range excluded {
		if n.Contains(ip) {
			return false
		}
	}
	return permitted.v4 == nil && permitted.v6 == nil || permitted.admits(ip)
}
