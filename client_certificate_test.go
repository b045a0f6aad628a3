package giotls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// clientAuthPKI is a server CA and two client CAs: leaf A is issued by
// root A directly, leaf B by an intermediate of root B, so that sending B
// means sending a chain.
type clientAuthPKI struct {
	server       *testCA
	serverLeaf   *testpki.Leaf
	caA, caB     *testpki.CA
	leafA, leafB *testpki.Leaf
	certA, certB *Certificate // with their keys and chains
}

func newClientAuthPKI(t *testing.T) *clientAuthPKI {
	t.Helper()
	p := &clientAuthPKI{server: newTestCA(t, "Client Auth Server Root")}
	p.serverLeaf = p.server.MustLeaf(t, "localhost", testpki.DNSNames("localhost"), testpki.IPAddresses("127.0.0.1"))
	p.caA = testpki.MustCA(t, "Client Root A")
	p.caB = testpki.MustCA(t, "Client Root B")
	p.leafA = p.caA.MustLeaf(t, "client A")
	p.leafB = p.caB.MustIntermediate(t, "Client Intermediate B").MustLeaf(t, "client B")
	p.certA = mustClientCertificate(t, p.leafA)
	p.certB = mustClientCertificate(t, p.leafB)
	return p
}

func mustClientCertificate(t testing.TB, l *testpki.Leaf) *Certificate {
	t.Helper()
	c, err := NewCertificateFromX509(l.Chain, l.Key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serverView is what the server saw of one handshake.
type serverView struct {
	chain   []*x509.Certificate // the client's certificates
	resumed bool
}

// clientAuthServer is an echoing crypto/tls server on loopback that asks for
// client certificates and records what each handshake presented.
type clientAuthServer struct {
	*tlsServer
	mu   sync.Mutex
	seen []serverView
}

// startClientAuthServer serves version with auth, naming clientCAs (in that
// order) as the CAs it accepts; no clientCAs: no ClientCAs pool at all.
func startClientAuthServer(t *testing.T, p *clientAuthPKI, version uint16, auth tls.ClientAuthType, clientCAs ...*x509.Certificate) *clientAuthServer {
	t.Helper()
	cfg := serverConfig(p.serverLeaf)
	cfg.MinVersion, cfg.MaxVersion = version, version
	cfg.ClientAuth = auth
	if len(clientCAs) > 0 {
		cfg.ClientCAs = x509.NewCertPool()
		for _, ca := range clientCAs {
			cfg.ClientCAs.AddCert(ca)
		}
	}
	s := &clientAuthServer{}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.seen = append(s.seen, serverView{cs.PeerCertificates, cs.DidResume})
		return nil
	}
	s.tlsServer = startTLSServer(t, "tcp4", cfg, nil)
	return s
}

// views returns what the server saw, one entry per handshake it completed.
func (s *clientAuthServer) views() []serverView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// connect opens a connection of backend b (nil: the default) trusting the
// server's CA.
func (s *clientAuthServer) connect(t *testing.T, p *clientAuthPKI, b *Backend) *ClientConnection {
	t.Helper()
	return dialTest(t, s.Addr.String(), dialConfig{Backend: b, Identity: localhost(s.Addr.Port()), Database: p.server.db, Deadline: 20 * time.Second})
}

// roundTrip writes a line and reads its echo: afterwards the server has
// finished its handshake (TLS 1.3 clients finish first) and TLS 1.3 tickets
// have been read.
func roundTrip(t *testing.T, c *ClientConnection) {
	t.Helper()
	msg := []byte("client auth echo\n")
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %q, %v", got, err)
	}
}

// sameChain reports whether got is exactly want's chain, leaf first.
func sameChain(got []*x509.Certificate, want *Certificate) bool {
	w := want.chain()
	if len(got) != len(w) {
		return false
	}
	for i := range got {
		if !got[i].Equal(w[i]) {
			return false
		}
	}
	return true
}

// testInteraction is an Interaction made of functions; a nil function
// returns InteractionUnhandled.
type testInteraction struct {
	askPassword        func(ctx context.Context, p *Password) (InteractionResult, error)
	requestCertificate func(ctx context.Context, conn *ClientConnection) (InteractionResult, error)
}

