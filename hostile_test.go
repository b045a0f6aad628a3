package giotls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/sessioncache"
	"github.com/giotls/giotls/internal/testpki"
)

// Hostile servers: what a TLS client meets when the server is broken or
// attacks it. Each case must end, quickly, in a clear error, and leave
// nothing behind that grows without bound.

// TestHostilePlainTextGreeting checks that a server greeting in plain text
// (an SMTP or POP3 server on a port where the client expected implicit TLS)
// gives ErrNotTLS at once, quoting the greeting: even one shorter than a
// TLS record header, for which crypto/tls alone would wait for more.
func TestHostilePlainTextGreeting(t *testing.T) {
	for _, greeting := range []string{"220 mail.example ESMTP ready\r\n", "+OK\r", "*"} {
		t.Run(strings.TrimSpace(greeting), func(t *testing.T) {
			srv := startHostileServer(t, func(c net.Conn, done <-chan struct{}) {
				io.WriteString(c, greeting)
				waitOrDone(done)
			})
			c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
			c.SetDeadline(time.Now().Add(10 * time.Second))
			start := time.Now()
			err := c.Handshake(context.Background())
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("Handshake took %v, want the greeting's first byte to end it", elapsed)
			}
			if !errors.Is(err, ErrNotTLS) || !strings.Contains(err.Error(), strings.TrimSpace(greeting)) {
				t.Errorf("Handshake = %v, want ErrNotTLS quoting the greeting", err)
			}
		})
	}
}

// TestHostileSilentServer checks that a server that accepts and never
// answers is ended by the handshake's context, or by the connection's
// deadline when the handshake is implicit.
func TestHostileSilentServer(t *testing.T) {
	srv := startHostileServer(t, func(c net.Conn, done <-chan struct{}) { waitOrDone(done) })
	const limit = 300 * time.Millisecond
	t.Run("context", func(t *testing.T) {
		c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		start := time.Now()
		err := c.Handshake(ctx)
		if elapsed := time.Since(start); elapsed < limit || elapsed > limit+time.Second {
			t.Errorf("Handshake returned after %v, want about %v", elapsed, limit)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Handshake = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
		c.SetDeadline(time.Now().Add(limit))
		start := time.Now()
		_, err := c.Write([]byte("x"))
		if elapsed := time.Since(start); elapsed < limit || elapsed > limit+time.Second {
			t.Errorf("Write returned after %v, want about %v", elapsed, limit)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Write = %v, want a timeout", err)
		}
	})
}

// TestHostileSlowServer puts a proxy that lets the server's bytes through
// one a second between the client and a real server. The context (or the
// deadline) ends the handshake, and the client waits without spinning: it
// reads the base stream about once per byte, and uses little CPU.
func TestHostileSlowServer(t *testing.T) {
	ca := newTestCA(t, "Slow Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	real := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	proxy := startHostileServer(t, func(c net.Conn, done <-chan struct{}) {
		up, err := net.Dial("tcp", real.Addr.String())
		if err != nil {
			return
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); io.Copy(up, c) }()
		defer func() { c.Close(); up.Close(); wg.Wait() }()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		b := make([]byte, 1)
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if _, err := io.ReadFull(up, b); err != nil {
				return
			}
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	})
	const limit = 2500 * time.Millisecond
	check := func(t *testing.T, start time.Time, cpu0 time.Duration, cc *countingConn) {
		t.Helper()
		wall, cpu := time.Since(start), cpuTime(t)-cpu0
		if wall < limit || wall > limit+time.Second {
			t.Errorf("the handshake ended after %v, want about %v", wall, limit)
		}
		reads, n := cc.counts()
		if n == 0 || n > 3 || reads > n+2 {
			t.Errorf("%d reads returned %d bytes: want a read per byte of a server sending one a second", reads, n)
		}
		if cpu > wall/2 {
			t.Errorf("the process used %v of CPU in %v of waiting: a busy loop", cpu, wall)
		}
	}
	t.Run("context", func(t *testing.T) {
		c, cc := dialClient(t, nil, proxy.Addr, localhost(proxy.Addr.Port()))
		c.SetDatabase(ca.db)
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		start, cpu0 := time.Now(), cpuTime(t)
		if err := c.Handshake(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Handshake = %v, want context.DeadlineExceeded", err)
		}
		check(t, start, cpu0, cc)
	})
	t.Run("deadline", func(t *testing.T) {
		c, cc := dialClient(t, nil, proxy.Addr, localhost(proxy.Addr.Port()))
		c.SetDatabase(ca.db)
		start, cpu0 := time.Now(), cpuTime(t)
		c.SetReadDeadline(start.Add(limit))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Read = %v, want a timeout", err)
		}
		check(t, start, cpu0, cc)
	})
}

