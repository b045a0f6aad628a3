package giotls

import (
	"context"

	"github.com/giotls/giotls/internal/verify"
)

// verifyPeer computes the peer's certificate errors as GIO's connection
// does: through db when there is one; without one, every peer is
// CertificateUnknownCA, with the identity, validity, strength and
// server-purpose checks still made on the chain it sent. Without an
// identity the connection itself adds CertificateBadIdentity, whatever db
// says: a Database following GIO's contract does not check a nil identity
// (glib-networking's fix for CVE-2020-13645).
func verifyPeer(ctx context.Context, db Database, peer *Certificate, identity Connectable, interaction Interaction) (CertificateFlags, error) {
	var f CertificateFlags
	var err error
	if noDatabase(db) {
		f, err = verifyWithStore(ctx, nil, peer, PurposeServer, identity)
		f |= CertificateUnknownCA
	} else {
		f, err = db.VerifyChain(ctx, peer, PurposeServer, identity, interaction)
	}
	if noIdentity(identity) {
		f |= CertificateBadIdentity
	}
	return f, err
}

// verifyWithStore verifies chain against the anchors and CRLs of store (nil:
// none) for purpose and identity. A nil identity is not checked, as GIO's
// databases do (the connection adds CertificateBadIdentity, see verifyPeer);
// one that cannot be understood is CertificateBadIdentity.
func verifyWithStore(ctx context.Context, store *verify.Store, chain *Certificate, purpose Purpose, identity Connectable) (CertificateFlags, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if chain == nil || chain.cert == nil {
		return 0, newError(ErrorBadCertificate, nil, "no certificate to verify")
	}
	oid, err := purposeOID(purpose)
	if err != nil {
		return 0, err
	}
	opts := &verify.Options{
		Chain:         chain.chain(),
		Store:         store,
		Identity:      verifyIdentity(identity),
		CheckIdentity: !noIdentity(identity),
		Purpose:       oid,
	}
	res, err := verify.Verify(ctx, opts)
	if err != nil {
		return 0, err
	}
	return CertificateFlags(res.Flags), nil
}

// verifyIdentity turns a Connectable into what internal/verify matches;
// the zero Identity when there is none or it cannot be understood.
func verifyIdentity(identity Connectable) verify.Identity {
	n, err := resolveIdentity(identity)
	if err != nil {
		return verify.Identity{}
	}
	return verify.Identity{Host: n.host, IP: n.ip}
}
