package giotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/giotls/giotls/internal/sessioncache"
)

// handshakeState is one handshake, as crypto/tls's clientHandshakeState:
// built by Handshake from one snapshot of the properties, and handed to the
// callbacks crypto/tls makes (verifyConnection, getClientCertificate). SNI,
// verification, the client certificate and the session key all use the
// snapshot, whatever setters do meanwhile, so they never disagree.
//
// It is also the handshake's guard (handshake_guard.go): the context the
// handshake's verification and its Interaction run with, which Close
// cancels (crypto/tls's I/O Close ends by closing the connection), and how
// deeply the user handlers it runs are nested.
type handshakeState struct {
	c      *ClientConnection
	ctx    context.Context
	cancel context.CancelCauseFunc
	depth  atomic.Int32 // user handlers running: notify -> handler -> setter -> notify ... nest

	// The snapshot, taken when the handshake starts.
	identity    Connectable
	name        serverName // identity, resolved once
	database    Database
	certificate *Certificate
	interaction Interaction
	validation  CertificateFlags

	// Session resumption: the adapter over the backend's cache and the key
	// the lookup was made with (sessionKey, computed here only).
	sessions *sessioncache.ConnCache
	startKey string

	// What the server asked and the client sent, written by
	// getClientCertificate on crypto/tls's goroutine, read by the errors
	// after the handshake.
	mu              sync.Mutex
	certRequested   bool
	certificateSent *Certificate
}

// newHandshake takes the snapshot of c's properties for a handshake bounded
// by ctx, and prepares its session cache.
func (c *ClientConnection) newHandshake(ctx context.Context) (*handshakeState, error) {
	db := c.Database() // outside mu: the default is looked up on first use
	c.mu.Lock()
	hs := &handshakeState{
		c:           c,
		identity:    c.identity,
		database:    db,
		certificate: c.certificate,
		interaction: c.interaction,
		validation:  c.validationFlags,
	}
	copySource := c.copySource
	c.mu.Unlock()
	name, err := resolveIdentity(hs.identity)
	if err != nil {
		return nil, err
	}
	hs.name = name
	// The session key names the certificate set now: the lookup happens
	// before the server says whether it wants one (see SessionCache).
	var chain []*x509.Certificate
	if hs.certificate.HasPrivateKey() {
		chain = hs.certificate.chain()
	}
	hs.startKey = hs.sessionKey(chain)
	var cache *sessioncache.Cache
	if !c.backend.opts.DisableResumption && hs.startKey != "" {
		cache = c.backend.opts.SessionCache.c
	}
	hs.sessions = sessioncache.NewConnCache(cache, hs.startKey)
	if copySource != nil {
		hs.sessions.CopyFrom(copySource.sessionsOf())
	}
	hs.ctx, hs.cancel = context.WithCancelCause(ctx)
	return hs, nil
}

// sessionKey is the key of this handshake's sessions for a client
// certificate chain (see the package's sessionKey).
func (hs *handshakeState) sessionKey(chain []*x509.Certificate) string {
	return sessionKey(hs.name, hs.c.base, chain)
}

// config builds the crypto/tls configuration of the handshake.
func (hs *handshakeState) config() (*tls.Config, error) {
	c := hs.c
	minVersion, maxVersion, err := versionRange(c.backend.opts.MinVersion, c.backend.opts.MaxVersion)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		ServerName: hs.name.sni(),
		NextProtos: c.AdvertisedProtocols(),
		MinVersion: minVersion,
		MaxVersion: maxVersion,
		// Verification is ours: every flag from the Database, then the
		// accept-certificate handler. VerifyConnection runs on every
		// handshake, resumed ones included (crypto/tls issue 31641).
		InsecureSkipVerify:   true,
		VerifyConnection:     hs.verifyConnection,
		GetClientCertificate: hs.getClientCertificate,
		Renegotiation:        tls.RenegotiateNever,
		KeyLogWriter:         c.backend.opts.KeyLogWriter,
		ClientSessionCache:   hs.sessions,
	}, nil
}