// TestHostileHugeCertificateMessage sends a certificate chain of 4 MiB.
// crypto/tls refuses a Certificate message over 256 KiB when it reads its
// header, so the client stops reading there: bounded memory, and a clear
// error at once.
func TestHostileHugeCertificateMessage(t *testing.T) {
	ca := newTestCA(t, "Huge Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cert := leaf.TLSCertificate()
	for range 4 {
		cert.Certificate = append(cert.Certificate, bytes.Repeat([]byte{0x30}, 1<<20))
	}
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: v, MaxVersion: v}
			srv := startTLSServer(t, "tcp4", cfg, nil)
			c, cc := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
			c.SetDatabase(ca.db)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			err := c.Handshake(ctx)
			if !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), "exceeds maximum") {
				t.Errorf("Handshake = %v, want ErrHandshake saying the message is too large", err)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Handshake took %v", elapsed)
			}
			if _, n := cc.counts(); n > 256<<10 {
				t.Errorf("the client read %d bytes of a 4 MiB chain, want it to stop at the message header", n)
			}
			if c.PeerCertificate() != nil {
				t.Errorf("a peer certificate was recorded from a refused message")
			}
		})
	}
}

// TestHostileManyCertificates sends hundreds of certificates: a chain of
// 300 intermediates that does reach a trusted root, and 380 certificates
// cross-signing 20 keys of the same name every way, the worst case for path
// building. Path building is bounded (depth 16, 64 certificates considered,
// 512 issuer candidates tried), so each handshake fails quickly with
// unknown-ca.
func TestHostileManyCertificates(t *testing.T) {
	ca := newTestCA(t, "Many Root")
	long := ca.CA
	for i := range 300 {
		long = long.MustIntermediate(t, fmt.Sprintf("Intermediate %d", i))
	}
	longLeaf := long.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))

	// Every key of the mesh certified by every other, in an order that puts
	// each key among the first certificates: with those the verifier
	// considers, the simple paths from the leaf number in the millions.
	const n = 20
	mesh := make([]*testpki.CA, n)
	for i := range mesh {
		mesh[i] = testpki.MustCA(t, "Mesh CA")
	}
	meshLeaf := mesh[0].MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	meshChain := []*x509.Certificate{meshLeaf.Cert}
	for d := 1; d < n; d++ {
		for i := range n {
			cross, err := mesh[(i+d)%n].CrossSign(mesh[i])
			if err != nil {
				t.Fatal(err)
			}
			meshChain = append(meshChain, cross)
		}
	}
	meshLeaf.Chain = meshChain
	// The database trusts the long chain's root, nothing of the mesh's: path
	// building explores the mesh until its budget runs out.
	db := NewDatabase([]*x509.Certificate{ca.Cert})

	for _, tc := range []struct {
		name string
		leaf *testpki.Leaf
		sent int
	}{
		{"300 intermediates", longLeaf, 301},
		{"380 cross-certificates", meshLeaf, 1 + n*(n-1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startTLSServer(t, "tcp4", serverConfig(tc.leaf), nil)
			c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
			c.SetDatabase(db)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			err := c.Handshake(ctx)
			elapsed := time.Since(start)
			if !errors.Is(err, ErrBadCertificate) || !strings.Contains(err.Error(), "unknown-ca") {
				t.Errorf("Handshake = %v, want ErrBadCertificate for unknown-ca", err)
			}
			if c.PeerCertificateErrors() != CertificateUnknownCA {
				t.Errorf("PeerCertificateErrors = %v, want unknown-ca", c.PeerCertificateErrors())
			}
			if got := len(c.PeerCertificate().chain()); got != tc.sent {
				t.Errorf("peer chain has %d certificates, want the %d sent", got, tc.sent)
			}
			if elapsed > 10*time.Second {
				t.Errorf("Handshake took %v", elapsed)
			}
			t.Logf("%d certificates refused in %v", tc.sent, elapsed)
		})
	}
}

