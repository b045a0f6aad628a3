package giotls

import (
	"crypto/tls"
	"net"
	"slices"
)

// LocalAddr returns the base connection's local address.
func (c *ClientConnection) LocalAddr() net.Addr { return c.base.LocalAddr() }

// RemoteAddr returns the base connection's remote address.
func (c *ClientConnection) RemoteAddr() net.Addr { return c.base.RemoteAddr() }

// BaseIOStream returns the connection TLS runs over.
func (c *ClientConnection) BaseIOStream() net.Conn { return c.base }

// Certificate returns the certificate this side presents, nil for none.
func (c *ClientConnection) Certificate() *Certificate { return property(c, &c.certificate) }

// SetCertificate sets the certificate to present when the server asks for
// one. The handshake reads it when it starts.
func (c *ClientConnection) SetCertificate(cert *Certificate) {
	setProperty(c, "certificate", &c.certificate, cert)
}

// PeerCertificate returns the server's certificate with the chain it sent;
// nil before the handshake.
func (c *ClientConnection) PeerCertificate() *Certificate { return result(c, &c.res.peerCert) }

// PeerCertificateErrors returns the problems found with the server's
// certificate in the last handshake.
func (c *ClientConnection) PeerCertificateErrors() CertificateFlags {
	return result(c, &c.res.peerErrors)
}

// Database returns the database used to verify the server: the one set, or
// the backend's default ([Backend.DefaultDatabase]), looked up on first use
// (so a connection given its own database never loads the system's) and
// kept, as GIO does: a later [Backend.SetDefaultDatabase] does not change it.
func (c *ClientConnection) Database() Database {
	c.mu.Lock()
	db, set := c.database, c.databaseSet
	c.mu.Unlock()
	if set {
		return db
	}
	db = c.backend.DefaultDatabase()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.databaseSet { // else SetDatabase ran meanwhile: its database wins
		c.database, c.databaseSet = db, true
	}
	return c.database
}

// SetDatabase sets the database the server's certificate is verified with;
// nil means no database, so every server gets [CertificateUnknownCA].
func (c *ClientConnection) SetDatabase(db Database) {
	if noDatabase(db) {
		db = nil
	}
	c.set("database", func() { c.database, c.databaseSet = db, true })
}

// Interaction returns the interaction asked for passwords and client
// certificates during handshakes; nil for none.
func (c *ClientConnection) Interaction() Interaction { return property(c, &c.interaction) }

// SetInteraction sets the interaction (see [Interaction]).
func (c *ClientConnection) SetInteraction(i Interaction) {
	setProperty(c, "interaction", &c.interaction, i)
}

// RequireCloseNotify reports whether a TCP close without close_notify is
// an error ([ErrEOF]) rather than a plain [io.EOF]. Default true.
func (c *ClientConnection) RequireCloseNotify() bool { return property(c, &c.requireCloseNotify) }

// SetRequireCloseNotify sets it: false for protocols that mark their own
// ends (HTTP with Content-Length) and servers that omit close_notify.
func (c *ClientConnection) SetRequireCloseNotify(require bool) {
	setProperty(c, "require-close-notify", &c.requireCloseNotify, require)
}

// AdvertisedProtocols returns the ALPN protocols offered.
func (c *ClientConnection) AdvertisedProtocols() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.alpn)
}

// SetAdvertisedProtocols sets them, in order of preference (RFC 7301); nil
// for no ALPN.
func (c *ClientConnection) SetAdvertisedProtocols(protocols []string) {
	c.set("advertised-protocols", func() { c.alpn = slices.Clone(protocols) })
}

// NegotiatedProtocol returns the ALPN protocol agreed, "" for none.
func (c *ClientConnection) NegotiatedProtocol() string { return result(c, &c.res.negotiated) }

// ProtocolVersion returns the version negotiated, [ProtocolVersionUnknown]
// before the handshake.
func (c *ClientConnection) ProtocolVersion() ProtocolVersion { return result(c, &c.res.version) }

// CiphersuiteName returns the IANA name of the cipher suite, "" before the
// handshake.
func (c *ClientConnection) CiphersuiteName() string { return result(c, &c.res.suite) }

