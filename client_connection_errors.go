package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/giotls/giotls/internal/tlsconn"
)

// closedError is the error of an operation on a closed connection.
func closedError(op string) error {
	return &net.OpError{Op: op, Net: "tls", Err: net.ErrClosed}
}

func isClosedError(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe)
}

// handshakeError turns what crypto/tls returned from a failed handshake into
// GIO's terms. Cancellation and timeouts keep their Go form (ctx.Err(), a
// net.Error that times out), as crypto/tls returns them.
func (c *ClientConnection) handshakeError(ctx context.Context, err error) error {
	var ie *interactionError
	if errors.As(err, &ie) {
		if c.closed.Load() { // Close cancelled the context the Interaction was given
			return closedError("handshake")
		}
		if errors.Is(ie.err, io.EOF) { // a failure, never a clean end
			return newError(ErrorHandshake, ie.err, "the Interaction failed")
		}
		return ie.err // an Interaction's own failure, returned as it is
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	if c.closed.Load() {
		return closedError("handshake")
	}
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	var notTLS *tlsconn.NotTLSError
	var rhe tls.RecordHeaderError
	switch {
	case errors.As(err, &notTLS):
		return newError(ErrorNotTLS, err, "Peer failed to perform TLS handshake")
	case errors.As(err, &rhe):
		return newError(ErrorNotTLS, err, "Peer failed to perform TLS handshake")
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if c.tr.Received() == 0 {
			return newError(ErrorNotTLS, err, "Peer failed to perform TLS handshake: it closed the connection")
		}
		return newError(ErrorHandshake, err, "TLS handshake failed: the server closed the connection")
	}
	if alert, ok := tlsconn.RemoteAlert(err); ok {
		if c.missingCertificate(alert, true) {
			return newError(ErrorCertificateRequired, err, "Server required TLS certificate")
		}
		if c.rejectedCertificate(alert) {
			return newError(ErrorBadCertificate, err, "the server rejected the client certificate (%s)", alert)
		}
		if alert == "inappropriate fallback" {
			return newError(ErrorInappropriateFallback, err, "Inappropriate TLS protocol fallback")
		}
		// GIO reports every other fatal alert as G_TLS_ERROR_MISC, during
		// the handshake and after it.
		return newError(ErrorMisc, err, "Peer sent fatal TLS alert: %s", alert)
	}
	if alert, ok := localAlert(err); ok {
		return newError(ErrorHandshake, err, "TLS handshake failed: giotls refused what the server sent (%s)", alert)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return err // an error of the base stream, such as a reset
	}
	return newError(ErrorHandshake, err, "TLS handshake failed")
}

// localAlert returns the alert crypto/tls sent when it gave up on what the
// peer sent (a record that fails authentication, a malformed or unexpected
// message, a renegotiation request), and whether err is one. crypto/tls
// reports it as a *net.OpError with Op "local error", but it is no error of
// the base stream.
func localAlert(err error) (string, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "local error" || op.Err == nil {
		return "", false
	}
	return strings.TrimPrefix(op.Err.Error(), "tls: "), true
}

// ioError turns what crypto/tls returned from Read, Write or CloseWrite after
// the handshake into GIO's terms.
func (c *ClientConnection) ioError(op string, err error) error {
	if c.closed.Load() {
		return closedError(op)
	}
	switch {
	case errors.Is(err, io.EOF):
		// crypto/tls gives io.EOF both for close_notify and for a TCP
		// close at a record boundary; the transport knows which. (It
		// hands crypto/tls io.EOF itself; a wrapped one reaching here
		// anyway is taken as a TCP close.) The caller gets io.EOF itself
		// (a clean end) or ErrEOF, which does not match io.EOF.
		if (err != io.EOF || c.tr.SawEOF()) && c.RequireCloseNotify() {
			return newError(ErrorEOF, err, "TLS connection closed unexpectedly")
		}
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newError(ErrorEOF, err, "TLS connection closed unexpectedly in the middle of a record")
	}
	if alert, ok := tlsconn.RemoteAlert(err); ok {
		// In TLS 1.3 the client's handshake ends before the server has
		// checked its certificate, so the refusal arrives on the first Read.
		if c.missingCertificate(alert, false) {
			return newError(ErrorCertificateRequired, err, "Server required TLS certificate")
		}
		if c.rejectedCertificate(alert) {
			return newError(ErrorBadCertificate, err, "the server rejected the client certificate (%s)", alert)
		}
		return newError(ErrorMisc, err, "Peer sent fatal TLS alert: %s", alert)
	}
	if alert, ok := localAlert(err); ok {
		if alert == "no renegotiation" {
			return newError(ErrorMisc, err, "the server asked to renegotiate, which giotls refuses")
		}
		return newError(ErrorMisc, err, "TLS %s failed: giotls refused what the server sent (%s)", op, alert)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return err // a timeout or an error of the base stream
	}
	return newError(ErrorMisc, err, "TLS %s failed", op)
}
