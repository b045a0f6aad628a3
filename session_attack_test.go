package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCloseDrainKeepsTickets: a connection that never reads (an FTP upload)
// receives its TLS 1.3 ticket only while Close drains. Kept there, under the
// rules of its chain, it is what lets the next connection resume without
// presenting a ticket again: eight copies in a row, and eight plain
// connections in a row, each one handshaking and closing without reading,
// all resume and no ticket is presented twice. What the copies bring back
// stays with the source's chain (connect checks that a plain connection
// where they went resumes none of it).
func TestCloseDrainKeepsTickets(t *testing.T) {
	tests := []struct {
		name     string
		disabled bool // the backend has DisableResumption: its chains live in no cache
		copy     bool // each connection copies the first one's session
	}{
		{"copies", false, true},
		{"copies, DisableResumption", true, true},
		{"plain connections", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLineageEnv(t, tls.VersionTLS13)
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{}), DisableResumption: tt.disabled})
			a, _ := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example"})
			for i := range 8 {
				lc := lineageConn{backend: b, port: 0, host: "a.example", noRead: true}
				if tt.copy {
					lc.port, lc.host, lc.copy = 1, "b.example", a
				}
				c, v := e.mustConnect(t, lc)
				if err := c.Close(); err != nil {
					t.Fatalf("connection %d: Close: %v", i+1, err)
				}
				if !v.resumed || v.reused || v.origin != chainTag("a.example", 0, "") {
					t.Errorf("connection %d: server saw %+v; want A's chain resumed with a ticket never presented before", i+1, v)
				}
			}
			if tt.copy {
				if _, v := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "b.example"}); v.resumed {
					t.Errorf("a plain connection where the copies went resumed %s", v.origin)
				}
			}
			if n := e.reusedTickets(); n != 0 {
				t.Errorf("%d tickets presented again", n)
			}
		})
	}
}

// TestCopyChains: copies of copies. A connection that copies a copy asks
// for the chain the copy belongs to: the source chain when the copy resumed
// it, the copy's own when it made a full handshake (a copy into another
// certificate is refused). The certificate rule holds at every link, and a
// connection that copies nothing never resumes any of it (connect checks).
func TestCopyChains(t *testing.T) {
	type link struct {
		port int
		host string
		cert string // "", "alice", "bob"
		copy int    // index of the connection copied; -1 for none
		want string // chainTag of the chain resumed; "" for a full handshake
	}
	tests := []struct {
		name  string
		links []link
	}{
		{"A(alice) <- B(none) <- C(none)", []link{
			{0, "a.example", "alice", -1, ""},
			{1, "b.example", "", 0, "a.example|0|alice"},
			{0, "b.example", "", 1, "a.example|0|alice"},
			{1, "a.example", "", 2, "a.example|0|alice"},
		}},
		{"A(alice) <- B(bob, refused) <- C(none)", []link{
			{0, "a.example", "alice", -1, ""},
			{1, "a.example", "bob", 0, ""},
			{0, "b.example", "", 1, "a.example|1|bob"},
		}},
		{"A(alice) <- B(none) <- C(bob, refused) <- D(alice, refused)", []link{
			{0, "a.example", "alice", -1, ""},
			{1, "a.example", "", 0, "a.example|0|alice"},
			{1, "b.example", "bob", 1, ""},
			{1, "a.example", "alice", 2, ""},
			// Refused, a copy looks up its own key: A's, here.
			{0, "a.example", "alice", 2, "a.example|0|alice"},
		}},
		{"A(none) <- B(alice): a certificate set, a chain without", []link{
			{0, "a.example", "", -1, ""},
			{1, "a.example", "alice", 0, ""},
			{0, "b.example", "", 1, "a.example|1|alice"},
		}},
	}
	for _, v := range tlsVersions {
		for _, tt := range tests {
			t.Run(tls.VersionName(v)+"/"+tt.name, func(t *testing.T) {
				e := newLineageEnv(t, v)
				b := newPrivateBackend()
				certs := map[string]*Certificate{"": nil, "alice": e.alice, "bob": e.bob}
				var conns []*ClientConnection
				for i, l := range tt.links {
					lc := lineageConn{backend: b, port: l.port, host: l.host, cert: certs[l.cert]}
					if l.copy >= 0 {
						lc.copy = conns[l.copy]
					}
					c, view := e.mustConnect(t, lc)
					conns = append(conns, c)
					held := l.cert
					if l.want != "" {
						held = l.want[strings.LastIndexByte(l.want, '|')+1:]
					}
					if view.resumed != (l.want != "") || view.origin != l.want || view.cert != held || c.SessionResumed() != view.resumed {
						t.Errorf("connection %d: server saw %+v (client: resumed %v); want chain %q and certificate %q", i, view, c.SessionResumed(), l.want, held)
					}
				}
				// Plain connections of every kind resume only their own chains.
				for _, host := range []string{"a.example", "b.example"} {
					for port := range 2 {
						for _, cert := range []string{"", "alice", "bob"} {
							e.mustConnect(t, lineageConn{backend: b, port: port, host: host, cert: certs[cert]})
						}
					}
				}
				if n := e.reusedTickets(); v == tls.VersionTLS13 && n != 0 {
					t.Errorf("%d TLS 1.3 tickets presented again", n)
				}
			})
		}
	}
}

