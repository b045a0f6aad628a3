package giotls

import (
	"io"
	"log/slog"
	"net"
)

// Backend is GIO's GTlsBackend: the crypto/tls implementation connections
// come from, with the settings they share (see [BackendOptions]). Make one
// with [NewBackend]; [DefaultBackend] is the process-wide one.
type Backend struct {
	opts BackendOptions
}

// BackendOptions are what giotls adds to GIO's backend: settings shared by
// the connections a backend makes.
type BackendOptions struct {
	// SessionCache is where sessions are kept and looked up; nil means the
	// process-wide DefaultSessionCache.
	SessionCache *SessionCache
	// DisableResumption turns automatic resumption off: connections neither
	// offer nor keep sessions. CopySessionState still works.
	DisableResumption bool
	// KeyLogWriter, if set, receives the connections' secrets in the
	// NSS key log format, for Wireshark. It defeats TLS: set it only when
	// debugging, from an explicit opt-in such as SSLKEYLOGFILE read by the
	// program; giotls never reads the environment itself.
	KeyLogWriter io.Writer
	// Logger, if set, receives each handshake's decisions (identity,
	// certificate errors, acceptance, resumption) at debug level.
	Logger *slog.Logger
	// MinVersion and MaxVersion bound the protocol versions offered; zero
	// means TLS 1.2 and TLS 1.3. Versions before TLS 1.2 are refused
	// (RFC 8996): a handshake asked to offer them fails with ErrorMisc.
	MinVersion, MaxVersion ProtocolVersion
}

// NewBackend returns a crypto/tls backend with options.
func NewBackend(o BackendOptions) *Backend {
	if o.SessionCache == nil {
		o.SessionCache = DefaultSessionCache()
	}
	return &Backend{opts: o}
}

var defaultBackend = NewBackend(BackendOptions{})

// DefaultBackend returns the crypto/tls backend with the process-wide session
// cache, which [NewClientConnection] uses.
func DefaultBackend() *Backend { return defaultBackend }

// SupportsTLS reports whether the backend can make TLS connections: always.
func (*Backend) SupportsTLS() bool { return true }

// DefaultDatabase returns the database new connections verify with: the
// system's trust anchors ([SystemDatabase]). It is nil if they could not be
// loaded, so that every peer is reported with [CertificateUnknownCA].
func (*Backend) DefaultDatabase() Database {
	db, err := SystemDatabase()
	if err != nil {
		return nil
	}
	return db
}

// NewClientConnection returns a client connection of b over base for the
// server serverIdentity (nil: none, so the peer always gets
// [CertificateBadIdentity]). The handshake has not started.
func (b *Backend) NewClientConnection(base net.Conn, serverIdentity Connectable) (*ClientConnection, error) {
	return newClientConnection(b, base, serverIdentity)
}

// NewClientConnection returns a client connection of the default backend over
// base, for the server serverIdentity (g_tls_client_connection_new). The
// handshake runs on the first Read or Write, or when Handshake is called.
//
// serverIdentity is checked against the server's certificate and gives the
// SNI name; nil means no identity, and then CertificateBadIdentity is always
// reported (GIO's fix for CVE-2020-13645).
func NewClientConnection(base net.Conn, serverIdentity Connectable) (*ClientConnection, error) {
	return DefaultBackend().NewClientConnection(base, serverIdentity)
}
