package giotls

import (
	"bytes"
	"context"
	"crypto"
	_ "crypto/sha1" // OCSP CertIDs are commonly hashed with SHA-1 (RFC 6960, section 4.1.1)
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"slices"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspClockSkew is how far thisUpdate may lie in the future and nextUpdate
// in the past, for clocks that disagree (OpenSSL's default is the same).
const ocspClockSkew = 5 * time.Minute

// staplingFlags returns CertificateRevoked when the server stapled an OCSP
// response (RFC 6066, section 8) that is valid for the leaf under RFC 6960,
// section 3.2, and says it is revoked. A missing, unparsable or untrusted
// response adds nothing: soft-fail, as browsers and GIO do.
//
// The leaf's issuer is the certificate whose key signed it: one the server
// sent, else the database's. Whoever holds that key speaks for the leaf's
// status, whether or not the chain leads to a trusted anchor (the other
// flags say that).
func staplingFlags(ctx context.Context, cs tls.ConnectionState, peer *Certificate, db Database, interaction Interaction) CertificateFlags {
	if len(cs.OCSPResponse) == 0 || peer == nil || peer.cert == nil {
		return 0
	}
	issuer := leafIssuer(ctx, peer, db, interaction)
	if issuer == nil {
		return 0
	}
	if status, ok := stapledStatus(cs.OCSPResponse, peer.cert, issuer, time.Now()); ok && status == ocsp.Revoked {
		return CertificateRevoked
	}
	return 0
}

// ocspMaxIssuers bounds the certificates the server sent that are tried as
// the leaf's issuer, as path building bounds those it considers
// (internal/verify): each try is a signature check, and one Certificate
// message holds some 170 look-alikes with 8192-bit keys, over a second of
// checks.
const ocspMaxIssuers = 64

// leafIssuer returns the certificate that signed peer's leaf: among the
// first ocspMaxIssuers the server sent, else from db (a root is often left
// out, RFC 8446, section 4.4.2); nil when there is none or ctx ends.
func leafIssuer(ctx context.Context, peer *Certificate, db Database, interaction Interaction) *x509.Certificate {
	n := 0
	for c := peer.issuer; c != nil && n < ocspMaxIssuers; c, n = c.issuer, n+1 {
		if ctx.Err() != nil {
			return nil
		}
		if signed(c.cert, peer.cert) {
			return c.cert
		}
	}
	if noDatabase(db) {
		return nil
	}
	c, err := db.LookupCertificateIssuer(ctx, peer, interaction)
	if err != nil || c == nil || !signed(c.cert, peer.cert) {
		return nil
	}
	return c.cert
}

// signed reports whether issuer's name and key issued cert. SHA-1 is
// allowed: such a leaf is flagged insecure, its revocation still counts.
func signed(issuer, cert *x509.Certificate) bool {
	return issuer != nil && bytes.Equal(issuer.RawSubject, cert.RawIssuer) &&
		issuer.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
}

// stapledStatus returns the status (ocsp.Good, Revoked or Unknown) that raw
// gives leaf, and whether the response may be trusted at now (RFC 6960,
// section 3.2): signed by issuer or by a responder issuer delegated
// (section 4.2.2.2), about leaf's CertID (serial number and issuer name
// and key hashes), and current.
func stapledStatus(raw []byte, leaf, issuer *x509.Certificate, now time.Time) (int, bool) {
	// ParseResponseForCert finds leaf's serial number and checks that an
	// embedded certificate signed the response; without an issuer it
	// checks nothing else, which is done here.
	resp, err := ocsp.ParseResponseForCert(raw, leaf, nil)
	if err != nil {
		return 0, false
	}
	if !trustedSigner(resp, issuer, now) {
		return 0, false
	}
	single, ok := singleResponseFor(resp.TBSResponseData, leaf, issuer)
	if !ok {
		return 0, false
	}
	if single.ThisUpdate.After(now.Add(ocspClockSkew)) {
		return 0, false // not yet valid
	}
	if !single.NextUpdate.IsZero() && !single.NextUpdate.After(now.Add(-ocspClockSkew)) {
		return 0, false // stale: newer information is available
	}
	// x/crypto/ocsp parsed the same bytes: a status is good [0], revoked
	// [1] or unknown [2], or is missing and this reads thisUpdate (unknown).
	switch single.Status.Tag {
	case 0:
		return ocsp.Good, true
	case 1:
		return ocsp.Revoked, true
	}
	return ocsp.Unknown, true
}

// trustedSigner reports whether resp was signed by issuer itself, or by a
// certificate issuer gave the id-kp-OCSPSigning purpose and that is valid
// now (RFC 6960, section 4.2.2.2).
func trustedSigner(resp *ocsp.Response, issuer *x509.Certificate, now time.Time) bool {
	r := resp.Certificate
	if r == nil || bytes.Equal(r.Raw, issuer.Raw) {
		return resp.CheckSignatureFrom(issuer) == nil
	}
	// ParseResponseForCert checked that r signed the response.
	return signed(issuer, r) && slices.Contains(r.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) &&
		!now.Before(r.NotBefore) && !now.After(r.NotAfter)
}

// The parts of ResponseData (RFC 6960, section 4.2.1) that name which
// certificate each status is about; x/crypto/ocsp matches serial numbers
// only, so the issuer hashes are compared here.
type ocspResponseData struct {
	Version     int `asn1:"optional,explicit,default:0,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []ocspSingleResponse
	Extensions  []pkix.Extension `asn1:"optional,explicit,tag:1"`
}

type ocspSingleResponse struct {
	CertID     ocspCertID
	Status     asn1.RawValue    // good [0], revoked [1], unknown [2]
	ThisUpdate time.Time        `asn1:"generalized"`
	NextUpdate time.Time        `asn1:"generalized,explicit,tag:0,optional"`
	Extensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type ocspCertID struct {
	HashAlgorithm  pkix.AlgorithmIdentifier
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
}

// ocspHashes are the CertID hash algorithms crypto offers.
var ocspHashes = map[string]crypto.Hash{
	"1.3.14.3.2.26":          crypto.SHA1,
	"2.16.840.1.101.3.4.2.1": crypto.SHA256,
	"2.16.840.1.101.3.4.2.2": crypto.SHA384,
	"2.16.840.1.101.3.4.2.3": crypto.SHA512,
}

// singleResponseFor returns the status in tbs whose CertID is leaf's under
// issuer (RFC 6960, section 4.1.1): the hash of leaf's issuer name and of
// issuer's public key, and leaf's serial number.
func singleResponseFor(tbs []byte, leaf, issuer *x509.Certificate) (ocspSingleResponse, bool) {
	var data ocspResponseData
	if rest, err := asn1.Unmarshal(tbs, &data); err != nil || len(rest) != 0 {
		return ocspSingleResponse{}, false
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return ocspSingleResponse{}, false
	}
	for _, s := range data.Responses {
		h, ok := ocspHashes[s.CertID.HashAlgorithm.Algorithm.String()]
		if !ok || s.CertID.SerialNumber == nil || s.CertID.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
			continue
		}
		if bytes.Equal(s.CertID.IssuerNameHash, digest(h, leaf.RawIssuer)) &&
			bytes.Equal(s.CertID.IssuerKeyHash, digest(h, spki.PublicKey.Bytes)) {
			return s, true
		}
	}
	return ocspSingleResponse{}, false
}

func digest(h crypto.Hash, data []byte) []byte {
	d := h.New()
	d.Write(data)
	return d.Sum(nil)
}
