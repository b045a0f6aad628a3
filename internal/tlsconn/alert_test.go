package tlsconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"testing"
)

// TestAlertOf reads every alert of RFC 8446, section 6 (and the TLS 1.2 ones
// crypto/tls still names) out of errors worded as crypto/tls words them,
// sent by the peer ("remote error") or by crypto/tls itself ("local error").
func TestAlertOf(t *testing.T) {
	tests := []struct {
		text string
		want Alert
	}{
		{"close notify", AlertCloseNotify},
		{"unexpected message", AlertUnexpectedMessage},
		{"bad record MAC", AlertBadRecordMAC},
		{"record overflow", AlertRecordOverflow},
		{"handshake failure", AlertHandshakeFailure},
		{"bad certificate", AlertBadCertificate},
		{"unsupported certificate", AlertUnsupportedCertificate},
		{"revoked certificate", AlertCertificateRevoked},
		{"expired certificate", AlertCertificateExpired},
		{"unknown certificate", AlertCertificateUnknown},
		{"illegal parameter", AlertIllegalParameter},
		{"unknown certificate authority", AlertUnknownCA},
		{"access denied", AlertAccessDenied},
		{"error decoding message", AlertDecodeError},
		{"error decrypting message", AlertDecryptError},
		{"protocol version not supported", AlertProtocolVersion},
		{"insufficient security level", AlertInsufficientSecurity},
		{"internal error", AlertInternalError},
		{"inappropriate fallback", AlertInappropriateFallback},
		{"user canceled", AlertUserCanceled},
		{"no renegotiation", AlertNoRenegotiation},
		{"missing extension", AlertMissingExtension},
		{"unsupported extension", AlertUnsupportedExtension},
		{"unrecognized name", AlertUnrecognizedName},
		{"bad certificate status response", AlertBadCertificateStatusResponse},
		{"unknown PSK identity", AlertUnknownPSKIdentity},
		{"certificate required", AlertCertificateRequired},
		{"no application protocol", AlertNoApplicationProtocol},
		{"encrypted client hello required", AlertECHRequired},
		{"alert(201)", Alert(201)}, // crypto/tls's wording for one it has no name for
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			for _, op := range []string{"remote error", "local error"} {
				err := fmt.Errorf("wrapped: %w", &net.OpError{Op: op, Err: errors.New("tls: " + tt.text)})
				a, remote, ok := AlertOf(err)
				if !ok || a != tt.want || remote != (op == "remote error") {
					t.Errorf("AlertOf(%s: %q) = %v, remote %v, %v; want %v, remote %v", op, tt.text, a, remote, ok, tt.want, op == "remote error")
				}
			}
			if tt.want < 200 && tt.want.String() != tt.text {
				t.Errorf("%d.String() = %q, want %q", uint8(tt.want), tt.want.String(), tt.text)
			}
		})
	}
	for _, err := range []error{
		errors.New("tls: bad certificate"),                                // not from a connection
		&net.OpError{Op: "read", Err: errors.New("tls: bad certificate")}, // an I/O error
		&net.OpError{Op: "remote error", Err: errors.New("tls: no such alert")},
		&net.OpError{Op: "remote error"},
		nil,
	} {
		if a, _, ok := AlertOf(err); ok {
			t.Errorf("AlertOf(%v) = %v, want none", err, a)
		}
	}
}

// TestAlertOfCryptoTLS checks the reading against crypto/tls itself: a
// server that speaks only TLS 1.3 refuses a TLS 1.2 client with
// protocol_version (RFC 8446, section 4.2.1).
func TestAlertOfCryptoTLS(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go tls.Server(b, &tls.Config{MinVersion: tls.VersionTLS13}).Handshake()
	err := tls.Client(a, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}).HandshakeContext(context.Background())
	if alert, remote, ok := AlertOf(err); !ok || !remote || alert != AlertProtocolVersion {
		t.Errorf("AlertOf(%v) = %v, remote %v, %v; want protocol_version from the peer", err, alert, remote, ok)
	}
}
