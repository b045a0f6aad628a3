package giotls

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
)

// Purpose is the extended key usage a chain is verified for, as an OID string
// in canonical dotted decimal (GIO's G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER
// and _CLIENT); any other spelling is an invalid purpose.
type Purpose string

const (
	PurposeServer Purpose = "1.3.6.1.5.5.7.3.1" // id-kp-serverAuth
	PurposeClient Purpose = "1.3.6.1.5.5.7.3.2" // id-kp-clientAuth
)

// Database is GIO's GTlsDatabase: the trust decisions a connection delegates.
// The connection takes the flags a Database returns as they are: one users
// implement is the sole judge of its chains (the databases giotls makes
// also ask crypto/x509; see NewDatabase).
type Database interface {
	// VerifyChain verifies chain (the peer's certificate with the issuers it
	// sent) for purpose against identity, and returns every flag that
	// applies, not only the first problem found. A nil identity is not
	// checked: CertificateBadIdentity is never set for it (GIO's contract);
	// a connection without a server identity adds that flag itself. The
	// error is for failures to verify at all (cancellation, an unreachable
	// store), not for certificate problems.
	VerifyChain(ctx context.Context, chain *Certificate, purpose Purpose, identity Connectable,
		interaction Interaction) (CertificateFlags, error)
	// LookupCertificateIssuer returns the issuer of cert that the database
	// holds, or nil if it holds none.
	LookupCertificateIssuer(ctx context.Context, cert *Certificate, interaction Interaction) (*Certificate, error)
	// LookupCertificatesIssuedBy returns the certificates the database holds
	// whose issuer is the DER subject issuerRawSubject.
	LookupCertificatesIssuedBy(ctx context.Context, issuerRawSubject []byte, interaction Interaction) ([]*Certificate, error)
}

// NewDatabase returns a database that trusts anchors and holds crls: a
// certificate a CRL lists, signed by that certificate's issuer, is
// CertificateRevoked. It is never more lenient than crypto/x509: a chain
// gets no flags only if crypto/x509's Verify accepts it too, with the same
// anchors, intermediates, identity, purpose and time; when crypto/x509
// alone refuses, its error gives the flag (unknown authority: unknown-ca;
// expired or not yet valid: expired or not-activated; hostname:
// bad-identity; insecure algorithm: insecure; anything else:
// generic-error). The same holds for NewDatabaseFromPEM, NewFileDatabase
// and SystemDatabase. The database indexes the anchors once; verifications
// then cost map lookups, not scans. Certificates passed in must not be
// modified afterwards.
func NewDatabase(anchors []*x509.Certificate, crls ...*x509.RevocationList) Database {
	return newStoreDatabase(anchors, crls, "", false)
}

// NewDatabaseFromPEM returns a database of the "CERTIFICATE" and "X509 CRL"
// blocks in data, as NewFileDatabase reads them from a file.
func NewDatabaseFromPEM(data []byte) (Database, error) {
	anchors, crls, err := parseAnchors(data, "PEM data")
	if err != nil {
		return nil, err
	}
	return newStoreDatabase(anchors, crls, "", false), nil
}

var (
	oidServerAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	oidClientAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
)
