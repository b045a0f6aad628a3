package giotls

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"

	"github.com/giotls/giotls/internal/tlsconn"
)

// The data path, a file a step: client_connection.go (the connection: its
// state, Read, Write; close.go ends it) -> handshake.go (one handshake: the
// snapshot of the properties, crypto/tls's callbacks) -> verification.go
// (the server's chain) -> session_cache.go (where sessions are kept, and
// CopySessionState). Errors in GIO's terms: client_connection_errors.go and
// alerts.go.

// ClientConnection is GIO's GTlsClientConnection, with GTlsConnection's
// methods: a TLS client connection over a base stream, usable as a
// [net.Conn] (GIOStream). Make one with [NewClientConnection],
// [Backend.NewClientConnection] or [Dialer.DialContext]. Its methods may be
// called from several goroutines.
//
// The handshake runs on the first Read or Write, or when
// [ClientConnection.Handshake] is called; the properties set before it
// (certificate, database, identity, ALPN, ...) configure it.
type ClientConnection struct {
	// Properties are guarded by mu; the handshake is serialised by hsLock
	// (see lockHandshake); the *tls.Conn is created when the first
	// handshake starts, because its configuration comes from the
	// properties set before it.
	base    net.Conn
	tr      *tlsconn.Transport
	backend *Backend

	tlsConn  atomic.Pointer[tls.Conn]
	closed   atomic.Bool
	closing  closeState    // for the graceful close (close.go)
	closedCh chan struct{} // closed by Close: ends every wait for the handshake

	hsLock chan struct{}                  // one slot: held by the goroutine running the handshake
	hs     atomic.Pointer[handshakeState] // the handshake in progress, nil when none
	hsDone bool                           // a handshake completed, or failed (hsErr); under hsLock
	hsErr  error                          // sticky handshake error; under hsLock

	mu                 sync.Mutex // guards the properties
	identity           Connectable
	certificate        *Certificate
	database           Database
	databaseSet        bool // false: the backend's default, looked up when needed
	interaction        Interaction
	requireCloseNotify bool
	alpn               []string
	validationFlags    CertificateFlags
	useSSL3            bool
	acceptHandler      func(peer *Certificate, errors CertificateFlags) bool
	notifyHandler      func(property string)
	acceptHandlers     handlerList[func(peer *Certificate, errors CertificateFlags) bool] // client_connection_handlers.go
	notifyHandlers     handlerList[func(property string)]
	copySource         *ClientConnection // named by CopySessionState

	res results
}

// results are what the handshakes and Read found, under their own lock.
type results struct {
	mu             sync.Mutex
	peerCert       *Certificate
	peerErrors     CertificateFlags
	acceptedCAs    [][]byte
	negotiated     string
	version        ProtocolVersion
	suite          string
	sessionResumed bool
	complete       bool            // the handshake completed
	fatal          error           // a fatal TLS error Read met; Write fails with it
	last           *handshakeState // the last handshake started
}

func newClientConnection(b *Backend, base net.Conn, identity Connectable) (*ClientConnection, error) {
	if noConn(base) {
		return nil, newError(ErrorMisc, nil, "nil base connection")
	}
	if !noIdentity(identity) {
		if _, err := resolveIdentity(identity); err != nil {
			return nil, err
		}
	} else {
		identity = nil
	}
	c := &ClientConnection{
		base:               base,
		tr:                 tlsconn.NewTransport(base),
		backend:            b,
		identity:           identity,
		requireCloseNotify: true,
		validationFlags:    CertificateValidateAll,
		closedCh:           make(chan struct{}),
		hsLock:             make(chan struct{}, 1),
	}
	return c, nil
}

// notify calls the notify handler for each property, outside mu, as a
// handler of the handshake in progress (see callback): the handshake calls
// it.
func (c *ClientConnection) notify(properties ...string) {
	c.mu.Lock()
	h := c.notifyEmitterLocked()
	c.mu.Unlock()
	if h == nil {
		return
	}
	c.callback(func() {
		for _, p := range properties {
			h(p)
		}
	})
}

// set runs f under mu, then notifies property. That notification is not
// counted as a handler of a handshake in progress: when a handler called
// the setter, it is counted already, until it returns (so nesting needs
// nothing more), and a setter called on another goroutine is no handler.
func (c *ClientConnection) set(property string, f func()) {
	c.mu.Lock()
	f()
	h := c.notifyEmitterLocked()
	c.mu.Unlock()
	if h != nil {
		h(property)
	}
}

// cipherSuiteNames maps suite IDs to names, built once: tls.CipherSuiteName
// builds crypto/tls's whole list of suites on every call (fourteen
// allocations a handshake).
var cipherSuiteNames = sync.OnceValue(func() map[uint16]string {
	m := map[uint16]string{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		m[s.ID] = s.Name
	}
	return m
})

// cipherSuiteName is tls.CipherSuiteName without its cost.
func cipherSuiteName(id uint16) string {
	if name, ok := cipherSuiteNames()[id]; ok {
		return name
	}
	return tls.CipherSuiteName(id)
}

