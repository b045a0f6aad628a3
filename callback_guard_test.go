package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// guarded runs f, and fails the test if it has not returned after limit;
// the connection is closed then, so that a regression fails the test
// instead of hanging the suite.
func guarded(t *testing.T, c *ClientConnection, limit time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		c.Close()
		t.Fatalf("%s did not return within %v (deadlock?)", what, limit)
	}
}

// TestCallbackGuardNested: I/O or a handshake started from any handler a
// handshake runs (accept-certificate, notify during and at the end of the
// handshake, an Interaction) fails at once with ErrMisc, at every depth of
// nesting (handler -> setter -> notify handler -> setter -> ...), also
// after a nested handler has returned; and the handshake itself completes.
func TestCallbackGuardNested(t *testing.T) {
	noResumption := NewBackend(BackendOptions{DisableResumption: true})
	ca := newTestCA(t, "Guard Root")
	stranger := testpki.MustCA(t, "Guard Stranger")
	leaf := stranger.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	p := newClientAuthPKI(t)
	authSrv := startClientAuthServer(t, p, tls.VersionTLS13, tls.VerifyClientCertIfGiven, p.caA.Cert)

	ops := []struct {
		name string
		do   func(c *ClientConnection) error
	}{
		{"Read", func(c *ClientConnection) error { _, err := c.Read(make([]byte, 1)); return err }},
		{"Write", func(c *ClientConnection) error { _, err := c.Write([]byte("x")); return err }},
		{"Handshake", func(c *ClientConnection) error { return c.Handshake(context.Background()) }},
		{"CloseWrite", func(c *ClientConnection) error { return c.CloseWrite() }},
	}
	entries := []string{"accept-certificate", "notify peer-certificate", "notify negotiated-protocol", "RequestCertificate"}
	for _, entry := range entries {
		for _, op := range ops {
			for depth := range 3 {
				t.Run(fmt.Sprintf("%s/%s/depth%d", entry, op.name, depth), func(t *testing.T) {
					var c *ClientConnection
					if entry == "RequestCertificate" {
						// A full handshake every time: a resumed one asks for
						// no certificate (the connections before, closed
						// gracefully, leave tickets).
						c = authSrv.connect(t, p, noResumption)
					} else {
						c = dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
						c.SetDatabase(ca.db)
					}
					var mu sync.Mutex
					var errs []error
					level := 0 // how many nested setters are still to come
					// act runs at one level of nesting: first a setter whose
					// notify handler goes one level deeper, then the
					// operation, after the nested handler has returned.
					var act func()
					act = func() {
						if level > 0 {
							level--
							c.SetRequireCloseNotify(true) // notify -> act, one level down
						}
						err := op.do(c)
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
					entered := false
					enter := func() {
						if !entered {
							entered = true
							level = depth
							act()
						}
					}
					c.OnNotify(func(prop string) {
						switch {
						case prop == "require-close-notify" && entered:
							act()
						case entry == "notify "+prop:
							enter()
						}
					})
					if entry == "accept-certificate" {
						c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { enter(); return true })
					} else {
						c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { return true })
					}
					if entry == "RequestCertificate" {
						c.SetInteraction(&testInteraction{requestCertificate: func(context.Context, *ClientConnection) (InteractionResult, error) {
							enter()
							return InteractionUnhandled, nil
						}})
					}
					var hsErr error
					guarded(t, c, 10*time.Second, "Handshake whose handler does I/O", func() {
						hsErr = c.Handshake(context.Background())
					})
					if hsErr != nil {
						t.Fatalf("Handshake = %v", hsErr)
					}
					if len(errs) != depth+1 {
						t.Fatalf("the operation ran %d times, want %d (once a level)", len(errs), depth+1)
					}
					for i, err := range errs {
						if !errors.Is(err, ErrMisc) {
							t.Errorf("%s from a handler (level %d of %d) = %v, want ErrMisc", op.name, len(errs)-i, depth+1, err)
						}
					}
					if op.name != "CloseWrite" {
						if _, err := c.Write([]byte("after")); err != nil {
							t.Errorf("Write after the handshake: %v", err)
						}
					}
				})
			}
		}
	}
}

