package verify

import (
	"crypto/x509"
	"net"
	"net/url"
	"strings"
)

// violatesNameConstraints reports whether a name of a certificate in below
// breaks ca's name constraints (RFC 5280, section 4.2.1.10): DNS names,
// IP addresses, email addresses and URI hosts, each against the
// constraints of its own type.
func violatesNameConstraints(ca *x509.Certificate, below []*x509.Certificate) bool {
	hasDNS := len(ca.PermittedDNSDomains)+len(ca.ExcludedDNSDomains) > 0
	hasIP := len(ca.PermittedIPRanges)+len(ca.ExcludedIPRanges) > 0
	hasEmail := len(ca.PermittedEmailAddresses)+len(ca.ExcludedEmailAddresses) > 0
	hasURI := len(ca.PermittedURIDomains)+len(ca.ExcludedURIDomains) > 0
	if !hasDNS && !hasIP && !hasEmail && !hasURI {
		return false
	}
	for _, c := range below {
		if hasDNS {
			for _, d := range c.DNSNames {
				if !allowed(d, ca.PermittedDNSDomains, ca.ExcludedDNSDomains, matchDomain, excludesDomain) {
					return true
				}
			}
		}
		if hasIP {
			for _, ip := range c.IPAddresses {
				if !allowedIP(ip, ca.PermittedIPRanges, ca.ExcludedIPRanges) {
					return true
				}
			}
		}
		if hasEmail {
			for _, e := range c.EmailAddresses {
				if !allowed(e, ca.PermittedEmailAddresses, ca.ExcludedEmailAddresses, matchEmail, matchEmail) {
					return true
				}
			}
		}
		if hasURI {
			for _, u := range c.URIs {
				if !allowed(uriHost(u), ca.PermittedURIDomains, ca.ExcludedURIDomains, matchDomain, matchDomain) {
					return true
				}
			}
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
	return ok && !strings.HasPrefix(constraint, ".") && strings.EqualFold(parent, strings.TrimSuffix(rest, "."))
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