func (i *testInteraction) AskPassword(ctx context.Context, p *Password) (InteractionResult, error) {
	if i.askPassword == nil {
		return InteractionUnhandled, nil
	}
	return i.askPassword(ctx, p)
}

func (i *testInteraction) RequestCertificate(ctx context.Context, conn *ClientConnection) (InteractionResult, error) {
	if i.requestCertificate == nil {
		return InteractionUnhandled, nil
	}
	return i.requestCertificate(ctx, conn)
}

// failIfAsked is an interaction that fails the test if it is used.
func failIfAsked(t *testing.T) Interaction {
	return &testInteraction{
		askPassword: func(context.Context, *Password) (InteractionResult, error) {
			t.Error("AskPassword called")
			return InteractionUnhandled, nil
		},
		requestCertificate: func(context.Context, *ClientConnection) (InteractionResult, error) {
			t.Error("RequestCertificate called")
			return InteractionUnhandled, nil
		},
	}
}

func versionName(v uint16) string { return strings.ReplaceAll(tls.VersionName(v), " ", "") }

// countNotify counts the notifications of property on c, and records what
// AcceptedCAs returned at the last one.
type notifyCount struct {
	mu    sync.Mutex
	n     int
	atCAs [][]byte
}

func countNotify(c *ClientConnection, property string) *notifyCount {
	nc := &notifyCount{}
	c.OnNotify(func(p string) {
		if p != property {
			return
		}
		cas := c.AcceptedCAs()
		nc.mu.Lock()
		defer nc.mu.Unlock()
		nc.n++
		nc.atCAs = cas
	})
	return nc
}

func (nc *notifyCount) get() (int, [][]byte) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.n, nc.atCAs
}

func TestAcceptedCAs(t *testing.T) {
	p := newClientAuthPKI(t)
	a, b := p.caA.Cert, p.caB.Cert
	for _, version := range tlsVersions {
		t.Run(versionName(version), func(t *testing.T) {
			cases := []struct {
				name      string
				auth      tls.ClientAuthType
				clientCAs []*x509.Certificate
				cert      *Certificate
				want      [][]byte // nil: not requested
			}{
				{"two CAs, optional, none sent", tls.VerifyClientCertIfGiven, []*x509.Certificate{a, b}, nil, [][]byte{a.RawSubject, b.RawSubject}},
				{"two CAs in the other order", tls.VerifyClientCertIfGiven, []*x509.Certificate{b, a}, nil, [][]byte{b.RawSubject, a.RawSubject}},
				{"two CAs, required, sent", tls.RequireAndVerifyClientCert, []*x509.Certificate{a, b}, p.certB, [][]byte{a.RawSubject, b.RawSubject}},
				{"requested without CAs", tls.RequestClientCert, nil, nil, [][]byte{}},
				{"not requested", tls.NoClientCert, []*x509.Certificate{a, b}, p.certA, nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					srv := startClientAuthServer(t, p, version, tc.auth, tc.clientCAs...)
					c := srv.connect(t, p, nil)
					c.SetCertificate(tc.cert)
					notified := countNotify(c, "accepted-cas")
					if got := c.AcceptedCAs(); got != nil {
						t.Fatalf("AcceptedCAs before the handshake = %x", got)
					}
					if err := c.Handshake(context.Background()); err != nil {
						t.Fatal(err)
					}
					roundTrip(t, c)
					got := c.AcceptedCAs()
					if (got == nil) != (tc.want == nil) || !slices.EqualFunc(got, tc.want, bytes.Equal) {
						t.Errorf("AcceptedCAs = %x, want %x", got, tc.want)
					}
					if n, at := notified.get(); n != 1 || !slices.EqualFunc(at, tc.want, bytes.Equal) {
						t.Errorf("accepted-cas notified %d times with %x, want once with %x", n, at, tc.want)
					}
					if len(got) > 0 {
						got[0][0] ^= 0xff // a copy: the connection's value stays
						if again := c.AcceptedCAs(); !bytes.Equal(again[0], tc.want[0]) {
							t.Error("AcceptedCAs returned the connection's own slice")
						}
					}
					views := srv.views()
					sent := tc.cert != nil && tc.want != nil // only when asked
					if len(views) != 1 || sent != (len(views[0].chain) != 0) {
						t.Fatalf("server saw %d handshakes, %+v", len(views), views)
					}
					if sent && !sameChain(views[0].chain, tc.cert) {
						t.Error("server did not see the certificate set")
					}
				})
			}
		})
	}
}

