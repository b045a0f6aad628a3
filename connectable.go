package giotls

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// Connectable is GIO's GSocketConnectable as a server identity: what the
// server's certificate is checked against and what SNI names. It is sealed
// to the three identity types, [*NetworkAddress], [*NetworkService] and
// [*InetSocketAddress]: a Stringer of another type does not compile as a
// server identity, so giotls never guesses one from a String().
type Connectable interface {
	String() string
	connectable() // seals the interface
}

func (*NetworkAddress) connectable()    {}
func (*NetworkService) connectable()    {}
func (*InetSocketAddress) connectable() {}

// NetworkAddress is a host name (or IP literal) and port, as GIO's
// GNetworkAddress. A host name is sent as SNI and checked against the
// certificate's DNS names; an IP literal is checked against its IP addresses
// and never sent as SNI (RFC 6066, section 3).
type NetworkAddress struct {
	Hostname string
	Port     uint16
}

// NewNetworkAddress returns the identity hostname:port
// (g_network_address_new).
func NewNetworkAddress(hostname string, port uint16) *NetworkAddress {
	return &NetworkAddress{Hostname: hostname, Port: port}
}

// ParseNetworkAddress parses "host:port", "[v6]:port", a bare host or a bare
// IPv6 literal, using defaultPort when the port is missing
// (g_network_address_parse).
func ParseNetworkAddress(hostAndPort string, defaultPort uint16) (*NetworkAddress, error) {
	s := strings.TrimSpace(hostAndPort)
	if s == "" {
		return nil, newError(ErrorMisc, nil, "invalid network address %q: empty", hostAndPort)
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return nil, newError(ErrorMisc, nil, "invalid network address %q: missing ']'", hostAndPort)
		}
		host, rest := s[1:end], s[end+1:]
		if _, err := netip.ParseAddr(host); err != nil || !strings.Contains(host, ":") {
			return nil, newError(ErrorMisc, nil, "invalid network address %q: %q is not an IPv6 address", hostAndPort, host)
		}
		if rest == "" {
			return &NetworkAddress{Hostname: host, Port: defaultPort}, nil
		}
		if !strings.HasPrefix(rest, ":") {
			return nil, newError(ErrorMisc, nil, "invalid network address %q: junk after ']'", hostAndPort)
		}
		port, err := parsePort(rest[1:])
		if err != nil {
			return nil, newError(ErrorMisc, err, "invalid network address %q", hostAndPort)
		}
		return &NetworkAddress{Hostname: host, Port: port}, nil
	}
	if strings.Count(s, ":") > 1 { // a bare IPv6 literal
		// netip accepts any zone, "]" included, which String could not
		// bracket.
		if _, err := netip.ParseAddr(s); err != nil || strings.Contains(s, "]") {
			return nil, newError(ErrorMisc, nil, "invalid network address %q: an IPv6 address with a port needs brackets", hostAndPort)
		}
		return &NetworkAddress{Hostname: s, Port: defaultPort}, nil
	}
	host, portStr, hasPort := strings.Cut(s, ":")
	if host == "" {
		return nil, newError(ErrorMisc, nil, "invalid network address %q: empty host", hostAndPort)
	}
	if strings.ContainsAny(host, " /\\@\x00") {
		return nil, newError(ErrorMisc, nil, "invalid network address %q: bad character in host", hostAndPort)
	}
	port := defaultPort
	if hasPort {
		p, err := parsePort(portStr)
		if err != nil {
			return nil, newError(ErrorMisc, err, "invalid network address %q", hostAndPort)
		}
		port = p
	}
	return &NetworkAddress{Hostname: host, Port: port}, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, fmt.Errorf("empty port")
	}
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		if p, ok := knownPorts[s]; ok {
			return p, nil
		}
		return 0, fmt.Errorf("bad port %q", s)
	}
	return uint16(p), nil
}

// knownPorts are the service names ParseNetworkAddress accepts for a port,
// as getservbyname would for the protocols giotls users speak.
var knownPorts = map[string]uint16{
	"ftp": 21, "ftps": 990, "smtp": 25, "submission": 587, "submissions": 465,
	"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995, "http": 80, "https": 443,
	"ldap": 389, "ldaps": 636, "xmpp-client": 5222,
}

// String returns "host:port", bracketing IPv6 literals.
func (a *NetworkAddress) String() string {
	if a == nil {
		return "<nil>"
	}
	return net.JoinHostPort(a.Hostname, strconv.Itoa(int(a.Port)))
}

