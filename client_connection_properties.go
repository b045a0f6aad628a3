package giotls

import (
	"crypto/tls"
	"net"
	"slices"
	"time"
)

func (c *clientConn) LocalAddr() net.Addr                { return c.base.LocalAddr() }
func (c *clientConn) RemoteAddr() net.Addr               { return c.base.RemoteAddr() }
func (c *clientConn) SetWriteDeadline(t time.Time) error { return c.base.SetWriteDeadline(t) }
func (c *clientConn) BaseIOStream() net.Conn             { return c.base }

func (c *clientConn) Certificate() *Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.certificate
}

func (c *clientConn) SetCertificate(cert *Certificate) {
	c.set("certificate", func() { c.certificate = cert })
}

func (c *clientConn) PeerCertificate() *Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peerCert
}

func (c *clientConn) PeerCertificateErrors() CertificateFlags {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peerErrors
}

// Database returns the database set, or the backend's default database
// (looked up on first use, so a connection given its own database never
// loads the system's).
func (c *clientConn) Database() Database {
	c.mu.Lock()
	db, set := c.database, c.databaseSet
	c.mu.Unlock()
	if set {
		return db
	}
	return c.backend.DefaultDatabase()
}

func (c *clientConn) SetDatabase(db Database) {
	if isNilPointer(db) {
		db = nil
	}
	c.set("database", func() { c.database, c.databaseSet = db, true })
}

func (c *clientConn) Interaction() Interaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interaction
}

func (c *clientConn) SetInteraction(i Interaction) {
	if isNilPointer(i) {
		i = nil
	}
	c.set("interaction", func() { c.interaction = i })
}

func (c *clientConn) RequireCloseNotify() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requireCloseNotify
}

func (c *clientConn) SetRequireCloseNotify(require bool) {
	c.set("require-close-notify", func() { c.requireCloseNotify = require })
}

func (c *clientConn) AdvertisedProtocols() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.alpn)
}

func (c *clientConn) SetAdvertisedProtocols(protocols []string) {
	c.set("advertised-protocols", func() { c.alpn = slices.Clone(protocols) })
}

func (c *clientConn) NegotiatedProtocol() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.negotiated
}

func (c *clientConn) ProtocolVersion() ProtocolVersion {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

func (c *clientConn) CiphersuiteName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.suite
}

func (c *clientConn) OnAcceptCertificate(handler func(peer *Certificate, errors CertificateFlags) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acceptHandler = handler
}

func (c *clientConn) OnNotify(handler func(property string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notifyHandler = handler
}

// ConnectionState returns crypto/tls's state; the zero value until a
// handshake has completed. (crypto/tls's own ConnectionState waits for a
// running handshake, so a handler called during one would wait for itself.)
func (c *clientConn) ConnectionState() tls.ConnectionState {
	c.mu.Lock()
	done := c.hsComplete
	c.mu.Unlock()
	if tc := c.tlsConn.Load(); done && tc != nil {
		return tc.ConnectionState()
	}
	return tls.ConnectionState{}
}

func (c *clientConn) AcceptedCAs() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.acceptedCAs == nil {
		return nil
	}
	out := make([][]byte, len(c.acceptedCAs))
	for i, dn := range c.acceptedCAs {
		out[i] = slices.Clone(dn)
	}
	return out
}

func (c *clientConn) ServerIdentity() Connectable {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.identity
}

// SetServerIdentity sets the identity. Set before the handshake, it changes
// SNI, verification and the session-cache key; an identity that cannot be
// understood makes the handshake fail with ErrorMisc. The handshake takes
// one snapshot when it starts: a change while it runs (from another
// goroutine) applies to none of its parts, so SNI, verification and the
// session key never disagree.
func (c *clientConn) SetServerIdentity(identity Connectable) {
	if isNilPointer(identity) {
		identity = nil
	}
	c.set("server-identity", func() { c.identity = identity })
}

// Deprecated: SSL 3.0 is no longer supported; does nothing.
func (c *clientConn) UseSSL3() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.useSSL3
}

// Deprecated: SSL 3.0 is no longer supported; does nothing.
func (c *clientConn) SetUseSSL3(use bool) {
	c.set("use-ssl3", func() { c.useSSL3 = use })
}

// Deprecated: impossible to use correctly; still masks errors as in GIO.
func (c *clientConn) ValidationFlags() CertificateFlags {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.validationFlags
}

// Deprecated: see ValidationFlags.
func (c *clientConn) SetValidationFlags(flags CertificateFlags) {
	c.set("validation-flags", func() { c.validationFlags = flags })
}

func (c *clientConn) SessionResumed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionResumed
}
