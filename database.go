package giotls

import "context"

// Purpose is the extended key usage a chain is verified for, as an OID string
// (GIO's G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER and _CLIENT).
type Purpose string

const (
	PurposeServer Purpose = "1.3.6.1.5.5.7.3.1" // id-kp-serverAuth
	PurposeClient Purpose = "1.3.6.1.5.5.7.3.2" // id-kp-clientAuth
)

// Database is GIO's GTlsDatabase: the trust decisions a connection delegates.
type Database interface {
	// VerifyChain verifies chain (the peer's certificate with the issuers it
	// sent) for purpose against identity, and returns every flag that
	// applies, not only the first problem found. A nil identity always gives
	// CertificateBadIdentity. The error is for failures to verify at all
	// (cancellation, an unreachable store), not for certificate problems.
	VerifyChain(ctx context.Context, chain *Certificate, purpose Purpose, identity Connectable,
		interaction Interaction) (CertificateFlags, error)
	// LookupCertificateIssuer returns the issuer of cert that the database
	// holds, or nil if it holds none.
	LookupCertificateIssuer(ctx context.Context, cert *Certificate, interaction Interaction) (*Certificate, error)
	// LookupCertificatesIssuedBy returns the certificates the database holds
	// whose issuer is the DER subject issuerRawSubject.
	LookupCertificatesIssuedBy(ctx context.Context, issuerRawSubject []byte, interaction Interaction) ([]*Certificate, error)
}