// TestCopyFromSourcesWithoutASession: a source whose handshake failed, has
// not started, or is still running has no session to give; copying it does
// nothing, and the copier makes a full handshake. A source closed after its
// handshake still gives its chain.
func TestCopyFromSourcesWithoutASession(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newLineageEnv(t, v)
			b := newPrivateBackend()
			stranger := newTestCA(t, "Stranger Root")

			failed := e.unconnected(t, b, 0, "a.example")
			failed.SetDatabase(stranger.db)
			if err := failed.Handshake(context.Background()); !errors.Is(err, ErrBadCertificate) {
				t.Fatalf("source with a database that does not trust the server: %v; want ErrBadCertificate", err)
			}
			if c, view := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "a.example", copy: failed}); view.resumed || c.SessionResumed() {
				t.Errorf("copy of a failed source: server saw %+v; want a full handshake", view)
			}

			fresh := e.unconnected(t, b, 0, "a.example")
			if _, view := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "b.example", copy: fresh}); view.resumed {
				t.Errorf("copy of a source before its handshake: server saw %+v; want a full handshake", view)
			}

			// A source inside its handshake: its accept-certificate handler
			// waits until the copy is done.
			inside, release := make(chan struct{}), make(chan struct{})
			running := e.unconnected(t, b, 0, "b.example")
			running.SetDatabase(stranger.db)
			running.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool {
				close(inside)
				<-release
				return true
			})
			done := make(chan error, 1)
			go func() { done <- running.Handshake(context.Background()) }()
			<-inside
			if _, view := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example", copy: running}); view.resumed {
				t.Errorf("copy of a source inside its handshake: server saw %+v; want a full handshake", view)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("the source inside its handshake: %v", err)
			}
			// The server's byte: its side of the handshake is over too.
			if _, err := io.ReadFull(running, make([]byte, 1)); err != nil {
				t.Fatal(err)
			}

			closed, _ := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example"})
			if err := closed.Close(); err != nil {
				t.Fatal(err)
			}
			if c, view := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "b.example", copy: closed}); !view.resumed || !c.SessionResumed() || view.origin != "a.example|0|" || view.reused {
				t.Errorf("copy of a closed source: server saw %+v; want its chain resumed", view)
			}
		})
	}
}

// unconnected returns a connection to the server's port as host, over b,
// before its handshake, closed when the test ends.
func (e *lineageEnv) unconnected(t *testing.T, b *Backend, port int, host string) *ClientConnection {
	t.Helper()
	base, err := net.Dial("tcp", e.ports[port].Addr.String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.NewClientConnection(base, NewNetworkAddress(host, e.ports[port].Addr.Port()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

// TestConcurrentCopiesRaceForOneTicket: six copies at once of a source that
// holds one fresh TLS 1.3 ticket. One presents it; the others find none left
// and knowingly present the chain's latest again (CopySessionState's
// documented fallback); all resume the source's chain. Closing, each brings
// a fresh ticket back to the chain, so the copies after them present none
// twice, and nothing reaches a connection that copies nothing.
func TestConcurrentCopiesRaceForOneTicket(t *testing.T) {
	e := newLineageEnv(t, tls.VersionTLS13)
	b := newPrivateBackend()
	a, _ := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example"})
	const n = 6
	conns := make([]*ClientConnection, n)
	for i := range conns {
		conns[i] = e.unconnected(t, b, 1, "b.example")
		conns[i].SetDatabase(e.ca.db)
		conns[i].CopySessionState(a)
	}
	e.mu.Lock()
	before := len(e.views)
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			if err := c.Handshake(context.Background()); err != nil {
				t.Error(err)
				return
			}
			if _, err := io.ReadFull(c, make([]byte, 1)); err != nil { // the server is done
				t.Error(err)
			}
		})
	}
	wg.Wait()
	e.mu.Lock()
	views := slices.Clone(e.views[before:])
	e.mu.Unlock()
	fresh := 0
	for i, v := range views {
		if !v.resumed || v.origin != "a.example|0|" {
			t.Errorf("concurrent copy %d: server saw %+v; want A's chain", i, v)
		}
		if !v.reused {
			fresh++
		}
	}
	if len(views) != n || fresh < 1 {
		t.Errorf("%d handshakes, %d with a fresh ticket; want %d, at least 1", len(views), fresh, n)
	}
	t.Logf("%d of %d concurrent copies presented a fresh ticket; the others one presented before", fresh, n)
	for _, c := range conns {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	reused := e.reusedTickets()
	for i := range n {
		if _, v := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "b.example", copy: a, noRead: i%2 == 0}); !v.resumed || v.reused {
			t.Errorf("copy %d after the race: server saw %+v; want a fresh ticket of A's chain", i, v)
		}
	}
	if _, v := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "b.example"}); v.resumed {
		t.Errorf("a plain connection where the copies went resumed %s", v.origin)
	}
	if got := e.reusedTickets(); got != reused {
		t.Errorf("%d more tickets presented again after the race", got-reused)
	}
}

