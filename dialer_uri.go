package giotls

import (
	"context"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// DialHost connects to hostAndPort ("host:port", "[v6]:port", a bare host
// or IPv6 literal, parsed by [ParseNetworkAddress]) with defaultPort when it
// has none, and completes the TLS handshake, as GIO's
// g_socket_client_connect_to_host. The server identity is the
// NetworkAddress; see [Dialer.DialConnectable].
func (d *Dialer) DialHost(ctx context.Context, hostAndPort string, defaultPort uint16) (*ClientConnection, error) {
	addr, err := ParseNetworkAddress(hostAndPort, defaultPort)
	if err != nil {
		return nil, err
	}
	return d.DialConnectable(ctx, "tcp", addr)
}

// DialURI connects to the host and port of uri, or defaultPort when uri
// has none, and completes the TLS handshake, as GIO's
// g_socket_client_connect_to_uri; uri is parsed by
// [ParseNetworkAddressURI]. The server identity is the NetworkAddress; see
// [Dialer.DialConnectable].
func (d *Dialer) DialURI(ctx context.Context, uri string, defaultPort uint16) (*ClientConnection, error) {
	addr, err := ParseNetworkAddressURI(uri, defaultPort)
	if err != nil {
		return nil, err
	}
	return d.DialConnectable(ctx, "tcp", addr)
}

// ParseNetworkAddressURI returns the host and port of uri, an absolute URI
// with an authority ("scheme://[userinfo@]host[:port]/..."), as GIO's
// g_network_address_parse_uri: an IPv6 host loses its brackets, a
// percent-encoded host is decoded, and a missing or zero port is
// defaultPort. A URI without a scheme or a host, or with a port that is not
// a number from 0 to 65535, is an error.
func ParseNetworkAddressURI(uri string, defaultPort uint16) (*NetworkAddress, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, newError(ErrorMisc, err, "invalid URI %q", uri)
	}
	if u.Scheme == "" || u.Opaque != "" {
		return nil, newError(ErrorMisc, nil, "invalid URI %q: want scheme://host[:port]", uri)
	}
	host := u.Hostname()
	if host == "" {
		return nil, newError(ErrorMisc, nil, "invalid URI %q: no host", uri)
	}
	if strings.ContainsAny(host, " /\\@\x00") {
		return nil, newError(ErrorMisc, nil, "invalid URI %q: bad character in host", uri)
	}
	// RFC 3986, section 3.2.2: an IPv6 address only in brackets, and only
	// an IPv6 address there.
	if strings.HasPrefix(u.Host, "[") {
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() {
			return nil, newError(ErrorMisc, err, "invalid URI %q: %q in brackets is not an IPv6 address", uri, host)
		}
	} else if strings.Contains(host, ":") {
		return nil, newError(ErrorMisc, nil, "invalid URI %q: an IPv6 address needs brackets", uri)
	}
	port := defaultPort
	if s := u.Port(); s != "" {
		p, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return nil, newError(ErrorMisc, nil, "invalid URI %q: bad port %q", uri, s)
		}
		if p != 0 { // GIO: a port <= 0 is the default
			port = uint16(p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, newError(ErrorMisc, nil, "invalid URI %q: empty port", uri)
	}
	return &NetworkAddress{Hostname: host, Port: port}, nil
}