// versionRange maps BackendOptions' bounds to crypto/tls's, refusing what
// RFC 8996 deprecated and datagram versions.
func versionRange(lo, hi ProtocolVersion) (uint16, uint16, error) {
	if lo == ProtocolVersionUnknown {
		lo = ProtocolVersionTLS12
	}
	if hi == ProtocolVersionUnknown {
		hi = ProtocolVersionTLS13
	}
	wire := map[ProtocolVersion]uint16{ProtocolVersionTLS12: tls.VersionTLS12, ProtocolVersionTLS13: tls.VersionTLS13}
	l, okL := wire[lo]
	h, okH := wire[hi]
	if !okL || !okH || l > h {
		return 0, 0, newError(ErrorMisc, nil, "unsupported protocol versions %v to %v: giotls speaks TLS 1.2 and TLS 1.3", lo, hi)
	}
	return l, h, nil
}

func protocolVersion(v uint16) ProtocolVersion {
	switch v {
	case tls.VersionSSL30: //nolint:staticcheck // mapped for completeness
		return ProtocolVersionSSL30
	case tls.VersionTLS10:
		return ProtocolVersionTLS10
	case tls.VersionTLS11:
		return ProtocolVersionTLS11
	case tls.VersionTLS12:
		return ProtocolVersionTLS12
	case tls.VersionTLS13:
		return ProtocolVersionTLS13
	}
	return ProtocolVersionUnknown
}

// Read reads application data, running the handshake first if needed. A
// close_notify from the server gives io.EOF itself; a TCP close without one
// gives ErrEOF while require-close-notify is set (a truncation, which never
// matches io.EOF: see Error.Unwrap), io.EOF otherwise.
func (c *ClientConnection) Read(p []byte) (int, error) {
	return c.transfer("read", func(tc *tls.Conn) (int, error) { return tc.Read(p) })
}

// Write writes application data, running the handshake first if needed. It
// fails with the error of a fatal alert Read met.
func (c *ClientConnection) Write(p []byte) (int, error) {
	return c.transfer("write", func(tc *tls.Conn) (int, error) { return tc.Write(p) })
}

// transfer runs io, Read's or Write's part, on the handshaken connection,
// counted as busy for Close, and turns its error into GIO's terms. A fatal
// alert Read meets, the server's or crypto/tls's own (a record that failed
// to decrypt), is remembered: after one, "both parties MUST immediately
// close the connection" (RFC 8446, section 6.2), so Write refuses to send
// more, which crypto/tls would still do. Errors of the base stream and
// timeouts are not alerts: writing may go on after them.
func (c *ClientConnection) transfer(op string, io func(*tls.Conn) (int, error)) (int, error) {
	c.closing.busy.Add(1)
	defer c.closing.busy.Add(-1)
	tc, err := c.established(op)
	if err == nil && op == "write" {
		err = result(c, &c.res.fatal)
	}
	if err != nil {
		return 0, err
	}
	n, err := io(tc)
	if err != nil {
		_, _, alert := tlsconn.AlertOf(err)
		err = c.ioError(op, err)
		if alert && op == "read" {
			c.res.mu.Lock()
			if c.res.fatal == nil {
				c.res.fatal = err
			}
			c.res.mu.Unlock()
		}
	}
	return n, err
}

// established returns the handshaken *tls.Conn, running the handshake
// (with no context: the connection's deadlines bound it) if needed.
func (c *ClientConnection) established(op string) (*tls.Conn, error) {
	if c.closed.Load() {
		return nil, closedError(op)
	}
	if err := c.Handshake(context.Background()); err != nil {
		return nil, err
	}
	return c.tlsConn.Load(), nil
}

// Close ends the connection without discarding what the peer still has to
// say: after a completed handshake it sends close_notify, then reads and
// discards what the peer sends until the peer's close_notify or the end of
// the stream (at most 1 MiB, for at most five seconds or until the read
// deadline set, if earlier), then closes the base connection (close.go).
// Unread application data is lost either way; what Close avoids is the
// reset a socket closed with unread data sends, which makes the peer lose
// what it had not read yet; a peer still sending at the 1 MiB limit makes
// Close fail with ErrMisc, as it then resets the connection. Before a
// completed handshake, or while another goroutine is in Read or Write, it
// closes at once. A handshake in progress
// is cancelled (its verification and Interaction see their context done) and
// every operation waiting for it returns. Closing again does nothing; I/O
// afterwards fails with an error matching [net.ErrClosed]. See
// [ClientConnection.CloseContext] to bound the wait.
func (c *ClientConnection) Close() error {
	return c.CloseContext(context.Background())
}

// CloseWrite sends close_notify (running the handshake first if needed) and
// keeps the connection open for reading; later writes fail. Calling it again
// does nothing.
func (c *ClientConnection) CloseWrite() error {
	tc, err := c.established("close")
	if err != nil {
		return err
	}
	// A write deadline the user set bounds close_notify, which crypto/tls
	// would give five seconds of its own.
	if user, ok := c.closing.writeBound(); ok {
		c.tr.BoundWrites(user)
	}
	if err := tc.CloseWrite(); err != nil {
		return c.ioError("close", err)
	}
	return nil
}

// identityString is an identity for logs.
func identityString(id Connectable) string {
	if noIdentity(id) {
		return "(none)"
	}
	return id.String()
}

var _ net.Conn = (*ClientConnection)(nil)