// TestCopyAcrossVersions: a chain begun on TLS 1.3 copied by a connection
// limited to TLS 1.2, and the reverse. The copier cannot use the session; it
// makes a full handshake, which begins its own chain under its own key, and
// a later copy of the original source still resumes the source's chain.
func TestCopyAcrossVersions(t *testing.T) {
	e := newLineageEnv(t, 0) // the server speaks both
	cache := NewSessionCache(SessionCacheOptions{})
	v13 := NewBackend(BackendOptions{SessionCache: cache})
	v12 := NewBackend(BackendOptions{SessionCache: cache, MaxVersion: ProtocolVersionTLS12})
	a, _ := e.mustConnect(t, lineageConn{backend: v13, port: 0, host: "a.example"})
	b12, vb := e.mustConnect(t, lineageConn{backend: v12, port: 1, host: "b.example", copy: a})
	if vb.resumed || b12.ProtocolVersion() != ProtocolVersionTLS12 {
		t.Errorf("TLS 1.2 copy of a TLS 1.3 chain: server saw %+v on %v; want a full TLS 1.2 handshake", vb, b12.ProtocolVersion())
	}
	c13, vc := e.mustConnect(t, lineageConn{backend: v13, port: 0, host: "b.example", copy: b12})
	if vc.resumed || c13.ProtocolVersion() != ProtocolVersionTLS13 {
		t.Errorf("TLS 1.3 copy of a TLS 1.2 chain: server saw %+v on %v; want a full TLS 1.3 handshake", vc, c13.ProtocolVersion())
	}
	if _, vd := e.mustConnect(t, lineageConn{backend: v13, port: 1, host: "a.example", copy: a}); !vd.resumed || vd.origin != "a.example|0|" || vd.reused {
		t.Errorf("TLS 1.3 copy of the TLS 1.3 chain: server saw %+v; want it resumed with a ticket never presented", vd)
	}
	// b12's full handshake began a chain of its own, under its own key.
	if _, v := e.mustConnect(t, lineageConn{backend: v12, port: 1, host: "b.example"}); !v.resumed {
		t.Errorf("a plain TLS 1.2 connection as the TLS 1.2 copier: server saw %+v; want its own chain resumed", v)
	}
	for _, host := range []string{"a.example", "b.example"} {
		for port := range 2 {
			e.mustConnect(t, lineageConn{backend: v13, port: port, host: host})
		}
	}
}

// TestCopyOfInteractionCertificate: the source's certificate came from its
// Interaction (none set when its handshake started, so it looked up the
// sessions made without one). Its chain is alice's, stored under alice's
// key: a copy with none set resumes it (and is alice to the server, as it
// asked), one with bob is refused, one with alice resumes it; a plain
// connection with no certificate never resumes it, one with alice does.
func TestCopyOfInteractionCertificate(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newLineageEnv(t, v)
			b := newPrivateBackend()
			supply := &testInteraction{requestCertificate: func(_ context.Context, conn *ClientConnection) (InteractionResult, error) {
				conn.SetCertificate(e.alice)
				return InteractionHandled, nil
			}}
			a, va := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example",
				prepare: func(c *ClientConnection) { c.SetInteraction(supply) }})
			if va.cert != "alice" {
				t.Fatalf("source: server saw %+v; want alice from the Interaction", va)
			}
			// connect's check takes the certificate set at the start: none.
			// A full handshake as alice is what the source's chain is.
			const chain = "a.example|0|alice"
			tests := []struct {
				cert *Certificate
				want string
			}{{nil, chain}, {e.bob, ""}, {e.alice, chain}}
			for i, tt := range tests {
				c, view := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "a.example", cert: tt.cert, copy: a})
				if view.origin != tt.want || c.SessionResumed() != (tt.want != "") {
					t.Errorf("copy %d (%s): server saw %+v; want chain %q", i, tt.cert.commonName(), view, tt.want)
				}
			}
			if _, view := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example"}); view.resumed {
				t.Errorf("a plain connection with no certificate resumed %s", view.origin)
			}
			if _, view := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example", cert: e.alice}); view.origin != chain {
				t.Errorf("a plain connection as alice: server saw %+v; want the source's chain", view)
			}
		})
	}
}

