package giotls

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
)

// configDial connects to addr with a crypto/tls client on cfg, as a library
// given cfg would, reads one byte (the servers here write one, so that a
// TLS 1.3 client processes its tickets) and closes.
func configDial(t *testing.T, addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	tc := configClient(t, addr, cfg)
	defer tc.Close()
	if err := tc.Handshake(); err != nil {
		return tls.ConnectionState{}, err
	}
	if _, err := io.ReadFull(tc, make([]byte, 1)); err != nil {
		return tls.ConnectionState{}, err
	}
	return tc.ConnectionState(), nil
}

// configClient is a crypto/tls client on cfg, as a library makes one,
// over a loopback connection to addr with a 20-second deadline, closed
// when the test ends.
func configClient(t *testing.T, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	raw, err := loopback.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	return tls.Client(raw, cfg)
}

// mustConfig returns b.ClientConfig(o) (b nil: the default backend).
func mustConfig(t *testing.T, b *Backend, o ClientConfigOptions) *tls.Config {
	t.Helper()
	if b == nil {
		b = DefaultBackend()
	}
	cfg, err := b.ClientConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// badCertificate checks that err is the giotls rejection with flags.
func badCertificate(t *testing.T, err error, flags CertificateFlags) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != ErrorBadCertificate {
		t.Fatalf("handshake error = %v, want a giotls *Error ErrorBadCertificate", err)
	}
	if want := flags.String(); !bytes.Contains([]byte(e.Message), []byte(want)) {
		t.Fatalf("handshake error %q, want the flags %s", e.Message, want)
	}
}

// TestClientConfigVerification: the identity is the server name crypto/tls
// sends (or the IP literal given), checked by the Database with every flag,
// then the handler; no identity is always bad-identity.
func TestClientConfigVerification(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newResumptionEnv(t, v, tls.NoClientCert, BackendOptions{DisableResumption: true})
			other := newTestCA(t, "Other Root")
			var asked []CertificateFlags
			var mu sync.Mutex
			record := func(peer *Certificate, f CertificateFlags) bool {
				mu.Lock()
				defer mu.Unlock()
				if peer == nil || !slices.Contains(peer.DNSNames(), "a.example") {
					t.Errorf("handler got peer %v", peer)
				}
				asked = append(asked, f)
				return true
			}
			tests := []struct {
				name  string
				o     ClientConfigOptions
				clone func(*tls.Config) // what a library does to its clone
				bad   CertificateFlags  // 0: accepted
				asked CertificateFlags  // what the handler must be asked with
			}{
				{name: "name", o: ClientConfigOptions{ServerName: "a.example", Database: e.ca.db}},
				{name: "name, upper case and trailing dot", o: ClientConfigOptions{ServerName: "A.Example.", Database: e.ca.db}},
				{name: "wrong name", o: ClientConfigOptions{ServerName: "c.example", Database: e.ca.db}, bad: CertificateBadIdentity},
				{name: "unknown CA", o: ClientConfigOptions{ServerName: "a.example", Database: other.db}, bad: CertificateUnknownCA},
				{name: "no identity", o: ClientConfigOptions{Database: e.ca.db}, bad: CertificateBadIdentity},
				{name: "IP", o: ClientConfigOptions{ServerName: "127.0.0.1", Database: e.ca.db}},
				{name: "wrong IP", o: ClientConfigOptions{ServerName: "127.0.0.2", Database: e.ca.db}, bad: CertificateBadIdentity},
				{name: "library sets the name", o: ClientConfigOptions{Database: e.ca.db}, clone: func(c *tls.Config) { c.ServerName = "b.example" }},
				{name: "library sets a wrong name", o: ClientConfigOptions{ServerName: "a.example", Database: e.ca.db},
					clone: func(c *tls.Config) { c.ServerName = "c.example" }, bad: CertificateBadIdentity},
				{name: "masked", o: ClientConfigOptions{ServerName: "a.example", Database: other.db, ValidationFlags: CertificateBadIdentity}},
				{name: "handler accepts", o: ClientConfigOptions{ServerName: "c.example", Database: other.db, AcceptCertificate: record},
					asked: CertificateBadIdentity | CertificateUnknownCA},
				{name: "no database", o: ClientConfigOptions{ServerName: "a.example", Database: (*storeDatabase)(nil)}, bad: CertificateUnknownCA},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					asked = nil
					cfg := mustConfig(t, e.backend, tt.o)
					if tt.clone != nil {
						cfg = cfg.Clone()
						tt.clone(cfg)
					}
					_, err := configDial(t, e.ports[0].Addr.String(), cfg)
					if tt.bad != 0 {
						badCertificate(t, err, tt.bad)
						return
					}
					if err != nil {
						t.Fatalf("handshake: %v", err)
					}
					if tt.asked != 0 && !slices.Equal(asked, []CertificateFlags{tt.asked}) {
						t.Fatalf("handler asked with %v, want once with %v", asked, tt.asked)
					}
				})
			}
		})
	}
}

