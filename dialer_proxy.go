package giotls

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/proxy"
)

// proxyNegotiationCap bounds a proxy's dial and negotiation when the
// caller's context can never be done, as net/http does for CONNECT: a
// proxy that accepts and then stays silent must not hold the dial forever.
var proxyNegotiationCap = time.Minute

// proxyForward dials the proxy itself: a *net.Dialer, or eventDialer,
// which reports that connection as GIO's events do. x/net/proxy's SOCKS5
// needs Dial and uses DialContext when there is one.
type proxyForward interface {
	Dial(network, addr string) (net.Conn, error)
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// eventDialer dials a proxy for d and reports the connection to it as
// GIO's GSocketClient does: connected, then proxy-negotiating (the
// proxy-negotiated event follows when the tunnel is open).
type eventDialer struct {
	nd *net.Dialer
	d  *Dialer
	c  Connectable
}

func (e eventDialer) Dial(network, addr string) (net.Conn, error) {
	return e.DialContext(context.Background(), network, addr)
}

func (e eventDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := e.nd.DialContext(ctx, network, addr)
	if err == nil {
		e.d.emit(SocketClientConnected, e.c, conn)
		e.d.emit(SocketClientProxyNegotiating, e.c, conn)
	}
	return conn, err
}

// viaProxy opens the tunnel to addr through the proxy d.Proxy chooses for
// it, dialing the proxy with nd; nil, false when d.Proxy chooses none. The
// TLS identity is computed from addr by the caller, never from the proxy.
func (d *Dialer) viaProxy(ctx context.Context, nd *net.Dialer, network, addr string, c Connectable) (net.Conn, bool, error) {
	if d.Proxy == nil {
		return nil, false, nil
	}
	target, err := proxyTarget(ctx, network, addr)
	if err != nil {
		return nil, true, err
	}
	u, err := d.Proxy(ctx, network, target)
	if err != nil {
		return nil, true, newError(ErrorMisc, err, "choosing a proxy for %s", target)
	}
	if u == nil {
		return nil, false, nil
	}
	conn, err := dialProxy(ctx, u, eventDialer{nd, d, c}, network, target, d.ProxyDatabase)
	return conn, true, err
}

// DialProxy connects to addr ("host:port") on network through proxyURL, or
// directly when proxyURL is nil, and returns the connection to addr,
// before any TLS: for a plain-text preamble (STARTTLS) or a TLS
// connection made with [NewClientConnection]. forward dials the proxy (nil:
// a zero net.Dialer); network applies to that connection, since the proxy
// chooses how it reaches addr.
//
// Schemes: "http" tunnels with HTTP CONNECT (RFC 9110, section 9.3.6),
// credentials in the URL's userinfo sent as Proxy-Authorization Basic
// (RFC 7617); "https" does the same over TLS to the proxy, whose
// certificate must verify against the system's trust anchors and the
// proxy's host name (any problem refuses it, before the credentials are
// sent; [Dialer.ProxyDatabase] names other anchors); "socks5" and
// "socks5h" speak SOCKS5 (RFC 1928), credentials in the userinfo as RFC
// 1929's username and password. Either way the proxy is sent addr's host
// name unresolved, so the name is looked up where the proxy is and not by
// the local resolver (for "socks5" too, which curl resolves locally).
// Other schemes fail with an "unsupported proxy scheme" error.
//
// ctx bounds the dial and the negotiation; when it can never be done, a
// minute does. A proxy that refuses gives an *[Error] (ErrMisc) holding a
// *[ProxyError]; cancellation and deadlines give errors that match ctx's
// error under errors.Is.
func DialProxy(ctx context.Context, proxyURL *url.URL, forward *net.Dialer, network, addr string) (net.Conn, error) {
	if forward == nil {
		forward = new(net.Dialer)
	}
	return dialProxy(ctx, proxyURL, forward, network, addr, nil)
}

// dialProxy is DialProxy verifying an "https" proxy against db (nil: the
// system's trust anchors).
func dialProxy(ctx context.Context, proxyURL *url.URL, forward proxyForward, network, addr string, db Database) (net.Conn, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if proxyURL == nil {
		return forward.DialContext(ctx, network, addr)
	}
	if proxyURL.Hostname() == "" {
		// net.Dial would take ":80" for this machine.
		return nil, newError(ErrorMisc, nil, "proxy URL %s has no host", proxyURL.Redacted())
	}
	target, err := proxyTarget(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if ctx.Done() == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, proxyNegotiationCap)
		defer cancel()
	}
	switch proxyURL.Scheme {
	case "http":
		return dialHTTPConnect(ctx, proxyURL, forward, network, target)
	case "https":
		return dialHTTPSConnect(ctx, proxyURL, forward, network, target, db)
	case "socks5", "socks5h":
		return dialSOCKS5(ctx, proxyURL, forward, network, target)
	}
	return nil, newError(ErrorMisc, nil, "unsupported proxy scheme %q in %s (want http, https, socks5 or socks5h)", proxyURL.Scheme, proxyURL.Redacted())
}