func TestSetCertificateSent(t *testing.T) {
	p := newClientAuthPKI(t)
	for _, version := range tlsVersions {
		for _, auth := range []tls.ClientAuthType{tls.VerifyClientCertIfGiven, tls.RequireAndVerifyClientCert} {
			for _, cert := range []*Certificate{p.certA, p.certB} {
				t.Run(versionName(version)+"/"+auth.String()+"/"+cert.X509().Subject.CommonName, func(t *testing.T) {
					srv := startClientAuthServer(t, p, version, auth, p.caA.Cert, p.caB.Cert)
					c := srv.connect(t, p, nil)
					c.SetCertificate(cert)
					c.SetInteraction(failIfAsked(t))
					if err := c.Handshake(context.Background()); err != nil {
						t.Fatal(err)
					}
					roundTrip(t, c)
					views := srv.views()
					if len(views) != 1 || !sameChain(views[0].chain, cert) {
						t.Fatalf("server saw %+v, want the chain of %s (%d certificates)", views, cert.SubjectName(), len(cert.chain()))
					}
				})
			}
		}
	}
}

// TestCertificateWithoutKey: a certificate without its private key is not
// sent, and the handshake fails saying why, whether the server requires a
// certificate or only asks for one (GIO's GnuTLS backend; glib-networking's
// test_client_auth_fail_missing_client_private_key).
func TestCertificateWithoutKey(t *testing.T) {
	p := newClientAuthPKI(t)
	noKey, err := NewCertificateFromX509(p.leafA.Chain, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range tlsVersions {
		for _, auth := range []tls.ClientAuthType{tls.VerifyClientCertIfGiven, tls.RequireAndVerifyClientCert} {
			t.Run(versionName(version)+"/"+auth.String(), func(t *testing.T) {
				srv := startClientAuthServer(t, p, version, auth, p.caA.Cert)
				c := srv.connect(t, p, nil)
				c.SetCertificate(noKey)
				c.SetInteraction(failIfAsked(t))
				err := c.Handshake(context.Background())
				if !errors.Is(err, ErrCertificateRequired) || !strings.Contains(err.Error(), "no private key") {
					t.Fatalf("Handshake = %v, want ErrCertificateRequired saying there is no private key", err)
				}
				if _, rerr := c.Read(make([]byte, 1)); !errors.Is(rerr, ErrCertificateRequired) {
					t.Errorf("Read after the failed handshake = %v", rerr)
				}
				if v := srv.views(); len(v) != 0 {
					t.Errorf("server completed %d handshakes", len(v))
				}
			})
		}
	}
}

func TestRequestCertificate(t *testing.T) {
	p := newClientAuthPKI(t)
	errDenied := errors.New("the user declined")
	type outcome int
	const (
		ok            outcome = iota // handshake and echo succeed
		hsFails                      // the handshake fails with wantErr
		requiredFails                // ErrCertificateRequired: handshake (TLS 1.2) or first Read (TLS 1.3)
	)
	cases := []struct {
		name      string
		auth      tls.ClientAuthType
		set       *Certificate // set on the connection before the handshake
		result    InteractionResult
		err       error
		supply    *Certificate // set by the interaction
		wantCalls int
		outcome   outcome
		wantErr   error
		wantSent  *Certificate // what the server sees
	}{
		{"handled with a certificate", tls.RequireAndVerifyClientCert, nil, InteractionHandled, nil, p.certA, 1, ok, nil, p.certA},
		{"handled with a chain", tls.RequireAndVerifyClientCert, nil, InteractionHandled, nil, p.certB, 1, ok, nil, p.certB},
		{"handled without a certificate, optional", tls.VerifyClientCertIfGiven, nil, InteractionHandled, nil, nil, 1, ok, nil, nil},
		{"unhandled, optional", tls.VerifyClientCertIfGiven, nil, InteractionUnhandled, nil, nil, 1, ok, nil, nil},
		{"unhandled, required", tls.RequireAndVerifyClientCert, nil, InteractionUnhandled, nil, nil, 1, requiredFails, nil, nil},
		{"failed with an error", tls.RequireAndVerifyClientCert, nil, InteractionFailed, errDenied, nil, 1, hsFails, errDenied, nil},
		{"failed with an error, optional", tls.VerifyClientCertIfGiven, nil, InteractionFailed, errDenied, nil, 1, hsFails, errDenied, nil},
		{"failed without an error", tls.RequireAndVerifyClientCert, nil, InteractionFailed, nil, nil, 1, hsFails, ErrCertificateRequired, nil},
		{"certificate already set", tls.RequireAndVerifyClientCert, p.certB, InteractionHandled, nil, p.certA, 0, ok, nil, p.certB},
		{"not requested", tls.NoClientCert, nil, InteractionHandled, nil, p.certA, 0, ok, nil, nil},
	}
	for _, version := range tlsVersions {
		for _, tc := range cases {
			t.Run(versionName(version)+"/"+tc.name, func(t *testing.T) {
				srv := startClientAuthServer(t, p, version, tc.auth, p.caA.Cert, p.caB.Cert)
				c := srv.connect(t, p, nil)
				c.SetCertificate(tc.set)
				calls := 0
				c.SetInteraction(&testInteraction{requestCertificate: func(ctx context.Context, conn *ClientConnection) (InteractionResult, error) {
					calls++
					if conn != c {
						t.Error("RequestCertificate got another connection")
					}
					if cas := conn.AcceptedCAs(); len(cas) != 2 {
						t.Errorf("AcceptedCAs during RequestCertificate = %x, want the two CAs", cas)
					}
					if ctx.Err() != nil {
						t.Errorf("ctx already done: %v", ctx.Err())
					}
					if tc.supply != nil {
						conn.SetCertificate(tc.supply)
					}
					return tc.result, tc.err
				}})
				err := c.Handshake(context.Background())
				switch tc.outcome {
				case hsFails:
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("Handshake = %v, want %v", err, tc.wantErr)
					}
					if tc.wantErr == errDenied && err != errDenied {
						t.Errorf("Handshake = %#v, want the interaction's own error", err)
					}
				case requiredFails:
					if version == tls.VersionTLS12 {
						if !errors.Is(err, ErrCertificateRequired) {
							t.Fatalf("Handshake = %v, want ErrCertificateRequired", err)
						}
						break
					}
					if err != nil {
						t.Fatalf("TLS 1.3 Handshake = %v; the refusal should come after it", err)
					}
					if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrCertificateRequired) {
						t.Fatalf("first Read = %v, want ErrCertificateRequired", err)
					}
				default:
					if err != nil {
						t.Fatal(err)
					}
					roundTrip(t, c)
				}
				if calls != tc.wantCalls {
					t.Errorf("RequestCertificate called %d times, want %d", calls, tc.wantCalls)
				}
				if tc.outcome != ok {
					return
				}
				views := srv.views()
				if len(views) != 1 {
					t.Fatalf("server completed %d handshakes", len(views))
				}
				if tc.wantSent == nil && len(views[0].chain) != 0 {
					t.Errorf("server saw %s, want no certificate", views[0].chain[0].Subject)
				} else if tc.wantSent != nil && !sameChain(views[0].chain, tc.wantSent) {
					t.Errorf("server did not see %s", tc.wantSent.SubjectName())
				}
			})
		}
	}
}

