package giotls

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// handlerCalls records, in order, which handlers ran.
type handlerCalls struct {
	mu    sync.Mutex
	calls []string
}

func (r *handlerCalls) add(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name)
}

func (r *handlerCalls) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// untrustedServer serves a certificate for localhost that the returned
// database does not trust, so that every handshake asks accept-certificate.
func untrustedServer(t *testing.T) (*tlsServer, Database) {
	t.Helper()
	ca := newTestCA(t, "Handlers Root")
	other := newTestCA(t, "Handlers Other Root")
	return startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))), nil), other.db
}

// TestAcceptCertificateHandlers: GIO's accept-certificate signal, several
// handlers. The OnAcceptCertificate handler is asked first, then the
// connected ones in the order they were connected, until one returns true
// (g_signal_accumulator_true_handled); none true, or none at all, rejects.
// A disconnected handler is never called, also when an earlier handler of
// the same handshake disconnects it.
func TestAcceptCertificateHandlers(t *testing.T) {
	srv, db := untrustedServer(t)
	type step struct {
		name   string
		accept bool
	}
	cases := []struct {
		name      string
		setup     func(c *ClientConnection, rec *handlerCalls)
		wantCalls []string
		accepted  bool
	}{
		{"first true wins, in order", func(c *ClientConnection, rec *handlerCalls) {
			for _, s := range []step{{"a", false}, {"b", true}, {"c", true}} {
				c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add(s.name); return s.accept })
			}
		}, []string{"a", "b"}, true},
		{"all false rejects", func(c *ClientConnection, rec *handlerCalls) {
			for _, s := range []string{"a", "b"} {
				c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add(s); return false })
			}
		}, []string{"a", "b"}, false},
		{"OnAcceptCertificate first", func(c *ClientConnection, rec *handlerCalls) {
			c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("connected"); return true })
			c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("on"); return false })
		}, []string{"on", "connected"}, true},
		{"OnAcceptCertificate true stops", func(c *ClientConnection, rec *handlerCalls) {
			c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("connected"); return false })
			c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("on"); return true })
		}, []string{"on"}, true},
		{"OnAcceptCertificate still replaces", func(c *ClientConnection, rec *handlerCalls) {
			c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("permissive"); return true })
			c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("strict"); return false })
		}, []string{"strict"}, false},
		{"disconnected before", func(c *ClientConnection, rec *handlerCalls) {
			disconnect := c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("gone"); return true })
			c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("kept"); return false })
			disconnect()
			disconnect() // twice is harmless
		}, []string{"kept"}, false},
		{"disconnected by an earlier handler during the handshake", func(c *ClientConnection, rec *handlerCalls) {
			var disconnectB func()
			c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("a"); disconnectB(); return false })
			disconnectB = c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("b"); return true })
			c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("c"); return false })
		}, []string{"a", "c"}, false},
		{"self-disconnect", func(c *ClientConnection, rec *handlerCalls) {
			var self func()
			self = c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("once"); self(); return false })
		}, []string{"once"}, false},
		{"connected during the handshake: not this emission", func(c *ClientConnection, rec *handlerCalls) {
			c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool {
				rec.add("a")
				c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool { rec.add("late"); return true })
				return false
			})
		}, []string{"a"}, false},
		{"nil handler", func(c *ClientConnection, rec *handlerCalls) {
			c.ConnectAcceptCertificate(nil)()
		}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port()), Database: db})
			rec := &handlerCalls{}
			tc.setup(c, rec)
			err := c.Handshake(context.Background())
			if got := rec.get(); !slices.Equal(got, tc.wantCalls) {
				t.Errorf("handlers called %q, want %q", got, tc.wantCalls)
			}
			if tc.accepted && err != nil {
				t.Fatalf("handshake: %v, want accepted", err)
			}
			if !tc.accepted && !errors.Is(err, ErrBadCertificate) {
				t.Fatalf("handshake: %v, want ErrBadCertificate", err)
			}
		})
	}
}

// TestNotifyHandlers: several notify handlers are all called, in the order
// connected, after OnNotify's (which still replaces); a disconnected one
// never again, also when an earlier one disconnects it during a handshake.
func TestNotifyHandlers(t *testing.T) {
	srv, db := untrustedServer(t)
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port()), Database: db})
	c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { return true })
	rec := &handlerCalls{}
	c.OnNotify(func(p string) { rec.add("replaced " + p) })
	c.OnNotify(func(p string) { rec.add("on " + p) })
	var disconnectB func()
	disconnectA := c.ConnectNotify(func(p string) {
		rec.add("a " + p)
		if p == "peer-certificate" {
			disconnectB()
		}
	})
	disconnectB = c.ConnectNotify(func(p string) { rec.add("b " + p) })

	c.SetRequireCloseNotify(false)
	if got, want := rec.get(), []string{"on require-close-notify", "a require-close-notify", "b require-close-notify"}; !slices.Equal(got, want) {
		t.Fatalf("notified %q, want %q", got, want)
	}
	rec = &handlerCalls{}
	c.OnNotify(func(p string) { rec.add("on " + p) })
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rec.get()
	// peer-certificate: a disconnects b, so b is not called for it, nor after.
	i := slices.Index(got, "a peer-certificate")
	if i < 1 || got[i-1] != "on peer-certificate" || i+1 >= len(got) || got[i+1] != "on peer-certificate-errors" {
		t.Fatalf("notified %q", got)
	}
	for _, s := range got[i:] {
		if s[:2] == "b " {
			t.Fatalf("b called after it was disconnected: %q", got)
		}
	}
	disconnectA()
	rec = &handlerCalls{}
	c.SetAdvertisedProtocols([]string{"x"})
	if got, want := rec.get(), []string{"on advertised-protocols"}; !slices.Equal(got, want) {
		t.Fatalf("after disconnecting both, notified %q, want %q", got, want)
	}
}

// TestHandlersConcurrentConnect connects and disconnects handlers from
// several goroutines while handshakes and property changes emit (for
// -race), then checks that no disconnected handler is called again.
func TestHandlersConcurrentConnect(t *testing.T) {
	srv, db := untrustedServer(t)
	var after atomic.Int32 // calls of handlers after their disconnect returned
	for range 4 {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port()), Database: db})
		var disconnects []func()
		var gone []*atomic.Bool
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 20 {
					var off atomic.Bool
					var d func()
					if i%2 == 0 {
						d = c.ConnectAcceptCertificate(func(*Certificate, CertificateFlags) bool {
							if off.Load() {
								after.Add(1)
							}
							return g == 0 && i == 10 // one accepts
						})
					} else {
						d = c.ConnectNotify(func(string) {
							if off.Load() {
								after.Add(1)
							}
						})
					}
					if i%3 == 0 {
						// A call under way on another goroutine may still
						// finish after d returns: off is set only below,
						// once nothing emits concurrently.
						d()
						continue
					}
					mu.Lock()
					disconnects, gone = append(disconnects, d), append(gone, &off)
					mu.Unlock()
				}
			})
		}
		wg.Go(func() { c.Handshake(context.Background()) })
		wg.Go(func() {
			for range 20 {
				c.SetRequireCloseNotify(false)
			}
		})
		wg.Wait()
		for i, d := range disconnects {
			d()
			gone[i].Store(true)
		}
		c.SetRequireCloseNotify(true)
		c.SetAdvertisedProtocols(nil)
	}
	if n := after.Load(); n != 0 {
		t.Fatalf("%d calls of handlers after their disconnect returned", n)
	}
}
