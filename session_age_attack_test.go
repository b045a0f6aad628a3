package giotls

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// ticketDelayRelay relays TCP connections to target, holding back for
// delay what the server sends after the client's second flight (its
// Finished): in TLS 1.3, the NewSessionTicket a server may send at any time
// after the handshake (RFC 8446, section 4.6.1).
func ticketDelayRelay(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	ln := loopback.Serve(t, "tcp4", func(c net.Conn) {
		s, err := loopback.Dial(context.Background(), target)
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		var finished atomic.Bool
		go func() {
			defer s.Close()
			hdr := make([]byte, 5)
			if _, err := io.ReadFull(c, hdr); err != nil {
				return
			}
			hello := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
			if _, err := io.ReadFull(c, hello); err != nil {
				return
			}
			s.Write(append(hdr, hello...))
			buf := make([]byte, 1) // the second flight starts: what the server sends next comes after it
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			finished.Store(true)
			s.Write(buf)
			io.Copy(s, c)
		}()
		buf := make([]byte, 64<<10)
		held := false
		for {
			n, err := s.Read(buf)
			if n > 0 {
				if finished.Load() && !held {
					time.Sleep(delay)
					held = true
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	return ln.Addr().String()
}

// ticketServer starts openssl s_server for localhost, certified by ca,
// sending one TLS 1.3 ticket after each handshake and answering HTTP GET
// (-www); it returns the peer and its port.
func ticketServer(t *testing.T, ca *testCA) (*peer.Process, int) {
	t.Helper()
	certFile, keyFile, _, err := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost")).WriteFiles(t.TempDir(), "leaf")
	if err != nil {
		t.Fatal(err)
	}
	port := peer.FreePort(t)
	return peer.Start(t, peer.Addr(port), "openssl", "s_server", "-accept", peer.Addr(port), "-cert", certFile, "-key", keyFile,
		"-tls1_3", "-num_tickets", "1", "-www"), port
}

// TestTicketDelayedPastMaxAge: a server that holds back its ticket until
// MaxAge after the full handshake (or keeps a connection open and sends one
// later) must not get it presented: the session's chain began at the full
// handshake, so it is past the cap when it arrives. OpenSSL sends its
// TLS 1.3 ticket after the client's Finished, which the relay holds back.
func TestTicketDelayedPastMaxAge(t *testing.T) {
	const maxAge, delay = time.Second, 1500 * time.Millisecond
	ca := newTestCA(t, "Delayed Ticket Root")
	p, port := ticketServer(t, ca)
	for _, tc := range []struct {
		name  string
		delay time.Duration
		want  bool // the second connection resumes
	}{{"ticket in time", 0, true}, {"ticket past MaxAge", delay, false}} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{MaxAge: maxAge})})
			relay := ticketDelayRelay(t, p.Addr, tc.delay)
			for i, want := range []bool{false, tc.want} {
				c := dialTest(t, relay, dialConfig{Backend: b, Identity: localhost(uint16(port)), Database: ca.db, Deadline: 20 * time.Second})
				io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
				if _, err := io.ReadAll(c); err != nil {
					t.Fatal(p.Errorf("connection %d: %v", i+1, err))
				}
				if c.SessionResumed() != want {
					t.Fatalf("connection %d: resumed %v, want %v (the first ticket arrived %v after the full handshake; MaxAge %v)",
						i+1, c.SessionResumed(), want, tc.delay, maxAge)
				}
				c.Close()
			}
		})
	}
}
