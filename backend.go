package giotls

import (
	"io"
	"log/slog"
	"net"
	"sync/atomic"
)

// Backend is GIO's GTlsBackend: the crypto/tls implementation connections
// come from, with the settings they share (see [BackendOptions]). Make one
// with [NewBackend]; [DefaultBackend] is the process-wide one.
type Backend struct {
	opts BackendOptions
	// database is the default database set (BackendOptions.DefaultDatabase,
	// SetDefaultDatabase); nil for none.
	database atomic.Pointer[databaseBox]
}

// databaseBox holds a Database for an atomic.Pointer.
type databaseBox struct{ db Database }

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
	// DefaultDatabase, if set, is the database the backend's connections
	// verify with when they set none (see [Backend.SetDefaultDatabase]);
	// nil means the default backend's, then the system's.
	DefaultDatabase Database
}

// NewBackend returns a crypto/tls backend with options.
func NewBackend(o BackendOptions) *Backend {
	if o.SessionCache == nil {
		o.SessionCache = DefaultSessionCache()
	}
	b := &Backend{opts: o}
	b.SetDefaultDatabase(o.DefaultDatabase)
	return b
}

var defaultBackend = NewBackend(BackendOptions{})

// DefaultBackend returns the crypto/tls backend with the process-wide session
// cache, which [NewClientConnection] uses.
func DefaultBackend() *Backend { return defaultBackend }

// SupportsTLS reports whether the backend can make TLS connections: always.
func (*Backend) SupportsTLS() bool { return true }

// SupportsDTLS reports whether the backend can make DTLS connections
// (g_tls_backend_supports_dtls): never, as crypto/tls has no DTLS.
func (*Backend) SupportsDTLS() bool { return false }

// DefaultDatabase returns the database new connections verify with
// (g_tls_backend_get_default_database): the one set with
// [Backend.SetDefaultDatabase] or [BackendOptions.DefaultDatabase]; for a
// backend without one, the one set on [DefaultBackend], as GIO's default
// database is process-wide; otherwise the system's trust anchors
// ([SystemDatabase]), or nil if they could not be loaded, so that every
// peer is reported with [CertificateUnknownCA].
func (b *Backend) DefaultDatabase() Database {
	if db := b.setDatabase(); db != nil {
		return db
	}
	if db := defaultBackend.setDatabase(); db != nil {
		return db
	}
	db, err := SystemDatabase()
	if err != nil {
		return nil
	}
	return db
}

// SetDefaultDatabase sets the database that connections of b which set
// none verify with (g_tls_backend_set_default_database); on
// [DefaultBackend], also those of backends without one of their own and
// of a [Dialer] with a nil Database. nil goes back to the default, as if
// it had never been set. Connections that have already looked their
// database up (a handshake or [ClientConnection.Database] does) keep it,
// as in GIO. It is safe to call concurrently with connections being made;
// on a nil *Backend it does nothing.
func (b *Backend) SetDefaultDatabase(db Database) {
	if b == nil {
		return
	}
	if noDatabase(db) {
		b.database.Store(nil)
		return
	}
	b.database.Store(&databaseBox{db})
}

// setDatabase returns the default database set on b, nil for none.
func (b *Backend) setDatabase() Database {
	if b == nil {
		return nil
	}
	if box := b.database.Load(); box != nil {
		return box.db
	}
	return nil
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