// TestRequestCertificateContext: the interaction's context is the
// handshake's: it carries its deadline, and cancelling the handshake's
// context cancels it.
func TestRequestCertificateContext(t *testing.T) {
	p := newClientAuthPKI(t)
	for _, version := range tlsVersions {
		t.Run(versionName(version), func(t *testing.T) {
			srv := startClientAuthServer(t, p, version, tls.RequireAndVerifyClientCert, p.caA.Cert)
			c := srv.connect(t, p, nil)
			entered := make(chan struct{})
			seen := make(chan error, 1)
			deadline := time.Now().Add(time.Minute)
			var gotDeadline time.Time
			c.SetInteraction(&testInteraction{requestCertificate: func(ctx context.Context, conn *ClientConnection) (InteractionResult, error) {
				gotDeadline, _ = ctx.Deadline()
				close(entered)
				select {
				case <-ctx.Done():
					seen <- ctx.Err()
					return InteractionFailed, ctx.Err()
				case <-time.After(10 * time.Second):
					seen <- nil
					return InteractionUnhandled, nil
				}
			}})
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- c.Handshake(ctx) }()
			select {
			case <-entered:
			case <-time.After(10 * time.Second):
				t.Fatal("RequestCertificate was not called")
			}
			cancel()
			if err := <-seen; !errors.Is(err, context.Canceled) {
				t.Errorf("the interaction's context ended with %v, want context.Canceled", err)
			}
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Handshake = %v, want context.Canceled", err)
			}
			if !gotDeadline.Equal(deadline) {
				t.Errorf("the interaction's deadline = %v, want the handshake's %v", gotDeadline, deadline)
			}
		})
	}
}

