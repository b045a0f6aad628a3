package pkcs11

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// sServer is openssl s_server requiring a client certificate issued by
// clientCA (-Verify 1 -verify_return_error) and answering with -www, whose
// page prints the client certificate the server authenticated.
type sServer struct {
	proc *peer.Process
	port int
	ca   giotls.Database // trusts the server's certificate
}

func startSServer(t *testing.T, version string, clientCA *testpki.CA) *sServer {
	t.Helper()
	dir := t.TempDir()
	root := testpki.MustCA(t, "s_server root")
	certFile, keyFile, caFile, err := root.MustLeaf(t, "localhost", testpki.DNSNames("localhost")).WriteFiles(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	clientCAFile := filepath.Join(dir, "client-ca.pem")
	if err := os.WriteFile(clientCAFile, clientCA.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := giotls.NewFileDatabase(caFile)
	if err != nil {
		t.Fatal(err)
	}
	port := peer.FreePort(t)
	p := peer.Start(t, peer.Addr(port), "openssl", "s_server", "-accept", peer.Addr(port), "-cert", certFile, "-key", keyFile,
		"-Verify", "1", "-verify_return_error", "-CAfile", clientCAFile, "-www", "-"+version)
	return &sServer{proc: p, port: port, ca: db}
}

// connect returns a connection to the server with cert and interaction,
// closed when the test ends.
func (s *sServer) connect(t *testing.T, cert *giotls.Certificate, interaction giotls.Interaction) *giotls.ClientConnection {
	t.Helper()
	raw, err := loopback.Dial(context.Background(), s.proc.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := giotls.DefaultBackend().NewClientConnection(raw, giotls.NewNetworkAddress("localhost", uint16(s.port)))
	if err != nil {
		raw.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDatabase(s.ca)
	c.SetCertificate(cert)
	c.SetInteraction(interaction)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

// page fetches s_server's -www page: only after it has verified the
// client's certificate does the server answer (in TLS 1.3 the client's
// handshake ends before the server checks it).
func (s *sServer) page(t *testing.T, c *giotls.ClientConnection) string {
	t.Helper()
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(s.proc.Errorf("Write: %v", err))
	}
	body, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(s.proc.Errorf("ReadAll: %v", err))
	}
	return string(body)
}

// authenticated reports whether s_server's page names leaf as the client
// certificate it verified.
func authenticated(page string, leaf *x509.Certificate) bool {
	_, cert, ok := strings.Cut(page, "Client certificate")
	return ok && strings.Contains(cert, "CN=") && strings.Contains(cert, leaf.Subject.CommonName)
}

// TestClientKeyOnToken: the client certificate and key live on a SoftHSM2
// token; openssl s_server requires the certificate and names it as
// authenticated, in TLS 1.2 and 1.3 (RSA PKCS#1 v1.5 and PSS, ECDSA), after
// a wrong PIN and then the right one, asked with GIO's PKCS#11 flags.
func TestClientKeyOnToken(t *testing.T) {
	for _, version := range []string{"tls1_2", "tls1_3"} {
		for _, keyType := range []testpki.KeyType{testpki.RSA2048, testpki.ECDSAP256} {
			t.Run(version+"/"+string(keyType), func(t *testing.T) {
				cert, _, leaf := openTokenKey(t, keyType, "")
				srv := startSServer(t, version, leaf.Issuer)
				ask := &pins{answers: []string{"4321", "1234"}}
				c := srv.connect(t, cert, ask)
				if err := c.Handshake(context.Background()); err != nil {
					t.Fatal(srv.proc.Errorf("Handshake: %v", err))
				}
				if page := srv.page(t, c); !authenticated(page, leaf.Cert) {
					t.Fatal(srv.proc.Errorf("s_server did not authenticate %q:\n%s", leaf.Cert.Subject, page))
				}
				// SoftHSM2 sets CKF_USER_PIN_COUNT_LOW after a wrong PIN:
				// the retry says "many tries" too, from the token's flag.
				user := giotls.PasswordPKCS11User
				if want := []giotls.PasswordFlags{user, user | giotls.PasswordRetry | giotls.PasswordManyTries}; !slices.Equal(ask.flags, want) {
					t.Errorf("asked with flags %v, want %v", ask.flags, want)
				}
				if !strings.Contains(ask.descs[0], "giotls test") {
					t.Errorf("the PIN request %q does not name the token", ask.descs[0])
				}
				// The login is kept: a second connection asks nothing. (s_server
				// serves one connection at a time, until the client closes.)
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				c2 := srv.connect(t, cert, ask)
				if err := c2.Handshake(context.Background()); err != nil {
					t.Fatal(srv.proc.Errorf("second Handshake: %v", err))
				}
				if page := srv.page(t, c2); !authenticated(page, leaf.Cert) || len(ask.flags) != 2 {
					t.Errorf("second connection: authenticated %v, asked %d times", authenticated(page, leaf.Cert), len(ask.flags))
				}
			})
		}
	}
}

// TestPINNotGiven: when the PIN cannot be had (the Interaction does not
// answer, or there is none, or every PIN is wrong), the handshake fails
// with ErrorCertificateRequired caused by ErrBadCertificatePassword, and
// the server authenticates nobody.
func TestPINNotGiven(t *testing.T) {
	for _, tc := range []struct {
		name        string
		interaction giotls.Interaction
		asked       int
		message     string
	}{
		{"unhandled", &pins{}, 1, "no PIN was given"},
		{"no interaction", nil, 0, "no Interaction"},
		{"wrong PINs", &pins{answers: []string{"1", "2", "3", "4"}}, maxPINTries, "wrong PIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, _, leaf := openTokenKey(t, testpki.ECDSAP256, "")
			srv := startSServer(t, "tls1_3", leaf.Issuer)
			c := srv.connect(t, cert, tc.interaction)
			err := c.Handshake(context.Background())
			var ge *giotls.Error
			if !errors.As(err, &ge) || ge.Code != giotls.ErrorCertificateRequired || !errors.Is(err, giotls.ErrBadCertificatePassword) ||
				!strings.Contains(err.Error(), tc.message) {
				t.Fatalf("Handshake = %v, want ErrorCertificateRequired caused by ErrBadCertificatePassword (%q)", err, tc.message)
			}
			if p, ok := tc.interaction.(*pins); ok {
				if len(p.flags) != tc.asked {
					t.Errorf("asked %d times, want %d", len(p.flags), tc.asked)
				}
				// The last of maxPINTries requests says so, as GIO's does.
				if last := p.flags[len(p.flags)-1]; tc.asked == maxPINTries && last&giotls.PasswordFinalTry == 0 {
					t.Errorf("the last request's flags %v lack PasswordFinalTry", last)
				}
			}
			if strings.Contains(srv.proc.Output(), "CN=") && strings.Contains(srv.proc.Output(), leaf.Cert.Subject.CommonName) {
				t.Error(srv.proc.Errorf("s_server saw the client certificate"))
			}
		})
	}
}

// TestPINInURI: a pin-value (or pin-source) in the URI logs in without
// asking (RFC 7512, section 2.3); a wrong one fails without asking.
func TestPINInURI(t *testing.T) {
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte("1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, query string
		ok          bool
	}{
		{"pin-value", "?pin-value=1234", true},
		{"pin-source", "?pin-source=file:" + pinFile, true},
		{"wrong pin-value", "?pin-value=9999", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, _, leaf := openTokenKey(t, testpki.RSA2048, tc.query)
			srv := startSServer(t, "tls1_2", leaf.Issuer)
			ask := &pins{answers: []string{"1234"}}
			c := srv.connect(t, cert, ask)
			err := c.Handshake(context.Background())
			if len(ask.flags) != 0 {
				t.Errorf("asked for the PIN %d times", len(ask.flags))
			}
			if !tc.ok {
				if !errors.Is(err, giotls.ErrBadCertificatePassword) || !strings.Contains(err.Error(), "PIN of the URI is wrong") {
					t.Fatalf("Handshake = %v, want the URI's PIN refused", err)
				}
				return
			}
			if err != nil {
				t.Fatal(srv.proc.Errorf("Handshake: %v", err))
			}
			if page := srv.page(t, c); !authenticated(page, leaf.Cert) {
				t.Fatal(srv.proc.Errorf("s_server did not authenticate the client:\n%s", page))
			}
		})
	}
}

// waiter is an Interaction that waits for the context it is given and
// fails with its error, as a PIN dialog the user never answers.
type waiter struct{ asked chan struct{} }

func (w waiter) AskPassword(ctx context.Context, _ *giotls.Password) (giotls.InteractionResult, error) {
	close(w.asked)
	<-ctx.Done()
	return giotls.InteractionFailed, ctx.Err()
}

func (waiter) RequestCertificate(context.Context, *giotls.ClientConnection) (giotls.InteractionResult, error) {
	return giotls.InteractionUnhandled, nil
}

// TestPINRequestCancelled: a PIN request that is never answered ends with
// the handshake's context (its deadline, or Close), and the handshake
// returns that, not a password error.
func TestPINRequestCancelled(t *testing.T) {
	cert, _, leaf := openTokenKey(t, testpki.RSA2048, "")
	srv := startSServer(t, "tls1_3", leaf.Issuer)
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		w := waiter{make(chan struct{})}
		err := srv.connect(t, cert, w).Handshake(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Handshake = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("Close", func(t *testing.T) {
		w := waiter{make(chan struct{})}
		c := srv.connect(t, cert, w)
		done := make(chan error, 1)
		go func() { done <- c.Handshake(context.Background()) }()
		<-w.asked
		c.Close()
		select {
		case err := <-done:
			if err == nil || errors.Is(err, giotls.ErrBadCertificatePassword) {
				t.Fatalf("Handshake after Close = %v, want the closed connection's error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not end the PIN request")
		}
	})
	// NewCertificate with a done context does nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewCertificate(ctx, "pkcs11:token=giotls%20test;object=client", "", &Options{Module: softhsmModule}); !errors.Is(err, context.Canceled) {
		t.Errorf("NewCertificate with a cancelled context = %v", err)
	}
}
