package giotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/giotls/giotls/internal/sessioncache"
	"github.com/giotls/giotls/internal/tlsconn"
)

// clientConn is the crypto/tls backend's ClientConnection. Properties are
// guarded by mu; the handshake is serialised by hsLock (see lockHandshake);
// the *tls.Conn is created when the first handshake starts, because its
// configuration comes from the properties set before it.
type clientConn struct {
	base    net.Conn
	tr      *tlsconn.Transport
	backend *backend

	tlsConn  atomic.Pointer[tls.Conn]
	closed   atomic.Bool
	closing  closeState    // for the graceful close (close.go)
	closedCh chan struct{} // closed by Close: ends every wait for the handshake

	hsLock chan struct{}                // one slot: held by the goroutine running the handshake
	hs     atomic.Pointer[handshakeRun] // the handshake in progress, nil when none
	hsDone bool                         // a handshake completed, or failed (hsErr); under hsLock
	hsErr  error                        // sticky handshake error; under hsLock

	mu                 sync.Mutex
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

	// Results of the last handshake.
	peerCert        *Certificate
	peerErrors      CertificateFlags
	acceptedCAs     [][]byte
	certRequested   bool
	certificateSent *Certificate // the client certificate sent in the last handshake
	negotiated      string
	version         ProtocolVersion
	suite           string
	sessionResumed  bool
	hsComplete      bool  // the last handshake completed
	fatal           error // a fatal TLS error Read met; Write fails with it

	// The identity the running handshake started with: SNI, verification
	// and the session key all use it, whatever SetServerIdentity does
	// meanwhile.
	hsIdentity Connectable
	hsName     serverName

	// Session resumption: the adapter over the backend's cache, the key
	// it was made with, and the connection CopySessionState named.
	sessions   *sessioncache.ConnCache
	startKey   string
	copySource *clientConn
}

