package giotls

import (
	"errors"
	"fmt"
	"io"
)

// ErrorCode is GIO's GTlsError: the kind of TLS failure, with the same values.
type ErrorCode int

const (
	ErrorUnavailable            ErrorCode = iota // G_TLS_ERROR_UNAVAILABLE: no TLS support
	ErrorMisc                                    // G_TLS_ERROR_MISC: a miscellaneous TLS error
	ErrorBadCertificate                          // G_TLS_ERROR_BAD_CERTIFICATE: the certificate was not acceptable
	ErrorNotTLS                                  // G_TLS_ERROR_NOT_TLS: the peer does not speak TLS
	ErrorHandshake                               // G_TLS_ERROR_HANDSHAKE: the handshake failed
	ErrorCertificateRequired                     // G_TLS_ERROR_CERTIFICATE_REQUIRED: the peer required a certificate we did not send
	ErrorEOF                                     // G_TLS_ERROR_EOF: the peer closed without close_notify
	ErrorInappropriateFallback                   // G_TLS_ERROR_INAPPROPRIATE_FALLBACK: a downgrade was detected
	ErrorBadCertificatePassword                  // G_TLS_ERROR_BAD_CERTIFICATE_PASSWORD: a wrong or missing password
)

var errorCodeNames = [...]string{
	ErrorUnavailable:            "unavailable",
	ErrorMisc:                   "misc",
	ErrorBadCertificate:         "bad-certificate",
	ErrorNotTLS:                 "not-tls",
	ErrorHandshake:              "handshake",
	ErrorCertificateRequired:    "certificate-required",
	ErrorEOF:                    "eof",
	ErrorInappropriateFallback:  "inappropriate-fallback",
	ErrorBadCertificatePassword: "bad-certificate-password",
}

// String returns GIO's nick for the code, such as "bad-certificate".
func (c ErrorCode) String() string {
	if c >= 0 && int(c) < len(errorCodeNames) {
		return errorCodeNames[c]
	}
	return fmt.Sprintf("ErrorCode(%d)", int(c))
}

// Error is a TLS error in GIO's terms: a GTlsError code, a message for people,
// and the underlying cause, if any.
//
// errors.Is(err, ErrBadCertificate) and its siblings match any *Error with
// the same Code, so callers need not unwrap.
type Error struct {
	Code    ErrorCode
	Message string
	Err     error
}

// Error returns the message, prefixed with "giotls: " and followed by the
// cause, if any.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code.String()
	}
	if e.Err != nil {
		return "giotls: " + msg + ": " + e.Err.Error()
	}
	return "giotls: " + msg
}

// Unwrap returns the underlying cause. A cause that matches io.EOF comes
// back seen through notEOF: io.EOF means a clean end (io.Reader's contract)
// and an *Error is a failure, so that errors.Is(err, io.EOF) is false for
// every *Error, ErrEOF (a truncated stream) above all.
func (e *Error) Unwrap() error {
	if e.Err != nil && errors.Is(e.Err, io.EOF) {
		return notEOF{e.Err}
	}
	return e.Err
}

// notEOF is a cause that matched io.EOF: it reads as the cause and matches
// what the cause matched under errors.Is and errors.As, io.EOF excepted.
type notEOF struct{ err error }

func (n notEOF) Error() string        { return n.err.Error() }
func (n notEOF) Is(target error) bool { return target != io.EOF && errors.Is(n.err, target) }
func (n notEOF) As(target any) bool   { return errors.As(n.err, target) }

// Is reports whether target is an *Error with the same Code; for a
// channel-binding sentinel (ErrBindingNotSupported, ...), also of the same
// kind, so that each matches only its own errors.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Code != e.Code {
		return false
	}
	if k, ok := t.Err.(bindingKind); ok {
		return errors.Is(e.Err, k)
	}
	return true
}