// TestCertificateRequired: a server that requires a certificate and gets
// none. In TLS 1.2 the handshake fails; in TLS 1.3 the client's handshake
// has finished when the server refuses, so the first Read fails.
func TestCertificateRequired(t *testing.T) {
	p := newClientAuthPKI(t)
	for _, version := range tlsVersions {
		for _, auth := range []tls.ClientAuthType{tls.RequireAnyClientCert, tls.RequireAndVerifyClientCert} {
			t.Run(versionName(version)+"/"+auth.String(), func(t *testing.T) {
				srv := startClientAuthServer(t, p, version, auth, p.caA.Cert, p.caB.Cert)
				c := srv.connect(t, p, nil)
				notified := countNotify(c, "accepted-cas")
				err := c.Handshake(context.Background())
				if version == tls.VersionTLS12 {
					if !errors.Is(err, ErrCertificateRequired) {
						t.Fatalf("Handshake = %v, want ErrCertificateRequired", err)
					}
				} else {
					if err != nil {
						t.Fatalf("Handshake = %v", err)
					}
					for i := range 2 { // the error stays
						if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrCertificateRequired) {
							t.Fatalf("Read %d = %v, want ErrCertificateRequired", i, err)
						}
					}
				}
				want := [][]byte{p.caA.Cert.RawSubject, p.caB.Cert.RawSubject}
				if n, at := notified.get(); n != 1 || !slices.EqualFunc(at, want, bytes.Equal) {
					t.Errorf("accepted-cas notified %d times with %x, want once with the two CAs", n, at)
				}
			})
		}
	}
}

// TestClientCertificateRejected: a certificate the server does not trust
// gives ErrBadCertificate, from the handshake (TLS 1.2) or the first Read
// (TLS 1.3).
func TestClientCertificateRejected(t *testing.T) {
	p := newClientAuthPKI(t)
	for _, version := range tlsVersions {
		t.Run(versionName(version), func(t *testing.T) {
			srv := startClientAuthServer(t, p, version, tls.RequireAndVerifyClientCert, p.caA.Cert)
			c := srv.connect(t, p, nil)
			c.SetCertificate(p.certB)
			err := c.Handshake(context.Background())
			if version == tls.VersionTLS13 {
				if err != nil {
					t.Fatalf("Handshake = %v", err)
				}
				_, err = c.Read(make([]byte, 1))
			}
			if !errors.Is(err, ErrBadCertificate) {
				t.Fatalf("err = %v, want ErrBadCertificate", err)
			}
		})
	}
}

