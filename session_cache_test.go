package giotls

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// ticketLog wraps a server configuration so that every session ticket a
// client presents is recorded (by hash) before the server decrypts it.
type ticketLog struct {
	mu        sync.Mutex
	presented map[[32]byte]int
	total     int
}

func newTicketLog(cfg *tls.Config) *ticketLog {
	l := &ticketLog{presented: map[[32]byte]int{}}
	// Explicit keys, so that the clones startTLSServer makes decrypt what
	// this cfg's DecryptTicket does.
	var key [32]byte
	rand.Read(key[:])
	cfg.SetSessionTicketKeys([][32]byte{key})
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		if len(identity) == 0 { // TLS 1.2 servers are asked on every ClientHello
			return nil, nil
		}
		l.mu.Lock()
		l.presented[sha256.Sum256(identity)]++
		l.total++
		l.mu.Unlock()
		return cfg.DecryptTicket(identity, cs)
	}
	return l
}

// counts returns how many tickets were presented, and how many of them more
// than once.
func (l *ticketLog) counts() (total, reused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.presented {
		if n > 1 {
			reused += n - 1
		}
	}
	return l.total, reused
}

// resumptionEnv is a server presenting a certificate for a.example,
// b.example and 127.0.0.1 on two ports with the same ticket keys, and a
// backend with a cache of its own.
type resumptionEnv struct {
	ca      *testCA
	ports   [2]*tlsServer
	tickets *ticketLog
	backend *Backend
}

func newResumptionEnv(t *testing.T, version uint16, clientAuth tls.ClientAuthType, opts BackendOptions) *resumptionEnv {
	t.Helper()
	ca := newTestCA(t, "Resumption Root")
	leaf := ca.MustLeaf(t, "server", testpki.DNSNames("a.example", "b.example"), testpki.IPAddresses("127.0.0.1"))
	cfg := serverConfig(leaf)
	cfg.MinVersion, cfg.MaxVersion = version, version
	cfg.ClientAuth = clientAuth
	e := &resumptionEnv{ca: ca, tickets: newTicketLog(cfg)}
	// The server writes one byte, so that the client's Read processes the
	// TLS 1.3 NewSessionTicket, then waits for the client to close.
	handle := func(c *tls.Conn) { c.Write([]byte{'!'}); io.Copy(io.Discard, c) }
	e.ports[0] = startTLSServer(t, "tcp4", cfg, handle)
	e.ports[1] = startTLSServer(t, "tcp4", cfg, handle)
	if opts.SessionCache == nil {
		opts.SessionCache = NewSessionCache(SessionCacheOptions{})
	}
	e.backend = NewBackend(opts)
	return e
}

// connect makes one connection to port i as host, presenting cert, reading
// the server's byte if read is set; it returns the handshaken connection.
func (e *resumptionEnv) connect(t *testing.T, i int, host string, cert *Certificate, read bool) *ClientConnection {
	t.Helper()
	srv := e.ports[i]
	c := dialTest(t, srv.Addr.String(), dialConfig{Backend: e.backend, Identity: NewNetworkAddress(host, srv.Addr.Port()), Database: e.ca.db})
	c.SetCertificate(cert)
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	if read {
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatalf("Read: %v", err)
		}
	}
	return c
}

var tlsVersions = []uint16{tls.VersionTLS12, tls.VersionTLS13}

func TestAutomaticResumption(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newResumptionEnv(t, v, tls.NoClientCert, BackendOptions{})
			for i, want := range []bool{false, true, true} {
				c := e.connect(t, 0, "a.example", nil, true)
				if c.SessionResumed() != want {
					t.Errorf("connection %d: SessionResumed = %v, want %v", i+1, c.SessionResumed(), want)
				}
				if c.PeerCertificate() == nil || c.PeerCertificateErrors() != 0 {
					t.Errorf("connection %d: peer %v, errors %v; want the verified peer", i+1, c.PeerCertificate(), c.PeerCertificateErrors())
				}
				c.Close()
			}
			total, reused := e.tickets.counts()
			// A TLS 1.2 state may be presented again (the crypto/tls server
			// renews it on resumption, so here it is not); a TLS 1.3 ticket never.
			if total != 2 || (v == tls.VersionTLS13 && reused != 0) {
				t.Errorf("server saw %d tickets presented, %d again; want 2, and a TLS 1.3 ticket never twice", total, reused)
			}
		})
	}
}

