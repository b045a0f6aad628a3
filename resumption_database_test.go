package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestResumedWithChangedDatabase: a session made while the database
// trusted the server's CA is resumed by a connection whose database does
// not (a root removed, another Database set): the resumed handshake is
// verified against the database it has now (the handler sees unknown-ca),
// and fails without a handler, in TLS 1.2 and 1.3 alike.
func TestResumedWithChangedDatabase(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			trusted := newTestCA(t, "Trusted Then Not")
			other := newTestCA(t, "Other Root")
			leaf := trusted.MustLeaf(t, "server", testpki.DNSNames("a.example"))
			cfg := serverConfig(leaf)
			cfg.MinVersion, cfg.MaxVersion = v, v
			srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) { c.Write([]byte{'!'}); io.Copy(io.Discard, c) })
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
			connect := func(db Database, accept bool) (*ClientConnection, error) {
				base, err := net.Dial("tcp", srv.Addr.String())
				if err != nil {
					t.Fatal(err)
				}
				c, _ := b.NewClientConnection(base, NewNetworkAddress("a.example", srv.Addr.Port()))
				t.Cleanup(func() { c.Close() })
				c.SetDatabase(db)
				if accept {
					c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { return true })
				}
				if err := c.Handshake(context.Background()); err != nil {
					return c, err
				}
				_, err = io.ReadFull(c, make([]byte, 1))
				return c, err
			}
			if c, err := connect(trusted.db, false); err != nil || c.PeerCertificateErrors() != 0 {
				t.Fatalf("first connection: %v, errors %v", err, c.PeerCertificateErrors())
			}
			// Resumed under a database that does not trust the CA: verified
			// again, the handler is asked and sees unknown-ca.
			if c, err := connect(other.db, true); err != nil || !c.SessionResumed() || c.PeerCertificateErrors() != CertificateUnknownCA {
				t.Fatalf("resumed and accepted by the handler: %v, resumed %v, errors %v; want resumed, unknown-ca",
					err, c.SessionResumed(), c.PeerCertificateErrors())
			}
			// Without a handler, rejected.
			c, err := connect(other.db, false)
			if !errors.Is(err, ErrBadCertificate) || c.PeerCertificateErrors() != CertificateUnknownCA {
				t.Fatalf("with a database that does not trust the CA: %v, errors %v; want ErrBadCertificate, unknown-ca",
					err, c.PeerCertificateErrors())
			}
		})
	}
}