// TestSecondConnectionOtherCertificate: a second connection to the same
// server with another certificate presents that one, in a full handshake,
// not by resuming the first one's session; the first certificate again
// resumes.
func TestSecondConnectionOtherCertificate(t *testing.T) {
	p := newClientAuthPKI(t)
	for _, version := range tlsVersions {
		t.Run(versionName(version), func(t *testing.T) {
			srv := startClientAuthServer(t, p, version, tls.RequireAndVerifyClientCert, p.caA.Cert, p.caB.Cert)
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
			steps := []struct {
				name        string
				set         *Certificate
				interaction *Certificate // supplied by RequestCertificate
				resumed     bool
				seen        *Certificate
			}{
				{"first, A", p.certA, nil, false, p.certA},
				{"second, B", p.certB, nil, false, p.certB},
				{"A again", p.certA, nil, true, p.certA},
				{"B from an interaction", nil, p.certB, false, p.certB},
				{"B again", p.certB, nil, true, p.certB},
			}
			for i, s := range steps {
				c := srv.connect(t, p, b)
				c.SetCertificate(s.set)
				c.SetInteraction(&testInteraction{requestCertificate: func(_ context.Context, conn *ClientConnection) (InteractionResult, error) {
					conn.SetCertificate(s.interaction)
					return InteractionHandled, nil
				}})
				if err := c.Handshake(context.Background()); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				roundTrip(t, c)
				c.Close()
				views := srv.views()
				if len(views) != i+1 {
					t.Fatalf("%s: server completed %d handshakes", s.name, len(views))
				}
				v := views[i]
				if c.SessionResumed() != s.resumed || v.resumed != s.resumed {
					t.Errorf("%s: resumed: client %v, server %v; want %v", s.name, c.SessionResumed(), v.resumed, s.resumed)
				}
				if !sameChain(v.chain, s.seen) {
					t.Errorf("%s: server saw %v, want %s", s.name, v.chain[0].Subject, s.seen.SubjectName())
				}
			}
		})
	}
}