// TestClientConfigResumedVerified: a resumed handshake is verified again and
// the handler asked again; another config, which would reject the
// certificate, never offers the sessions of one that accepted it.
func TestClientConfigResumedVerified(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newResumptionEnv(t, v, tls.NoClientCert, BackendOptions{})
			other := newTestCA(t, "Other Root")
			var calls atomic.Int32
			var reject atomic.Bool
			lenient := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: other.db,
				AcceptCertificate: func(*Certificate, CertificateFlags) bool { calls.Add(1); return !reject.Load() }})
			strict := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: other.db})
			addr := e.ports[0].Addr.String()
			for i, resumed := range []bool{false, true} {
				cs, err := configDial(t, addr, lenient)
				if err != nil || cs.DidResume != resumed {
					t.Fatalf("connection %d: %v, resumed %v; want resumed %v", i, err, cs.DidResume, resumed)
				}
			}
			if calls.Load() != 2 {
				t.Fatalf("handler asked %d times, want on both handshakes", calls.Load())
			}
			reject.Store(true)
			_, err := configDial(t, addr, lenient)
			badCertificate(t, err, CertificateUnknownCA)
			if calls.Load() != 3 {
				t.Fatalf("handler asked %d times, want 3", calls.Load())
			}
			reject.Store(false)
			if _, err := configDial(t, addr, lenient); err != nil { // one more session to steal
				t.Fatal(err)
			}
			before, _ := e.tickets.counts()
			_, err = configDial(t, addr, strict)
			badCertificate(t, err, CertificateUnknownCA)
			if after, _ := e.tickets.counts(); after != before {
				t.Fatal("the strict config offered a session of another config")
			}
		})
	}
}

// TestClientConfigSessions: single use, keys, no resumption across names or
// client certificates, none with an Interaction choosing the certificate,
// and the cap.
func TestClientConfigSessions(t *testing.T) {
	p := newClientAuthPKI(t)
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newResumptionEnv(t, v, tls.RequestClientCert, BackendOptions{})
			addr := e.ports[0].Addr.String()
			dial := func(cfg *tls.Config, want bool) {
				t.Helper()
				cs, err := configDial(t, addr, cfg)
				if err != nil || cs.DidResume != want {
					t.Fatalf("%v, resumed %v; want resumed %v", err, cs.DidResume, want)
				}
			}
			a := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: e.ca.db})
			b := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "b.example", Database: e.ca.db})
			certA := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: e.ca.db, Certificate: p.certA})
			certB := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: e.ca.db, Certificate: p.certB})
			chooses := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: e.ca.db,
				Interaction: &testInteraction{requestCertificate: func(_ context.Context, c *ClientConnection) (InteractionResult, error) {
					c.SetCertificate(p.certA)
					return InteractionHandled, nil
				}}})
			dial(a, false)
			dial(b, false) // another name
			dial(certA, false)
			dial(certB, false) // another certificate
			dial(chooses, false)
			dial(chooses, false) // chosen at handshake time: never
			for range 3 {
				dial(a, true)
				dial(certA, true)
				dial(certB, true)
				dial(b, true)
			}
			if _, reused := e.tickets.counts(); reused != 0 {
				t.Fatalf("%d tickets presented twice", reused)
			}
			if keys, _ := e.backend.opts.SessionCache.Len(); keys != 4 {
				t.Fatalf("%d keys cached, want 4 (a, b, a with A, a with B)", keys)
			}
		})
	}
}

