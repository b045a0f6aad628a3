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
	"github.com/giotls/giotls/internal/tlsconn"
)

// TestCloseDrainPeerKeepsSending: a peer that keeps sending while it reads
// the client's upload, and goes on after the client's close_notify. Close
// reads at most 1 MiB of it, then closes with data unread, which resets the
// connection: the peer may then lose the end of the upload and never sees
// close_notify. Close must not report success then; when it does, the peer
// must have read every byte and the close_notify.
func TestCloseDrainPeerKeepsSending(t *testing.T) {
	ca := newTestCA(t, "Drain Limit Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	payload := make([]byte, 4<<20)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			cfg := serverConfig(leaf)
			cfg.MinVersion, cfg.MaxVersion = version, version
			saw := make(chan serverRead, 1)
			srv := startNotifyServer(t, cfg, func(c *tls.Conn, tr *tlsconn.Transport) {
				stop := make(chan struct{})
				defer close(stop)
				go func() { // chatter, until the connection fails
					chunk := make([]byte, 16<<10)
					for {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := c.Write(chunk); err != nil {
							return
						}
					}
				}()
				saw <- readAll(c, tr)
				c.NetConn().Close() // ends the writer too
			})
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			if _, err := c.Write(payload); err != nil {
				t.Fatalf("Write: %v", err)
			}
			var err error
			within(t, closeDrainTimeout+3*time.Second, "Close", func() { err = c.Close() })
			got := <-saw
			clean := got.n == int64(len(payload)) && got.err == nil
			t.Logf("Close = %v; the server read %d of %d bytes, then %v", err, got.n, len(payload), got.err)
			if err == nil && !clean {
				t.Errorf("Close reported success, but the server read %d of %d bytes, then %v", got.n, len(payload), got.err)
			}
			if err != nil && !errors.Is(err, ErrMisc) {
				t.Errorf("Close = %v, want an ErrMisc saying the peer would not stop", err)
			}
		})
	}
}

// TestCloseDrainTrickle: a peer that trickles records forever after the
// client's close_notify cannot hold Close past its context (each record
// would otherwise restart a naive idle timer).
func TestCloseDrainTrickle(t *testing.T) {
	ca := newTestCA(t, "Drain Trickle Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), func(c *tls.Conn) {
		for {
			if _, err := c.Write([]byte("drip")); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
	c.SetDatabase(ca.db)
	if _, err := c.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	var err error
	within(t, closeDrainTimeout+3*time.Second, "CloseContext", func() { err = c.CloseContext(ctx) })
	if took := time.Since(start); took > 1500*time.Millisecond || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("CloseContext = %v after %v; want context.DeadlineExceeded after about 300 ms", err, took)
	}
}

// TestCloseAfterReadDeadline: the read deadline bounds Close's wait for
// the peer, not close_notify: a connection whose read deadline passed (a
// Read timed out, or the deadline was set for an earlier reply) still ends
// with close_notify, or the peer would take the end for a truncation.
func TestCloseAfterReadDeadline(t *testing.T) {
	ca := newTestCA(t, "Read Deadline Close Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	saw := make(chan serverRead, 1)
	srv := startNotifyServer(t, serverConfig(leaf), func(c *tls.Conn, tr *tlsconn.Transport) {
		saw <- readAll(c, tr)
	})
	tests := []struct {
		name    string
		expired func(c *ClientConnection)
	}{
		{"Read timed out", func(c *ClientConnection) {
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
				t.Errorf("Read = %v, want a timeout", err)
			}
		}},
		{"read deadline passed", func(c *ClientConnection) {
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			time.Sleep(100 * time.Millisecond)
		}},
		{"deadline passed", func(c *ClientConnection) {
			c.SetDeadline(time.Now().Add(50 * time.Millisecond))
			time.Sleep(100 * time.Millisecond)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			if _, err := c.Write([]byte("request")); err != nil {
				t.Fatal(err)
			}
			tt.expired(c)
			within(t, 2*time.Second, "Close", func() { c.Close() })
			if got := <-saw; got.err != nil || got.n != int64(len("request")) {
				t.Errorf("the server read %d bytes, then %v; want 7, then close_notify", got.n, got.err)
			}
		})
	}
}

// startNotifyServer is startTLSServer whose handler can tell close_notify
// from a bare TCP close (crypto/tls returns io.EOF for both): the
// transport under the server's tls.Conn saw the end of the stream only for
// the latter.
func startNotifyServer(t *testing.T, cfg *tls.Config, handle func(c *tls.Conn, tr *tlsconn.Transport)) *tlsServer {
	ln := loopback.Serve(t, "tcp4", func(raw net.Conn) {
		tr := tlsconn.NewTransport(raw)
		c := tls.Server(tr, cfg)
		defer c.Close()
		if c.HandshakeContext(context.Background()) == nil {
			handle(c, tr)
		}
	})
	return &tlsServer{Addr: ln.Addr().(*net.TCPAddr).AddrPort()}
}

// readAll reads c to its end: err is nil only for close_notify.
func readAll(c *tls.Conn, tr *tlsconn.Transport) serverRead {
	n, err := io.Copy(io.Discard, c)
	if err == nil && tr.SawEOF() {
		err = errors.New("TCP close without close_notify")
	}
	return serverRead{n, err}
}

// TestCloseDrainHostilePeer: what the peer sends after the client's
// close_notify ends the drain at once when it is no TLS (garbage, a
// plaintext alert where records are encrypted) or a close_notify after the
// client already sent its own (Close after CloseWrite), however long the
// peer then keeps the connection open.
func TestCloseDrainHostilePeer(t *testing.T) {
	ca := newTestCA(t, "Drain Hostile Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	tests := []struct {
		name       string
		version    uint16
		send       []byte // written raw after the client's close_notify
		closeWrite bool   // the client calls CloseWrite before Close
	}{
		{"garbage, TLS 1.3", tls.VersionTLS13, []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), false},
		{"garbage, TLS 1.2", tls.VersionTLS12, []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), false},
		{"plaintext fatal alert, TLS 1.3", tls.VersionTLS13, []byte{21, 3, 3, 0, 2, 2, 40}, false},
		{"plaintext fatal alert, TLS 1.2", tls.VersionTLS12, []byte{21, 3, 3, 0, 2, 2, 40}, false},
		{"nothing, after CloseWrite", tls.VersionTLS13, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serverConfig(leaf)
			cfg.MinVersion, cfg.MaxVersion = tt.version, tt.version
			release := make(chan struct{})
			srv := startNotifyServer(t, cfg, func(c *tls.Conn, tr *tlsconn.Transport) {
				io.Copy(io.Discard, c) // to the client's close_notify
				if tt.send != nil {
					c.NetConn().Write(tt.send)
				} else {
					c.CloseWrite()
				}
				<-release
			})
			t.Cleanup(func() { close(release) }) // before the server's cleanup waits for it
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			if _, err := c.Write([]byte("request")); err != nil {
				t.Fatal(err)
			}
			if tt.closeWrite {
				if err := c.CloseWrite(); err != nil {
					t.Fatalf("CloseWrite: %v", err)
				}
			}
			start := time.Now()
			var err error
			within(t, closeDrainTimeout+3*time.Second, "Close", func() { err = c.Close() })
			if took := time.Since(start); took > time.Second {
				t.Errorf("Close = %v after %v; want it to stop at what the peer sent", err, took)
			}
		})
	}
}
