package giotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// contractDatabase is a user Database that follows GIO's documented
// contract to the letter: a nil identity is not checked, so it never sets
// bad-identity. It asks crypto/x509 only, independently of internal/verify.
type contractDatabase struct{ roots *x509.CertPool }

func (d contractDatabase) VerifyChain(_ context.Context, chain *Certificate, _ Purpose, identity Connectable,
	_ Interaction) (CertificateFlags, error) {
	inter := x509.NewCertPool()
	for c := chain.Issuer(); c != nil; c = c.Issuer() {
		inter.AddCert(c.X509())
	}
	var flags CertificateFlags
	if _, err := chain.X509().Verify(x509.VerifyOptions{Roots: d.roots, Intermediates: inter}); err != nil {
		flags |= CertificateUnknownCA
	}
	if na, ok := identity.(*NetworkAddress); ok && na != nil && chain.X509().VerifyHostname(na.Hostname) != nil {
		flags |= CertificateBadIdentity
	}
	return flags, nil
}

func (contractDatabase) LookupCertificateIssuer(context.Context, *Certificate, Interaction) (*Certificate, error) {
	return nil, nil
}

func (contractDatabase) LookupCertificatesIssuedBy(context.Context, []byte, Interaction) ([]*Certificate, error) {
	return nil, nil
}

func rootPool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// TestNoIdentityIsBadIdentity: a connection without a server identity adds
// bad-identity itself, whatever its Database says (glib-networking's fix for
// CVE-2020-13645), on the first handshake and on a resumed one, so a chain
// the database trusts is not accepted for any name.
func TestNoIdentityIsBadIdentity(t *testing.T) {
	ca := newTestCA(t, "No Identity Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	user := contractDatabase{rootPool(ca.Cert)}
	// The user database follows GIO's contract: no identity, no flag.
	if f, err := user.VerifyChain(context.Background(), mustChain(t, leaf.Chain...), PurposeServer, nil, nil); err != nil || f != 0 {
		t.Fatalf("contractDatabase(nil identity) = %v, %v; want none", f, err)
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, db := range []struct {
			name string
			db   Database
		}{{"user database", user}, {"file database", ca.db}} {
			t.Run(tls.VersionName(v)+"/"+db.name, func(t *testing.T) {
				cfg := serverConfig(leaf)
				cfg.MinVersion, cfg.MaxVersion = v, v
				resumed := make(chan bool, 4)
				srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) {
					resumed <- c.ConnectionState().DidResume
					echo(c)
				})
				b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
				dial := func() ClientConnection {
					base, err := net.Dial("tcp", srv.Addr.String())
					if err != nil {
						t.Fatal(err)
					}
					c, err := b.NewClientConnection(base, nil)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { c.Close() })
					c.SetDatabase(db.db)
					return c
				}

				// No handler: the handshake fails on bad-identity.
				c := dial()
				err := c.Handshake(context.Background())
				if !errors.Is(err, ErrBadCertificate) || !strings.Contains(err.Error(), "bad-identity") {
					t.Fatalf("Handshake without identity = %v, want ErrBadCertificate for bad-identity", err)
				}

				// With a handler that accepts: it is asked with bad-identity,
				// on the full handshake and on the resumed one.
				for i, wantResumed := range []bool{false, true} {
					c := dial()
					var asked CertificateFlags
					c.OnAcceptCertificate(func(_ *Certificate, f CertificateFlags) bool { asked = f; return true })
					if _, err := c.Write([]byte("x")); err != nil {
						t.Fatalf("connection %d: Write: %v", i, err)
					}
					if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
						t.Fatalf("connection %d: Read: %v", i, err)
					}
					if got := <-resumed; got != wantResumed {
						t.Fatalf("connection %d: server says resumed = %v, want %v", i, got, wantResumed)
					}
					if asked != CertificateBadIdentity || c.PeerCertificateErrors() != CertificateBadIdentity {
						t.Errorf("connection %d (resumed %v): handler asked with %v, PeerCertificateErrors %v; want bad-identity",
							i, wantResumed, asked, c.PeerCertificateErrors())
					}
					c.Close()
				}
			})
		}
	}
}
