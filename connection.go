package giotls

import (
	"context"
	"crypto/tls"
	"net"
)

// Connection is GIO's GTlsConnection: a TLS connection over a base stream,
// usable as a net.Conn (GIOStream).
type Connection interface {
	net.Conn
	// Handshake runs the handshake now; ctx bounds it. Read and Write run it
	// implicitly. A failed handshake's error is returned again by every later
	// call (sticky).
	Handshake(ctx context.Context) error
	// Close ends the connection. After a completed handshake it sends
	// close_notify, then reads and discards what the peer still sends
	// until the peer's close_notify or the end of the stream (at most
	// 1 MiB, five seconds, or until the read deadline if earlier), then
	// closes the base stream: closing a socket with unread data would
	// reset it and lose what the peer had not read yet. Unread data is
	// discarded. A peer still sending at the 1 MiB limit makes Close fail
	// with ErrMisc: closing then resets the connection. Before the handshake, or while another goroutine is in
	// Read or Write, it closes at once. Later calls do nothing; I/O after
	// it fails with an error matching net.ErrClosed.
	Close() error
	// CloseWrite sends close_notify and keeps reading.
	CloseWrite() error
	// CloseContext is Close with ctx bounding the wait for the peer's end
	// and the sending of close_notify (its deadline replaces Close's five
	// seconds; a ctx already done closes at once, without close_notify); it
	// reports ctx's error if ctx ended first. The connection is closed
	// either way.
	CloseContext(ctx context.Context) error
	// BaseIOStream returns the connection TLS runs over.
	BaseIOStream() net.Conn
	// Certificate returns the certificate this side presents, nil for none.
	Certificate() *Certificate
	// SetCertificate sets the certificate to present when the peer asks for one.
	SetCertificate(c *Certificate)
	// PeerCertificate returns the peer's certificate with the chain it sent;
	// nil before the handshake.
	PeerCertificate() *Certificate
	// PeerCertificateErrors returns the problems found with the peer's
	// certificate in the last handshake.
	PeerCertificateErrors() CertificateFlags
	// Database returns the database used to verify the peer. Default: the
	// backend's system database.
	Database() Database
	// SetDatabase sets the database; nil means no database, so every peer
	// gets CertificateUnknownCA.
	SetDatabase(db Database)
	// Interaction returns the interaction asked for passwords and client
	// certificates during handshakes; nil for none.
	Interaction() Interaction
	// SetInteraction sets it.
	SetInteraction(i Interaction)
	// RequireCloseNotify reports whether a TCP close without close_notify is
	// an error (ErrEOF) rather than a plain io.EOF. Default true.
	RequireCloseNotify() bool
	// SetRequireCloseNotify sets it: false for protocols that mark their
	// own ends (HTTP with Content-Length) and servers that omit close_notify.
	SetRequireCloseNotify(require bool)
	// AdvertisedProtocols returns the ALPN protocols offered.
	AdvertisedProtocols() []string
	// SetAdvertisedProtocols sets them, in order of preference (RFC 7301);
	// nil for no ALPN.
	SetAdvertisedProtocols(protocols []string)
	// NegotiatedProtocol returns the ALPN protocol agreed, "" for none.
	NegotiatedProtocol() string
	// ProtocolVersion returns the version negotiated, ProtocolVersionUnknown
	// before the handshake.
	ProtocolVersion() ProtocolVersion
	// CiphersuiteName returns the IANA name of the cipher suite, "" before
	// the handshake.
	CiphersuiteName() string
	// ChannelBindingData returns the channel binding of type t as the server
	// computes it: tls-unique (RFC 5929; TLS 1.2 only), tls-server-end-point
	// (RFC 5929, section 4.1; ErrBindingNotSupported for Ed25519),
	// tls-exporter (RFC 9266: 32 bytes, zero-length context; on TLS 1.2 only
	// with the extended master secret). ErrBindingInvalidState without a
	// completed handshake; ErrBindingNotAvailable for tls-unique after a
	// resumption without the extended master secret.
	ChannelBindingData(t ChannelBindingType) ([]byte, error)
	// OnAcceptCertificate sets GIO's accept-certificate handler: called,
	// on the handshake's goroutine, when errors & ValidationFlags() != 0;
	// true accepts. No handler, or false: the handshake fails with
	// ErrBadCertificate. It is asked again on resumed handshakes.
	OnAcceptCertificate(handler func(peer *Certificate, errors CertificateFlags) bool)
	// OnNotify sets a handler called with a GIO property name
	// ("peer-certificate", "accepted-cas", ...) when the property changes.
	OnNotify(handler func(property string)) // GObject notify, GIO property names ("accepted-cas", ...)
	// ConnectionState returns crypto/tls's view, for code that speaks its types.
	ConnectionState() tls.ConnectionState
}

// ClientConnection is GIO's GTlsClientConnection.
type ClientConnection interface {
	Connection
	// source may be any value holding a ClientConnection of this backend, including a
	// struct that embeds one; otherwise (or in the wrong state) it is a documented no-op.
	CopySessionState(source ClientConnection)
	// AcceptedCAs returns the DER subject DNs from the server's
	// CertificateRequest, in the server's order; nil if none was requested.
	AcceptedCAs() [][]byte
	// ServerIdentity returns the identity the server's certificate is
	// checked against.
	ServerIdentity() Connectable
	// SetServerIdentity sets it; before the handshake it also changes SNI
	// and the session-cache key.
	SetServerIdentity(identity Connectable)
	// Deprecated: SSL 3.0 is no longer supported; does nothing.
	UseSSL3() bool
	// Deprecated: SSL 3.0 is no longer supported; does nothing.
	SetUseSSL3(use bool)
	// Deprecated: impossible to use correctly; still masks errors as in GIO.
	ValidationFlags() CertificateFlags
	// Deprecated: see ValidationFlags.
	SetValidationFlags(flags CertificateFlags)
	// SessionResumed reports, after the handshake, whether the server
	// accepted a resumed session.
	SessionResumed() bool
}
