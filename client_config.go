package giotls

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/giotls/giotls/internal/sessioncache"
)

// ClientConfigOptions configure [Backend.ClientConfig]. The zero value
// verifies with the backend's default database, rejects every certificate
// with errors, sends no client certificate and resumes sessions in the
// backend's cache.
type ClientConfigOptions struct {
	// ServerName is the server identity: a host name (internationalized
	// names are checked, and sent, in their ASCII form, as the connection
	// does) or an IP address literal. It becomes tls.Config.ServerName. A
	// library may set another on its clone (go-ldap does, from the URL);
	// the identity verified is the one crypto/tls sent (see
	// [Backend.ClientConfig]).
	ServerName string
	// Database verifies the server's chain; nil is the backend's
	// DefaultDatabase.
	Database Database
	// ValidationFlags are the errors that reject a certificate unless
	// AcceptCertificate accepts it, as [ClientConnection.SetValidationFlags];
	// zero means CertificateValidateAll (to accept errors, say so in
	// AcceptCertificate).
	ValidationFlags CertificateFlags
	// AcceptCertificate decides about a server certificate with errors, as
	// [ClientConnection.OnAcceptCertificate], on every handshake, resumed
	// ones included; nil rejects it. It is called from many connections at
	// once when the config is shared.
	AcceptCertificate func(peer *Certificate, errors CertificateFlags) bool
	// Certificate is sent when the server asks for one. Its private key,
	// when encrypted, is unlocked through Interaction.AskPassword.
	Certificate *Certificate
	// Interaction unlocks Certificate's key, and, when Certificate is nil,
	// chooses a certificate when the server asks (RequestCertificate).
	Interaction Interaction
	// NextProtos are the ALPN protocols offered (RFC 7301).
	NextProtos []string
	// SessionCache keeps the sessions; nil is the backend's.
	SessionCache *SessionCache
	// DisableResumption makes the config neither offer nor keep sessions.
	DisableResumption bool
}

// verifyBound bounds a ClientConfig's verification of one handshake, which
// crypto/tls runs without a context: the databases giotls makes are bounded
// by their own budgets (paths, names and constraints, signatures) well
// within it; it is the backstop for a Database of the user's own. (A
// variable for the tests.)
var verifyBound = time.Minute

