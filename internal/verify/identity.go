package verify

import (
	"crypto/x509"
	"net/netip"
	"strings"
)

// Identity is what the leaf certificate must be valid for: a host name (ASCII,
// lower case, without a trailing dot) or an IP address. The zero value is no
// identity, which matches nothing.
type Identity struct {
	Host string
	IP   netip.Addr
}

// IsZero reports whether there is no identity at all.
func (id Identity) IsZero() bool { return id.Host == "" && !id.IP.IsValid() }

// MatchIdentity reports whether leaf is valid for id (RFC 6125, section 6):
// a host name against the subjectAltName DNS names only (the common name is
// never consulted), an IP address against the IP addresses only.
func MatchIdentity(leaf *x509.Certificate, id Identity) bool {
	if id.IP.IsValid() {
		want := id.IP.Unmap().WithZone("")
		for _, raw := range leaf.IPAddresses {
			if ip, ok := netip.AddrFromSlice(raw); ok && ip.Unmap() == want {
				return true
			}
		}
		return false
	}
	if id.Host == "" {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(id.Host, "."))
	for _, pattern := range leaf.DNSNames {
		if matchHostname(pattern, host) {
			return true
		}
	}
	return false
}

// matchHostname matches host against a certificate DNS name: case-insensitive,
// a trailing dot ignored on either side, and a wildcard only as the whole
// left-most label, standing for exactly one label, and only above a
// registrable-looking name of at least two labels ("*.example.com", never
// "*.com" or "f*.example.com"), as RFC 6125, section 6.4.3 recommends.
func matchHostname(pattern, host string) bool {
	pattern = strings.ToLower(strings.TrimSuffix(pattern, "."))
	if pattern == "" || host == "" {
		return false
	}
	if pattern == host {
		return true
	}
	rest, ok := strings.CutPrefix(pattern, "*.")
	if !ok || strings.Count(rest, ".") < 1 || strings.Contains(rest, "*") {
		return false
	}
	label, hostRest, ok := strings.Cut(host, ".")
	return ok && label != "" && hostRest == rest
}