// TestCopyWithoutServerIdentity: a source with no server identity (nil, or
// a typed nil pointer) keys its chain on the address alone. A copy as
// a.example resumes it and is verified as a.example; a plain a.example
// connection never resumes it, nor a plain one without identity any chain
// but its own.
func TestCopyWithoutServerIdentity(t *testing.T) {
	tests := []struct {
		name string
		set  func(*ClientConnection)
	}{
		{"nil", func(c *ClientConnection) { c.SetServerIdentity(nil) }},
		{"typed nil", func(c *ClientConnection) { c.SetServerIdentity((*NetworkAddress)(nil)) }},
	}
	for _, v := range tlsVersions {
		for _, tt := range tests {
			t.Run(tls.VersionName(v)+"/"+tt.name, func(t *testing.T) {
				e := newLineageEnv(t, v)
				b := newPrivateBackend()
				accept := func(_ *Certificate, f CertificateFlags) bool { return f == CertificateBadIdentity }
				anon := lineageConn{backend: b, port: 0, host: "", prepare: tt.set, accept: accept}
				a, va := e.mustConnect(t, anon)
				if a.PeerCertificateErrors() != CertificateBadIdentity || va.resumed {
					t.Fatalf("source without identity: errors %v, server saw %+v; want bad-identity, a full handshake", a.PeerCertificateErrors(), va)
				}
				c, vc := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "a.example", copy: a})
				if !vc.resumed || vc.origin != "|0|" || c.PeerCertificateErrors() != 0 {
					t.Errorf("copy as a.example: server saw %+v, errors %v; want the chain resumed and verified as a.example", vc, c.PeerCertificateErrors())
				}
				for port := range 2 {
					if _, v := e.mustConnect(t, lineageConn{backend: b, port: port, host: "a.example"}); v.resumed {
						t.Errorf("a plain a.example connection to port %d resumed %s", port, v.origin)
					}
				}
				e.mustConnect(t, anon) // connect checks it resumes only "|0|"
			})
		}
	}
}

// TestCopiesKeepTheAgeCap: renewing a chain through copies never extends
// it: MaxAge after the source's full handshake, no copy (nor the source's
// own key) resumes the chain, whatever the copies brought back meanwhile.
func TestCopiesKeepTheAgeCap(t *testing.T) {
	const maxAge = 1500 * time.Millisecond
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newLineageEnv(t, v)
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{MaxAge: maxAge})})
			born := time.Now()
			a, _ := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example"})
			for i := range 3 {
				time.Sleep(maxAge / 4)
				c, view := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "b.example", copy: a, noRead: i%2 == 1})
				c.Close()
				if time.Since(born) < maxAge && !view.resumed {
					t.Fatalf("copy %d within the age cap did not resume: %+v", i, view)
				}
			}
			time.Sleep(time.Until(born.Add(maxAge + 100*time.Millisecond)))
			if _, view := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "b.example", copy: a}); view.resumed {
				t.Errorf("a copy past the age cap resumed the chain: %+v", view)
			}
			if _, view := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example"}); view.resumed {
				t.Errorf("the source's key past the age cap resumed the chain: %+v", view)
			}
		})
	}
}

// TestCopyIntoDisabledBackend: a copier whose backend has DisableResumption
// resumes the source's chain (CopySessionState still works), and what it
// receives, read or drained at Close, goes back to the source's cache: the
// source's next connection resumes from it, and later copies present no
// TLS 1.3 ticket twice.
func TestCopyIntoDisabledBackend(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newLineageEnv(t, v)
			src := newPrivateBackend()
			off := NewBackend(BackendOptions{DisableResumption: true})
			a, _ := e.mustConnect(t, lineageConn{backend: src, port: 0, host: "a.example"})
			for i := range 4 {
				c, view := e.mustConnect(t, lineageConn{backend: off, port: 1, host: "b.example", copy: a, noRead: i%2 == 0})
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				if !view.resumed || view.origin != "a.example|0|" || (v == tls.VersionTLS13 && view.reused) {
					t.Errorf("copy %d: server saw %+v; want A's chain, no ticket presented twice", i, view)
				}
			}
			if _, view := e.mustConnect(t, lineageConn{backend: src, port: 0, host: "a.example"}); !view.resumed || view.reused {
				t.Errorf("the source's next connection: server saw %+v; want what the copies brought back resumed", view)
			}
			if _, view := e.mustConnect(t, lineageConn{backend: off, port: 1, host: "b.example"}); view.resumed {
				t.Errorf("a plain connection of the disabled backend resumed %s", view.origin)
			}
		})
	}
}
