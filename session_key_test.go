package giotls

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// zonedConn reports its peer with an IPv6 zone, as a connection to a
// link-local address (fe80::1%eth0) does; the kernel gives loopback
// connections none, so this is how a loopback test reaches the code.
type zonedConn struct {
	net.Conn
	zone string
}

func (c zonedConn) RemoteAddr() net.Addr {
	a := *c.Conn.RemoteAddr().(*net.TCPAddr)
	a.Zone = c.zone
	return &a
}

// TestZoneInSessionKey: the same address on two links is two servers
// (RFC 4007, Section 6), so a session made with one is never offered to the
// other; the same link again resumes.
func TestZoneInSessionKey(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			ca := newTestCA(t, "Zone Root")
			cfg := serverConfig(ca.MustLeaf(t, "server", testpki.DNSNames("a.example")))
			cfg.MinVersion, cfg.MaxVersion = v, v
			srv := startTLSServer(t, "tcp6", cfg, func(c *tls.Conn) { c.Write([]byte{'!'}); io.Copy(io.Discard, c) })
			b := newPrivateBackend()
			for i, step := range []struct {
				zone        string
				wantResumed bool
			}{{"eth0", false}, {"eth1", false}, {"", false}, {"ETH0", false}, {"eth0", true}} {
				c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Identity: NewNetworkAddress("a.example", srv.Addr.Port()),
					Database: ca.db, Deadline: 20 * time.Second, Wrap: func(raw net.Conn) net.Conn { return zonedConn{raw, step.zone} }})
				if err := c.Handshake(context.Background()); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
					t.Fatal(err)
				}
				if c.SessionResumed() != step.wantResumed {
					t.Errorf("connection %d, zone %q: resumed %v, want %v", i+1, step.zone, c.SessionResumed(), step.wantResumed)
				}
				c.Close()
			}
		})
	}
}