// writeCAs writes certs as one PEM file in dir.
func writeCAs(t *testing.T, dir string, certs ...*x509.Certificate) string {
	t.Helper()
	path := filepath.Join(dir, "client-cas.pem")
	if err := os.WriteFile(path, testpki.EncodeCertificates(certs...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPeerServerClientAuth runs each real server requiring a client
// certificate, with two client CAs: the accepted CAs are the ones it names,
// in its order; the certificate set or supplied by an interaction reaches
// it; without one, ErrCertificateRequired.
func TestPeerServerClientAuth(t *testing.T) {
	p := newClientAuthPKI(t)
	certC := mustClientCertificate(t, p.caB.MustLeaf(t, "client C")) // issued by root B directly
	dir := t.TempDir()
	cert, key, _, err := p.serverLeaf.WriteFiles(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	// The servers name the CAs in the order of the file. s_server takes
	// chains one certificate deep (-Verify 1), so it gets certificate A;
	// gnutls-serv gets B with its intermediate.
	orders := map[string]struct {
		cas    []*x509.Certificate
		set    *Certificate
		picked string // the client an interaction choosing by the first CA named picks
	}{
		"openssl":     {[]*x509.Certificate{p.caB.Cert, p.caA.Cert}, p.certA, "client C"},
		"gnutls-serv": {[]*x509.Certificate{p.caA.Cert, p.caB.Cert}, p.certB, "client A"},
	}
	for _, sp := range peerServers {
		order := orders[sp.name]
		var want [][]byte
		for _, ca := range order.cas {
			want = append(want, ca.RawSubject)
		}
		cas := writeCAs(t, t.TempDir(), order.cas...)
		for _, pc := range sp.versions {
			t.Run(sp.name+"/"+pc.name, func(t *testing.T) {
				proc, port := sp.start(t, cert, key, append(sp.requireAuth(cas), pc.args...)...)
				dial := func(t *testing.T) *ClientConnection { return dialPeer(t, proc, port, p.server) }
				t.Run("certificate set", func(t *testing.T) {
					c := dial(t)
					set := order.set
					c.SetCertificate(set)
					notified := countNotify(c, "accepted-cas")
					if err := c.Handshake(context.Background()); err != nil {
						t.Fatal(proc.Errorf("Handshake: %v", err))
					}
					if got := c.AcceptedCAs(); !slices.EqualFunc(got, want, bytes.Equal) {
						t.Errorf("AcceptedCAs = %x, want %x", got, want)
					}
					if n, _ := notified.get(); n != 1 {
						t.Errorf("accepted-cas notified %d times", n)
					}
					if page := sp.talk(t, proc, c); page != "" && !strings.Contains(page, "Subject: CN="+set.X509().Subject.CommonName) {
						t.Errorf("the server's page does not show %s:\n%.2000s", set.X509().Subject.CommonName, page)
					}
				})
				t.Run("chosen from AcceptedCAs by an interaction", func(t *testing.T) {
					c := dial(t)
					var chosen *Certificate
					c.SetInteraction(&testInteraction{requestCertificate: func(_ context.Context, conn *ClientConnection) (InteractionResult, error) {
						// The first CA the server names that issued one of ours.
						for _, dn := range conn.AcceptedCAs() {
							for _, cand := range []*Certificate{p.certA, certC} {
								if bytes.Equal(cand.X509().RawIssuer, dn) {
									chosen = cand
									conn.SetCertificate(cand)
									return InteractionHandled, nil
								}
							}
						}
						return InteractionUnhandled, nil
					}})
					page := sp.talk(t, proc, c)
					if chosen == nil || chosen.X509().Subject.CommonName != order.picked {
						t.Fatalf("the interaction chose %v, want %s", chosen, order.picked)
					}
					if page != "" && !strings.Contains(page, "Subject: CN="+chosen.X509().Subject.CommonName) {
						t.Errorf("the server's page does not show %s:\n%.2000s", chosen.X509().Subject.CommonName, page)
					}
				})
				t.Run("required, none", func(t *testing.T) {
					c := dial(t)
					err := c.Handshake(context.Background())
					if pc.version == ProtocolVersionTLS13 {
						if err != nil {
							t.Fatal(proc.Errorf("Handshake: %v", err))
						}
						_, err = c.Read(make([]byte, 1))
					}
					if !errors.Is(err, ErrCertificateRequired) {
						t.Fatal(proc.Errorf("err = %v, want ErrCertificateRequired", err))
					}
					if got := c.AcceptedCAs(); !slices.EqualFunc(got, want, bytes.Equal) {
						t.Errorf("AcceptedCAs = %x, want %x", got, want)
					}
				})
			})
		}
	}
}

// TestDialerClientCertificate: a Dialer's Certificate and Interaction reach
// each connection: both get through a server requiring a certificate.
func TestDialerClientCertificate(t *testing.T) {
	p := newClientAuthPKI(t)
	chooseB := &testInteraction{requestCertificate: func(_ context.Context, conn *ClientConnection) (InteractionResult, error) {
		conn.SetCertificate(p.certB)
		return InteractionHandled, nil
	}}
	for _, version := range tlsVersions {
		srv := startClientAuthServer(t, p, version, tls.RequireAndVerifyClientCert, p.caA.Cert, p.caB.Cert)
		for _, tc := range []struct {
			name        string
			cert        *Certificate
			interaction Interaction
			want        *Certificate // nil: refused
		}{
			{"Certificate", p.certA, nil, p.certA},
			{"Interaction", nil, chooseB, p.certB},
			{"neither", nil, nil, nil},
		} {
			t.Run(versionName(version)+"/"+tc.name, func(t *testing.T) {
				d := &Dialer{
					Database:     p.server.db,
					Certificate:  tc.cert,
					Interaction:  tc.interaction,
					SessionCache: NewSessionCache(SessionCacheOptions{}),
					NetDialer:    &net.Dialer{Timeout: 20 * time.Second},
				}
				before := len(srv.views())
				conn, err := d.DialContext(context.Background(), "tcp", srv.Addr.String())
				if tc.want == nil {
					if err == nil {
						defer conn.Close()
						conn.SetDeadline(time.Now().Add(20 * time.Second))
						_, err = conn.Read(make([]byte, 1)) // TLS 1.3: the refusal follows the handshake
					}
					if !errors.Is(err, ErrCertificateRequired) {
						t.Fatalf("err = %v, want ErrCertificateRequired", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(20 * time.Second))
				roundTrip(t, conn.(*ClientConnection))
				v := srv.views()
				if len(v) != before+1 || !sameChain(v[before].chain, tc.want) {
					t.Errorf("server did not see %s", tc.want.SubjectName())
				}
			})
		}
	}
}