func newClientConn(b *backend, base net.Conn, identity Connectable) (*clientConn, error) {
	if base == nil || isNilPointer(base) {
		return nil, newError(ErrorMisc, nil, "NewClientConnection: nil base connection")
	}
	if identity != nil && !isNilPointer(identity) {
		if _, err := resolveIdentity(identity); err != nil {
			return nil, err
		}
	} else {
		identity = nil
	}
	c := &clientConn{
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
func (c *clientConn) notify(properties ...string) {
	c.mu.Lock()
	h := c.notifyHandler
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
func (c *clientConn) set(property string, f func()) {
	c.mu.Lock()
	f()
	h := c.notifyHandler
	c.mu.Unlock()
	if h != nil {
		h(property)
	}
}

// Handshake runs the TLS handshake, bounded by ctx. It is done once: later
// calls return the first one's result. Cancelling ctx closes the base
// connection, as crypto/tls does, and the handshake fails with ctx's error.
func (c *clientConn) Handshake(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := c.lockHandshake(ctx); err != nil {
		return err
	}
	defer c.unlockHandshake()
	if c.closed.Load() {
		return closedError("handshake")
	}
	if c.hsDone {
		return c.hsErr
	}
	cfg, err := c.config()
	if err != nil {
		c.hsDone, c.hsErr = true, err
		return err
	}
	tc := tls.Client(c.tr, cfg)
	run := c.startRun(ctx)
	c.tlsConn.Store(tc)
	if c.closed.Load() { // Close ran before run and tc were published: it closed base.
		c.hsDone, c.hsErr = true, closedError("handshake")
		return c.hsErr
	}
	err = tc.HandshakeContext(run.ctx)
	if err != nil {
		err = c.handshakeError(ctx, err)
		if l := c.backend.opts.Logger; l != nil {
			l.Debug("giotls: handshake failed", "identity", identityString(c.ServerIdentity()), "error", err)
		}
		c.notify("accepted-cas") // also after a failed handshake, as GIO
	} else {
		c.recordHandshake(tc.ConnectionState())
	}
	c.hsDone, c.hsErr = true, err
	return err
}

// recordHandshake stores the results of a completed handshake and notifies
// the properties that changed.
func (c *clientConn) recordHandshake(cs tls.ConnectionState) {
	c.mu.Lock()
	c.negotiated = cs.NegotiatedProtocol
	c.version = protocolVersion(cs.Version)
	c.suite = cipherSuiteName(cs.CipherSuite)
	c.sessionResumed = cs.DidResume
	c.hsComplete = true
	c.mu.Unlock()
	if l := c.backend.opts.Logger; l != nil {
		l.Debug("giotls: handshake complete", "identity", identityString(c.ServerIdentity()),
			"version", protocolVersion(cs.Version).String(), "ciphersuite", cipherSuiteName(cs.CipherSuite),
			"alpn", cs.NegotiatedProtocol, "resumed", cs.DidResume)
	}
	c.notify("negotiated-protocol", "protocol-version", "ciphersuite-name", "accepted-cas")
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

// config builds the crypto/tls configuration for the next handshake from the
// properties as they are now.
func (c *clientConn) config() (*tls.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name, err := resolveIdentity(c.identity)
	if err != nil {
		return nil, err
	}
	minVersion, maxVersion, err := versionRange(c.backend.opts.MinVersion, c.backend.opts.MaxVersion)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		ServerName: name.sni(),
		NextProtos: slices.Clone(c.alpn),
		MinVersion: minVersion,
		MaxVersion: maxVersion,
		// Verification is ours: every flag from the Database, then the
		// accept-certificate handler. VerifyConnection runs on every
		// handshake, resumed ones included (crypto/tls issue 31641).
		InsecureSkipVerify:   true,
		VerifyConnection:     c.verifyConnection,
		GetClientCertificate: c.getClientCertificate,
		Renegotiation:        tls.RenegotiateNever,
		KeyLogWriter:         c.backend.opts.KeyLogWriter,
	}
	// The session key names the certificate set now: the lookup happens
	// before the server says whether it wants one (see SessionCache).
	var chain []*x509.Certificate
	if c.certificate.HasPrivateKey() {
		chain = c.certificate.chain()
	}
	c.hsIdentity, c.hsName, c.startKey = c.identity, name, sessionKey(name, c.base, chain)
	var cache *sessioncache.Cache
	if !c.backend.opts.DisableResumption && c.startKey != "" {
		cache = c.backend.opts.SessionCache.c
	}
	c.sessions = sessioncache.NewConnCache(cache, c.startKey)
	if src := c.copySource; src != nil {
		c.sessions.CopyFrom(src.sessionsOf())
	}
	cfg.ClientSessionCache = c.sessions
	return cfg, nil
}

// verifyConnection computes the peer's certificate errors, asks the
// accept-certificate handler when they are not masked by validation-flags,
// and records peer-certificate and peer-certificate-errors after the handler
// returns, also when the certificate is rejected (as GIO does).
func (c *clientConn) verifyConnection(cs tls.ConnectionState) error {
	peer := certificateFromChain(cs.PeerCertificates)
	db := c.Database()
	c.mu.Lock()
	identity, interaction := c.hsIdentity, c.interaction
	mask, handler, sessions := c.validationFlags, c.acceptHandler, c.sessions
	c.mu.Unlock()
	sessions.SetConnectionState(cs)
	ctx := context.Background()
	if run := c.hs.Load(); run != nil {
		ctx = run.ctx // Close cancels it
	}
	if peer == nil {
		return newError(ErrorBadCertificate, nil, "server sent no certificate")
	}
	flags, err := verifyPeer(ctx, db, peer, identity, interaction)
	if err != nil {
		return newError(ErrorBadCertificate, err, "could not verify the server certificate")
	}
	flags |= staplingFlags(ctx, cs, peer, db, interaction)
	accepted := flags&mask == 0
	if !accepted && handler != nil {
		c.callback(func() { accepted = handler(peer, flags) })
	}
	c.mu.Lock()
	c.peerCert, c.peerErrors = peer, flags
	c.mu.Unlock()
	if l := c.backend.opts.Logger; l != nil {
		l.Debug("giotls: server certificate verified", "identity", identityString(identity),
			"subject", peer.SubjectName(), "errors", flags.String(), "masked", (flags & ^mask).String(),
			"accepted", accepted, "resumed", cs.DidResume)
	}
	c.notify("peer-certificate", "peer-certificate-errors")
	if !accepted {
		return &Error{Code: ErrorBadCertificate, Message: "Unacceptable TLS certificate (" + flags.String() + ")"}
	}
	return nil
}

// Read reads application data, running the handshake first if needed. A
// close_notify from the server gives io.EOF itself; a TCP close without one
// gives ErrEOF while require-close-notify is set (a truncation, which never
// matches io.EOF: see Error.Unwrap), io.EOF otherwise.
func (c *clientConn) Read(p []byte) (int, error) {
	c.closing.busy.Add(1)
	defer c.closing.busy.Add(-1)
	tc, err := c.established("read")
	if err != nil {
		return 0, err
	}
	n, err := tc.Read(p)
	if err != nil {
		_, remote := tlsconn.RemoteAlert(err)
		_, local := localAlert(err)
		err = c.ioError("read", err)
		if remote || local {
			c.recordFatal(err)
		}
	}
	return n, err
}

// recordFatal remembers a fatal alert met by Read, the server's or
// crypto/tls's own (a record that failed to decrypt): after one, "both
// parties MUST immediately close the connection" (RFC 8446, section 6.2), so
// Write refuses to send more, which crypto/tls would still do. Errors of the
// base stream and timeouts are not alerts: writing may go on after them.
func (c *clientConn) recordFatal(err error) {
	c.mu.Lock()
	if c.fatal == nil {
		c.fatal = err
	}
	c.mu.Unlock()
}

// Write writes application data, running the handshake first if needed. It
// fails with the error of a fatal alert Read met.
func (c *clientConn) Write(p []byte) (int, error) {
	c.closing.busy.Add(1)
	defer c.closing.busy.Add(-1)
	tc, err := c.established("write")
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	fatal := c.fatal
	c.mu.Unlock()
	if fatal != nil {
		return 0, fatal
	}
	n, err := tc.Write(p)
	if err != nil {
		err = c.ioError("write", err)
	}
	return n, err
}

// established returns the handshaken *tls.Conn, running the handshake
// (with no context: the connection's deadlines bound it) if needed.
func (c *clientConn) established(op string) (*tls.Conn, error) {
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
// afterwards fails with an error matching net.ErrClosed.
func (c *clientConn) Close() error {
	return c.CloseContext(context.Background())
}

// CloseWrite sends close_notify (running the handshake first if needed) and
// keeps the connection open for reading; later writes fail. Calling it again
// does nothing.
func (c *clientConn) CloseWrite() error {
	tc, err := c.established("close")
	if err != nil {
		return err
	}
	if err := tc.CloseWrite(); err != nil {
		return c.ioError("close", err)
	}
	return nil
}

// identityString is an identity for logs.
func identityString(id Connectable) string {
	if id == nil || isNilPointer(id) {
		return "(none)"
	}
	return id.String()
}

var _ ClientConnection = (*clientConn)(nil)