// TestCallbackGuardSetterThenRead is issue 13's case as reported: with
// OnNotify set, an accept-certificate handler that calls
// SetRequireCloseNotify(true) and then Read blocked forever (the nested
// notify cleared the outer handler's marker).
func TestCallbackGuardSetterThenRead(t *testing.T) {
	ca := newTestCA(t, "Setter Root")
	stranger := testpki.MustCA(t, "Setter Stranger")
	leaf := stranger.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
	c.SetDatabase(ca.db)
	c.OnNotify(func(string) {})
	var readErr error
	c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool {
		c.SetRequireCloseNotify(true)
		_, readErr = c.Read(make([]byte, 1))
		return true
	})
	guarded(t, c, 5*time.Second, "Handshake", func() {
		if err := c.Handshake(context.Background()); err != nil {
			t.Errorf("Handshake: %v", err)
		}
	})
	if !errors.Is(readErr, ErrMisc) {
		t.Errorf("Read from the handler = %v, want ErrMisc", readErr)
	}
}

// blockingDatabase is a Database whose verification runs until its context
// is done, as a long verification that checks its context would.
type blockingDatabase struct{ started chan struct{} }

func (d *blockingDatabase) VerifyChain(ctx context.Context, _ *Certificate, _ Purpose, _ Connectable, _ Interaction) (CertificateFlags, error) {
	close(d.started)
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(20 * time.Second): // only so that a regression ends
		return 0, errors.New("the verification's context was never cancelled")
	}
}

func (d *blockingDatabase) LookupCertificateIssuer(context.Context, *Certificate, Interaction) (*Certificate, error) {
	return nil, nil
}

func (d *blockingDatabase) LookupCertificatesIssuedBy(context.Context, []byte, Interaction) ([]*Certificate, error) {
	return nil, nil
}