func TestDisableResumption(t *testing.T) {
	e := newResumptionEnv(t, tls.VersionTLS13, tls.NoClientCert, BackendOptions{DisableResumption: true})
	for range 2 {
		if c := e.connect(t, 0, "a.example", nil, true); c.SessionResumed() {
			t.Errorf("resumed with resumption disabled")
		}
	}
	if total, _ := e.tickets.counts(); total != 0 {
		t.Errorf("%d tickets presented with resumption disabled", total)
	}
}

// TestTicketsNeverPresentedTwice runs 1,000 TLS 1.3 connections to one
// identity, sequential and concurrent, some of which never read. A
// connection that never reads still receives its ticket when it closes
// gracefully (Close drains what the server sent, the ticket included); one
// left open receives none. The server must never see a ticket twice, and a
// connection must resume whenever a fresh ticket was left.
func TestTicketsNeverPresentedTwice(t *testing.T) {
	e := newResumptionEnv(t, tls.VersionTLS13, tls.NoClientCert, BackendOptions{})
	// Sequential: a model of the cache says when a ticket is left (the
	// crypto/tls server sends one ticket per connection; the queue keeps 8).
	// Modes: 0 and 1 read then close, 2 closes without reading, 3 neither
	// reads nor closes (until the test ends).
	left := 0
	for i := range 300 {
		mode := i % 4
		c := e.connect(t, 0, "a.example", nil, mode < 2)
		if want := left > 0; c.SessionResumed() != want {
			t.Fatalf("connection %d (mode %d): resumed %v, want %v (%d fresh tickets left)", i, mode, c.SessionResumed(), want, left)
		}
		if left > 0 {
			left--
		}
		if mode == 3 {
			continue
		}
		if err := c.Close(); err != nil {
			t.Fatalf("connection %d: Close: %v", i, err)
		}
		left = min(left+1, 8)
	}
	// Concurrent: 100 goroutines at once, then more in waves.
	var resumed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 700)
	for i := range 700 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base, err := net.Dial("tcp", e.ports[0].Addr.String())
			if err != nil {
				errs <- err
				return
			}
			c, _ := e.backend.NewClientConnection(base, NewNetworkAddress("a.example", e.ports[0].Addr.Port()))
			defer c.Close()
			c.SetDatabase(e.ca.db)
			if err := c.Handshake(context.Background()); err != nil {
				errs <- err
				return
			}
			if i%4 != 0 {
				if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
					errs <- err
					return
				}
			}
			if c.SessionResumed() {
				resumed.Add(1)
			}
		}()
		if i%100 == 99 {
			wg.Wait()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total, reused := e.tickets.counts()
	if reused != 0 {
		t.Errorf("%d tickets presented more than once", reused)
	}
	if int64(total) < resumed.Load() {
		t.Errorf("%d concurrent resumptions but only %d tickets presented in all", resumed.Load(), total)
	}
	if resumed.Load() == 0 {
		t.Errorf("no concurrent connection resumed")
	}
	if keys, sessions := e.backend.opts.SessionCache.Len(); keys > 1 || sessions > 8 {
		t.Errorf("cache holds %d keys, %d sessions; want at most 1 and 8", keys, sessions)
	}
}

// TestResumptionIsolation checks that a session is offered only to the same
// host, port and client certificate.
func TestResumptionIsolation(t *testing.T) {
	certCA := testpki.MustCA(t, "Client Root")
	mkCert := func(name string) *Certificate {
		l := certCA.MustLeaf(t, name, testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))
		c, err := NewCertificateFromX509(l.Chain, l.Key)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	alice, bob := mkCert("alice"), mkCert("bob")
	type side struct {
		port int
		host string
		cert *Certificate
	}
	tests := []struct {
		name        string
		first, next side
		wantResumed bool
	}{
		{"same host, port, no certificate", side{0, "a.example", nil}, side{0, "a.example", nil}, true},
		{"same host, port, certificate", side{0, "a.example", alice}, side{0, "a.example", alice}, true},
		{"host name case", side{0, "a.example", nil}, side{0, "A.Example", nil}, true},
		{"other host", side{0, "a.example", nil}, side{0, "b.example", nil}, false},
		{"IP instead of name", side{0, "a.example", nil}, side{0, "127.0.0.1", nil}, false},
		{"other port", side{0, "a.example", nil}, side{1, "a.example", nil}, false},
		{"certificate, then none", side{0, "a.example", alice}, side{0, "a.example", nil}, false},
		{"none, then certificate", side{0, "a.example", nil}, side{0, "a.example", alice}, false},
		{"other certificate", side{0, "a.example", alice}, side{0, "a.example", bob}, false},
	}
	for _, v := range tlsVersions {
		for _, tt := range tests {
			t.Run(tls.VersionName(v)+"/"+tt.name, func(t *testing.T) {
				e := newResumptionEnv(t, v, tls.RequestClientCert, BackendOptions{})
				e.connect(t, tt.first.port, tt.first.host, tt.first.cert, true).Close()
				c := e.connect(t, tt.next.port, tt.next.host, tt.next.cert, true)
				total, _ := e.tickets.counts()
				if c.SessionResumed() != tt.wantResumed || (total > 0) != tt.wantResumed {
					t.Errorf("resumed %v with %d tickets presented; want resumed %v", c.SessionResumed(), total, tt.wantResumed)
				}
			})
		}
	}
}

