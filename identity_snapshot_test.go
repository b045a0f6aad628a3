package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// TestIdentitySnapshotPerHandshake: SetServerIdentity called from another
// goroutine while a handshake runs (here: by the server, after it read the
// ClientHello) applies to the next handshake, not half of this one. SNI,
// verification and the session key all use the identity the handshake
// started with; otherwise a session could be stored under a name the server
// was never verified for. The certificate is valid for a.example only.
func TestIdentitySnapshotPerHandshake(t *testing.T) {
	tests := []struct {
		from, to string
		wantOK   bool // the handshake's verdict: a.example's certificate checked against from
	}{
		{"a.example", "b.example", true},
		{"b.example", "a.example", false},
	}
	for _, v := range tlsVersions {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%s to %s", tls.VersionName(v), tt.from, tt.to), func(t *testing.T) {
				ca := newTestCA(t, "Snapshot Root")
				cfg := serverConfig(ca.MustLeaf(t, "server", testpki.DNSNames("a.example")))
				cfg.MinVersion, cfg.MaxVersion = v, v
				var current atomic.Pointer[*ClientConnection]
				cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
					if c := current.Load(); c != nil {
						(*c).SetServerIdentity(NewNetworkAddress(tt.to, 443))
					}
					return nil, nil
				}
				srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) { c.Write([]byte{'!'}); io.Copy(io.Discard, c) })
				b := newPrivateBackend()
				connect := func(host string, switchIdentity bool) (*ClientConnection, error) {
					c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Identity: NewNetworkAddress(host, srv.Addr.Port()), Database: ca.db})
					c.SetDeadline(time.Now().Add(20 * time.Second))
					if switchIdentity {
						current.Store(&c)
						defer current.Store(nil)
					}
					if err := c.Handshake(context.Background()); err != nil {
						return c, err
					}
					_, err := io.ReadFull(c, make([]byte, 1))
					return c, err
				}
				c, err := connect(tt.from, true)
				if snis := srv.SNIs(); len(snis) != 1 || snis[0] != tt.from {
					t.Fatalf("SNI %q, want %q", snis, tt.from)
				}
				if tt.wantOK {
					if err != nil || c.PeerCertificateErrors() != 0 {
						t.Fatalf("handshake as %s, switched to %s during it: %v, errors %v; want it verified as %s", tt.from, tt.to, err, c.PeerCertificateErrors(), tt.from)
					}
				} else if !errors.Is(err, ErrBadCertificate) || c.PeerCertificateErrors() != CertificateBadIdentity {
					t.Fatalf("handshake as %s, switched to %s during it: %v, errors %v; want bad-identity for %s", tt.from, tt.to, err, c.PeerCertificateErrors(), tt.from)
				}
				// The session, if any, is under from's key: a connection as
				// to never resumes it; one as from does if there was one.
				if c, err := connect(tt.to, false); err == nil && c.SessionResumed() {
					t.Errorf("a connection as %s resumed the session of the handshake that started as %s", tt.to, tt.from)
				}
				if c, err := connect(tt.from, false); tt.wantOK && (err != nil || !c.SessionResumed()) {
					t.Errorf("a connection as %s: %v, resumed %v; want it to resume the first one's session", tt.from, err, c.SessionResumed())
				}
			})
		}
	}
}

// TestIdentitySwitchRace flips the identity from another goroutine while
// handshakes run (under -race in scripts/test). Whatever the timing, each
// handshake must be consistent: the name the server saw in SNI succeeded
// exactly when it was a.example, the only name the certificate holds.
func TestIdentitySwitchRace(t *testing.T) {
	ca := newTestCA(t, "Switch Root")
	cfg := serverConfig(ca.MustLeaf(t, "server", testpki.DNSNames("a.example")))
	srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) { c.Write([]byte{'!'}); io.Copy(io.Discard, c) })
	b := newPrivateBackend()
	names := []string{"a.example", "b.example"}
	const n = 40
	for i := range n {
		c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Identity: NewNetworkAddress(names[i%2], srv.Addr.Port()), Database: ca.db})
		c.SetDeadline(time.Now().Add(20 * time.Second))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				c.SetServerIdentity(NewNetworkAddress(names[j%2], srv.Addr.Port()))
			}
		})
		err := c.Handshake(context.Background())
		close(stop)
		wg.Wait()
		c.Close()
		snis := srv.SNIs()
		if len(snis) != i+1 {
			t.Fatalf("connection %d: the server saw %d ClientHellos in all", i, len(snis))
		}
		if sni := snis[i]; (sni == "a.example") != (err == nil) {
			t.Errorf("connection %d: SNI %q but handshake %v", i, sni, err)
		}
	}
}

// TestPropertySnapshotPerHandshake: like the identity, the database and the
// validation flags a handshake verifies with are the ones set when it
// started; a change from another goroutine while it runs (here: by the
// server, after it read the ClientHello) applies to the next handshake.
func TestPropertySnapshotPerHandshake(t *testing.T) {
	tests := []struct {
		name   string
		leaf   func(ca *testCA) *testpki.Leaf
		change func(c *ClientConnection)
		wantOK bool // the verdict with the properties of the start
	}{
		{"database dropped", func(ca *testCA) *testpki.Leaf {
			return ca.MustLeaf(t, "server", testpki.DNSNames("a.example"))
		}, func(c *ClientConnection) { c.SetDatabase(nil) }, true},
		{"validation flags cleared", func(ca *testCA) *testpki.Leaf {
			return ca.MustLeaf(t, "server", testpki.DNSNames("other.example"))
		}, func(c *ClientConnection) { c.SetValidationFlags(0) }, false},
	}
	for _, v := range tlsVersions {
		for _, tt := range tests {
			t.Run(tls.VersionName(v)+"/"+tt.name, func(t *testing.T) {
				ca := newTestCA(t, "Snapshot Root")
				cfg := serverConfig(tt.leaf(ca))
				cfg.MinVersion, cfg.MaxVersion = v, v
				var current atomic.Pointer[ClientConnection]
				cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
					if c := current.Load(); c != nil {
						tt.change(c)
					}
					return nil, nil
				}
				srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) { c.Write([]byte{'!'}); io.Copy(io.Discard, c) })
				c := dialTest(t, srv.Addr.String(), dialConfig{Backend: newPrivateBackend(), Identity: NewNetworkAddress("a.example", srv.Addr.Port()), Database: ca.db, Deadline: 20 * time.Second})
				defer c.Close()
				current.Store(c)
				err := c.Handshake(context.Background())
				if tt.wantOK != (err == nil) {
					t.Errorf("handshake: %v (errors %v); want success %v, as the properties set when it started give", err, c.PeerCertificateErrors(), tt.wantOK)
				}
			})
		}
	}
}