// TestHostileConstraintBomb sends issue 12's chain, which needs no trusted
// CA: a leaf with 6,000 names, an intermediate with 6,000 excluded
// constraints that match none of them, and 8 look-alike roots. Compared
// name by constraint on every path it took 21.7 s; with a 1 s context the
// handshake must fail within 1.5 s.
func TestHostileConstraintBomb(t *testing.T) {
	leaf := testpki.ConstraintBomb(t, 6000, 6000, 8, "localhost")
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
	c.SetDatabase(NewDatabase([]*x509.Certificate{testpki.MustCA(t, "Unrelated Root").Cert}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err := c.Handshake(ctx)
	elapsed := time.Since(start)
	if elapsed > 1500*time.Millisecond {
		t.Errorf("Handshake took %v with a 1 s context", elapsed)
	}
	if !errors.Is(err, ErrBadCertificate) {
		t.Errorf("Handshake = %v, want ErrBadCertificate", err)
	}
	t.Logf("refused in %v: %v", elapsed, err)
}

// fakeClock is a settable clock for a session cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// takeSession takes the session a connection looking up key would offer,
// as crypto/tls's one Get before the ClientHello does.
func takeSession(cache *SessionCache, key string) (*tls.ClientSessionState, bool) {
	return sessioncache.NewConnCache(cache.c, key).Get(key)
}

// lastHandshake returns the state of c's last handshake.
func lastHandshake(c *ClientConnection) *handshakeState {
	c.res.mu.Lock()
	defer c.res.mu.Unlock()
	return c.res.last
}

// receivedSessions returns how many sessions a connection's adapter keeps
// for CopySessionState, read through reflection from the unexported
// sessioncache.ConnCache.received.
func receivedSessions(c *ClientConnection) int {
	s := lastHandshake(c).sessions
	return reflect.ValueOf(s).Elem().FieldByName("received").Len()
}

// TestHostileSessionTicketFlood has the server send 10,000 NewSessionTicket
// messages, ten per record, with a byte of data after each record (crypto/tls
// ends a connection after 16 handshake messages in a row that carry no
// data). The connection survives, and the cache and the connection's own
// record stay bounded, keeping the newest tickets.
func TestHostileSessionTicketFlood(t *testing.T) {
	ca := newTestCA(t, "Flood Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	const tickets, perRecord = 10_000, 10
	srv := startRecordServer(t, leaf, func(r *serverRecords, done <-chan struct{}) {
		for i := 0; i < tickets; i += perRecord {
			var msgs []byte
			for j := i; j < i+perRecord; j++ {
				msgs = append(msgs, newSessionTicket(3600, []byte{byte(j >> 8), byte(j)}, fmt.Appendf(nil, "ticket-%05d", j))...)
			}
			if r.write(recordHandshake, msgs) != nil || r.write(recordApplicationData, []byte{'.'}) != nil {
				return
			}
		}
		waitOrDone(done)
	})
	const keep = 5
	b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{MaxTicketsPerKey: keep})})
	c, _ := dialClient(t, b, srv.Addr, localhost(srv.Addr.Port()))
	c.SetDatabase(ca.db)
	c.SetDeadline(time.Now().Add(60 * time.Second))
	start := time.Now()
	if _, err := io.ReadFull(c, make([]byte, tickets/perRecord)); err != nil {
		t.Fatalf("reading through %d tickets: %v", tickets, err)
	}
	t.Logf("%d tickets received in %v", tickets, time.Since(start))
	cache := b.opts.SessionCache
	if keys, sessions := cache.Len(); keys != 1 || sessions != keep {
		t.Errorf("cache holds %d keys and %d sessions, want 1 and %d", keys, sessions, keep)
	}
	if n := receivedSessions(c); n > keep {
		t.Errorf("the connection keeps %d sessions for CopySessionState, want at most %d", n, keep)
	}
	// The queue kept the newest: the oldest left is ticket 9995.
	st, ok := takeSession(cache, lastHandshake(c).startKey)
	if !ok {
		t.Fatal("no session under the connection's key")
	}
	label, _, err := st.ResumptionState()
	if err != nil || string(label) != fmt.Sprintf("ticket-%05d", tickets-keep) {
		t.Errorf("oldest ticket kept is %q (%v), want ticket-%05d", label, err, tickets-keep)
	}
}