// TestCloseCancelsHandshake: Close during a long verification cancels the
// context the verification runs with, so the handshake ends within 0.5 s
// (issue 12), and an operation waiting for that handshake on another
// goroutine is released too, with net.ErrClosed.
func TestCloseCancelsHandshake(t *testing.T) {
	ca := newTestCA(t, "Close Verify Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	for _, waiter := range []string{"Read", "Handshake"} {
		t.Run(waiter, func(t *testing.T) {
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			db := &blockingDatabase{started: make(chan struct{})}
			c.SetDatabase(db)
			hsDone, waitDone := make(chan error, 1), make(chan error, 1)
			go func() { hsDone <- c.Handshake(context.Background()) }()
			select {
			case <-db.started:
			case err := <-hsDone:
				t.Fatalf("Handshake = %v before verifying", err)
			case <-time.After(10 * time.Second):
				t.Fatal("the verification never started")
			}
			go func() {
				if waiter == "Read" {
					_, err := c.Read(make([]byte, 1))
					waitDone <- err
				} else {
					waitDone <- c.Handshake(context.Background())
				}
			}()
			time.Sleep(50 * time.Millisecond) // let the waiter wait
			closed := time.Now()
			c.Close()
			for name, ch := range map[string]chan error{"Handshake": hsDone, waiter + " waiting for it": waitDone} {
				select {
				case err := <-ch:
					if !errors.Is(err, net.ErrClosed) {
						t.Errorf("%s after Close = %v, want net.ErrClosed", name, err)
					}
					if d := time.Since(closed); d > 500*time.Millisecond {
						t.Errorf("%s ended %v after Close, want within 0.5 s", name, d)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%s still blocked 5 s after Close", name)
				}
			}
		})
	}
}

// TestHandshakeWaitHonoursContext: a Handshake waiting for another
// goroutine's handshake gives up when its own context is done.
func TestHandshakeWaitHonoursContext(t *testing.T) {
	ca := newTestCA(t, "Wait Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
	db := &blockingDatabase{started: make(chan struct{})}
	c.SetDatabase(db)
	hsDone := make(chan error, 1)
	go func() { hsDone <- c.Handshake(context.Background()) }()
	<-db.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var err error
	guarded(t, c, 5*time.Second, "Handshake waiting with a 100 ms context", func() { err = c.Handshake(ctx) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting Handshake = %v, want context.DeadlineExceeded", err)
	}
	c.Close()
	<-hsDone
}

// TestCloseCancelsInteraction: an Interaction waiting for a person (here,
// for its context) during a handshake sees its context done on Close, and
// the handshake ends within 0.5 s.
func TestCloseCancelsInteraction(t *testing.T) {
	p := newClientAuthPKI(t)
	srv := startClientAuthServer(t, p, tls.VersionTLS13, tls.RequireAndVerifyClientCert, p.caA.Cert)
	c := srv.connect(t, p, nil)
	asked, sawDone := make(chan struct{}), make(chan error, 1)
	c.SetInteraction(&testInteraction{requestCertificate: func(ctx context.Context, _ *ClientConnection) (InteractionResult, error) {
		close(asked)
		select {
		case <-ctx.Done():
			sawDone <- context.Cause(ctx)
			return InteractionFailed, ctx.Err()
		case <-time.After(20 * time.Second): // only so that a regression ends
			sawDone <- errors.New("the Interaction's context was never cancelled")
			return InteractionUnhandled, nil
		}
	}})
	hsDone := make(chan error, 1)
	go func() { hsDone <- c.Handshake(context.Background()) }()
	select {
	case <-asked:
	case err := <-hsDone:
		t.Fatalf("Handshake = %v before asking the Interaction", err)
	}
	closed := time.Now()
	c.Close()
	select {
	case err := <-hsDone:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Handshake after Close = %v, want net.ErrClosed", err)
		}
		if d := time.Since(closed); d > 500*time.Millisecond {
			t.Errorf("Handshake ended %v after Close, want within 0.5 s", d)
		}
		if err := <-sawDone; !errors.Is(err, net.ErrClosed) {
			t.Errorf("the Interaction's context ended with %v, want the cause net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Handshake still blocked 5 s after Close")
	}
}

// releasedDatabase verifies every chain with no flags, once release is
// closed.
type releasedDatabase struct {
	started, release chan struct{}
}

func (d *releasedDatabase) VerifyChain(ctx context.Context, _ *Certificate, _ Purpose, _ Connectable, _ Interaction) (CertificateFlags, error) {
	close(d.started)
	select {
	case <-d.release:
		return 0, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (d *releasedDatabase) LookupCertificateIssuer(context.Context, *Certificate, Interaction) (*Certificate, error) {
	return nil, nil
}

func (d *releasedDatabase) LookupCertificatesIssuedBy(context.Context, []byte, Interaction) ([]*Certificate, error) {
	return nil, nil
}

// TestOtherGoroutineSetterIsNoHandler: a setter called on another goroutine
// while a handshake runs notifies on that goroutine, which is not a handler
// of the handshake: a Read on a third goroutine meanwhile waits for the
// handshake and then reads, instead of failing with ErrMisc.
func TestOtherGoroutineSetterIsNoHandler(t *testing.T) {
	ca := newTestCA(t, "Setter Elsewhere Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), func(c *tls.Conn) { c.Write([]byte("hi")) })
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
	db := &releasedDatabase{started: make(chan struct{}), release: make(chan struct{})}
	c.SetDatabase(db)
	inNotify, notifyRelease := make(chan struct{}), make(chan struct{})
	c.OnNotify(func(p string) {
		if p == "require-close-notify" {
			close(inNotify)
			<-notifyRelease
		}
	})
	hsDone := make(chan error, 1)
	go func() { hsDone <- c.Handshake(context.Background()) }()
	<-db.started
	setterDone := make(chan struct{})
	go func() { defer close(setterDone); c.SetRequireCloseNotify(true) }()
	<-inNotify
	readDone := make(chan error, 1)
	go func() {
		buf := make([]byte, 2)
		_, err := c.Read(buf)
		if err == nil && string(buf) != "hi" {
			err = errors.New("read " + string(buf))
		}
		readDone <- err
	}()
	select {
	case err := <-readDone:
		t.Fatalf("Read during the handshake returned at once: %v; want it to wait", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(db.release)
	guarded(t, c, 10*time.Second, "Read after the handshake", func() {
		if err := <-readDone; err != nil {
			t.Errorf("Read = %v, want the server's data", err)
		}
	})
	close(notifyRelease)
	<-setterDone
	if err := <-hsDone; err != nil {
		t.Errorf("Handshake = %v", err)
	}
}
