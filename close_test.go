package giotls

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// serverRead is what a test server read before the end of the stream.
type serverRead struct {
	n   int64
	err error // nil: the stream ended with close_notify
}

// TestCloseDrainsPeer is the FTPS upload that vsftpd truncated (issue 14):
// the server sends records the client never reads (TLS 1.3 session tickets,
// or application data), the client writes a lot and closes. Closing a socket
// with unread data makes the kernel send a reset, which throws away what
// the client's send buffer still held: the server must instead read every
// byte and then the client's close_notify.
func TestCloseDrainsPeer(t *testing.T) {
	ca := newTestCA(t, "Drain Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	payload := make([]byte, 8<<20)
	rand.Read(payload)
	tests := []struct {
		name    string
		version uint16
		extra   int  // application data records the server sends first
		midway  bool // the server sends them after reading 1 MB instead
	}{
		{"TLS 1.3, session tickets only", tls.VersionTLS13, 0, false},
		{"TLS 1.3, tickets and records", tls.VersionTLS13, 3, false},
		{"TLS 1.3, records while reading", tls.VersionTLS13, 3, true},
		{"TLS 1.2, records", tls.VersionTLS12, 3, false},
		{"TLS 1.2, records while reading", tls.VersionTLS12, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serverConfig(leaf)
			cfg.MinVersion, cfg.MaxVersion = tt.version, tt.version
			// Asking for a (voluntary) client certificate makes crypto/tls
			// send its TLS 1.3 tickets after the client's Finished, as
			// OpenSSL (vsftpd) does, not in the flight the client's
			// handshake reads.
			cfg.ClientAuth = tls.RequestClientCert
			saw := make(chan serverRead, 1)
			srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) {
				send := func() {
					for i := range tt.extra {
						c.Write(bytes.Repeat([]byte{byte(i)}, 1000))
					}
				}
				if !tt.midway {
					send()
				}
				// Not reading yet: the client's writes fill the buffers.
				time.Sleep(300 * time.Millisecond)
				var n int64
				var err error
				if tt.midway {
					n, err = io.CopyN(io.Discard, c, 1<<20)
					send()
				}
				if err == nil {
					var rest int64
					rest, err = slowRead(c)
					n += rest
				}
				saw <- serverRead{n, err}
			})
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			if _, err := c.Write(payload); err != nil {
				t.Fatalf("Write: %v", err)
			}
			within(t, 10*time.Second, "Close", func() {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			got := <-saw
			if got.n != int64(len(payload)) || got.err != nil {
				t.Errorf("server read %d of %d bytes, then %v; want every byte, then close_notify", got.n, len(payload), got.err)
			}
		})
	}
}

// slowRead reads c to its end a little slower than loopback delivers, so
// that the client's send buffer still holds data when the client closes.
func slowRead(c *tls.Conn) (int64, error) {
	buf := make([]byte, 32<<10)
	var total int64
	for {
		n, err := c.Read(buf)
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCloseBounded: a peer that never answers close_notify (it sent a
// record and reads nothing) cannot make Close hang: Close gives up after its
// own bound, sooner when the user's read deadline or CloseContext's context
// says so, and at once when another goroutine is inside Write.
func TestCloseBounded(t *testing.T) {
	ca := newTestCA(t, "Bounded Close Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	release := make(chan struct{})
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), func(c *tls.Conn) {
		c.Write([]byte("unread"))
		<-release
	})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name    string
		prepare func(c *ClientConnection)
		close   func(c *ClientConnection) error
		limit   time.Duration
		wantCtx bool // the error matches context.DeadlineExceeded
	}{
		{"Close's own bound", nil, (*ClientConnection).Close, closeDrainTimeout + 3*time.Second, false},
		{"read deadline", func(c *ClientConnection) { c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) },
			(*ClientConnection).Close, 2 * time.Second, false},
		{"deadline", func(c *ClientConnection) { c.SetDeadline(time.Now().Add(200 * time.Millisecond)) },
			(*ClientConnection).Close, 2 * time.Second, false},
		{"CloseContext", nil, func(c *ClientConnection) error {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			return c.CloseContext(ctx)
		}, 2 * time.Second, true},
		{"Write in flight", func(c *ClientConnection) {
			go c.Write(make([]byte, 64<<20)) // the server reads nothing: it blocks
			time.Sleep(100 * time.Millisecond)
		}, (*ClientConnection).Close, 2 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			if _, err := c.Write([]byte("request")); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(c)
			}
			start := time.Now()
			var err error
			within(t, tt.limit, tt.name, func() { err = tt.close(c) })
			if tt.wantCtx != errors.Is(err, context.DeadlineExceeded) || (!tt.wantCtx && err != nil) {
				t.Errorf("close = %v after %v; want the context's error: %v", err, time.Since(start), tt.wantCtx)
			}
			if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Write after close = %v, want net.ErrClosed", err)
			}
		})
	}
}
