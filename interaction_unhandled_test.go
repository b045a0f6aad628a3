package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// onlyPasswords implements only AskPassword, the rest from
// UnhandledInteraction, as a user's Interaction would.
type onlyPasswords struct {
	UnhandledInteraction
	asked int
}

func (p *onlyPasswords) AskPassword(_ context.Context, pw *Password) (InteractionResult, error) {
	p.asked++
	pw.SetValue([]byte("secret"))
	return InteractionHandled, nil
}

// TestUnhandledInteraction: UnhandledInteraction answers
// InteractionUnhandled, with no error and no password, to everything
// (GIO's GTlsInteraction without overrides); embedded, it lets a type
// implement only what it needs, and a handshake the server asks a
// certificate of goes on without one.
func TestUnhandledInteraction(t *testing.T) {
	var u UnhandledInteraction
	p := &Password{}
	if res, err := u.AskPassword(context.Background(), p); res != InteractionUnhandled || err != nil || p.Value() != nil {
		t.Fatalf("AskPassword = %v, %v, password %q", res, err, p.Value())
	}
	if res, err := u.RequestCertificate(context.Background(), nil); res != InteractionUnhandled || err != nil {
		t.Fatalf("RequestCertificate = %v, %v", res, err)
	}
	var _ Interaction = u
	var _ Interaction = &u

	// A locked key: the embedding type's AskPassword is asked.
	leaf := testpki.MustCA(t, "Unhandled Root").MustLeaf(t, "client")
	keyFile := writeKeyFile(t, t.TempDir(), "client.key", leaf.Key)
	cert, err := NewCertificateFromPEM(append(leaf.ChainPEM(), opensslOutput(t, "pkcs8", "-topk8", "-in", keyFile, "-passout", "pass:secret")...))
	if err != nil {
		t.Fatal(err)
	}
	ip := &onlyPasswords{}
	if _, err := cert.unlock(context.Background(), ip); err != nil || ip.asked != 1 {
		t.Fatalf("unlock: %v after %d questions", err, ip.asked)
	}
	// UnhandledInteraction alone gives no password.
	cert, err = NewCertificateFromPEM(append(leaf.ChainPEM(), opensslOutput(t, "pkcs8", "-topk8", "-in", keyFile, "-passout", "pass:secret")...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.unlock(context.Background(), UnhandledInteraction{}); !errors.Is(err, ErrBadCertificatePassword) {
		t.Fatalf("unlock with UnhandledInteraction: %v, want ErrBadCertificatePassword", err)
	}

	// A server asking for a certificate: the embedded RequestCertificate
	// answers unhandled and the handshake goes on without one.
	ca := newTestCA(t, "Unhandled Server Root")
	cfg := serverConfig(ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost")))
	cfg.ClientAuth = tls.RequestClientCert
	srv := startTLSServer(t, "tcp4", cfg, nil)
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port()), Database: ca.db})
	c.SetInteraction(&onlyPasswords{})
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.AcceptedCAs() == nil || c.Certificate() != nil {
		t.Fatalf("accepted CAs %v, certificate %v: want a request answered with none", c.AcceptedCAs(), c.Certificate())
	}
}

// TestGIOConstants: CertificateNoFlags is G_TLS_CERTIFICATE_NO_FLAGS (0,
// nick "none"); a Backend does not support DTLS.
func TestGIOConstants(t *testing.T) {
	if CertificateNoFlags != 0 || CertificateNoFlags.String() != "none" {
		t.Fatalf("CertificateNoFlags = %d %q", CertificateNoFlags, CertificateNoFlags)
	}
	for _, b := range []*Backend{DefaultBackend(), NewBackend(BackendOptions{})} {
		if b.SupportsDTLS() {
			t.Fatal("SupportsDTLS() = true: giotls has no DTLS")
		}
	}
}
