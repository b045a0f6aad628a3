package giotls

import (
	"crypto/tls"

	"golang.org/x/crypto/ocsp"
)

// staplingFlags returns CertificateRevoked when the server stapled an OCSP
// response (RFC 6066, section 8) that its issuer signed and that says the
// leaf is revoked. A missing, unparsable or unverifiable response adds
// nothing: soft-fail, as browsers and GIO do.
func staplingFlags(cs tls.ConnectionState, peer *Certificate) CertificateFlags {
	if len(cs.OCSPResponse) == 0 || peer == nil || peer.issuer == nil {
		return 0
	}
	resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, peer.cert, peer.issuer.cert)
	if err != nil || resp.Status != ocsp.Revoked {
		return 0
	}
	return CertificateRevoked
}
