package giotls

import (
	"io"
	"log/slog"
	"net"
)

// Backend is GIO's GTlsBackend: the TLS implementation connections come from.
type Backend interface {
	// SupportsTLS reports whether the backend can make TLS connections.
	SupportsTLS() bool
	// DefaultDatabase returns the database new connections verify with:
	// the system's trust anchors. It is nil if they could not be loaded, so
	// that every peer is reported with CertificateUnknownCA.
	DefaultDatabase() Database
	// NewClientConnection returns a client connection over base for the
	// server serverIdentity (nil: none, so the peer always gets
	// CertificateBadIdentity). The handshake has not started.
	NewClientConnection(base net.Conn, serverIdentity Connectable) (ClientConnection, error)
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
func NewBackend(o BackendOptions) Backend {
	if o.SessionCache == nil {
		o.SessionCache = DefaultSessionCache()
	}
	return &backend{opts: o}
}

// backend is the crypto/tls backend.
type backend struct {
	opts BackendOptions
}

var defaultBackend Backend = NewBackend(BackendOptions{})

// DefaultBackend returns the crypto/tls backend with the process-wide session
// cache, which NewClientConnection uses.
func DefaultBackend() Backend { return defaultBackend }

func (*backend) SupportsTLS() bool { return true }

func (*backend) DefaultDatabase() Database {
	db, err := SystemDatabase()
	if err != nil {
		return nil
	}
	return db
}

func (b *backend) NewClientConnection(base net.Conn, serverIdentity Connectable) (ClientConnection, error) {
	return newClientConn(b, base, serverIdentity)
}

// NewClientConnection returns a client connection of the default backend over
// base, for the server serverIdentity (g_tls_client_connection_new). The
// handshake runs on the first Read or Write, or when Handshake is called.
//
// serverIdentity is checked against the server's certificate and gives the
// SNI name; nil means no identity, and then CertificateBadIdentity is always
// reported (GIO's fix for CVE-2020-13645).
func NewClientConnection(base net.Conn, serverIdentity Connectable) (ClientConnection, error) {
	return DefaultBackend().NewClientConnection(base, serverIdentity)
}