// embeddingConn is what a protocol library might hold: its own type with the
// connection embedded, whose inner connection it passes to CopySessionState.
type embeddingConn struct {
	*ClientConnection
	label string
}

func TestCopySessionState(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newResumptionEnv(t, v, tls.NoClientCert, BackendOptions{})
			control := e.connect(t, 0, "a.example", nil, true)
			// Without CopySessionState the other port does not resume.
			if c := e.connect(t, 1, "a.example", nil, false); c.SessionResumed() {
				t.Errorf("another port resumed without CopySessionState")
			}
			wrappers := []struct {
				name string
				src  func() *ClientConnection
			}{
				{"connection", func() *ClientConnection { return control }},
				{"embedded", func() *ClientConnection {
					return (&embeddingConn{ClientConnection: control, label: "ftp"}).ClientConnection
				}},
			}
			for _, w := range wrappers {
				t.Run(w.name, func(t *testing.T) {
					data := dialTest(t, e.ports[1].Addr.String(), dialConfig{Backend: e.backend, Identity: NewNetworkAddress("a.example", e.ports[1].Addr.Port()), Database: e.ca.db})
					defer data.Close()
					data.CopySessionState(w.src())
					if err := data.Handshake(context.Background()); err != nil {
						t.Fatal(err)
					}
					if !data.SessionResumed() {
						t.Errorf("the data connection did not resume the control connection's session")
					}
				})
			}
		})
	}
}

func TestCopySessionStateNoOps(t *testing.T) {
	e := newResumptionEnv(t, tls.VersionTLS13, tls.NoClientCert, BackendOptions{})
	dial := func() *ClientConnection {
		c := dialTest(t, e.ports[1].Addr.String(), dialConfig{Backend: e.backend, Identity: NewNetworkAddress("a.example", e.ports[1].Addr.Port()), Database: e.ca.db})
		return c
	}
	notStarted := dial()
	for name, src := range map[string]*ClientConnection{
		"nil":                   nil,
		"source not handshaken": notStarted,
		"zero value":            new(ClientConnection), // made by no backend
	} {
		t.Run(name, func(t *testing.T) {
			c := dial()
			c.CopySessionState(src) // must not panic
			if err := c.Handshake(context.Background()); err != nil {
				t.Fatal(err)
			}
			if c.SessionResumed() {
				t.Errorf("resumed from nothing")
			}
		})
	}
	t.Run("after the handshake", func(t *testing.T) {
		control := e.connect(t, 0, "a.example", nil, true)
		c := dial()
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.CopySessionState(control) // too late: a no-op
		if c.SessionResumed() {
			t.Errorf("SessionResumed changed after the handshake")
		}
	})
	t.Run("itself", func(t *testing.T) {
		c := dial()
		c.CopySessionState(c)
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestResumedHandshakeReverified checks that a session whose certificate was
// accepted despite its errors is verified again, and the handler asked
// again, when it is resumed.
func TestResumedHandshakeReverified(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			// An unknown CA, not an expired leaf: crypto/tls itself drops a
			// session whose leaf has expired.
			ca := newTestCA(t, "Reverify Root")
			stranger := testpki.MustCA(t, "Stranger Root")
			leaf := stranger.MustLeaf(t, "untrusted", testpki.DNSNames("a.example"))
			cfg := serverConfig(leaf)
			cfg.MinVersion, cfg.MaxVersion = v, v
			srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) { c.Write([]byte{'!'}); io.Copy(io.Discard, c) })
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
			asked := 0
			connect := func(accept bool) (*ClientConnection, error) {
				c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Identity: NewNetworkAddress("a.example", srv.Addr.Port()), Database: ca.db})
				c.OnAcceptCertificate(func(_ *Certificate, f CertificateFlags) bool {
					asked++
					return accept && f == CertificateUnknownCA
				})
				if err := c.Handshake(context.Background()); err != nil {
					return c, err
				}
				_, err := io.ReadFull(c, make([]byte, 1))
				return c, err
			}
			if _, err := connect(true); err != nil {
				t.Fatal(err)
			}
			c, err := connect(true)
			if err != nil || !c.SessionResumed() {
				t.Fatalf("second connection: %v, resumed %v", err, c.SessionResumed())
			}
			if asked != 2 || c.PeerCertificateErrors() != CertificateUnknownCA || c.PeerCertificate() == nil {
				t.Errorf("resumed: handler asked %d times, errors %v; want 2 and unknown-ca", asked, c.PeerCertificateErrors())
			}
			c, err = connect(false)
			if !errors.Is(err, ErrBadCertificate) {
				t.Errorf("resumed and rejected: %v, want ErrBadCertificate", err)
			}
			if asked != 3 {
				t.Errorf("handler asked %d times, want 3", asked)
			}
		})
	}
}

