package giotls

import (
	"context"
	"crypto/tls"
	"encoding/asn1"
	"strconv"
	"strings"
	"time"

	"github.com/giotls/giotls/internal/verify"
)

// Verification: how a handshake (handshake.go, verifyConnection) judges the
// server's chain. verifyPeer takes the handshake's identity, resolved once
// when it started; the databases giotls makes (storeDatabase) verify with
// internal/verify on their anchors, then ask crypto/x509 for its opinion
// (verify_x509.go); a Database of the user's own is asked through the
// interface, with the Connectable.

// verifyPeer computes the peer's certificate errors as GIO's connection
// does: through db when there is one; without one, every peer is
// CertificateUnknownCA, with the identity, validity, strength and
// server-purpose checks still made on the chain it sent. Without an
// identity the connection itself adds CertificateBadIdentity, whatever db
// says: a Database following GIO's contract does not check a nil identity
// (glib-networking's fix for CVE-2020-13645). name is identity resolved.
func verifyPeer(ctx context.Context, db Database, peer *Certificate, identity Connectable, name serverName,
	interaction Interaction) (CertificateFlags, error) {
	var f CertificateFlags
	var err error
	id := peerIdentity{verify.Identity{Host: name.host, IP: name.ip}, !noIdentity(identity)}
	d, ours := asStoreDatabase(db)
	switch {
	case noDatabase(db):
		f, err = verifyWithStore(ctx, nil, peer, PurposeServer, id)
		f |= CertificateUnknownCA
	case ours:
		f, err = d.verifyChain(ctx, peer, PurposeServer, id)
	default:
		f, err = db.VerifyChain(ctx, peer, PurposeServer, identity, interaction)
	}
	if !id.check {
		f |= CertificateBadIdentity
	}
	return f, err
}

// peerFlags is the verdict of every handshake's VerifyConnection, the
// connection's (handshake.go) and a ClientConfig's (client_config.go), on
// full and resumed handshakes alike: verifyPeer's flags and a stapled OCSP
// response's revocation. A failure to verify at all is ErrorBadCertificate.
func peerFlags(ctx context.Context, cs tls.ConnectionState, peer *Certificate, db Database, identity Connectable,
	name serverName, interaction Interaction) (CertificateFlags, error) {
	flags, err := verifyPeer(ctx, db, peer, identity, name, interaction)
	if err != nil {
		return 0, newError(ErrorBadCertificate, err, "could not verify the server certificate")
	}
	return flags | staplingFlags(ctx, cs, peer, db, interaction), nil
}

// rejected is the error of a handshake whose server certificate was not
// accepted (flags not masked, no handler or the handler said no).
func rejected(flags CertificateFlags) error {
	return &Error{Code: ErrorBadCertificate, Message: "unacceptable TLS certificate (" + flags.String() + ")"}
}

// peerIdentity is an identity as verification matches it; check is false
// for no identity, which is not checked.
type peerIdentity struct {
	verify.Identity
	check bool
}

// identityOf resolves identity for verification; one that cannot be
// understood matches nothing, so it is CertificateBadIdentity.
func identityOf(identity Connectable) peerIdentity {
	n, err := resolveIdentity(identity)
	if err != nil {
		return peerIdentity{check: true}
	}
	return peerIdentity{verify.Identity{Host: n.host, IP: n.ip}, !noIdentity(identity)}
}

// verifyWithStore verifies chain against the anchors and CRLs of store (nil:
// none) for purpose and identity. A nil identity is not checked, as GIO's
// databases do (the connection adds CertificateBadIdentity, see verifyPeer);
// one that cannot be understood is CertificateBadIdentity.
func verifyWithStore(ctx context.Context, store *verify.Store, chain *Certificate, purpose Purpose, id peerIdentity) (CertificateFlags, error) {
	res, err := verifyPath(ctx, store, chain, purpose, id)
	return CertificateFlags(res.Flags), err
}

// storeVerify is internal/verify's Verify, a variable so that tests can
// count the verifications that were not answered from memory.
var storeVerify = verify.Verify

// verifyPath is verifyWithStore with the path the flags were computed on.
func verifyPath(ctx context.Context, store *verify.Store, chain *Certificate, purpose Purpose, id peerIdentity) (verify.Result, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return verify.Result{}, err
	}
	if chain == nil || chain.cert == nil {
		return verify.Result{}, newError(ErrorBadCertificate, nil, "no certificate to verify")
	}
	oid, err := purposeOID(purpose)
	if err != nil {
		return verify.Result{}, err
	}
	opts := &verify.Options{
		Chain:         chain.chain(),
		Store:         store,
		Identity:      id.Identity,
		CheckIdentity: id.check,
		Purpose:       oid,
	}
	return storeVerify(ctx, opts)
}

// VerifyChain implements Database. The flags are computed by
// internal/verify on the best path from chain to an anchor of the
// database (see its documentation for what each flag covers), and a chain
// it finds nothing wrong with must also be accepted by crypto/x509 (see
// x509Opinion for the rule and how its errors map to flags).
func (d *storeDatabase) VerifyChain(ctx context.Context, chain *Certificate, purpose Purpose, identity Connectable,
	interaction Interaction) (CertificateFlags, error) {
	return d.verifyChain(ctx, chain, purpose, identityOf(identity))
}

// verifyChain is VerifyChain for an identity already resolved.
func (d *storeDatabase) verifyChain(ctx context.Context, chain *Certificate, purpose Purpose, id peerIdentity) (CertificateFlags, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := time.Now()
	if chain != nil && chain.cert != nil && d.x509.acceptedWhole(chain.chain(), id, purpose, now) {
		return 0, nil
	}
	res, err := verifyPath(ctx, d.store, chain, purpose, id)
	if err != nil {
		return CertificateFlags(res.Flags), err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	flags, err := d.x509.secondOpinion(ctx, CertificateFlags(res.Flags), chain.chain(), id.Identity, purpose, now)
	if err == nil && flags == 0 {
		d.x509.rememberWhole(chain.chain(), id, purpose, res.Path, now)
	}
	return flags, err
}

// purposeOID parses a Purpose; the empty Purpose requires nothing.
func purposeOID(p Purpose) (asn1.ObjectIdentifier, error) {
	switch p {
	case "":
		return nil, nil
	case PurposeServer: // the connection's, on every handshake
		return oidServerAuth, nil
	case PurposeClient:
		return oidClientAuth, nil
	}
	// Arcs in canonical decimal only (no sign, no leading zero): the OID is
	// matched as a string where crypto/x509 is asked (purposeUsages) and by
	// GIO's backends, so "1.3.6.1.5.5.7.3.01" must not mean serverAuth here
	// and "any usage" there.
	var oid asn1.ObjectIdentifier
	for _, part := range strings.Split(string(p), ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || strings.TrimLeft(part, "0123456789") != "" || len(part) > 1 && part[0] == '0' {
			return nil, newError(ErrorMisc, nil, "invalid purpose %q: not an OID", string(p))
		}
		oid = append(oid, n)
	}
	if len(oid) < 2 {
		return nil, newError(ErrorMisc, nil, "invalid purpose %q: not an OID", string(p))
	}
	return oid, nil
}