// TestClientConfigCap: a config resumes until MaxAge after it was made,
// and then neither resumes nor stores (its sessions are dated from its
// making: a resumed connection's tickets cannot be told from a full
// handshake's). TLS 1.2 sessions, reusable, too; and a clone made later
// ends with the config it was cloned from (a library clones per
// connection): cloning does not restart the cap.
func TestClientConfigCap(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newResumptionEnv(t, v, tls.NoClientCert, BackendOptions{
				SessionCache: NewSessionCache(SessionCacheOptions{MaxAge: 1500 * time.Millisecond}),
			})
			cfg := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: e.ca.db})
			addr := e.ports[0].Addr.String()
			for i, s := range []struct {
				sleep  time.Duration
				resume bool
			}{{0, false}, {0, true}, {time.Second, true}, {time.Second, false}, {0, false}} {
				time.Sleep(s.sleep)
				cs, err := configDial(t, addr, cfg.Clone())
				if err != nil || cs.DidResume != s.resume {
					t.Fatalf("connection %d: %v, resumed %v; want %v", i, err, cs.DidResume, s.resume)
				}
			}
		})
	}
}

// TestClientConfigConcurrent shares one config and its clones among many
// goroutines (run with -race): every handshake verified, no ticket
// presented twice.
func TestClientConfigConcurrent(t *testing.T) {
	e := newResumptionEnv(t, tls.VersionTLS13, tls.NoClientCert, BackendOptions{})
	var calls atomic.Int32
	other := newTestCA(t, "Other Root")
	cfg := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: other.db,
		AcceptCertificate: func(*Certificate, CertificateFlags) bool { calls.Add(1); return true }})
	var wg sync.WaitGroup
	var resumed atomic.Int32
	for i := range 8 {
		wg.Go(func() {
			c := cfg
			if i%2 == 1 {
				c = cfg.Clone()
			}
			for range 4 {
				cs, err := configDial(t, e.ports[i%2].Addr.String(), c)
				if err != nil {
					t.Error(err)
					return
				}
				if cs.DidResume {
					resumed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if calls.Load() != 32 {
		t.Errorf("handler asked %d times, want 32", calls.Load())
	}
	total, reused := e.tickets.counts()
	if reused != 0 || resumed.Load() == 0 || total == 0 {
		t.Errorf("tickets presented %d, %d twice; %d resumed", total, reused, resumed.Load())
	}
}

// TestClientConfigClone: the fields that are giotls's rules survive Clone.
func TestClientConfigClone(t *testing.T) {
	cfg := mustConfig(t, nil, ClientConfigOptions{ServerName: "a.example", Certificate: newClientAuthPKI(t).certA})
	c := cfg.Clone()
	if !c.InsecureSkipVerify || c.VerifyConnection == nil || c.GetClientCertificate == nil ||
		c.ClientSessionCache != cfg.ClientSessionCache || c.Renegotiation != tls.RenegotiateNever ||
		c.MinVersion != tls.VersionTLS12 || c.ServerName != "a.example" {
		t.Fatalf("Clone lost giotls's fields: %+v", c)
	}
	for name, want := range map[string]string{"Bücher.Example.": "xn--bcher-kva.example", "[::FFFF:127.0.0.1]": "127.0.0.1", ".": "error"} {
		cfg, err := DefaultBackend().ClientConfig(ClientConfigOptions{ServerName: name})
		var e *Error
		switch {
		case want == "error" && (!errors.As(err, &e) || e.Code != ErrorMisc):
			t.Errorf("ServerName %q: %v, want ErrorMisc", name, err)
		case want != "error" && (err != nil || cfg.ServerName != want):
			t.Errorf("ServerName %q: %v, want %q", name, err, want)
		}
	}
}

// TestClientConfigClientCertificate: the Interaction is given the accepted
// CAs as a connection's is, its certificate is sent, and an encrypted key is
// unlocked through AskPassword.
func TestClientConfigClientCertificate(t *testing.T) {
	p := newClientAuthPKI(t)
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			srv := startClientAuthServer(t, p, v, tls.RequireAndVerifyClientCert, p.caA.Cert, p.caB.Cert)
			encrypted := encryptPKCS8(t, p.leafB.Key, "s3cret", 1000, oidHMACWithSHA256, oidAES256CBC, 32)
			locked, err := NewCertificateFromPEM(cat(p.leafB.ChainPEM(), encrypted))
			if err != nil {
				t.Fatal(err)
			}
			var cas [][]byte
			ask := &passwords{answers: []string{"nope", "s3cret"}}
			cfg := mustConfig(t, nil, ClientConfigOptions{ServerName: "localhost", Database: p.server.db,
				Interaction: &testInteraction{askPassword: ask.AskPassword,
					requestCertificate: func(_ context.Context, c *ClientConnection) (InteractionResult, error) {
						cas = c.AcceptedCAs()
						if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
							t.Errorf("stand-in Read = %v, want net.ErrClosed", err)
						}
						c.SetCertificate(locked)
						return InteractionHandled, nil
					}}})
			if err := clientAuthEcho(t, srv.Addr.String(), cfg); err != nil {
				t.Fatal(err)
			}
			if want := [][]byte{p.caA.Cert.RawSubject, p.caB.Cert.RawSubject}; !slices.EqualFunc(cas, want, bytes.Equal) {
				t.Errorf("AcceptedCAs = %q, want the server's", cas)
			}
			if got := ask.asked(); !slices.Equal(got, []PasswordFlags{PasswordNone, PasswordRetry}) {
				t.Errorf("asked %v", got)
			}
			if v := srv.views(); len(v) != 1 || !sameChain(v[0].chain, p.certB) {
				t.Errorf("server saw %v, want B", v)
			}
			fixed := mustConfig(t, nil, ClientConfigOptions{ServerName: "localhost", Database: p.server.db, Certificate: p.certA})
			if err := clientAuthEcho(t, srv.Addr.String(), fixed); err != nil {
				t.Fatal(err)
			}
			if v := srv.views(); len(v) != 2 || !sameChain(v[1].chain, p.certA) {
				t.Errorf("server saw %v, want A", v)
			}
		})
	}
}