// TestHostileTicketLifetime checks how long a ticket is kept: a lifetime
// over seven days is refused (RFC 8446, section 4.6.1: crypto/tls fails the
// read, and nothing is stored); a seven-day ticket is kept at most MaxAge
// (ten minutes by default) after the full handshake, and never beyond seven
// days whatever MaxAge says.
func TestHostileTicketLifetime(t *testing.T) {
	ca := newTestCA(t, "Lifetime Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	const week = 7 * 24 * 3600
	serve := func(lifetime uint32) *hostileServer {
		return startRecordServer(t, leaf, func(r *serverRecords, done <-chan struct{}) {
			if r.write(recordHandshake, newSessionTicket(lifetime, nil, []byte("long-lived"))) == nil {
				r.write(recordApplicationData, []byte{'.'})
			}
			waitOrDone(done)
		})
	}
	connect := func(t *testing.T, srv *hostileServer, maxAge time.Duration) (*SessionCache, *fakeClock, string, error) {
		clock := &fakeClock{now: time.Now()}
		cache := &SessionCache{c: sessioncache.New(sessioncache.Options{MaxAge: maxAge, Now: clock.Now})}
		c, _ := dialClient(t, NewBackend(BackendOptions{SessionCache: cache}), srv.Addr, localhost(srv.Addr.Port()))
		c.SetDatabase(ca.db)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err := io.ReadFull(c, make([]byte, 1))
		return cache, clock, lastHandshake(c).startKey, err
	}

	t.Run("over seven days", func(t *testing.T) {
		cache, _, _, err := connect(t, serve(week+1), 0)
		if !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), "lifetime") {
			t.Errorf("Read = %v, want ErrMisc about the ticket's lifetime", err)
		}
		if keys, sessions := cache.Len(); keys != 0 || sessions != 0 {
			t.Errorf("cache holds %d keys, %d sessions after a refused ticket", keys, sessions)
		}
	})
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		kept   time.Duration // how long the ticket must be offered
	}{
		{"default MaxAge", 0, 10 * time.Minute},
		{"MaxAge of a month", 30 * 24 * time.Hour, 7 * 24 * time.Hour},
		{"MaxAge of an hour", time.Hour, time.Hour},
	} {
		t.Run("seven days, "+tc.name, func(t *testing.T) {
			srv := serve(week)
			// Taking the ticket spends it: one connection for each side of
			// the bound.
			for _, after := range []time.Duration{tc.kept - time.Second, tc.kept + time.Second} {
				cache, clock, key, err := connect(t, srv, tc.maxAge)
				if err != nil {
					t.Fatal(err)
				}
				clock.Set(clock.Now().Add(after))
				if _, ok := takeSession(cache, key); ok != (after < tc.kept) {
					t.Errorf("after %v: ticket offered %v, want %v (kept %v)", after, ok, after < tc.kept, tc.kept)
				}
			}
		})
	}
}

// halfRecordConn writes half of the first Write after arm, then closes the
// connection: a TCP close in the middle of a record.
type halfRecordConn struct {
	net.Conn
	armed atomic.Bool
}

func (c *halfRecordConn) Write(p []byte) (int, error) {
	if !c.armed.Load() {
		return c.Conn.Write(p)
	}
	c.Conn.Write(p[:len(p)/2])
	c.Conn.Close()
	return 0, net.ErrClosed
}

// TestHostileTruncatedRecord closes TCP in the middle of a record, during
// the handshake and after it. After the handshake, it is ErrEOF whatever
// require-close-notify says (a record cut short is never a clean end), and
// it stays.
func TestHostileTruncatedRecord(t *testing.T) {
	ca := newTestCA(t, "Half Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	serve := func(duringHandshake bool) *hostileServer {
		return startHostileServer(t, func(c net.Conn, done <-chan struct{}) {
			hc := &halfRecordConn{Conn: c}
			hc.armed.Store(duringHandshake)
			tc := tls.Server(hc, serverConfig(leaf))
			tc.SetDeadline(time.Now().Add(10 * time.Second))
			if tc.Handshake() != nil {
				return
			}
			hc.armed.Store(true)
			tc.Write([]byte("a record that will not arrive whole"))
		})
	}
	t.Run("handshake", func(t *testing.T) {
		srv := serve(true)
		c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
		c.SetDatabase(ca.db)
		if err := c.Handshake(context.Background()); !errors.Is(err, ErrHandshake) {
			t.Errorf("Handshake = %v, want ErrHandshake", err)
		}
	})
	srv := serve(false)
	for _, require := range []bool{true, false} {
		t.Run(fmt.Sprintf("transfer, require-close-notify %v", require), func(t *testing.T) {
			c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
			c.SetDatabase(ca.db)
			c.SetRequireCloseNotify(require)
			got, err := io.ReadAll(c)
			if len(got) != 0 || !errors.Is(err, ErrEOF) || !strings.Contains(err.Error(), "middle of a record") {
				t.Fatalf("ReadAll = %q, %v; want nothing and ErrEOF for a record cut short", got, err)
			}
			if _, err2 := c.Read(make([]byte, 1)); !errors.Is(err2, ErrEOF) {
				t.Errorf("second Read = %v, want ErrEOF again", err2)
			}
		})
	}
}