// Handshake runs the TLS handshake now, bounded by ctx; Read and Write run
// it implicitly. It is done once: later calls return the first one's result
// (a failed handshake's error is sticky). Cancelling ctx closes the base
// connection, as crypto/tls does, and the handshake fails with ctx's error.
//
// The handshake uses the properties set when it starts (server identity,
// database, certificate, interaction, validation flags): a change made
// while it runs, from another goroutine or a handler, applies to none of
// its parts.
func (c *ClientConnection) Handshake(ctx context.Context) error {
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
	hs, err := c.newHandshake(ctx)
	var cfg *tls.Config
	if err == nil {
		cfg, err = hs.config()
	}
	if err != nil {
		if hs != nil {
			hs.cancel(nil)
		}
		c.hsDone, c.hsErr = true, err
		return err
	}
	tc := tls.Client(c.tr, cfg)
	c.res.mu.Lock()
	c.res.last = hs
	c.res.mu.Unlock()
	c.hs.Store(hs) // until unlockHandshake: the notifications after it count as its handlers too
	c.tlsConn.Store(tc)
	if c.closed.Load() { // Close ran before hs and tc were published: it closed base.
		c.hsDone, c.hsErr = true, closedError("handshake")
		return c.hsErr
	}
	// crypto/tls watches the caller's ctx, not hs.ctx: Close ends the
	// handshake's I/O by closing the connection (closeTLS), and cancels
	// hs.ctx for what runs with it (verification, the Interaction), so a
	// watch of hs.ctx would only cost each handshake a cancelCtx and an
	// AfterFunc registered on it.
	err = tc.HandshakeContext(ctx)
	if err != nil {
		err = c.handshakeError(ctx, err)
		if l := c.backend.opts.Logger; l != nil {
			l.Debug("giotls: handshake failed", "identity", identityString(hs.identity), "error", err)
		}
		c.notify("accepted-cas") // also after a failed handshake, as GIO
	} else {
		c.recordHandshake(hs, tc.ConnectionState())
	}
	c.hsDone, c.hsErr = true, err
	return err
}

// recordHandshake stores the results of a completed handshake and notifies
// the properties that changed.
func (c *ClientConnection) recordHandshake(hs *handshakeState, cs tls.ConnectionState) {
	c.res.mu.Lock()
	c.res.negotiated = cs.NegotiatedProtocol
	c.res.version = protocolVersion(cs.Version)
	c.res.suite = cipherSuiteName(cs.CipherSuite)
	c.res.sessionResumed = cs.DidResume
	c.res.complete = true
	c.res.mu.Unlock()
	if l := c.backend.opts.Logger; l != nil {
		l.Debug("giotls: handshake complete", "identity", identityString(hs.identity),
			"version", protocolVersion(cs.Version).String(), "ciphersuite", cipherSuiteName(cs.CipherSuite),
			"alpn", cs.NegotiatedProtocol, "resumed", cs.DidResume)
	}
	c.notify("negotiated-protocol", "protocol-version", "ciphersuite-name", "accepted-cas")
}

// verifyConnection computes the peer's certificate errors, asks the
// accept-certificate handler when they are not masked by validation-flags,
// and records peer-certificate and peer-certificate-errors after the handler
// returns, also when the certificate is rejected (as GIO does).
func (hs *handshakeState) verifyConnection(cs tls.ConnectionState) error {
	c := hs.c
	peer := certificateFromChain(cs.PeerCertificates)
	c.mu.Lock()
	handler := c.acceptHandler
	c.mu.Unlock()
	hs.sessions.SetConnectionState(cs)
	if peer == nil {
		return newError(ErrorBadCertificate, nil, "server sent no certificate")
	}
	flags, err := peerFlags(hs.ctx, cs, peer, hs.database, hs.identity, hs.name, hs.interaction)
	if err != nil {
		return err
	}
	mask := hs.validation
	accepted := flags&mask == 0
	if !accepted {
		accepted = c.acceptCertificate(handler, peer, flags)
	}
	c.res.mu.Lock()
	c.res.peerCert, c.res.peerErrors = peer, flags
	c.res.mu.Unlock()
	if l := c.backend.opts.Logger; l != nil {
		l.Debug("giotls: server certificate verified", "identity", identityString(hs.identity),
			"subject", peer.SubjectName(), "errors", flags.String(), "masked", (flags & ^mask).String(),
			"accepted", accepted, "resumed", cs.DidResume)
	}
	c.notify("peer-certificate", "peer-certificate-errors")
	if !accepted {
		return rejected(flags)
	}
	return nil
}

