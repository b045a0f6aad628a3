package giotls

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestBackendDefaultDatabase: g_tls_backend_set_default_database. A
// backend's default database (BackendOptions.DefaultDatabase or
// SetDefaultDatabase) verifies the connections that set none; nil goes back
// to the system's; a connection's own database, nil included, wins; a
// connection that already looked its database up keeps it (GIO: "existing
// connections are not modified").
func TestBackendDefaultDatabase(t *testing.T) {
	ca := newTestCA(t, "Backend Default Root")
	srv := startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))), nil)
	other := newTestCA(t, "Other Root")
	system, err := SystemDatabase()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		backend func() *Backend
		setup   func(c *ClientConnection)
		want    Database // Database() before the handshake
		wantErr CertificateFlags
	}{
		{"option", func() *Backend { return NewBackend(BackendOptions{DefaultDatabase: ca.db}) }, nil, ca.db, 0},
		{"setter", func() *Backend {
			b := NewBackend(BackendOptions{})
			b.SetDefaultDatabase(ca.db)
			return b
		}, nil, ca.db, 0},
		{"setter replaces option", func() *Backend {
			b := NewBackend(BackendOptions{DefaultDatabase: other.db})
			b.SetDefaultDatabase(ca.db)
			return b
		}, nil, ca.db, 0},
		{"nil resets to the system's", func() *Backend {
			b := NewBackend(BackendOptions{DefaultDatabase: ca.db})
			b.SetDefaultDatabase(nil)
			return b
		}, nil, system, CertificateUnknownCA},
		{"connection's own wins", func() *Backend { return NewBackend(BackendOptions{DefaultDatabase: ca.db}) },
			func(c *ClientConnection) { c.SetDatabase(other.db) }, other.db, CertificateUnknownCA},
		{"connection's nil wins", func() *Backend { return NewBackend(BackendOptions{DefaultDatabase: ca.db}) },
			func(c *ClientConnection) { c.SetDatabase(nil) }, nil, CertificateUnknownCA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.backend()
			c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Identity: localhost(srv.Addr.Port())})
			if tc.setup != nil {
				tc.setup(c)
			}
			if got := c.Database(); got != tc.want {
				t.Fatalf("Database() = %v, want %v", got, tc.want)
			}
			c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { return false })
			err := c.Handshake(context.Background())
			if got := c.PeerCertificateErrors(); got != tc.wantErr {
				t.Fatalf("errors %v, want %v (handshake: %v)", got, tc.wantErr, err)
			}
			if (err == nil) != (tc.wantErr == 0) {
				t.Fatalf("handshake: %v", err)
			}
		})
	}

	t.Run("existing connection keeps its database", func(t *testing.T) {
		b := NewBackend(BackendOptions{DefaultDatabase: ca.db})
		c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Identity: localhost(srv.Addr.Port())})
		if got := c.Database(); got != ca.db {
			t.Fatalf("Database() = %v", got)
		}
		b.SetDefaultDatabase(other.db)
		if got := b.DefaultDatabase(); got != other.db {
			t.Fatalf("backend's DefaultDatabase() = %v, want the one set", got)
		}
		if got := c.Database(); got != ca.db {
			t.Fatalf("after SetDefaultDatabase, the connection's Database() = %v, want the one it looked up", got)
		}
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("nil backend", func(t *testing.T) {
		var b *Backend
		b.SetDefaultDatabase(ca.db) // does nothing
		if got := b.DefaultDatabase(); got != system {
			t.Fatalf("a nil *Backend's DefaultDatabase() = %v, want the system's", got)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		b := NewBackend(BackendOptions{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for range 50 {
					if i%2 == 0 {
						b.SetDefaultDatabase(ca.db)
					} else if db := b.DefaultDatabase(); db != ca.db && db != system {
						t.Errorf("DefaultDatabase() = %v", db)
					}
				}
			})
		}
		wg.Wait()
	})
}

// TestDefaultBackendDatabaseIsProcessWide: as GIO's default database is
// process-wide, the one set on DefaultBackend verifies the Dialer's
// connections with a nil Database, also those of a backend the Dialer makes
// for its options (here a session cache), and of backends without one of
// their own. Not parallel: it changes the default backend.
func TestDefaultBackendDatabaseIsProcessWide(t *testing.T) {
	ca := newTestCA(t, "Process Default Root")
	srv := startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))), nil)
	addr := "localhost:" + strconv.Itoa(int(srv.Addr.Port()))
	DefaultBackend().SetDefaultDatabase(ca.db)
	t.Cleanup(func() { DefaultBackend().SetDefaultDatabase(nil) })
	for _, d := range []*Dialer{{}, {SessionCache: NewSessionCache(SessionCacheOptions{})}} {
		conn, err := d.DialContext(context.Background(), "tcp4", addr)
		if err != nil {
			t.Fatalf("dialer %+v: %v", d, err)
		}
		conn.Close()
	}
	own := newTestCA(t, "Own Root")
	if got := NewBackend(BackendOptions{}).DefaultDatabase(); got != ca.db {
		t.Fatalf("a backend without its own: DefaultDatabase() = %v, want the default backend's", got)
	}
	if got := NewBackend(BackendOptions{DefaultDatabase: own.db}).DefaultDatabase(); got != own.db {
		t.Fatalf("a backend with its own: DefaultDatabase() = %v", got)
	}
	DefaultBackend().SetDefaultDatabase(nil)
	_, err := (&Dialer{}).DialContext(context.Background(), "tcp4", addr)
	if !errors.Is(err, ErrBadCertificate) {
		t.Fatalf("after SetDefaultDatabase(nil), dial: %v, want ErrBadCertificate (the system's database)", err)
	}
}