// TestHostileAlerts has the server answer the ClientHello with a fatal
// alert, or send one after the handshake: the error names the alert and has
// GIO's code for it (G_TLS_ERROR_MISC, "Peer sent fatal TLS alert", but for
// the alerts that have codes of their own).
func TestHostileAlerts(t *testing.T) {
	for _, tc := range []struct {
		desc byte
		name string
		want error
	}{
		{40, "handshake failure", ErrMisc},
		{70, "protocol version not supported", ErrMisc},
		{112, "unrecognized name", ErrMisc},
		{48, "unknown certificate authority", ErrMisc},
		{86, "inappropriate fallback", ErrInappropriateFallback},
		{116, "certificate required", ErrCertificateRequired},
		{200, "alert(200)", ErrMisc},
	} {
		t.Run("handshake/"+tc.name, func(t *testing.T) {
			srv := startHostileServer(t, func(c net.Conn, done <-chan struct{}) {
				c.Read(make([]byte, 4096)) // the ClientHello
				c.Write([]byte{recordAlert, 3, 3, 0, 2, 2, tc.desc})
				waitOrDone(done)
			})
			c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
			err := c.Handshake(context.Background())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("Handshake = %v, want %v naming %q", err, tc.want, tc.name)
			}
		})
	}
	ca := newTestCA(t, "Alert Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	for _, tc := range []struct {
		desc byte
		name string
	}{
		{80, "internal error"},
		{10, "unexpected message"},
		{20, "bad record MAC"},
	} {
		t.Run("after the handshake/"+tc.name, func(t *testing.T) {
			srv := startRecordServer(t, leaf, func(r *serverRecords, done <-chan struct{}) {
				r.write(recordApplicationData, []byte("data, then "))
				r.write(recordAlert, []byte{2, tc.desc})
				waitOrDone(done)
			})
			c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
			c.SetDatabase(ca.db)
			got, err := io.ReadAll(c)
			if string(got) != "data, then " || !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("ReadAll = %q, %v; want the data, then ErrMisc naming %q", got, err, tc.name)
			}
		})
	}
}

// TestHostileSessionTicketFloodOpenSSL has openssl s_server send 10,000
// TLS 1.3 tickets after its handshake, all in a row: crypto/tls ends the
// connection after 16 handshake messages that carry no data, with a clear
// error, and the cache holds at most a key's worth of tickets.
func TestHostileSessionTicketFloodOpenSSL(t *testing.T) {
	ca := newTestCA(t, "OpenSSL Flood Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	certFile, keyFile, _, err := leaf.WriteFiles(t.TempDir(), "leaf")
	if err != nil {
		t.Fatal(err)
	}
	port := peer.FreePort(t)
	p := peer.Start(t, peer.Addr(port), "openssl", "s_server", "-accept", peer.Addr(port), "-cert", certFile, "-key", keyFile,
		"-tls1_3", "-num_tickets", "10000", "-www")
	b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
	c, _ := dialClient(t, b, netip.MustParseAddrPort(p.Addr), localhost(uint16(port)))
	c.SetDatabase(ca.db)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	_, err = io.ReadAll(c)
	if !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), "non-advancing") {
		t.Errorf("%s", p.Errorf("ReadAll = %v, want ErrMisc: too many tickets in a row", err))
	}
	if keys, sessions := b.opts.SessionCache.Len(); keys != 1 || sessions > sessioncache.DefaultMaxTicketsPerKey {
		t.Errorf("cache holds %d keys and %d sessions, want 1 and at most %d", keys, sessions, sessioncache.DefaultMaxTicketsPerKey)
	}
}