// ProxyError is a proxy's refusal to connect to a destination, found in
// the *[Error] that [DialProxy] and [Dialer.DialContext] return, as GIO's
// G_IO_ERROR_PROXY_FAILED, G_IO_ERROR_PROXY_NEED_AUTH and
// G_IO_ERROR_PROXY_AUTH_FAILED are.
type ProxyError struct {
	// Proxy is the proxy's URL without its password.
	Proxy string
	// Destination is the "host:port" asked for.
	Destination string
	// StatusCode is an HTTP proxy's status (407: authentication), or 0.
	StatusCode int
	// Reply is a SOCKS5 server's reply or an HTTP proxy's status line.
	Reply string
}

// Error describes the refusal.
func (e *ProxyError) Error() string {
	return fmt.Sprintf("proxy %s refused to connect to %s: %s", e.Proxy, e.Destination, e.Reply)
}

// proxyTarget checks and normalises addr for a proxy: "host:port" with a
// numeric port (a service name is looked up, as net.Dial does), and a host
// that cannot smuggle anything into a CONNECT request line.
func proxyTarget(ctx context.Context, network, addr string) (string, error) {
	host, service, err := net.SplitHostPort(addr)
	if err != nil {
		return "", newError(ErrorMisc, err, "invalid address to dial through a proxy")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", newError(ErrorMisc, nil, "invalid address to dial through a proxy %q: a zone means nothing to the proxy", addr)
		}
	} else if !proxyableName(host) {
		return "", newError(ErrorMisc, nil, "invalid address to dial through a proxy %q: want a host name in letters, digits, '-', '_' and '.' (IDNs as A-labels), or an IP address", addr)
	}
	port, err := net.DefaultResolver.LookupPort(ctx, network, service)
	if err != nil {
		return "", newError(ErrorMisc, err, "invalid address to dial %q", addr)
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// proxyableName reports whether host is a DNS name a proxy can be sent:
// 1 to 253 bytes of LDH characters, '_' and '.' (RFC 1123, section 2.1,
// with the underscores of service names).
func proxyableName(host string) bool {
	if host == "" || len(host) > 253 {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// dialSOCKS5 connects through a SOCKS5 proxy with golang.org/x/net/proxy,
// which sends a host name as a name (ATYP 3, RFC 1928, section 5), never
// resolving it.
func dialSOCKS5(ctx context.Context, u *url.URL, forward proxyForward, network, target string) (net.Conn, error) {
	var auth *proxy.Auth
	if u.User != nil {
		auth = &proxy.Auth{User: u.User.Username()}
		auth.Password, _ = u.User.Password()
		// RFC 1929, section 2: both fields are 1 to 255 bytes.
		if len(auth.User) == 0 || len(auth.User) > 255 || len(auth.Password) == 0 || len(auth.Password) > 255 {
			return nil, newError(ErrorMisc, nil, "SOCKS5 proxy %s: a user name and a password of 1 to 255 bytes each are needed (RFC 1929)", u.Redacted())
		}
	}
	d, err := proxy.SOCKS5(network, proxyHostPort(u, "1080"), auth, forward)
	if err != nil {
		return nil, newError(ErrorMisc, err, "SOCKS5 proxy %s", u.Redacted())
	}
	c, err := d.(proxy.ContextDialer).DialContext(ctx, network, target)
	if err == nil {
		return c, nil
	}
	if err := ctxDone(ctx); err != nil {
		return nil, newError(ErrorMisc, err, "SOCKS5 proxy %s: connecting to %s", u.Redacted(), target)
	}
	// x/net reports a refusal in words of its own (socksRefusals); the
	// rest (a dial error, a malformed reply) stays the cause.
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil && isSOCKSReply(op.Err.Error()) {
		reply := strings.TrimPrefix(op.Err.Error(), "unknown error ")
		return nil, newError(ErrorMisc, &ProxyError{Proxy: u.Redacted(), Destination: target, Reply: reply}, "SOCKS5")
	}
	return nil, newError(ErrorMisc, err, "SOCKS5 proxy %s: connecting to %s", u.Redacted(), target)
}

// socksRefusals are what x/net's SOCKS client says when the server answers
// with no acceptable method, a failed authentication or a non-zero reply
// (RFC 1928, section 6).
var socksRefusals = []string{"no acceptable authentication methods", "username/password authentication failed", "unknown error "}

func isSOCKSReply(msg string) bool {
	for _, r := range socksRefusals {
		if strings.HasPrefix(msg, r) {
			return true
		}
	}
	return false
}

// proxyHostPort is the proxy's "host:port", def the scheme's port.
func proxyHostPort(u *url.URL, def string) string {
	port := u.Port()
	if port == "" {
		port = def
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// ctxDone is ctx's error, also when its deadline has passed but its timer
// has not fired yet: the negotiations set the deadline on the connection,
// whose timeout may come first.
func ctxDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}
