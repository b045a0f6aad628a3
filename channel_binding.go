package giotls

import (
	"crypto"
	_ "crypto/sha256" // the hashes tls-server-end-point uses
	_ "crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
)

// exporterLabel is the tls-exporter label (RFC 9266, section 2).
const exporterLabel = "EXPORTER-Channel-Binding"

// ChannelBindingData returns the channel binding of type t, for SCRAM-PLUS
// (RFC 5802, RFC 9266) and other mechanisms that bind an authentication to
// the TLS connection it runs over. Each value is what the server computes on
// its end of the same connection:
//
//   - tls-unique (RFC 5929, section 3): the first Finished message of the
//     latest handshake: the client's in a full handshake, the server's in a
//     resumed one. It is defined for TLS 1.2 only: on TLS 1.3
//     ErrBindingNotSupported (RFC 9266, section 3). After a resumption
//     without the extended master secret it does not identify the
//     connection (the triple handshake attack, RFC 7627, section 5.4):
//     ErrBindingNotAvailable.
//   - tls-server-end-point (RFC 5929, section 4.1): the server certificate
//     hashed with the hash of its signature algorithm, MD5 and SHA-1
//     upgraded to SHA-256. A signature that names no single hash, Ed25519
//     among them, or a hash giotls does not implement (MD2):
//     ErrBindingNotSupported. (GnuTLS, and so GIO's default backend, hashes
//     Ed25519 certificates with SHA-512; RFC 5929 leaves that undefined.)
//   - tls-exporter (RFC 9266, section 2): 32 bytes exported (RFC 5705,
//     RFC 8446 section 7.5) with the label "EXPORTER-Channel-Binding" and a
//     zero-length context, which on TLS 1.2 differs from no context at all
//     (RFC 5705, section 4); GnuTLS and GIO's OpenSSL backend compute the
//     same. On TLS 1.2 it requires the extended master secret (RFC 9266,
//     section 3): without it, ErrBindingNotSupported.
//
// Before the handshake has completed, after a failed one, and after Close:
// ErrBindingInvalidState. Any other t: ErrBindingNotImplemented. The errors
// match their sentinels with errors.Is.
func (c *ClientConnection) ChannelBindingData(t ChannelBindingType) ([]byte, error) {
	c.res.mu.Lock()
	complete := c.res.complete
	c.res.mu.Unlock()
	tc := c.tlsConn.Load()
	if !complete || tc == nil || c.closed.Load() {
		return nil, bindingError(bindingInvalidState, nil, "%v needs a completed handshake on an open connection", t)
	}
	cs := tc.ConnectionState()
	switch t {
	case ChannelBindingTLSUnique:
		if cs.Version >= tls.VersionTLS13 {
			return nil, bindingError(bindingNotSupported, nil, "tls-unique is not defined for TLS 1.3")
		}
		// crypto/tls leaves TLSUnique nil on a resumption without the
		// extended master secret, which it knows and does not export.
		if len(cs.TLSUnique) == 0 {
			return nil, bindingError(bindingNotAvailable, nil, "tls-unique is unsafe after a resumption without the extended master secret")
		}
		return slices.Clone(cs.TLSUnique), nil
	case ChannelBindingTLSServerEndPoint:
		if len(cs.PeerCertificates) == 0 {
			return nil, bindingError(bindingNotAvailable, nil, "the server sent no certificate")
		}
		cert := cs.PeerCertificates[0]
		h := endPointHash(cert.SignatureAlgorithm)
		if h == 0 {
			return nil, bindingError(bindingNotSupported, nil, "tls-server-end-point is not defined for certificates signed with %v", cert.SignatureAlgorithm)
		}
		d := h.New()
		d.Write(cert.Raw)
		return d.Sum(nil), nil
	case ChannelBindingTLSExporter:
		if cs.Version < tls.VersionTLS13 && !hasExtendedMasterSecret(cs) {
			return nil, bindingError(bindingNotSupported, nil, "tls-exporter needs TLS 1.3 or the extended master secret")
		}
		b, err := cs.ExportKeyingMaterial(exporterLabel, []byte{}, 32)
		if err != nil {
			return nil, bindingError(bindingGeneral, err, "exporting %v", t)
		}
		return b, nil
	}
	return nil, bindingError(bindingNotImplemented, nil, "unknown channel binding type %v", t)
}

// hasExtendedMasterSecret reports whether a TLS 1.2 connection is known to
// have used the extended master secret (RFC 7627). crypto/tls does not say so
// directly, but it refuses to export keying material without it, unless
// GODEBUG=tlsunsafeekm=1 lifts the refusal: then giotls cannot tell, and
// answers false, so that tls-exporter is refused rather than handed out where
// RFC 9266 forbids it.
func hasExtendedMasterSecret(cs tls.ConnectionState) bool {
	if cs.Version >= tls.VersionTLS13 || unsafeEKM() {
		return false
	}
	_, err := cs.ExportKeyingMaterial("giotls ems probe", nil, 1)
	return err == nil
}

// defaultGODEBUG is the GODEBUG the program was built with (go.mod's go and
// godebug lines, //go:debug directives), which the environment overrides.
var defaultGODEBUG = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "DefaultGODEBUG" {
				return s.Value
			}
		}
	}
	return ""
})

// unsafeEKM reports whether crypto/tls runs with tlsunsafeekm=1, exporting
// keying material without the extended master secret. GODEBUG is read at each
// call because os.Setenv changes it for crypto/tls too.
func unsafeEKM() bool {
	v, ok := godebugValue(os.Getenv("GODEBUG"), "tlsunsafeekm")
	if !ok {
		v, _ = godebugValue(defaultGODEBUG(), "tlsunsafeekm")
	}
	return v == "1"
}

// godebugValue returns the value of key in a GODEBUG list, where the last
// setting wins, as in the runtime.
func godebugValue(list, key string) (string, bool) {
	var v string
	var found bool
	for kv := range strings.SplitSeq(list, ",") {
		if k, val, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == key {
			v, found = val, true
		}
	}
	return v, found
}

// endPointHash returns the hash tls-server-end-point uses for a certificate
// signed with alg (RFC 5929, section 4.1): the signature's single hash, MD5
// and SHA-1 replaced by SHA-256; 0 when it is undefined (no single hash, as
// for Ed25519) or not implemented (MD2).
func endPointHash(alg x509.SignatureAlgorithm) crypto.Hash {
	switch alg {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		return crypto.SHA256
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		return crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		return crypto.SHA512
	}
	return 0
}
