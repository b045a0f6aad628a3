package giotls

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
)

// FileDatabase is GIO's GTlsFileDatabase: a [Database] of the trust anchors
// in a file. What [NewFileDatabase] returns implements it; other databases
// giotls makes do not.
type FileDatabase interface {
	Database
	// Anchors returns the path of the anchors file, as given to
	// NewFileDatabase (GIO's anchors property).
	Anchors() string
}

// CertificateHandles is the optional part of GIO's GTlsDatabase that
// names certificates by handles: strings a program can store and look up
// later in the same database. It is a separate interface so that
// Databases written before it keep compiling; the databases giotls makes
// implement it. GIO's lookup flags are left out: no giotls database holds
// private keys, so G_TLS_DATABASE_LOOKUP_KEYPAIR would find nothing.
type CertificateHandles interface {
	// CreateCertificateHandle returns the handle of cert, "" if the
	// database does not hold it (g_tls_database_create_certificate_handle).
	CreateCertificateHandle(cert *Certificate) string
	// LookupCertificateForHandle returns the certificate that handle names,
	// nil (and no error) for a handle this database did not make
	// (g_tls_database_lookup_certificate_for_handle). The error is for
	// failures to look up at all, such as ctx being done.
	LookupCertificateForHandle(ctx context.Context, handle string, interaction Interaction) (*Certificate, error)
}

// Handle formats, as glib-networking's: a file database's is the anchors
// file's URI, "#" and the certificate's SHA-256 in hex
// ("file:///etc/ssl/certs/ca-certificates.crt#11b2..."), the system
// database's "system-trust:#" and the same. A database made in memory
// (NewDatabase, NewDatabaseFromPEM), which GIO has not, uses
// "giotls-memory:#". A file database whose path cannot be made absolute
// makes no handles, as GIO's, whose path must be absolute.
const (
	systemHandlePrefix = "system-trust:#"
	memoryHandlePrefix = "giotls-memory:#"
)

// handles is what a storeDatabase needs to make and look up handles.
type handles struct {
	prefix string // "" for no handles
	byHash func() map[[sha256.Size]byte]*x509.Certificate
}

// newHandles returns the handles of a database of anchors, made with
// prefix; the anchors are hashed on first use.
func newHandles(prefix string, anchors []*x509.Certificate) handles {
	return handles{prefix: prefix, byHash: sync.OnceValue(func() map[[sha256.Size]byte]*x509.Certificate {
		m := make(map[[sha256.Size]byte]*x509.Certificate, len(anchors))
		for _, a := range anchors {
			m[sha256.Sum256(a.Raw)] = a
		}
		return m
	})}
}

// fileHandlePrefix is the prefix of a file database's handles, "" if path
// has no absolute form.
func fileHandlePrefix(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	abs = filepath.ToSlash(abs)
	if !strings.HasPrefix(abs, "/") { // a Windows drive: file:///C:/...
		abs = "/" + abs
	}
	return (&url.URL{Scheme: "file", Path: abs}).String() + "#"
}

// CreateCertificateHandle implements [CertificateHandles].
func (d *storeDatabase) CreateCertificateHandle(cert *Certificate) string {
	if d == nil || d.handles.prefix == "" || cert == nil || cert.cert == nil {
		return ""
	}
	sum := sha256.Sum256(cert.cert.Raw)
	if d.handles.byHash()[sum] == nil {
		return ""
	}
	return d.handles.prefix + hex.EncodeToString(sum[:])
}

// LookupCertificateForHandle implements [CertificateHandles].
func (d *storeDatabase) LookupCertificateForHandle(ctx context.Context, handle string, interaction Interaction) (*Certificate, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if d == nil {
		return nil, nil
	}
	digest, ok := strings.CutPrefix(handle, d.handles.prefix)
	if d.handles.prefix == "" || !ok || len(digest) != 2*sha256.Size || strings.ToLower(digest) != digest {
		return nil, nil
	}
	var sum [sha256.Size]byte
	if _, err := hex.Decode(sum[:], []byte(digest)); err != nil {
		return nil, nil
	}
	if a := d.handles.byHash()[sum]; a != nil {
		return &Certificate{cert: a}, nil
	}
	return nil, nil
}

// fileDatabase is what NewFileDatabase returns: a storeDatabase that
// remembers its file.
type fileDatabase struct {
	*storeDatabase
	anchors string
}

// Anchors implements [FileDatabase].
func (d *fileDatabase) Anchors() string {
	if d == nil {
		return ""
	}
	return d.anchors
}

// CreateCertificateHandle implements [CertificateHandles] (also on a nil
// *fileDatabase, whose embedded methods would not be reached).
func (d *fileDatabase) CreateCertificateHandle(cert *Certificate) string {
	if d == nil {
		return ""
	}
	return d.storeDatabase.CreateCertificateHandle(cert)
}

// LookupCertificateForHandle implements [CertificateHandles], as
// CreateCertificateHandle.
func (d *fileDatabase) LookupCertificateForHandle(ctx context.Context, handle string, interaction Interaction) (*Certificate, error) {
	if d == nil {
		return nil, ctxErr(ctx)
	}
	return d.storeDatabase.LookupCertificateForHandle(ctx, handle, interaction)
}

// asStoreDatabase returns the storeDatabase db is or holds, for the paths
// that verify the databases giotls makes directly.
func asStoreDatabase(db Database) (*storeDatabase, bool) {
	switch d := db.(type) {
	case *storeDatabase:
		return d, d != nil
	case *fileDatabase:
		if d != nil && d.storeDatabase != nil {
			return d.storeDatabase, true
		}
	}
	return nil, false
}
