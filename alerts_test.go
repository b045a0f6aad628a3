package giotls

import (
	"errors"
	"net"
	"testing"

	"github.com/giotls/giotls/internal/tlsconn"
)

// TestAlertTable checks the one mapping from alerts to GIO's codes, for the
// server's alerts and crypto/tls's own, in the handshake and after it, with
// and without a client certificate asked for and sent.
func TestAlertTable(t *testing.T) {
	type state struct{ remote, inHandshake, requested, sent bool }
	tests := []struct {
		alert tlsconn.Alert
		st    state
		want  ErrorCode
	}{
		{tlsconn.AlertCertificateRequired, state{true, false, true, false}, ErrorCertificateRequired},
		{tlsconn.AlertCertificateRequired, state{true, false, false, false}, ErrorCertificateRequired},
		{tlsconn.AlertDecodeError, state{true, true, true, false}, ErrorCertificateRequired}, // GnuTLS, TLS 1.2
		{tlsconn.AlertDecodeError, state{true, false, true, false}, ErrorMisc},
		{tlsconn.AlertHandshakeFailure, state{true, false, true, false}, ErrorCertificateRequired},
		{tlsconn.AlertHandshakeFailure, state{true, true, false, false}, ErrorMisc},
		{tlsconn.AlertBadCertificate, state{true, false, true, false}, ErrorCertificateRequired},
		{tlsconn.AlertBadCertificate, state{true, true, true, true}, ErrorBadCertificate},
		{tlsconn.AlertUnknownCA, state{true, false, true, true}, ErrorBadCertificate},
		{tlsconn.AlertCertificateRevoked, state{true, true, true, true}, ErrorBadCertificate},
		{tlsconn.AlertCertificateExpired, state{true, true, false, false}, ErrorMisc},
		{tlsconn.AlertInappropriateFallback, state{true, true, false, false}, ErrorInappropriateFallback},
		{tlsconn.AlertInternalError, state{true, true, false, false}, ErrorMisc},
		{tlsconn.AlertProtocolVersion, state{true, true, false, false}, ErrorMisc},
		{tlsconn.AlertBadRecordMAC, state{false, true, false, false}, ErrorHandshake},
		{tlsconn.AlertBadRecordMAC, state{false, false, false, false}, ErrorMisc},
		{tlsconn.AlertNoRenegotiation, state{false, false, false, false}, ErrorMisc},
		{tlsconn.AlertCertificateRequired, state{false, true, false, false}, ErrorHandshake},
	}
	for _, tt := range tests {
		cause := &net.OpError{Op: "remote error", Err: errors.New("tls: " + tt.alert.String())}
		err := alertError(cause, tt.alert, tt.st.remote, tt.st.inHandshake, "read", tt.st.requested, tt.st.sent)
		if err.Code != tt.want || !errors.Is(err, cause) {
			t.Errorf("alertError(%v, %+v) = %v (%v); want %v wrapping the cause", tt.alert, tt.st, err.Code, err, tt.want)
		}
	}
}