// Sentinels for errors.Is, one per ErrorCode. ErrEOF (a stream truncated:
// the peer closed without close_notify) does not match io.EOF, and no *Error
// does: a clean end is io.EOF itself.
var (
	ErrUnavailable            error = &Error{Code: ErrorUnavailable, Message: "TLS support is not available"}
	ErrMisc                   error = &Error{Code: ErrorMisc, Message: "TLS error"}
	ErrBadCertificate         error = &Error{Code: ErrorBadCertificate, Message: "unacceptable TLS certificate"}
	ErrNotTLS                 error = &Error{Code: ErrorNotTLS, Message: "peer does not speak TLS"}
	ErrHandshake              error = &Error{Code: ErrorHandshake, Message: "TLS handshake failed"}
	ErrCertificateRequired    error = &Error{Code: ErrorCertificateRequired, Message: "TLS connection peer did not send a certificate"}
	ErrEOF                    error = &Error{Code: ErrorEOF, Message: "TLS connection closed unexpectedly"}
	ErrInappropriateFallback  error = &Error{Code: ErrorInappropriateFallback, Message: "inappropriate TLS protocol fallback"}
	ErrBadCertificatePassword error = &Error{Code: ErrorBadCertificatePassword, Message: "wrong or missing certificate password"}
)

// newError returns an *Error with code, message and cause.
func newError(code ErrorCode, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// ChannelBindingType is GIO's GTlsChannelBindingType.
type ChannelBindingType int

const (
	// ChannelBindingTLSUnique is "tls-unique" (RFC 5929, section 3): TLS 1.2 only.
	ChannelBindingTLSUnique ChannelBindingType = iota
	// ChannelBindingTLSServerEndPoint is "tls-server-end-point" (RFC 5929, section 4).
	ChannelBindingTLSServerEndPoint
	// ChannelBindingTLSExporter is "tls-exporter" (RFC 9266).
	ChannelBindingTLSExporter
)

// String returns the binding's registered name, such as "tls-unique".
func (t ChannelBindingType) String() string {
	switch t {
	case ChannelBindingTLSUnique:
		return "tls-unique"
	case ChannelBindingTLSServerEndPoint:
		return "tls-server-end-point"
	case ChannelBindingTLSExporter:
		return "tls-exporter"
	}
	return fmt.Sprintf("ChannelBindingType(%d)", int(t))
}

// Channel binding errors (GIO's GTlsChannelBindingError, a domain of its
// own): *Error values with Code ErrorMisc, each matching, under errors.Is,
// only the errors of its own kind (and ErrMisc).
var (
	ErrBindingNotImplemented error = bindingSentinel(bindingNotImplemented)
	ErrBindingInvalidState   error = bindingSentinel(bindingInvalidState)
	ErrBindingNotAvailable   error = bindingSentinel(bindingNotAvailable)
	ErrBindingNotSupported   error = bindingSentinel(bindingNotSupported)
	ErrBindingGeneral        error = bindingSentinel(bindingGeneral)
)

// bindingKind is the GTlsChannelBindingError code a channel-binding *Error
// carries as its Err.
type bindingKind = ChannelBindingErrorCode

const (
	bindingNotImplemented bindingKind = iota
	bindingInvalidState
	bindingNotAvailable
	bindingNotSupported
	bindingGeneral
)

// Error says what the code means, in a sentence.
func (k bindingKind) Error() string {
	if k < bindingNotImplemented || k > bindingGeneral {
		return "channel binding error " + k.String()
	}
	return [...]string{
		bindingNotImplemented: "channel binding is not implemented",
		bindingInvalidState:   "channel binding data is not available in this connection state",
		bindingNotAvailable:   "channel binding data is not available for this connection",
		bindingNotSupported:   "channel binding type is not supported for this connection",
		bindingGeneral:        "channel binding failed",
	}[k]
}

func bindingSentinel(k bindingKind) *Error {
	return &Error{Code: ErrorMisc, Message: k.Error(), Err: k}
}

// bindingError returns a channel-binding error of kind k, saying why, with
// the cause, if any.
func bindingError(k bindingKind, cause error, format string, args ...any) *Error {
	err := error(k)
	if cause != nil {
		err = fmt.Errorf("%w: %w", k, cause)
	}
	return &Error{Code: ErrorMisc, Message: fmt.Sprintf(format, args...), Err: err}
}