// ClientConfig returns a *tls.Config that carries giotls's rules into any
// library that takes one (net/smtp, go-ldap, jlaffaye/ftp, database
// drivers...). Each call returns a new config; it may be cloned and shared
// by any number of connections at once.
//
// Verification is giotls's, on every handshake, resumed ones included
// (crypto/tls runs VerifyConnection on both): every flag from the Database
// (never more lenient than crypto/x509 for the databases giotls makes), a
// stapled OCSP revocation, masked by ValidationFlags, then AcceptCertificate
// (none rejects). A rejection fails the handshake with a giotls *Error of
// code ErrorBadCertificate, which the library returns (wrapped by some). The
// identity is the server name crypto/tls sent (ConnectionState.ServerName,
// so also one a library set on its clone); when it sent none, it is
// ServerName when that is an IP literal (crypto/tls sends no SNI for an
// address, and hides one a library set on its clone: give it here), and
// otherwise there is no identity, which is always CertificateBadIdentity
// (glib-networking's fix for CVE-2020-13645).
//
// Sessions follow the [SessionCache] rules with two differences, because
// crypto/tls tells the cache nothing about the connection: a session is
// keyed by what crypto/tls passes (ServerName, else the remote address),
// the client certificate the config sends and the config itself (configs
// never share sessions); and the ten-minute cap is counted from the
// config's making, not from each chain's full handshake, which the cache
// cannot tell: every session is dated from when ClientConfig returned, and
// the config stores none after ten minutes (MaxAge). So no session lives
// longer than the cap whatever a server or relay holds back, and a config
// made per session of work (an FTP session, a batch of mail) resumes as a
// connection does; one kept longer stops resuming, and a new config starts
// again. TLS 1.3 tickets are used once. When the certificate is
// left to the Interaction (Certificate nil, Interaction set), no session is
// kept or offered: it is chosen after the lookup, and a session made under
// one certificate would otherwise be offered by a connection that sends
// another, letting the server link the two.
//
// The Interaction runs with the handshake's context (the one given to
// tls.Conn.HandshakeContext; none for a library that calls Handshake, so an
// Interaction that waits for a person should bound its own wait). Its
// RequestCertificate is given a stand-in *ClientConnection, already closed
// (Read, Write and Handshake fail with net.ErrClosed): its AcceptedCAs are
// the server's, from the CertificateRequest, ServerIdentity is ServerName's,
// and the certificate it sets with SetCertificate is sent.
//
// The fields giotls sets are its rules; a program must not change them on
// the config or a clone: InsecureSkipVerify (true: crypto/tls must not
// verify, giotls does), VerifyConnection, GetClientCertificate,
// ClientSessionCache, Renegotiation (never), MinVersion and MaxVersion (the
// backend's, TLS 1.2 at least: a handshake outside them, on a clone that
// changed them, fails with ErrorHandshake). Clearing VerifyConnection turns
// verification off, and nothing can detect it. Other fields (RootCAs,
// VerifyPeerCertificate...) are not consulted by giotls, and Certificates
// is never sent (GetClientCertificate takes precedence): a session is kept
// under the certificate the options send, so one sent behind giotls's back
// would be resumed by connections sending none, linked to its owner.
//
// What a config cannot carry, since the library holds a *tls.Conn and not
// a [ClientConnection]: truncation detection (crypto/tls returns io.EOF to
// the library for a connection closed without close_notify, where Read
// returns ErrEOF), the graceful close and drain of [ClientConnection.Close],
// [ClientConnection.CopySessionState] (resumption happens only through the
// cache keys), ChannelBindingData, property notifications, the results
// (PeerCertificate, PeerCertificateErrors, SessionResumed: the library's
// tls.ConnectionState has DidResume and the peer certificates, not the
// flags), Close cancelling a verification or an Interaction in progress,
// and the check of the public name's certificate when a server rejects a
// clone's Encrypted Client Hello: crypto/tls makes it itself (RootCAs, else
// the system's roots; EncryptedClientHelloRejectionVerify is given no
// certificates), only to return the server's retry configs in an
// ECHRejectionError, the handshake failing.
//
// FTP over TLS with jlaffaye/ftp, against a server that requires the data
// connections to resume the control connection's session (vsftpd's
// require_ssl_reuse): on TLS 1.2 every data connection resumes, the ticket
// being reusable. On TLS 1.3 a download reads the ticket the server sends
// after resuming, so the next one resumes too; an upload's data connection
// is closed by the library after writing, without reading, so that ticket is
// lost, and the unread bytes make the kernel reset the connection, which can
// cut the upload short (the server answers 426, which the library returns).
// Tickets being single use, once the control connection's tickets (two from
// OpenSSL) are spent by uploads the next data connection cannot resume and
// the server refuses it. Cap such a backend at TLS 1.2
// (BackendOptions.MaxVersion) for sessions with more uploads than that.
//
// It fails with ErrorMisc for a ServerName that is no host name or address,
// for the backend's versions when they cannot be offered, and for a Backend
// or SessionCache that is not from NewBackend or NewSessionCache.
func (b *Backend) ClientConfig(o ClientConfigOptions) (*tls.Config, error) {
	// Zero values would panic later, inside a library's handshake.
	if b == nil || b.opts.SessionCache == nil {
		return nil, newError(ErrorMisc, nil, "the Backend was not made by NewBackend")
	}
	if o.SessionCache != nil && o.SessionCache.c == nil {
		return nil, newError(ErrorMisc, nil, "the SessionCache was not made by NewSessionCache")
	}
	minVersion, maxVersion, err := versionRange(b.opts.MinVersion, b.opts.MaxVersion)
	if err != nil {
		return nil, err
	}
	cc := &clientConfig{
		backend:     b,
		database:    o.Database,
		validation:  o.ValidationFlags,
		accept:      o.AcceptCertificate,
		certificate: o.Certificate,
		interaction: o.Interaction,
		minVersion:  minVersion,
		maxVersion:  maxVersion,
	}
	if cc.database == nil {
		cc.database = b.DefaultDatabase()
	}
	if cc.validation == 0 {
		cc.validation = CertificateValidateAll
	}
	var serverName string
	if o.ServerName != "" {
		n, err := hostIdentity(o.ServerName, 0)
		if err != nil {
			return nil, err
		}
		if n.ip.IsValid() {
			cc.ip, serverName = n.ip, n.ip.String()
			// crypto/tls keys sessions by ServerName (and sends no SNI for
			// an address): an IPv6 zone stays in it, fe80::1%eth0 and
			// fe80::1%eth1 being different hosts (RFC 4007, section 6).
			if a, err := netip.ParseAddr(strings.Trim(o.ServerName, "[]")); err == nil && a.Zone() != "" {
				serverName = n.ip.WithZone(a.Zone()).String()
			}
		} else {
			cc.name, serverName = n.host, n.host // the ASCII form, sent as SNI and keyed on
		}
	}
	cfg := &tls.Config{
		ServerName:         serverName,
		NextProtos:         slices.Clone(o.NextProtos),
		MinVersion:         minVersion,
		MaxVersion:         maxVersion,
		InsecureSkipVerify: true,
		VerifyConnection:   cc.verifyConnection,
		Renegotiation:      tls.RenegotiateNever,
		KeyLogWriter:       b.opts.KeyLogWriter,
		// Always giotls's, so that crypto/tls never sends a Certificates
		// field set on a clone: sessions are keyed by what this sends.
		GetClientCertificate: cc.getClientCertificate,
	}
	if !b.opts.DisableResumption && !o.DisableResumption && (o.Certificate != nil || o.Interaction == nil) {
		sc := o.SessionCache
		if sc == nil {
			sc = b.opts.SessionCache
		}
		var der [][]byte
		if o.Certificate.HasPrivateKey() {
			for _, c := range o.Certificate.chain() {
				der = append(der, c.Raw)
			}
		}
		cfg.ClientSessionCache = sessioncache.NewSharedCache(sc.c, der)
	}
	return cfg, nil
}

