package giotls

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"hash"
	"slices"
)

// exporterLabel is the tls-exporter label (RFC 9266, section 2).
const exporterLabel = "EXPORTER-Channel-Binding"

// ChannelBindingData returns the channel binding of type t for SCRAM-PLUS
// and similar mechanisms:
//
//   - tls-unique (RFC 5929, section 3): TLS 1.2 only (ErrBindingNotSupported
//     on TLS 1.3, RFC 9266 section 3); after a resumption without the
//     extended master secret it is not safe (RFC 7627, section 5.4):
//     ErrBindingNotAvailable.
//   - tls-server-end-point (RFC 5929, section 4): the server certificate
//     hashed with its signature's hash, MD5 and SHA-1 upgraded to SHA-256;
//     Ed25519 and unknown algorithms: ErrBindingNotSupported.
//   - tls-exporter (RFC 9266): 32 bytes exported with the label
//     "EXPORTER-Channel-Binding" and no context; on TLS 1.2 without the
//     extended master secret: ErrBindingNotSupported.
//
// Before the handshake completes: ErrBindingInvalidState.
func (c *clientConn) ChannelBindingData(t ChannelBindingType) ([]byte, error) {
	tc := c.tlsConn.Load()
	if tc == nil || c.closed.Load() {
		return nil, ErrBindingInvalidState
	}
	cs := tc.ConnectionState()
	if !cs.HandshakeComplete {
		return nil, ErrBindingInvalidState
	}
	switch t {
	case ChannelBindingTLSUnique:
		if cs.Version >= tls.VersionTLS13 {
			return nil, ErrBindingNotSupported
		}
		if cs.DidResume && !hasExtendedMasterSecret(cs) {
			return nil, ErrBindingNotAvailable
		}
		if len(cs.TLSUnique) == 0 {
			return nil, ErrBindingNotAvailable
		}
		return slices.Clone(cs.TLSUnique), nil
	case ChannelBindingTLSServerEndPoint:
		if len(cs.PeerCertificates) == 0 {
			return nil, ErrBindingNotAvailable
		}
		h := endPointHash(cs.PeerCertificates[0].SignatureAlgorithm)
		if h == nil {
			return nil, ErrBindingNotSupported
		}
		h.Write(cs.PeerCertificates[0].Raw)
		return h.Sum(nil), nil
	case ChannelBindingTLSExporter:
		if cs.Version < tls.VersionTLS13 && !hasExtendedMasterSecret(cs) {
			return nil, ErrBindingNotSupported
		}
		b, err := cs.ExportKeyingMaterial(exporterLabel, nil, 32)
		if err != nil {
			return nil, ErrBindingNotSupported
		}
		return b, nil
	}
	return nil, ErrBindingNotImplemented
}

// hasExtendedMasterSecret reports whether a TLS 1.2 connection used the
// extended master secret (RFC 7627). crypto/tls does not say so directly,
// but it refuses to export keying material without it.
func hasExtendedMasterSecret(cs tls.ConnectionState) bool {
	_, err := cs.ExportKeyingMaterial("giotls ems probe", nil, 1)
	return err == nil
}

// endPointHash returns the hash tls-server-end-point uses for a certificate
// signed with alg (RFC 5929, section 4.1), nil when it is undefined.
func endPointHash(alg x509.SignatureAlgorithm) hash.Hash {
	switch alg {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		return sha256.New()
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		return sha512.New384()
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		return sha512.New()
	}
	return nil
}