// OnAcceptCertificate sets GIO's accept-certificate handler: called, on the
// handshake's goroutine, when errors & [ClientConnection.ValidationFlags] !=
// 0; true accepts. No handler, or false: the handshake fails with
// [ErrBadCertificate]. It is asked again on resumed handshakes. Setting it
// replaces the one set before, not those added with
// [ClientConnection.ConnectAcceptCertificate], which are asked after it.
func (c *ClientConnection) OnAcceptCertificate(handler func(peer *Certificate, errors CertificateFlags) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acceptHandler = handler
}

// OnNotify sets a handler called with a GIO property name
// ("peer-certificate", "accepted-cas", ...) when the property changes
// (GObject's notify). Setting it replaces the one set before, not those
// added with [ClientConnection.ConnectNotify].
func (c *ClientConnection) OnNotify(handler func(property string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notifyHandler = handler
}

// ConnectionState returns crypto/tls's view, for code that speaks its
// types; the zero value until a
// handshake has completed. (crypto/tls's own ConnectionState waits for a
// running handshake, so a handler called during one would wait for itself.)
func (c *ClientConnection) ConnectionState() tls.ConnectionState {
	c.res.mu.Lock()
	done := c.res.complete
	c.res.mu.Unlock()
	if tc := c.tlsConn.Load(); done && tc != nil {
		return tc.ConnectionState()
	}
	return tls.ConnectionState{}
}

// AcceptedCAs returns the DER subject DNs from the server's
// CertificateRequest, in the server's order; nil if none was requested.
func (c *ClientConnection) AcceptedCAs() [][]byte {
	c.res.mu.Lock()
	defer c.res.mu.Unlock()
	if c.res.acceptedCAs == nil {
		return nil
	}
	out := make([][]byte, len(c.res.acceptedCAs))
	for i, dn := range c.res.acceptedCAs {
		out[i] = slices.Clone(dn)
	}
	return out
}

// ServerIdentity returns the identity the server's certificate is checked
// against.
func (c *ClientConnection) ServerIdentity() Connectable { return property(c, &c.identity) }

// SetServerIdentity sets the identity. Set before the handshake, it changes
// SNI, verification and the session-cache key; an identity that cannot be
// understood makes the handshake fail with ErrorMisc. The handshake takes
// one snapshot when it starts: a change while it runs (from another
// goroutine) applies to none of its parts, so SNI, verification and the
// session key never disagree.
func (c *ClientConnection) SetServerIdentity(identity Connectable) {
	if noIdentity(identity) {
		identity = nil
	}
	setProperty(c, "server-identity", &c.identity, identity)
}

// UseSSL3 returns the use-ssl3 property.
//
// Deprecated: SSL 3.0 is no longer supported; does nothing.
func (c *ClientConnection) UseSSL3() bool { return property(c, &c.useSSL3) }

// SetUseSSL3 sets the use-ssl3 property.
//
// Deprecated: SSL 3.0 is no longer supported; does nothing.
func (c *ClientConnection) SetUseSSL3(use bool) { setProperty(c, "use-ssl3", &c.useSSL3, use) }

// ValidationFlags returns the flags that make a certificate error fatal
// unless the accept-certificate handler accepts it.
//
// Deprecated: impossible to use correctly; still masks errors as in GIO.
func (c *ClientConnection) ValidationFlags() CertificateFlags { return property(c, &c.validationFlags) }

// SetValidationFlags sets them.
//
// Deprecated: see [ClientConnection.ValidationFlags].
func (c *ClientConnection) SetValidationFlags(flags CertificateFlags) {
	setProperty(c, "validation-flags", &c.validationFlags, flags)
}

// SessionResumed reports, after the handshake, whether the server accepted a
// resumed session.
func (c *ClientConnection) SessionResumed() bool { return result(c, &c.res.sessionResumed) }

// property reads a property under its lock.
func property[T any](c *ClientConnection, field *T) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	return *field
}

// result reads a result under its lock.
func result[T any](c *ClientConnection, field *T) T {
	c.res.mu.Lock()
	defer c.res.mu.Unlock()
	return *field
}

// setProperty sets a property under its lock and notifies it (see set).
func setProperty[T any](c *ClientConnection, name string, field *T, v T) {
	c.set(name, func() { *field = v })
}
