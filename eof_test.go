package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

// readToEnd reads c until an error, with a deadline so that a regression
// fails instead of hanging, and returns what it read and the error.
func readToEnd(t *testing.T, c *ClientConnection) ([]byte, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got, err
		}
	}
}

// TestTruncationIsNotEOF: only a clean end (close_notify, or a TCP close
// with require-close-notify off) is io.EOF, and it is io.EOF itself, as
// io.Reader's contract asks; a truncation (ErrEOF) never matches io.EOF under
// errors.Is, the idiom linters recommend, so it can never pass for the end
// of a complete stream (RFC 8446, section 6.1).
func TestTruncationIsNotEOF(t *testing.T) {
	ca := newTestCA(t, "EOF Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	msg := []byte("the last words")
	tests := []struct {
		name          string
		clean         bool // close_notify, or a bare TCP close
		requireNotify bool
		wantEOF       bool // io.EOF itself; otherwise ErrEOF
	}{
		{"close_notify, required", true, true, true},
		{"close_notify, not required", true, false, true},
		{"TCP close, required", false, true, false},
		{"TCP close, not required", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := truncatingServer(t, leaf, msg, tt.clean)
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			c.SetRequireCloseNotify(tt.requireNotify)
			got, err := readToEnd(t, c)
			if string(got) != string(msg) {
				t.Errorf("read %q, want %q", got, msg)
			}
			for i := range 2 { // the end is reported again, the same way
				if tt.wantEOF && err != io.EOF {
					t.Fatalf("Read %d = %v (%T), want io.EOF itself", i, err, err)
				}
				if !tt.wantEOF && (!errors.Is(err, ErrEOF) || errors.Is(err, io.EOF)) {
					t.Fatalf("Read %d = %v; want ErrEOF, not matching io.EOF (errors.Is(err, io.EOF) = %v)",
						i, err, errors.Is(err, io.EOF))
				}
				_, err = c.Read(make([]byte, 1))
			}
		})
	}
}

// TestHandshakeCutIsNotEOF: a server that closes TCP during the handshake,
// before and after answering, fails the handshake and every Read with an
// error that does not match io.EOF: a loop that stops at io.EOF must not
// take it for an empty, complete stream.
func TestHandshakeCutIsNotEOF(t *testing.T) {
	ca := newTestCA(t, "Cut Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	tests := []struct {
		name   string
		handle func(net.Conn)
	}{
		{"closed before answering", func(c net.Conn) {
			readRecord(c) // the whole ClientHello: unread data would make the close a reset
		}},
		{"closed after the ServerHello", func(c net.Conn) {
			// Forward the server's first flight, cut after its first record.
			in, out := net.Pipe()
			go func() {
				s := tls.Server(in, serverConfig(leaf))
				s.HandshakeContext(context.Background())
				s.Close()
			}()
			defer out.Close()
			go io.Copy(out, c)
			if rec, err := readRecord(out); err == nil {
				c.Write(rec)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := loopback.Serve(t, "tcp4", tt.handle)
			c := dialTest(t, ln.Addr().String(), dialConfig{Identity: localhost(1), Database: ca.db})
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			hsErr := c.Handshake(context.Background())
			_, readErr := c.Read(make([]byte, 1))
			for name, err := range map[string]error{"Handshake": hsErr, "Read": readErr} {
				if err == nil || errors.Is(err, io.EOF) {
					t.Errorf("%s = %v; want an error not matching io.EOF", name, err)
				}
				var ge *Error
				if !errors.As(err, &ge) {
					t.Errorf("%s = %v (%T); want a giotls *Error", name, err, err)
				}
			}
		})
	}
}

// readRecord reads one TLS record, header included (RFC 8446, section 5.1).
func readRecord(r io.Reader) ([]byte, error) {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	rec := make([]byte, 5+(int(hdr[3])<<8|int(hdr[4])))
	copy(rec, hdr)
	_, err := io.ReadFull(r, rec[5:])
	return rec, err
}

// TestErrorNeverMatchesEOF: whatever its cause, a giotls *Error is a
// failure, so none matches io.EOF; the cause stays readable, and other
// errors in its chain still match.
func TestErrorNeverMatchesEOF(t *testing.T) {
	opErr := &net.OpError{Op: "read", Net: "tcp", Err: io.EOF}
	tests := []struct {
		name  string
		err   *Error
		still error // an error the chain must still match, nil for none
	}{
		{"io.EOF", &Error{Code: ErrorEOF, Err: io.EOF}, nil},
		{"wrapped io.EOF", &Error{Code: ErrorHandshake, Err: opErr}, opErr},
		{"unexpected EOF", &Error{Code: ErrorEOF, Err: io.ErrUnexpectedEOF}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if errors.Is(tt.err, io.EOF) {
				t.Errorf("errors.Is(%v, io.EOF) = true", tt.err)
			}
			if tt.still != nil && !errors.Is(tt.err, tt.still) {
				t.Errorf("errors.Is(%v, %v) = false, want the cause still matched", tt.err, tt.still)
			}
			var op *net.OpError
			if tt.still == opErr && (!errors.As(tt.err, &op) || op != opErr) {
				t.Errorf("errors.As(%v, *net.OpError) lost the cause", tt.err)
			}
			if !errors.Is(tt.err, &Error{Code: tt.err.Code}) {
				t.Errorf("errors.Is(%v, its code's sentinel) = false", tt.err)
			}
		})
	}
}

// TestInteractionEOFIsNotEOF: an Interaction that fails with io.EOF fails
// the handshake, and neither Handshake nor Read may then return io.EOF,
// which would read as an empty, complete stream.
func TestInteractionEOFIsNotEOF(t *testing.T) {
	p := newClientAuthPKI(t)
	srv := startClientAuthServer(t, p, tls.VersionTLS13, tls.RequireAndVerifyClientCert, p.caA.Cert)
	c := srv.connect(t, p, nil)
	c.SetInteraction(&testInteraction{requestCertificate: func(context.Context, *ClientConnection) (InteractionResult, error) {
		return InteractionFailed, io.EOF
	}})
	hsErr := c.Handshake(context.Background())
	_, readErr := c.Read(make([]byte, 1))
	for name, err := range map[string]error{"Handshake": hsErr, "Read": readErr} {
		if !errors.Is(err, ErrHandshake) || errors.Is(err, io.EOF) {
			t.Errorf("%s = %v; want ErrHandshake, not matching io.EOF", name, err)
		}
	}
}
