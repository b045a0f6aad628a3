package tlsconn

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// scripted is a net.Conn whose reads return the given results in order.
type scripted struct {
	net.Conn
	reads []result
}

type result struct {
	data string
	err  error
}

func (s *scripted) Read(p []byte) (int, error) {
	if len(s.reads) == 0 {
		return 0, io.EOF
	}
	r := s.reads[0]
	s.reads = s.reads[1:]
	return copy(p, r.data), r.err
}

func TestTransportSniff(t *testing.T) {
	tests := []struct {
		name      string
		first     string
		wantNoTLS bool
	}{
		{"handshake record", "\x16\x03\x03\x00\x10", false},
		{"alert record", "\x15\x03\x03\x00\x02", false},
		{"SMTP greeting", "220 mail.example ESMTP\r\n", true},
		{"HTTP", "HTTP/1.1 400 Bad Request\r\n", true},
		{"SSLv2-looking", "\x80\x2e\x01", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTransport(&scripted{reads: []result{{tt.first, nil}}})
			n, err := tr.Read(make([]byte, 64))
			var nt *NotTLSError
			if tt.wantNoTLS {
				if !errors.As(err, &nt) || n != 0 || string(nt.Prefix) != tt.first[:min(len(tt.first), 32)] {
					t.Fatalf("Read = %d, %v; want a NotTLSError with the prefix", n, err)
				}
				return
			}
			if err != nil || n != len(tt.first) {
				t.Fatalf("Read = %d, %v", n, err)
			}
		})
	}
}

// TestTransportEOF checks that SawEOF tells whether the base stream ended
// under crypto/tls, including when the base returns data and io.EOF
// together: the data first, the EOF on the next call.
func TestTransportEOF(t *testing.T) {
	tr := NewTransport(&scripted{reads: []result{{"\x16abc", nil}, {"def", io.EOF}}})
	buf := make([]byte, 8)
	if n, err := tr.Read(buf); n != 4 || err != nil {
		t.Fatalf("first Read = %d, %v", n, err)
	}
	if n, err := tr.Read(buf); n != 3 || err != nil || tr.SawEOF() {
		t.Fatalf("Read with data and EOF = %d, %v, SawEOF %v; want the data alone", n, err, tr.SawEOF())
	}
	if n, err := tr.Read(buf); n != 0 || err != io.EOF || !tr.SawEOF() {
		t.Fatalf("owed EOF = %d, %v, SawEOF %v", n, err, tr.SawEOF())
	}
	if tr.Received() != 7 {
		t.Errorf("Received = %d, want 7", tr.Received())
	}
	other := NewTransport(&scripted{reads: []result{{"", errors.New("reset")}}})
	if _, err := other.Read(buf); err == nil || other.SawEOF() {
		t.Errorf("an error that is not EOF counted as EOF")
	}
}

// TestTransportWrappedEOF: a base stream that wraps its io.EOF (as a
// *net.OpError or with %w) has ended all the same; crypto/tls tells a clean
// record boundary from a cut record only for io.EOF itself, so the
// transport hands it io.EOF and SawEOF is true.
func TestTransportWrappedEOF(t *testing.T) {
	wrapped := []error{
		&net.OpError{Op: "read", Net: "tcp", Err: io.EOF},
		fmt.Errorf("proxy: %w", io.EOF),
	}
	for _, w := range wrapped {
		for _, withData := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/data=%v", w, withData), func(t *testing.T) {
				last := result{"", w}
				if withData {
					last.data = "def"
				}
				tr := NewTransport(&scripted{reads: []result{{"\x16abc", nil}, last}})
				buf := make([]byte, 8)
				tr.Read(buf)
				n, err := tr.Read(buf)
				if withData {
					if n != 3 || err != nil {
						t.Fatalf("Read with data and the end = %d, %v; want the data alone", n, err)
					}
					n, err = tr.Read(buf)
				}
				if n != 0 || err != io.EOF || !tr.SawEOF() {
					t.Fatalf("Read at the end = %d, %v, SawEOF %v; want 0, io.EOF itself, true", n, err, tr.SawEOF())
				}
			})
		}
	}
}

// deadlines is a net.Conn that records the write deadlines set on it.
type deadlines struct {
	net.Conn
	writes []time.Time
}

func (d *deadlines) SetWriteDeadline(t time.Time) error {
	d.writes = append(d.writes, t)
	return nil
}

// TestTransportBoundWrites: once Close bounded writes, the five seconds
// crypto/tls gives close_notify (or no deadline) cannot extend the bound,
// an earlier deadline still applies, and the bound only moves earlier.
func TestTransportBoundWrites(t *testing.T) {
	now := time.Now()
	bound, expired := now.Add(time.Second), time.Unix(1, 0)
	base := &deadlines{}
	tr := NewTransport(base)
	tr.SetWriteDeadline(now.Add(time.Hour)) // no bound yet: as given
	tr.BoundWrites(bound)
	tr.SetWriteDeadline(now.Add(5 * time.Second)) // crypto/tls's close_notify
	tr.SetWriteDeadline(time.Time{})
	tr.SetWriteDeadline(now) // earlier than the bound: as given
	tr.BoundWrites(now.Add(time.Hour))
	tr.BoundWrites(expired) // Close's context ended
	tr.SetWriteDeadline(now.Add(5 * time.Second))
	want := []time.Time{now.Add(time.Hour), bound, bound, bound, now, bound, expired, expired}
	if len(base.writes) != len(want) {
		t.Fatalf("write deadlines set: %v, want %v", base.writes, want)
	}
	for i := range want {
		if !base.writes[i].Equal(want[i]) {
			t.Errorf("write deadline %d = %v, want %v", i, base.writes[i], want[i])
		}
	}
}
