package giotls

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"

	"github.com/giotls/giotls/internal/verify"
)

// NewFileDatabase returns a database of the trust anchors in the PEM file
// anchorsPath, as GIO's GTlsFileDatabase: every "CERTIFICATE" block is an
// anchor, every "X509 CRL" block a revocation list. A file that cannot be
// read, holds a block that cannot be parsed, or holds no certificate at all
// is an error. The file is read once.
func NewFileDatabase(anchorsPath string) (Database, error) {
	data, err := os.ReadFile(anchorsPath)
	if err != nil {
		return nil, newError(ErrorMisc, err, "failed to load file %s", anchorsPath)
	}
	anchors, crls, err := parseAnchors(data, anchorsPath)
	if err != nil {
		return nil, err
	}
	db := newStoreDatabase(anchors, crls, anchorsPath, false)
	db.handles = newHandles(fileHandlePrefix(anchorsPath), db.store.Anchors())
	return &fileDatabase{db, anchorsPath}, nil
}

// parseAnchors returns the certificates and CRLs of a PEM bundle (or the one
// certificate of a DER file); what names it in errors.
func parseAnchors(data []byte, what string) ([]*x509.Certificate, []*x509.RevocationList, error) {
	if !bytes.Contains(data, []byte("-----BEGIN ")) {
		if c, err := x509.ParseCertificate(data); err == nil {
			return []*x509.Certificate{c}, nil, nil
		}
		return nil, nil, newError(ErrorBadCertificate, nil, "failed to load %s: no PEM-encoded certificate found", what)
	}
	var anchors []*x509.Certificate
	var crls []*x509.RevocationList
	for block := range pemBlocks(data) {
		switch {
		case isCertificateBlock(block):
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, newError(ErrorBadCertificate, err, "failed to load %s: bad certificate %d", what, len(anchors)+1)
			}
			anchors = append(anchors, c)
		case block.Type == "X509 CRL":
			l, err := x509.ParseRevocationList(block.Bytes)
			if err != nil {
				return nil, nil, newError(ErrorBadCertificate, err, "failed to load %s: bad CRL %d", what, len(crls)+1)
			}
			crls = append(crls, l)
		}
	}
	if len(anchors) == 0 {
		return nil, nil, newError(ErrorBadCertificate, nil, "failed to load %s: no certificate found", what)
	}
	return anchors, crls, nil
}

// storeDatabase is the Database of NewFileDatabase, NewDatabase and
// SystemDatabase: an indexed set of anchors and CRLs, and crypto/x509 as
// the second opinion on the chains they anchor.
type storeDatabase struct {
	store *verify.Store
	x509  *x509Opinion
	path  string // the anchors file, "" for others
	// handles makes and looks up GIO's certificate handles
	// (database_handles.go).
	handles handles
}

// newStoreDatabase returns the database of anchors and crls; with
// platform, crypto/x509's platform verifier is the judge of trust (see
// SystemDatabase).
func newStoreDatabase(anchors []*x509.Certificate, crls []*x509.RevocationList, path string, platform bool) *storeDatabase {
	store := verify.NewStore(anchors, crls)
	return &storeDatabase{store: store, x509: newX509Opinion(anchors, platform), path: path,
		handles: newHandles(memoryHandlePrefix, store.Anchors())}
}

// LookupCertificateIssuer implements Database: the anchor whose subject is
// cert's issuer and whose key signed it.
func (d *storeDatabase) LookupCertificateIssuer(ctx context.Context, cert *Certificate, interaction Interaction) (*Certificate, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if cert == nil || cert.cert == nil {
		return nil, nil
	}
	if a := d.store.Issuer(cert.cert); a != nil {
		return &Certificate{cert: a}, nil
	}
	return nil, nil
}

// LookupCertificatesIssuedBy implements Database.
func (d *storeDatabase) LookupCertificatesIssuedBy(ctx context.Context, issuerRawSubject []byte, interaction Interaction) ([]*Certificate, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []*Certificate
	for _, c := range d.store.IssuedBy(issuerRawSubject) {
		out = append(out, &Certificate{cert: c})
	}
	return out, nil
}

// String names the database for messages.
func (d *storeDatabase) String() string {
	if d.path != "" {
		return "file database " + d.path
	}
	return "database"
}

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}