// clientConfig is what a ClientConfig's callbacks share: read-only after
// ClientConfig returns, so safe for the concurrent handshakes of every
// clone.
type clientConfig struct {
	backend     *Backend
	ip          netip.Addr // ServerName, when it is an IP literal
	name        string     // ServerName, when it is a host name (ASCII)
	database    Database
	validation  CertificateFlags
	accept      func(peer *Certificate, errors CertificateFlags) bool
	certificate *Certificate
	interaction Interaction
	minVersion  uint16 // the backend's versions, which a clone may have changed
	maxVersion  uint16
}

// identity is the identity of a handshake whose ConnectionState is cs (see
// ClientConfig): nil when there is none.
func (cc *clientConfig) identity(cs tls.ConnectionState) Connectable {
	switch {
	case cs.ServerName != "":
		return NewNetworkAddress(cs.ServerName, 0)
	case cc.ip.IsValid():
		return NewInetSocketAddress(netip.AddrPortFrom(cc.ip, 0))
	}
	return nil
}

// verifyConnection is the config's VerifyConnection, for full and resumed
// handshakes alike.
func (cc *clientConfig) verifyConnection(cs tls.ConnectionState) error {
	// A library may lower MinVersion on its clone for a legacy server: what
	// the backend does not offer is refused, as the connection's would be.
	if cs.Version < cc.minVersion || cs.Version > cc.maxVersion {
		return newError(ErrorHandshake, nil, "TLS handshake failed: %s was negotiated, outside the backend's versions",
			tls.VersionName(cs.Version))
	}
	peer := certificateFromChain(cs.PeerCertificates)
	if peer == nil {
		return newError(ErrorBadCertificate, nil, "server sent no certificate")
	}
	identity := cc.identity(cs)
	name, _ := resolveIdentity(identity) // one not understood matches nothing: bad-identity
	ctx, cancel := context.WithTimeout(context.Background(), verifyBound)
	defer cancel()
	flags, err := peerFlags(ctx, cs, peer, cc.database, identity, name, cc.interaction)
	if err != nil {
		return err
	}
	accepted := flags&cc.validation == 0
	if !accepted && cc.accept != nil {
		accepted = cc.accept(peer, flags)
	}
	if l := cc.backend.opts.Logger; l != nil {
		l.Debug("giotls: server certificate verified (tls.Config)", "identity", identityString(identity),
			"subject", peer.SubjectName(), "errors", flags.String(), "accepted", accepted, "resumed", cs.DidResume)
	}
	if !accepted {
		return rejected(flags)
	}
	return nil
}

// getClientCertificate is the config's GetClientCertificate (RFC 8446,
// section 4.3.2; RFC 5246, section 7.4.4): the configured certificate, else
// the one the Interaction sets on a stand-in connection that holds the
// accepted CAs, as a connection's handshake does (handshake.go).
func (cc *clientConfig) getClientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	ctx := cri.Context()
	cert := cc.certificate
	if cert == nil && cc.interaction != nil {
		conn, err := cc.standIn(cri.AcceptableCAs)
		if err != nil {
			return nil, err
		}
		res, err := cc.interaction.RequestCertificate(ctx, conn)
		switch res {
		case InteractionFailed:
			if err == nil {
				err = newError(ErrorCertificateRequired, nil, "the Interaction failed to provide a client certificate")
			}
			return nil, err
		case InteractionHandled:
			cert = conn.Certificate()
		}
	}
	if cert == nil {
		return &tls.Certificate{}, nil
	}
	return sendableCertificate(ctx, cert, cc.interaction, func(f func()) { f() })
}

// standIn returns the closed connection RequestCertificate is given: its
// identity is the options' ServerName (crypto/tls does not tell
// GetClientCertificate the one sent) and its AcceptedCAs the server's.
func (cc *clientConfig) standIn(acceptable [][]byte) (*ClientConnection, error) {
	identity := cc.identity(tls.ConnectionState{ServerName: cc.name})
	base, other := net.Pipe()
	other.Close()
	conn, err := newClientConnection(cc.backend, base, identity)
	if err != nil {
		base.Close()
		return nil, err
	}
	conn.Close()
	cas := make([][]byte, len(acceptable))
	for i, dn := range acceptable {
		cas[i] = slices.Clone(dn)
	}
	conn.res.acceptedCAs = cas
	return conn, nil
}
