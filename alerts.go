package giotls

import (
	"github.com/giotls/giotls/internal/tlsconn"
)

// alertMeaning is what a fatal alert from the server means in GIO's terms.
type alertMeaning struct {
	code ErrorCode
	// clientCert marks the alerts that refuse the client certificate sent
	// (RFC 8446, section 6.2; RFC 5246, section 7.2.2): code applies only
	// when one was sent, and the alert is ErrorMisc otherwise.
	clientCert bool
}

// alertTable is the one mapping from the server's fatal alerts to GIO's
// codes, during the handshake and after it (in TLS 1.3 the client's
// handshake ends before the server has checked its certificate, so a
// refusal arrives on the first Read). An alert not listed is ErrorMisc, as
// GIO reports every other fatal alert. Alerts crypto/tls sends itself,
// giving up on what the server sent, are ErrorHandshake during the
// handshake and ErrorMisc after it (see alertError).
var alertTable = map[tlsconn.Alert]alertMeaning{
	tlsconn.AlertCertificateRequired:    {code: ErrorCertificateRequired},   // RFC 8446, section 4.4.2.4
	tlsconn.AlertInappropriateFallback:  {code: ErrorInappropriateFallback}, // RFC 7507
	tlsconn.AlertBadCertificate:         {code: ErrorBadCertificate, clientCert: true},
	tlsconn.AlertUnsupportedCertificate: {code: ErrorBadCertificate, clientCert: true},
	tlsconn.AlertCertificateRevoked:     {code: ErrorBadCertificate, clientCert: true},
	tlsconn.AlertCertificateExpired:     {code: ErrorBadCertificate, clientCert: true},
	tlsconn.AlertCertificateUnknown:     {code: ErrorBadCertificate, clientCert: true},
	tlsconn.AlertUnknownCA:              {code: ErrorBadCertificate, clientCert: true},
}

// alertError turns a fatal alert into GIO's terms: one the server sent
// (remote) or crypto/tls sent, during the handshake or after it (op names
// the operation then). requested and sent say whether the server asked for
// a client certificate and whether one was sent.
func alertError(err error, a tlsconn.Alert, remote, inHandshake bool, op string, requested, sent bool) *Error {
	if !remote {
		switch {
		case inHandshake:
			return newError(ErrorHandshake, err, "TLS handshake failed: giotls refused what the server sent (%s)", a)
		case a == tlsconn.AlertNoRenegotiation:
			return newError(ErrorMisc, err, "the server asked to renegotiate, which giotls refuses")
		}
		return newError(ErrorMisc, err, "TLS %s failed: giotls refused what the server sent (%s)", op, a)
	}
	m := alertTable[a]
	// A server that wanted a certificate and got none: TLS 1.3 servers say
	// certificate_required, after the client's handshake; TLS 1.2 servers
	// refuse during the handshake with an alert of their choosing (RFC 5246,
	// section 7.4.6): OpenSSL sends handshake_failure, crypto/tls
	// bad_certificate, GnuTLS decode_error; so, as GIO does, any alert
	// counts then.
	missing := requested && !sent &&
		(inHandshake || a == tlsconn.AlertHandshakeFailure || a == tlsconn.AlertBadCertificate)
	switch {
	case m.code == ErrorCertificateRequired || missing:
		return newError(ErrorCertificateRequired, err, "the server required a TLS client certificate")
	case m.clientCert && sent:
		return newError(ErrorBadCertificate, err, "the server rejected the client certificate (%s)", a)
	case m.code == ErrorInappropriateFallback:
		return newError(ErrorInappropriateFallback, err, "inappropriate TLS protocol fallback")
	}
	return newError(ErrorMisc, err, "peer sent fatal TLS alert: %s", a)
}
