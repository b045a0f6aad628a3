package giotls

import (
	"context"
	"net"
	"net/url"
	"strconv"
)

// dialHTTPSConnect opens a tunnel through an HTTP proxy spoken to over TLS
// ("https://" proxy URLs): the proxy's certificate is verified against db
// (nil: the system's trust anchors) and the proxy's own host name, and any
// problem refuses it, with no handler to accept it, before the request,
// and the credentials in it, are sent. Inside, CONNECT as over TCP; the
// destination's TLS then runs inside this TLS.
func dialHTTPSConnect(ctx context.Context, u *url.URL, forward proxyForward, network, target string, db Database) (net.Conn, error) {
	addr := proxyHostPort(u, "443")
	port, err := strconv.ParseUint(u.Port(), 10, 16)
	if u.Port() == "" {
		port, err = 443, nil
	}
	if err != nil || port == 0 {
		return nil, newError(ErrorMisc, err, "HTTPS proxy %s: invalid port", u.Redacted())
	}
	raw, err := forward.DialContext(ctx, network, addr)
	if err != nil {
		return nil, newError(ErrorMisc, err, "HTTPS proxy %s", u.Redacted())
	}
	conn, err := DefaultBackend().NewClientConnection(raw, NewNetworkAddress(u.Hostname(), uint16(port)))
	if err != nil {
		raw.Close()
		return nil, err
	}
	if db != nil {
		conn.SetDatabase(db)
	}
	if err := conn.Handshake(ctx); err != nil {
		conn.Close()
		if cerr := ctxDone(ctx); cerr != nil {
			return nil, newError(ErrorMisc, cerr, "HTTPS proxy %s: TLS handshake", u.Redacted())
		}
		code := ErrorHandshake
		if e, ok := err.(*Error); ok {
			code = e.Code
		}
		return nil, newError(code, err, "HTTPS proxy %s: TLS handshake (certificate errors: %v)", u.Redacted(), conn.PeerCertificateErrors())
	}
	return tunnelOver(ctx, conn, u, target, "HTTPS")
}
