package verify

import (
	"crypto/x509"
	"encoding/asn1"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Below a CA with a name constraints extension, crypto/x509 refuses every
// name it cannot read, whatever types the constraints cover: a DNS name
// with an empty label, a trailing dot or a byte outside '!'..'~'; an email
// address that is no RFC 5321 mailbox; a URI without a host or with an IP
// address for one. The functions here read names the same way or more
// strictly (a quoted local part is refused: RFC 5321, section 4.1.2), so
// that we are never more lenient.

var oidNameConstraints = asn1.ObjectIdentifier{2, 5, 29, 30}

// hasNameConstraintsExtension reports whether ca carries the extension,
// even with only constraint types crypto/x509 does not parse.
func hasNameConstraintsExtension(ca *x509.Certificate) bool {
	for _, e := range ca.Extensions {
		if e.Id.Equal(oidNameConstraints) {
			return true
		}
	}
	return false
}

// validDNSName reports whether name is a DNS name crypto/x509 can compare:
// labels of '!'..'~', none empty, no trailing dot.
func validDNSName(name string) bool {
	if name == "" || strings.HasSuffix(name, ".") {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return false
		}
		for i := 0; i < len(label); i++ {
			if label[i] < '!' || label[i] > '~' {
				return false
			}
		}
	}
	return true
}

// atext are the characters of an RFC 5322 atom besides letters and digits
// (section 3.2.3), the dot-atom form of RFC 5321's Local-part.
const atext = "!#$%&'*+-/=?^_`{|}~"

// parseMailbox splits an rfc822Name into its local part and its lower-case
// domain; ok is false unless the local part is a dot-atom and the domain a
// valid DNS name.
func parseMailbox(addr string) (local, domain string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "", "", false
	}
	local, domain = addr[:at], strings.ToLower(addr[at+1:])
	for atom := range strings.SplitSeq(local, ".") {
		if atom == "" {
			return "", "", false
		}
		for i := 0; i < len(atom); i++ {
			c := atom[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(atext, c) >= 0) {
				return "", "", false
			}
		}
	}
	return local, domain, validDNSName(domain)
}

// unquoteMailbox returns addr with a quoted-string local part (RFC 5321,
// section 4.1.2: '"' qtext or quoted pairs '"') replaced by the text it
// quotes, as crypto/x509 reads a mailbox constraint; addr as it is
// otherwise. An excluded mailbox is compared in this form, so that
// "me"@example.com excludes me@example.com as crypto/x509 has it.
func unquoteMailbox(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 2 || addr[0] != '"' || addr[at-1] != '"' {
		return addr
	}
	quoted := addr[1 : at-1]
	var b strings.Builder
	for i := 0; i < len(quoted); i++ {
		c := quoted[i]
		switch {
		case c == '\\':
			if i++; i == len(quoted) {
				return addr
			}
			b.WriteByte(quoted[i])
		case c == '"':
			return addr // a quote inside: not one quoted string
		default:
			b.WriteByte(c)
		}
	}
	return b.String() + addr[at:]
}

// uriDomain returns the lower-case host of u for constraints; ok is false
// for a URI without a host, with an IP address for one, or with a host
// that is no valid DNS name.
func uriDomain(u *url.URL) (string, bool) {
	if u == nil || u.Host == "" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if strings.Contains(host, ":") && !strings.HasSuffix(host, "]") {
		h, _, err := net.SplitHostPort(host)
		if err != nil {
			return "", false
		}
		host = h
	}
	if _, err := netip.ParseAddr(host); err == nil || strings.HasPrefix(host, "[") {
		return "", false
	}
	return host, validDNSName(host)
}
