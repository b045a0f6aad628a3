package giotls

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
)

// Dialer connects to TLS servers: GIO's GSocketClient with its tls property
// set, in the shape of crypto/tls's Dialer. Its zero value dials with the
// default backend and verifies servers against the system database.
//
// DialContext fits net/http's Transport.DialTLSContext:
//
//	d := &giotls.Dialer{Database: db}
//	client := &http.Client{Transport: &http.Transport{DialTLSContext: d.DialContext}}
//
// net/http fills Response.TLS and speaks HTTP/2 only over a *tls.Conn, so
// through a Dialer it speaks HTTP/1.1 (do not advertise "h2") and
// Response.TLS is nil. The TLS state is on the connection itself: it is a
// *[ClientConnection], which httptrace's GotConn hands over
// (GotConnInfo.Conn.(*giotls.ClientConnection)), as does a DialTLSContext
// that wraps DialContext. For HTTP/2, golang.org/x/net/http2's Transport
// runs over the connection, with AdvertisedProtocols set to "h2", and fills
// Response.TLS from its ConnectionState (see the examples). Either way the
// certificate verdict is giotls's: PeerCertificateErrors, not
// tls.ConnectionState.VerifiedChains, which stays empty.
//
// A Dialer may be used by several goroutines at once. Its fields must not
// change while it is in use.
type Dialer struct {
	// NetDialer dials the TCP connection; nil means a zero net.Dialer. As in
	// tls.Dialer, its Timeout and Deadline bound the whole dial, TLS
	// handshake included.
	NetDialer *net.Dialer

	// Database verifies the server's certificate. nil means the backend's
	// default database: the system's, unless one was set with
	// [Backend.SetDefaultDatabase] (unlike [ClientConnection.SetDatabase]
	// with nil, which means no database at all).
	Database Database

	// Certificate is the client certificate to send if the server asks for
	// one; nil sends none unless Interaction supplies one.
	Certificate *Certificate

	// Interaction answers password and certificate requests.
	Interaction Interaction

	// AdvertisedProtocols are the ALPN protocols to offer.
	AdvertisedProtocols []string

	// AcceptCertificate decides about a server certificate with errors, as
	// [ClientConnection.OnAcceptCertificate]; nil rejects it.
	AcceptCertificate func(peer *Certificate, errors CertificateFlags) bool

	// KeyLogWriter, if set, receives the connections' secrets in the NSS
	// key log format, for Wireshark (see BackendOptions.KeyLogWriter). It
	// defeats TLS: giotls never sets it from the environment; a program
	// that wants SSLKEYLOGFILE opens that file itself.
	KeyLogWriter io.Writer

	// Logger, if set, receives each handshake's decisions at debug level
	// (see BackendOptions.Logger).
	Logger *slog.Logger

	// SessionCache is where sessions are resumed from and kept; nil means
	// DefaultSessionCache.
	SessionCache *SessionCache

	// Configure, if set, is called with each connection before its
	// handshake, for what the fields above do not cover, such as
	// SetRequireCloseNotify or OnNotify. An error from it closes the
	// connection and is returned by DialContext.
	Configure func(conn *ClientConnection) error

	// Resolver looks up SRV records and host names; nil means the
	// NetDialer's Resolver, else net.DefaultResolver.
	Resolver *net.Resolver

	// Event, if set, is called at each step of each dial, as GIO's
	// GSocketClient::event signal: see [SocketClientEvent] for the order.
	// It runs on the dialing goroutine and must not block.
	Event func(event SocketClientEvent, c Connectable, conn net.Conn)

	// Proxy, if set, chooses the proxy for each connection, as GIO's
	// GProxyResolver: it is given the network and the "host:port" dialed
	// (port numeric) and returns the proxy's URL, or nil to connect
	// directly; an error fails the dial. [ProxyFromEnvironment] reads the
	// usual environment variables; [DialProxy] says which schemes work.
	// The server identity stays the destination's: the proxy is never
	// what the certificate is checked against, nor the SNI.
	Proxy func(ctx context.Context, network, addr string) (*url.URL, error)

	// ProxyDatabase verifies the certificate of an "https://" proxy; nil
	// means the system database. Database is for the destination alone.
	ProxyDatabase Database
}

// DialContext connects to addr on the named network ("tcp", "tcp4" or
// "tcp6") and completes the TLS handshake, both bounded by ctx. addr is
// "host:port"; the server identity is a NetworkAddress for host, so a host
// name is sent as SNI and checked against the certificate's DNS names, and
// an IP address is checked against its IP addresses and not sent.
//
// The net.Conn returned is always a *[ClientConnection] whose handshake is
// complete. On failure the TCP connection is closed and the error is the
// handshake's (errors.Is(err, ErrBadCertificate), ctx's error, ...) or the
// dial's.
//
// It is [Dialer.DialConnectable] with that NetworkAddress (and its events),
// except that its error is the one target's own.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if d == nil {
		d = new(Dialer)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := d.bound(ctx)
	defer cancel()
	identity, err := dialIdentity(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	conn, attempts, err := d.connect(ctx, network, identity)
	if err != nil {
		if len(attempts) == 1 { // the one target's error, unchanged
			return nil, attempts[0].err
		}
		return nil, err
	}
	return conn, nil
}

// backend returns the default backend, or one with the Dialer's key log,
// logger and session cache.
func (d *Dialer) backend() *Backend {
	if d.KeyLogWriter == nil && d.Logger == nil && d.SessionCache == nil {
		return DefaultBackend()
	}
	return NewBackend(BackendOptions{SessionCache: d.SessionCache, KeyLogWriter: d.KeyLogWriter, Logger: d.Logger})
}

// dialIdentity is the server identity for addr: a NetworkAddress for its host
// and port (a service name such as "https" is looked up, as net.Dial does).
func dialIdentity(ctx context.Context, network, addr string) (*NetworkAddress, error) {
	host, service, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, newError(ErrorMisc, err, "invalid address to dial")
	}
	if host == "" {
		return nil, newError(ErrorMisc, nil, "invalid address to dial %q: no host, so no server identity", addr)
	}
	port, err := net.DefaultResolver.LookupPort(ctx, network, service)
	if err != nil {
		return nil, newError(ErrorMisc, err, "invalid address to dial %q", addr)
	}
	return NewNetworkAddress(host, uint16(port)), nil
}