// clientAuthEcho makes one connection to an echoing server on cfg, and
// checks the echo (the server has then finished its handshake).
func clientAuthEcho(t *testing.T, addr string, cfg *tls.Config) error {
	t.Helper()
	tc := configClient(t, addr, cfg)
	defer tc.Close()
	msg := []byte("echo\n")
	if _, err := tc.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(tc, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo %q, %v", got, err)
	}
	return nil
}

// TestClientConfigVerifyBound: crypto/tls gives VerifyConnection no
// context, so a Database of the user's own that waits for its context is
// stopped by verifyBound, and the handshake fails with giotls's error.
func TestClientConfigVerifyBound(t *testing.T) {
	saved := verifyBound
	verifyBound = 200 * time.Millisecond
	defer func() { verifyBound = saved }()
	e := newResumptionEnv(t, tls.VersionTLS13, tls.NoClientCert, BackendOptions{DisableResumption: true})
	cfg := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: &blockingDatabase{started: make(chan struct{})}})
	start := time.Now()
	_, err := configDial(t, e.ports[0].Addr.String(), cfg)
	var gerr *Error
	if !errors.As(err, &gerr) || gerr.Code != ErrorBadCertificate || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("handshake = %v, want ErrorBadCertificate from the bound's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the handshake took %v", d)
	}
}
