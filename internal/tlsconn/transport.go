// Package tlsconn holds what giotls's crypto/tls backend adds below crypto/tls:
// a base-stream wrapper that tells a truncated stream from a clean close, and
// notices a peer that does not speak TLS at all.
package tlsconn

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// NotTLSError is returned by Transport.Read when the peer's first byte cannot
// start a TLS record (RFC 8446, section 5.1): the peer speaks another
// protocol, such as a plain-text SMTP greeting on a port that wants STARTTLS.
type NotTLSError struct {
	Prefix []byte // the first bytes received, at most 32
}

func (e *NotTLSError) Error() string {
	return "peer's first bytes are not a TLS record: " + strconv.Quote(string(e.Prefix))
}

// Transport wraps the base stream under a crypto/tls client. It lets the
// connection tell apart the two ends crypto/tls reports as io.EOF: a
// close_notify alert (crypto/tls stops reading the base stream once it has
// one) and a TCP close without it (RFC 8446, section 6.1), where the base
// stream itself returned io.EOF.
//
// crypto/tls serialises its reads, so Read needs no lock of its own.
type Transport struct {
	net.Conn
	sniffed    bool        // the first byte was checked
	pendingEOF bool        // the base returned data with io.EOF; EOF is owed
	eof        atomic.Bool // the base stream returned io.EOF to crypto/tls
	received   atomic.Int64

	deadlineMu sync.Mutex
	writeBound time.Time // no write deadline later than this; zero for none
}

// SetWriteDeadline sets the base stream's write deadline, no later than the
// bound BoundWrites set. crypto/tls calls it to give close_notify five
// seconds of its own, which would otherwise replace a shorter bound set by
// Close (or one that already expired).
func (t *Transport) SetWriteDeadline(d time.Time) error {
	t.deadlineMu.Lock()
	defer t.deadlineMu.Unlock()
	return t.Conn.SetWriteDeadline(t.bounded(d))
}

// BoundWrites makes d the latest write deadline from now on, applied at
// once; a later call can only bring it earlier.
func (t *Transport) BoundWrites(d time.Time) error {
	t.deadlineMu.Lock()
	defer t.deadlineMu.Unlock()
	t.writeBound = t.bounded(d)
	return t.Conn.SetWriteDeadline(t.writeBound)
}

func (t *Transport) bounded(d time.Time) time.Time {
	if !t.writeBound.IsZero() && (d.IsZero() || d.After(t.writeBound)) {
		return t.writeBound
	}
	return d
}

// NewTransport wraps base.
func NewTransport(base net.Conn) *Transport { return &Transport{Conn: base} }

// Read reads from the base stream. The first byte must be a TLS handshake
// (22) or alert (21) record type, the only records a server may send first;
// otherwise Read fails with a *NotTLSError at once, rather than waiting for a
// record header that will never come.
func (t *Transport) Read(p []byte) (int, error) {
	if t.pendingEOF {
		t.eof.Store(true)
		return 0, io.EOF
	}
	n, err := t.Conn.Read(p)
	if err != nil && err != io.EOF && errors.Is(err, io.EOF) {
		// A base stream's wrapped end is its end: crypto/tls tells a
		// clean record boundary from a cut record only for io.EOF itself.
		err = io.EOF
	}
	if n > 0 {
		t.received.Add(int64(n))
		if !t.sniffed {
			t.sniffed = true
			if p[0] != 22 && p[0] != 21 {
				return 0, &NotTLSError{Prefix: append([]byte(nil), p[:min(n, 32)]...)}
			}
		}
		if err == io.EOF {
			t.pendingEOF, err = true, nil
		}
		return n, err
	}
	if err == io.EOF {
		t.eof.Store(true)
	}
	return n, err
}

// SawEOF reports whether the base stream reached its end under crypto/tls.
func (t *Transport) SawEOF() bool { return t.eof.Load() }

// Received returns how many bytes the base stream has delivered.
func (t *Transport) Received() int64 { return t.received.Load() }