// TestRealPeerResumption resumes TLS 1.2 and 1.3 sessions with openssl
// s_server (two tickets per TLS 1.3 connection) and gnutls-serv, as the
// servers themselves report it.
func TestRealPeerResumption(t *testing.T) {
	ca := newTestCA(t, "Real Peer Resumption Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cert, key, _, err := leaf.WriteFiles(t.TempDir(), "leaf")
	if err != nil {
		t.Fatal(err)
	}
	type peerRun struct {
		name  string
		start func(t *testing.T, port int) *peer.Process
		// exchange runs one request on c and returns what says whether the
		// server resumed.
		exchange func(t *testing.T, c *ClientConnection, p *peer.Process) bool
	}
	openssl := func(version string) func(*testing.T, int) *peer.Process {
		return func(t *testing.T, port int) *peer.Process {
			return peer.Start(t, peer.Addr(port), "openssl", "s_server", "-accept", peer.Addr(port),
				"-cert", cert, "-key", key, "-www", version)
		}
	}
	opensslExchange := func(t *testing.T, c *ClientConnection, p *peer.Process) bool {
		io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		page, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(p.Errorf("ReadAll: %v", err))
		}
		switch {
		case strings.Contains(string(page), "\nReused, "):
			return true
		case strings.Contains(string(page), "\nNew, "):
			return false
		}
		t.Fatal(p.Errorf("s_server page says neither New nor Reused: %.300q", page))
		return false
	}
	gnutls := func(priority string) func(*testing.T, int) *peer.Process {
		return func(t *testing.T, port int) *peer.Process {
			peer.Need(t, "gnutls-serv")
			return peer.Start(t, peer.Addr(port), "stdbuf", "-oL", "gnutls-serv", "--echo", "-p", fmt.Sprint(port),
				"--x509certfile", cert, "--x509keyfile", key, "--disable-client-cert", "--priority", priority)
		}
	}
	gnutlsExchange := func(t *testing.T, c *ClientConnection, p *peer.Process) bool {
		// gnutls-serv logs each connection: "*** This is a resumed session"
		// (if it is), then "- Description: ...". The log reaches us through
		// a pipe, so wait for this connection's Description line.
		before := p.Output()
		io.WriteString(c, "ping\n")
		if _, err := io.ReadFull(c, make([]byte, 5)); err != nil {
			t.Fatal(p.Errorf("echo: %v", err))
		}
		c.Close()
		want := strings.Count(before, "- Description:") + 1
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(p.Output(), "- Description:") < want {
			if time.Now().After(deadline) {
				t.Fatal(p.Errorf("gnutls-serv did not log the connection"))
			}
			time.Sleep(10 * time.Millisecond)
		}
		return strings.Count(p.Output(), "This is a resumed session") > strings.Count(before, "This is a resumed session")
	}
	runs := []peerRun{
		{"openssl TLS1.2", openssl("-tls1_2"), opensslExchange},
		{"openssl TLS1.3", openssl("-tls1_3"), opensslExchange},
		{"gnutls TLS1.2", gnutls("NORMAL:-VERS-ALL:+VERS-TLS1.2"), gnutlsExchange},
		{"gnutls TLS1.3", gnutls("NORMAL:-VERS-ALL:+VERS-TLS1.3"), gnutlsExchange},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			port := peer.FreePort(t)
			p := r.start(t, port)
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
			for i, want := range []bool{false, true, true} {
				c := dialTest(t, p.Addr, dialConfig{Backend: b, Identity: localhost(uint16(port)), Database: ca.db})
				serverResumed := r.exchange(t, c, p)
				c.Close()
				if serverResumed != want || c.SessionResumed() != want {
					t.Errorf("connection %d: server says resumed %v, client %v; want %v", i+1, serverResumed, c.SessionResumed(), want)
				}
			}
		})
	}
}
