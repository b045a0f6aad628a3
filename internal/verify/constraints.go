package verify

import (
	"crypto/x509"
	"net"
	"net/url"
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
	if nDNS+nIP+nEmail+nURI == 0 {
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
	for _, c := range below {
		if violates(c.DNSNames, nDNS, spend, func(d string) bool {
			return allowed(d, ca.PermittedDNSDomains, ca.ExcludedDNSDomains, matchDomain, excludesDomain)
		}) || violates(c.IPAddresses, nIP, spend, func(ip net.IP) bool {
			return allowedIP(ip, ca.PermittedIPRanges, ca.ExcludedIPRanges)
		}) || violates(c.EmailAddresses, nEmail, spend, func(e string) bool {
			return allowed(e, ca.PermittedEmailAddresses, ca.ExcludedEmailAddresses, matchEmail, matchEmail)
		}) || violates(c.URIs, nURI, spend, func(u *url.URL) bool {
			return allowed(uriHost(u), ca.PermittedURIDomains, ca.ExcludedURIDomains, matchDomain, matchDomain)
		}) {
			return true
		}
	}
	return false
}

// violates reports whether a name of names is not ok, or could not be
// compared within the budget (spend charges n comparisons for each). With
// n zero, ca has no constraint of that type and nothing is compared.
func violates[T any](names []T, n int, spend func(int) bool, ok func(T) bool) bool {
	if n == 0 {
		return false
	}
	for _, name := range names {
		if !spend(n) || !ok(name) {
			return true
		}
	}
	return false
}

// allowed reports whether name is outside every excluded subtree (by
// excludes) and, if any are permitted, inside one of them (by match).
func allowed(name string, permitted, excluded []string, match, excludes func(name, constraint string) bool) bool {
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

// matchEmail matches a mailbox against an email constraint: a whole mailbox,
// a host ("example.com": exactly that host), or a domain (".example.com":
// hosts below it).
func matchEmail(mailbox, constraint string) bool {
	if strings.Contains(constraint, "@") {
		return strings.EqualFold(mailbox, constraint)
	}
	at := strings.LastIndexByte(mailbox, '@')
	if at < 0 {
		return false
	}
	host := strings.ToLower(mailbox[at+1:])
	constraint = strings.ToLower(constraint)
	if strings.HasPrefix(constraint, ".") {
		return strings.HasSuffix(host, constraint)
	}
	return host == constraint
}

func uriHost(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Hostname()
}

func allowedIP(ip net.IP, permitted, excluded []*net.IPNet) bool {
	for _, n := range excluded {
		if n.Contains(ip) {
			return false
		}
	}
	if len(permitted) == 0 {
		return true
	}
	for _, n := range permitted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
