package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"

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
		return newError(ErrorNotTLS, err, "peer failed to perform TLS handshake")
	case errors.As(err, &rhe):
		return newError(ErrorNotTLS, err, "peer failed to perform TLS handshake")
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if c.tr.Received() == 0 {
			return newError(ErrorNotTLS, err, "peer failed to perform TLS handshake: it closed the connection")
		}
		return newError(ErrorHandshake, err, "TLS handshake failed: the server closed the connection")
	}
	if a, remote, ok := tlsconn.AlertOf(err); ok {
		return c.alertError(err, a, remote, true, "handshake")
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return err // an error of the base stream, such as a reset
	}
	return newError(ErrorHandshake, err, "TLS handshake failed")
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
	if a, remote, ok := tlsconn.AlertOf(err); ok {
		return c.alertError(err, a, remote, false, op)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return err // a timeout or an error of the base stream
	}
	return newError(ErrorMisc, err, "TLS %s failed", op)
}

// alertError is alertError for this connection's last handshake.
func (c *ClientConnection) alertError(err error, a tlsconn.Alert, remote, inHandshake bool, op string) error {
	c.res.mu.Lock()
	hs := c.res.last
	c.res.mu.Unlock()
	requested, sent := hs.clientCertificate()
	return alertError(err, a, remote, inHandshake, op, requested, sent)
}
