package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// fillSendBuffers writes to c, whose peer reads nothing, until the socket
// buffers are full and the write deadline stops the Write; then it clears
// the write deadline. Every later write would block.
func fillSendBuffers(t *testing.T, c *ClientConnection) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Write(make([]byte, 64<<20)); !isTimeout(err) {
		t.Fatalf("Write to a peer that reads nothing = %v, want a timeout", err)
	}
	c.SetWriteDeadline(time.Time{})
}

// TestCloseHonoursBounds: every way of ending a connection returns by the
// bound its caller gave (a context, cancelled or past its deadline before or
// during the call; a write deadline), also when close_notify cannot be sent
// because the peer reads nothing and the socket buffers are full, and also
// when another goroutine is inside Read. Close's own five seconds must not
// replace a shorter bound.
func TestCloseHonoursBounds(t *testing.T) {
	ca := newTestCA(t, "Close Bounds Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	release := make(chan struct{})
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), func(c *tls.Conn) {
		c.Write([]byte("unread")) // and then neither reads nor closes
		<-release
	})
	t.Cleanup(func() { close(release) })
	cancelled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	closeCtx := func(ctx func() context.Context) func(*ClientConnection) error {
		return func(c *ClientConnection) error { return c.CloseContext(ctx()) }
	}
	cancelLater := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		return ctx
	}
	pastDeadline := func() context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		t.Cleanup(cancel)
		return ctx
	}
	shortDeadline := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	readInFlight := func(t *testing.T, c *ClientConnection) {
		c.Read(make([]byte, 16)) // "unread"
		go c.Read(make([]byte, 16))
		time.Sleep(100 * time.Millisecond)
	}
	tests := []struct {
		name    string
		full    bool // the send buffers are full: close_notify cannot go
		prepare func(t *testing.T, c *ClientConnection)
		close   func(c *ClientConnection) error
		want    error // what the error matches; nil: not a context error
	}{
		{"CloseContext, cancelled before", false, nil, closeCtx(cancelled), context.Canceled},
		{"CloseContext, cancelled during the drain", false, nil, closeCtx(cancelLater), context.Canceled},
		{"CloseContext, deadline passed before", false, nil, closeCtx(pastDeadline), context.DeadlineExceeded},
		{"CloseContext, cancelled before, after filling the buffers", true, nil, closeCtx(cancelled), context.Canceled},
		{"CloseContext, cancelled after filling the buffers", true, nil, closeCtx(cancelLater), context.Canceled},
		{"CloseContext, deadline passed before, after filling the buffers", true, nil, closeCtx(pastDeadline), context.DeadlineExceeded},
		{"CloseWrite, write deadline, after filling the buffers", true, func(t *testing.T, c *ClientConnection) {
			c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		}, (*ClientConnection).CloseWrite, nil},
		{"Close, deadline, after filling the buffers", true, func(t *testing.T, c *ClientConnection) {
			c.SetDeadline(time.Now().Add(200 * time.Millisecond))
		}, (*ClientConnection).Close, nil},
		{"CloseContext, Read in flight, after filling the buffers", true, readInFlight, closeCtx(shortDeadline), nil},
		{"Close, Read in flight, write deadline, after filling the buffers", true, func(t *testing.T, c *ClientConnection) {
			readInFlight(t, c)
			c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		}, (*ClientConnection).Close, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			if err := c.Handshake(context.Background()); err != nil {
				t.Fatal(err)
			}
			if tt.full {
				fillSendBuffers(t, c)
			}
			if tt.prepare != nil {
				tt.prepare(t, c)
			}
			start := time.Now()
			var err error
			within(t, 8*time.Second, tt.name, func() { err = tt.close(c) })
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Errorf("returned %v after %v; want within the caller's bound (200 ms) and 1.5 s", err, took)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want one matching %v", err, tt.want)
			}
			if tt.want == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
				t.Errorf("error = %v, want no context error: no context ended", err)
			}
		})
	}
}