// NetworkService is an SRV-style identity, as GIO's GNetworkService: the
// certificate is checked against Domain, which is also sent as SNI.
type NetworkService struct {
	Service, Protocol, Domain string
}

// NewNetworkService returns the identity _service._protocol.domain.
func NewNetworkService(service, protocol, domain string) *NetworkService {
	return &NetworkService{Service: service, Protocol: protocol, Domain: domain}
}

// String returns "_service._protocol.domain".
func (s *NetworkService) String() string {
	if s == nil {
		return "<nil>"
	}
	return "_" + s.Service + "._" + s.Protocol + "." + s.Domain
}

// InetSocketAddress is an IP address and port, as GIO's GInetSocketAddress:
// the certificate is checked against its IP addresses; no SNI is sent.
type InetSocketAddress struct {
	AddrPort netip.AddrPort
}

// NewInetSocketAddress returns the identity of ap.
func NewInetSocketAddress(ap netip.AddrPort) *InetSocketAddress {
	return &InetSocketAddress{AddrPort: ap}
}

// String returns "ip:port".
func (a *InetSocketAddress) String() string {
	if a == nil {
		return "<nil>"
	}
	return a.AddrPort.String()
}

// serverName is what an identity means to TLS: the name sent as SNI and
// checked against DNS names, or the address checked against IP addresses.
// The zero value is no identity, which never verifies.
type serverName struct {
	host string     // ASCII, lower case, no trailing dot; "" for IP or none
	ip   netip.Addr // valid for IP identities
	port uint16     // 0 when the identity has none (a service)
}

// sni returns the name to send in server_name, "" for none.
func (n serverName) sni() string { return n.host }

// valid reports whether there is an identity to check at all.
func (n serverName) valid() bool { return n.host != "" || n.ip.IsValid() }

// resolveIdentity turns a Connectable into the names TLS uses: trailing dots
// dropped, internationalized names in their ASCII (punycode) form
// (RFC 5890), IP literals recognised. A nil identity, or one that cannot be
// understood, gives the zero serverName and an error saying why.
func resolveIdentity(id Connectable) (serverName, error) {
	switch v := id.(type) {
	case nil:
		return serverName{}, nil
	case *NetworkAddress:
		if v == nil {
			return serverName{}, nil
		}
		return hostIdentity(v.Hostname, v.Port)
	case *NetworkService:
		if v == nil {
			return serverName{}, nil
		}
		return hostIdentity(v.Domain, 0)
	case *InetSocketAddress:
		if v == nil || !v.AddrPort.Addr().IsValid() {
			return serverName{}, nil
		}
		return serverName{ip: v.AddrPort.Addr().Unmap().WithZone(""), port: v.AddrPort.Port()}, nil
	}
	return serverName{}, nil // unreachable: Connectable is sealed
}

func hostIdentity(host string, port uint16) (serverName, error) {
	h := strings.TrimSuffix(host, ".")
	if a := strings.Trim(h, "[]"); mayBeIP(a) {
		if ip, err := netip.ParseAddr(a); err == nil {
			return serverName{ip: ip.Unmap().WithZone(""), port: port}, nil
		}
	}
	if h == "" {
		return serverName{}, newError(ErrorMisc, nil, "empty server identity")
	}
	if isPlainHostname(h) { // nothing for IDNA to map: skip its cost
		return serverName{host: strings.ToLower(h), port: port}, nil
	}
	ascii, err := idnaProfile.ToASCII(h)
	if err != nil {
		return serverName{}, newError(ErrorMisc, err, "invalid server identity %q", host)
	}
	return serverName{host: strings.ToLower(ascii), port: port}, nil
}

// mayBeIP reports whether netip.ParseAddr could read s: an IPv6 literal
// has a colon, an IPv4 one only digits and dots. It spares a host name
// the error value ParseAddr allocates, on every handshake.
func mayBeIP(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// isPlainHostname reports whether h is made of labels of ASCII letters,
// digits, hyphens and underscores, 1 to 63 characters each, none starting
// or ending with a hyphen and none starting with "xn--" (RFC 1123,
// section 2.1): names IDNA would only lower-case.
func isPlainHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// idnaProfile converts names for lookup as browsers do (UTS #46, non-transitional),
// but keeps underscores, which appear in real host names.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.StrictDomainName(false),
	idna.BidiRule(),
)