// getClientCertificate answers the server's CertificateRequest (RFC 5246,
// section 7.4.4; RFC 8446, section 4.3.2). It records the accepted CAs,
// asks the interaction when no certificate is set, unlocks the certificate's
// key if it is encrypted, and sends the certificate with its chain.
//
// A certificate without its private key cannot be sent: as GIO's GnuTLS
// backend does, the handshake then fails with ErrorCertificateRequired
// saying so, rather than go on as if no certificate had been set.
func (hs *handshakeState) getClientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c := hs.c
	cas := make([][]byte, len(cri.AcceptableCAs))
	for i, dn := range cri.AcceptableCAs {
		cas[i] = slices.Clone(dn)
	}
	c.res.mu.Lock()
	c.res.acceptedCAs = cas
	c.res.mu.Unlock()
	hs.mu.Lock()
	hs.certRequested = true
	hs.mu.Unlock()
	cert := hs.certificate
	ctx := hs.ctx // cancelled by Close (cri.Context() is the caller's)
	if cert == nil && hs.interaction != nil {
		var res InteractionResult
		var err error
		c.callback(func() { res, err = hs.interaction.RequestCertificate(ctx, c) })
		switch res {
		case InteractionFailed:
			if err == nil {
				return nil, newError(ErrorCertificateRequired, nil, "the Interaction failed to provide a client certificate")
			}
			return nil, &interactionError{err}
		case InteractionHandled:
			cert = c.Certificate() // the one the Interaction set
		}
	}
	if cert == nil {
		hs.storeSessionsFor(nil)
		return &tls.Certificate{}, nil
	}
	tc, err := sendableCertificate(ctx, cert, hs.interaction, c.callback)
	if err != nil {
		return nil, err
	}
	hs.mu.Lock()
	hs.certificateSent = cert
	hs.mu.Unlock()
	hs.storeSessionsFor(cert.chain())
	return tc, nil
}

// sendableCertificate returns cert as crypto/tls sends it, its private key
// unlocked through interaction if it is encrypted; call runs that user code
// (the connection counts its handlers). A certificate without its private
// key cannot be sent: ErrorCertificateRequired says so.
func sendableCertificate(ctx context.Context, cert *Certificate, interaction Interaction, call func(func())) (*tls.Certificate, error) {
	if !cert.HasPrivateKey() {
		return nil, newError(ErrorCertificateRequired, nil,
			"the client certificate %q has no private key, so it cannot be sent", cert.SubjectName())
	}
	if cert.privateKey() == nil {
		var err error
		call(func() { _, err = cert.unlock(ctx, interaction) })
		if err != nil {
			return nil, err
		}
	}
	if err := unlockKey(ctx, cert, interaction, call); err != nil {
		return nil, err
	}
	tc, err := cert.tlsCertificate()
	if err != nil {
		return nil, err
	}
	return &tc, nil
}

// storeSessionsFor makes the sessions of this handshake be kept under the
// client certificate chain actually sent, when it is not the one the lookup
// was made with (an Interaction chose it, or it could not be sent).
func (hs *handshakeState) storeSessionsFor(sent []*x509.Certificate) {
	if k := hs.sessionKey(sent); k != hs.startKey {
		hs.sessions.StoreUnder(k)
	}
}

// clientCertificate says whether the server asked for a client certificate
// in this handshake and whether one was sent.
func (hs *handshakeState) clientCertificate() (requested, sent bool) {
	if hs == nil {
		return false, false
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.certRequested, hs.certificateSent != nil
}

// interactionError carries the error of an Interaction that returned
// InteractionFailed through crypto/tls, so that the handshake returns that
// error itself, as GIO does.
type interactionError struct{ err error }

func (e *interactionError) Error() string { return e.err.Error() }
func (e *interactionError) Unwrap() error { return e.err }