// TestCloseConcurrent: Close, CloseContext and CloseWrite racing with Read,
// Write and Handshake on other goroutines, at varying moments of the
// connection's life (before, during and after the handshake): every call
// returns within Close's bound, I/O after Close fails with net.ErrClosed,
// and nothing panics (run it with -race).
func TestCloseConcurrent(t *testing.T) {
	ca := newTestCA(t, "Concurrent Close Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil) // echo
	for i := range 12 {
		delay := time.Duration(i%4) * 5 * time.Millisecond
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
		c.SetDatabase(ca.db)
		ops := []func() error{
			func() error { return c.Handshake(context.Background()) },
			func() error { _, err := c.Write([]byte("hello")); return err },
			func() error { _, err := c.Read(make([]byte, 64)); return err },
			c.CloseWrite,
			func() error { time.Sleep(delay); return c.Close() },
			func() error {
				time.Sleep(delay)
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				return c.CloseContext(ctx)
			},
		}
		done := make(chan struct{}, len(ops))
		for _, op := range ops[i%3:] {
			go func() { op(); done <- struct{}{} }()
		}
		within(t, closeDrainTimeout+2*time.Second, "the calls racing with Close", func() {
			for range ops[i%3:] {
				<-done
			}
		})
		for name, op := range map[string]func() error{
			"Read":  func() error { _, err := c.Read(make([]byte, 1)); return err },
			"Write": func() error { _, err := c.Write([]byte("x")); return err },
		} {
			if err := op(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("round %d: %s after Close = %v, want net.ErrClosed", i, name, err)
			}
		}
	}
}

// TestCloseFromCallbacks: Close called from inside each kind of handler a
// handshake runs (accept-certificate, notify during and at the end of the
// handshake, an Interaction), with the handshake run explicitly or by Read,
// returns, ends the handshake or the Read that ran the handler, and leaves
// every later call failing with net.ErrClosed.
func TestCloseFromCallbacks(t *testing.T) {
	ca := newTestCA(t, "Close Callback Root")
	stranger := testpki.MustCA(t, "Close Callback Stranger")
	leaf := stranger.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	p := newClientAuthPKI(t)
	authSrv := startClientAuthServer(t, p, tls.VersionTLS13, tls.VerifyClientCertIfGiven, p.caA.Cert)
	entries := []string{"accept-certificate", "notify peer-certificate", "notify negotiated-protocol", "RequestCertificate"}
	runs := map[string]func(c *ClientConnection) error{
		"Handshake": func(c *ClientConnection) error { return c.Handshake(context.Background()) },
		"Read":      func(c *ClientConnection) error { _, err := c.Read(make([]byte, 1)); return err },
	}
	for _, entry := range entries {
		for how, run := range runs {
			t.Run(entry+"/"+how, func(t *testing.T) {
				var c *ClientConnection
				if entry == "RequestCertificate" {
					c = authSrv.connect(t, p, nil)
				} else {
					c = dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
					c.SetDatabase(ca.db)
				}
				var closeErr error
				closed := false
				closeOnce := func() {
					if !closed {
						closed = true
						closeErr = c.Close()
					}
				}
				c.OnNotify(func(prop string) {
					if entry == "notify "+prop {
						closeOnce()
					}
				})
				c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool {
					if entry == "accept-certificate" {
						closeOnce()
					}
					return true
				})
				if entry == "RequestCertificate" {
					c.SetInteraction(&testInteraction{requestCertificate: func(context.Context, *ClientConnection) (InteractionResult, error) {
						closeOnce()
						return InteractionUnhandled, nil
					}})
				}
				var err error
				guarded(t, c, 3*time.Second, how+" whose handler closes the connection", func() { err = run(c) })
				if !closed {
					t.Fatalf("the handler did not run (%s = %v)", how, err)
				}
				if closeErr != nil {
					t.Errorf("Close from the handler = %v", closeErr)
				}
				// The handshake may have completed before Close (notify
				// negotiated-protocol comes after it); Read never returns data.
				if err != nil && !errors.Is(err, net.ErrClosed) || how == "Read" && err == nil {
					t.Errorf("%s = %v, want net.ErrClosed", how, err)
				}
				if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
					t.Errorf("Write after Close = %v, want net.ErrClosed", err)
				}
			})
		}
	}
}
