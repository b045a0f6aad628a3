package tlsconn

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// Alert is a TLS alert description (RFC 8446, section 6; RFC 5246, section
// 7.2, for the TLS 1.2 ones).
type Alert uint8

// The alerts of RFC 8446, section 6, with the TLS 1.2 and extension ones
// crypto/tls names.
const (
	AlertCloseNotify                  Alert = 0
	AlertUnexpectedMessage            Alert = 10
	AlertBadRecordMAC                 Alert = 20
	AlertRecordOverflow               Alert = 22
	AlertHandshakeFailure             Alert = 40
	AlertBadCertificate               Alert = 42
	AlertUnsupportedCertificate       Alert = 43
	AlertCertificateRevoked           Alert = 44
	AlertCertificateExpired           Alert = 45
	AlertCertificateUnknown           Alert = 46
	AlertIllegalParameter             Alert = 47
	AlertUnknownCA                    Alert = 48
	AlertAccessDenied                 Alert = 49
	AlertDecodeError                  Alert = 50
	AlertDecryptError                 Alert = 51
	AlertProtocolVersion              Alert = 70
	AlertInsufficientSecurity         Alert = 71
	AlertInternalError                Alert = 80
	AlertInappropriateFallback        Alert = 86
	AlertUserCanceled                 Alert = 90
	AlertNoRenegotiation              Alert = 100
	AlertMissingExtension             Alert = 109
	AlertUnsupportedExtension         Alert = 110
	AlertUnrecognizedName             Alert = 112
	AlertBadCertificateStatusResponse Alert = 113
	AlertUnknownPSKIdentity           Alert = 115
	AlertCertificateRequired          Alert = 116
	AlertNoApplicationProtocol        Alert = 120
	AlertECHRequired                  Alert = 121
)

// alertNames are the alerts as crypto/tls words them in its errors, the
// only form in which it hands them out.
var alertNames = map[Alert]string{
	AlertCloseNotify:                  "close notify",
	AlertUnexpectedMessage:            "unexpected message",
	AlertBadRecordMAC:                 "bad record MAC",
	AlertRecordOverflow:               "record overflow",
	AlertHandshakeFailure:             "handshake failure",
	AlertBadCertificate:               "bad certificate",
	AlertUnsupportedCertificate:       "unsupported certificate",
	AlertCertificateRevoked:           "revoked certificate",
	AlertCertificateExpired:           "expired certificate",
	AlertCertificateUnknown:           "unknown certificate",
	AlertIllegalParameter:             "illegal parameter",
	AlertUnknownCA:                    "unknown certificate authority",
	AlertAccessDenied:                 "access denied",
	AlertDecodeError:                  "error decoding message",
	AlertDecryptError:                 "error decrypting message",
	AlertProtocolVersion:              "protocol version not supported",
	AlertInsufficientSecurity:         "insufficient security level",
	AlertInternalError:                "internal error",
	AlertInappropriateFallback:        "inappropriate fallback",
	AlertUserCanceled:                 "user canceled",
	AlertNoRenegotiation:              "no renegotiation",
	AlertMissingExtension:             "missing extension",
	AlertUnsupportedExtension:         "unsupported extension",
	AlertUnrecognizedName:             "unrecognized name",
	AlertBadCertificateStatusResponse: "bad certificate status response",
	AlertUnknownPSKIdentity:           "unknown PSK identity",
	AlertCertificateRequired:          "certificate required",
	AlertNoApplicationProtocol:        "no application protocol",
	AlertECHRequired:                  "encrypted client hello required",
}

var alertsByName = func() map[string]Alert {
	m := make(map[string]Alert, len(alertNames))
	for a, name := range alertNames {
		m[name] = a
	}
	return m
}()

// String returns the alert as crypto/tls words it.
func (a Alert) String() string {
	if name, ok := alertNames[a]; ok {
		return name
	}
	return "alert(" + strconv.Itoa(int(a)) + ")"
}

// AlertOf returns the fatal alert err carries and whether the peer sent it
// (remote) or crypto/tls did, giving up on what the peer sent (a record that
// fails authentication, a malformed or unexpected message, a renegotiation
// request). crypto/tls reports both as a *net.OpError, with Op "remote
// error" or "local error", around an unexported alert type whose text is
// all it shows; neither is an error of the base stream.
func AlertOf(err error) (a Alert, remote, ok bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Err == nil || op.Op != "remote error" && op.Op != "local error" {
		return 0, false, false
	}
	text := strings.TrimPrefix(op.Err.Error(), "tls: ")
	if a, ok := alertsByName[text]; ok {
		return a, op.Op == "remote error", true
	}
	if n, found := strings.CutPrefix(text, "alert("); found {
		if v, err := strconv.ParseUint(strings.TrimSuffix(n, ")"), 10, 8); err == nil && strings.HasSuffix(n, ")") {
			return Alert(v), op.Op == "remote error", true
		}
	}
	return 0, false, false
}
