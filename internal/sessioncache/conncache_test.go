package sessioncache

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var versions = []struct {
	name    string
	version uint16
}{
	{"TLS1.2", tls.VersionTLS12},
	{"TLS1.3", tls.VersionTLS13},
}

// connect does a handshake with srv's listener i through cc, reading the
// greeting if read, and telling cc the connection state if tell.
func connect(t testing.TB, srv *testServer, i int, version uint16, cc *ConnCache, read, tell bool) (tls.ConnectionState, error) {
	t.Helper()
	cfg := clientConfig(t, version, cc)
	if tell {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			cc.SetConnectionState(cs)
			return nil
		}
	}
	return dial(t, srv.addrs[i], cfg, read)
}

// mustConnect is connect that fails the test on error and checks that cc
// offered a session exactly when wantResumed, and the server resumed then.
func mustConnect(t *testing.T, srv *testServer, i int, version uint16, cc *ConnCache, read bool, wantResumed bool) {
	t.Helper()
	cs, err := connect(t, srv, i, version, cc, read, true)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Offered() != wantResumed || cs.DidResume != wantResumed {
		t.Fatalf("offered %v, resumed %v; want %v", cc.Offered(), cs.DidResume, wantResumed)
	}
}

func addrKey(t testing.TB, addr string) string {
	t.Helper()
	return Key(AddressIdentity(netip.MustParseAddrPort(addr)), nil)
}

func TestConnCacheResumption(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			srv := startServer(t, v.version, 1)
			c := New(Options{})
			key := addrKey(t, srv.addrs[0])
			mustConnect(t, srv, 0, v.version, NewConnCache(c, key), true, false)
			mustConnect(t, srv, 0, v.version, NewConnCache(c, key), false, true)
			// A TLS 1.3 ticket was used once and the last connection did
			// not read, so got none: a full handshake. TLS 1.2 resumes again.
			again := v.version == tls.VersionTLS12
			mustConnect(t, srv, 0, v.version, NewConnCache(c, key), true, again)
			mustConnect(t, srv, 0, v.version, NewConnCache(c, key), true, true)
			if most, _ := srv.maxPresented(); v.version == tls.VersionTLS13 && most != 1 {
				t.Fatalf("a TLS 1.3 ticket was presented %d times", most)
			}
		})
	}
}

// The key decides, not crypto/tls's ServerName key, which is the same for
// every connection here: no other host, port, or client certificate, and no
// certificate after none or none after one, resumes a session.
func TestConnCacheIsolation(t *testing.T) {
	certA, certB := [][]byte{[]byte("client certificate A")}, [][]byte{[]byte("client certificate B")}
	host := HostIdentity(testServerName, 990)
	for _, v := range versions {
		for _, made := range [][][]byte{nil, certA} {
			t.Run(fmt.Sprintf("%s/cert=%v", v.name, made != nil), func(t *testing.T) {
				srv := startServer(t, v.version, 1)
				c := New(Options{})
				mustConnect(t, srv, 0, v.version, NewConnCache(c, Key(host, made)), true, false)
				for _, other := range []string{
					Key(HostIdentity("other.test", 990), made),
					Key(HostIdentity(testServerName, 991), made),
					Key(ServiceIdentity(testServerName), made),
					Key(host, certB),
					Key(host, map[bool][][]byte{true: nil, false: certA}[made != nil]),
				} {
					mustConnect(t, srv, 0, v.version, NewConnCache(c, other), false, false)
				}
				mustConnect(t, srv, 0, v.version, NewConnCache(c, Key(host, made)), false, true)
			})
		}
	}
}

// Across 200 connections, sequential and concurrent, some never reading (so
// getting no new ticket), the server never sees a TLS 1.3 ticket twice, and
// a connection resumes whenever a fresh ticket is there.
func TestNoTicketPresentedTwice(t *testing.T) {
	const maxTickets = 64
	srv := startServer(t, tls.VersionTLS13, 1)
	c := New(Options{MaxTicketsPerKey: maxTickets})
	key := addrKey(t, srv.addrs[0])
	clientResumed := 0

	// Sequential: the number of fresh tickets is known before each one.
	// crypto/tls servers send one ticket per connection, and each connection
	// that resumes uses one, so every other connection only adds a ticket.
	fresh := 0
	for i := range 100 {
		if i%2 == 0 {
			cfg := clientConfig(t, tls.VersionTLS13, putOnly{NewConnCache(c, key)})
			if _, err := dial(t, srv.addrs[0], cfg, true); err != nil {
				t.Fatal(err)
			}
			fresh = min(fresh+1, maxTickets)
			continue
		}
		read := i%3 != 1
		mustConnect(t, srv, 0, tls.VersionTLS13, NewConnCache(c, key), read, fresh > 0)
		if fresh > 0 {
			fresh--
			clientResumed++
		}
		if read {
			fresh = min(fresh+1, maxTickets)
		}
	}
	if _, n := c.Len(); n != fresh || fresh < 30 {
		t.Fatalf("%d tickets cached, model says %d (want at least 30 for what follows)", n, fresh)
	}

	// Concurrent, none reading: exactly the fresh tickets resume.
	run := func(n int, read func(int) bool) (resumed int) {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		for i := range n {
			wg.Go(func() {
				cc := NewConnCache(c, key)
				cs, err := connect(t, srv, 0, tls.VersionTLS13, cc, read(i), i%2 == 0)
				if err != nil {
					t.Error(err)
					return
				}
				if cc.Offered() != cs.DidResume {
					t.Errorf("offered %v but resumed %v", cc.Offered(), cs.DidResume)
				}
				mu.Lock()
				defer mu.Unlock()
				if cs.DidResume {
					resumed++
				}
			})
		}
		wg.Wait()
		return resumed
	}
	if got := run(50, func(int) bool { return false }); got != fresh {
		t.Fatalf("%d of 50 concurrent connections resumed with %d fresh tickets", got, fresh)
	}
	clientResumed += fresh
	if _, n := c.Len(); n != 0 {
		t.Fatalf("%d tickets left after all were used", n)
	}

	// Concurrent, half reading: tickets arrive while others are taken.
	mustConnect(t, srv, 0, tls.VersionTLS13, NewConnCache(c, key), true, false)
	clientResumed += run(50, func(i int) bool { return i%2 == 1 })

	srv.waitHandshakes(t, 201)
	most, presented := srv.maxPresented()
	if most != 1 {
		t.Fatalf("a ticket was presented %d times", most)
	}
	srv.mu.Lock()
	serverResumed, handshakes := srv.resumed, srv.handshake
	srv.mu.Unlock()
	if presented != clientResumed || serverResumed != clientResumed || handshakes != 201 {
		t.Fatalf("%d tickets presented, server resumed %d, clients resumed %d, %d handshakes",
			presented, serverResumed, clientResumed, handshakes)
	}
}

func TestCopyFrom(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			srv := startServer(t, v.version, 2) // control and data ports
			c := New(Options{})
			control, data := addrKey(t, srv.addrs[0]), addrKey(t, srv.addrs[1])
			src := NewConnCache(c, control)
			mustConnect(t, srv, 0, v.version, src, true, false)

			// Another port: no resumption unless copied.
			mustConnect(t, srv, 1, v.version, NewConnCache(c, data), false, false)
			dst := NewConnCache(c, data)
			if !dst.CopyFrom(src) {
				t.Fatal("CopyFrom a source with a session = false")
			}
			if v.version == tls.VersionTLS13 {
				// The fresh ticket was claimed: no one else gets it.
				if keys, n := c.Len(); keys != 0 || n != 0 {
					t.Fatalf("copied ticket still cached: %d keys, %d sessions", keys, n)
				}
			}
			mustConnect(t, srv, 1, v.version, dst, false, true)
			if most, _ := srv.maxPresented(); most != 1 {
				t.Fatalf("a session was presented %d times", most)
			}

			// TLS 1.3: no fresh ticket left (dst did not read), src's latest
			// is reused knowingly. TLS 1.2: the crypto/tls server renewed
			// the state when dst resumed it, and the renewal, back with
			// src's chain, is what the next copy presents.
			dst2 := NewConnCache(c, data)
			if !dst2.CopyFrom(src) {
				t.Fatal("second CopyFrom = false")
			}
			mustConnect(t, srv, 1, v.version, dst2, true, true)
			want := 2
			if v.version == tls.VersionTLS12 {
				want = 1
			}
			if most, _ := srv.maxPresented(); most != want {
				t.Fatalf("most presented session presented %d times, want %d", most, want)
			}

			// Wrong states are no-ops.
			if dst2.CopyFrom(src) {
				t.Error("CopyFrom into a connection that has started = true")
			}
			if NewConnCache(c, data).CopyFrom(nil) || src.CopyFrom(src) {
				t.Error("CopyFrom(nil) or from itself = true")
			}
		})
	}
}

func TestCopyFromPrefersFreshTicket(t *testing.T) {
	srv := startServer(t, tls.VersionTLS13, 2)
	c := New(Options{})
	control, data := addrKey(t, srv.addrs[0]), addrKey(t, srv.addrs[1])
	mustConnect(t, srv, 0, tls.VersionTLS13, NewConnCache(c, control), true, false)
	// src resumes with the ticket above (now used) and reads a fresh one.
	src := NewConnCache(c, control)
	mustConnect(t, srv, 0, tls.VersionTLS13, src, true, true)
	dst := NewConnCache(c, data)
	if !dst.CopyFrom(src) {
		t.Fatal("CopyFrom = false")
	}
	mustConnect(t, srv, 1, tls.VersionTLS13, dst, false, true)
	if most, n := srv.maxPresented(); most != 1 || n != 2 {
		t.Fatalf("most presented %d times, %d tickets; want the fresh ticket, each once", most, n)
	}
}

func TestCopyFromSourceWithoutTickets(t *testing.T) {
	srv := startServer(t, tls.VersionTLS13, 2)
	c := New(Options{})
	control, data := addrKey(t, srv.addrs[0]), addrKey(t, srv.addrs[1])

	// A full TLS 1.3 handshake that never read has nothing to give.
	src := NewConnCache(c, control)
	mustConnect(t, srv, 0, tls.VersionTLS13, src, false, false)
	if NewConnCache(c, data).CopyFrom(src) {
		t.Fatal("CopyFrom a source without a session = true")
	}

	// One that resumed without reading gives the ticket it resumed with.
	mustConnect(t, srv, 0, tls.VersionTLS13, NewConnCache(c, control), true, false)
	src = NewConnCache(c, control)
	mustConnect(t, srv, 0, tls.VersionTLS13, src, false, true)
	dst := NewConnCache(c, data)
	if !dst.CopyFrom(src) {
		t.Fatal("CopyFrom a resumed source = false")
	}
	mustConnect(t, srv, 1, tls.VersionTLS13, dst, false, true)
}

// A connection that shares nothing can still be copied from, and to.
func TestConnCacheWithoutCache(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			srv := startServer(t, v.version, 2)
			key := addrKey(t, srv.addrs[0])
			src := NewConnCache(nil, key)
			mustConnect(t, srv, 0, v.version, src, true, false)
			mustConnect(t, srv, 0, v.version, NewConnCache(nil, key), true, false)
			dst := NewConnCache(nil, addrKey(t, srv.addrs[1]))
			if !dst.CopyFrom(src) {
				t.Fatal("CopyFrom = false")
			}
			mustConnect(t, srv, 1, v.version, dst, false, true)
		})
	}
}

// A resumption that fails removes what it used.
func TestConnCacheForgetsFailedResumption(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			srv := startServer(t, v.version, 1)
			c := New(Options{})
			key := addrKey(t, srv.addrs[0])
			mustConnect(t, srv, 0, v.version, NewConnCache(c, key), true, false)
			cc := NewConnCache(c, key)
			cfg := clientConfig(t, v.version, cc)
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				if cs.DidResume {
					return errors.New("resumption refused by the test")
				}
				return nil
			}
			if _, err := dial(t, srv.addrs[0], cfg, true); err == nil {
				t.Fatal("handshake succeeded despite VerifyConnection")
			}
			if !cc.Offered() {
				t.Fatal("nothing was offered")
			}
			if keys, n := c.Len(); keys != 0 || n != 0 {
				t.Fatalf("after a failed resumption: %d keys, %d sessions; want none", keys, n)
			}
			mustConnect(t, srv, 0, v.version, NewConnCache(c, key), true, false)
		})
	}
}

func TestConnCacheDiscard(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			srv := startServer(t, v.version, 1)
			c := New(Options{})
			key := addrKey(t, srv.addrs[0])
			mustConnect(t, srv, 0, v.version, NewConnCache(c, key), true, false)
			// This one resumes (and, TLS 1.3, spends the ticket) and reads a
			// new session: Discard removes both the resumed and the new.
			cc := NewConnCache(c, key)
			mustConnect(t, srv, 0, v.version, cc, true, true)
			cc.Discard()
			if keys, n := c.Len(); keys != 0 || n != 0 {
				t.Fatalf("after Discard: %d keys, %d sessions", keys, n)
			}
			if NewConnCache(c, key).CopyFrom(cc) {
				t.Fatal("CopyFrom a discarded connection = true")
			}
			mustConnect(t, srv, 0, v.version, NewConnCache(c, key), true, false)
		})
	}
}

// Sessions received on a resumed connection keep the age of the session it
// resumed, so renewing never extends the age cap; a full handshake, once
// known to be one, starts a new chain.
func TestConnCacheBornInherited(t *testing.T) {
	for _, v := range versions {
		tests := []struct {
			name      string
			rejecting bool // the second server has other ticket keys: full handshake
			tell      bool // SetConnectionState is called
			wantOld   bool // the new session is as old as the first
		}{
			{"resumed", false, true, true},
			{"resumed, not told", false, false, true},
			{"rejected", true, true, false},
			{"rejected, not told", true, false, true}, // errs on the side of expiring early
		}
		for _, tt := range tests {
			t.Run(v.name+"/"+tt.name, func(t *testing.T) {
				srv := startServer(t, v.version, 1)
				srv2 := srv
				if tt.rejecting {
					srv2 = startServer(t, v.version, 1)
				}
				clock := newFakeClock()
				c := New(Options{Now: clock.Now})
				key := "k"
				t0 := clock.Now()
				first := NewConnCache(c, key)
				mustConnect(t, srv, 0, v.version, first, true, false)
				clock.Advance(6 * time.Minute)
				cc := NewConnCache(c, key)
				cs, err := connect(t, srv2, 0, v.version, cc, true, tt.tell)
				if err != nil {
					t.Fatal(err)
				}
				if !cc.Offered() || cs.DidResume == tt.rejecting {
					t.Fatalf("offered %v, resumed %v", cc.Offered(), cs.DidResume)
				}
				want := clock.Now()
				if tt.wantOld {
					want = t0
				}
				e, ok := c.Take(key)
				if ok && e.State == first.received[0].State {
					t.Fatal("the cache holds the first session, not the new one")
				}
				if !ok || !e.Born.Equal(want) {
					t.Fatalf("new session born %v (found %v), want %v", e.Born, ok, want)
				}
				c.Put(key, e)
				clock.Advance(5 * time.Minute) // 11 minutes after t0
				if _, ok := c.Take(key); ok == tt.wantOld {
					t.Fatalf("11 minutes after the first handshake: found = %v", ok)
				}
			})
		}
	}
}

// putOnly keeps what crypto/tls puts but offers nothing.
type putOnly struct{ *ConnCache }

func (putOnly) Get(string) (*tls.ClientSessionState, bool) { return nil, false }

// A session made while sending a client certificate the lookup key did not
// know of (an Interaction supplied it) is stored under that certificate.
func TestConnCacheStoreUnder(t *testing.T) {
	client := selfSigned(t, "client")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			srv := startServer(t, v.version, 1, func(c *tls.Config) { c.ClientAuth = tls.RequestClientCert })
			c := New(Options{})
			id := AddressIdentity(netip.MustParseAddrPort(srv.addrs[0]))
			none, withCert := Key(id, nil), Key(id, client.Certificate)
			cc := NewConnCache(c, none)
			cfg := clientConfig(t, v.version, cc)
			asked := false
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				asked = true
				cc.StoreUnder(withCert)
				return &client, nil
			}
			if _, err := dial(t, srv.addrs[0], cfg, true); err != nil {
				t.Fatal(err)
			}
			if !asked {
				t.Fatal("the server did not ask for a certificate")
			}
			mustConnect(t, srv, 0, v.version, NewConnCache(c, none), false, false)
			// The certificate is not sent again on resumption, so this
			// connection needs none to succeed.
			mustConnect(t, srv, 0, v.version, NewConnCache(c, withCert), false, true)
		})
	}
}

// One connection's Put (which parses the session with Describe unless told
// the version) and another's Get, under contention. On the 2-core
// development machine (2026-12-02): told TLS 1.2 or TLS 1.3, 2-2.6 us;
// untold, 3.3-4.5 us per Put+Get: Describe's SessionState.Bytes copies the
// certificates. A connection tells it (giotls's verifyConnection does), and
// a told TLS 1.3 ticket's lifetime is left unread (item.live).
func BenchmarkConnCachePutGet(b *testing.B) {
	for _, v := range []struct {
		name    string
		version uint16
		tell    bool // SetConnectionState before Put
	}{
		{"TLS1.2", tls.VersionTLS12, false},
		{"TLS1.2-told", tls.VersionTLS12, true},
		{"TLS1.3", tls.VersionTLS13, false},
		{"TLS1.3-told", tls.VersionTLS13, true}, // the lifetime left unread
	} {
		b.Run(v.name, func(b *testing.B) {
			states := realStates(b, v.version, 4096)
			c := New(Options{MaxKeys: 1024})
			var mu sync.Mutex
			next := 0
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				base := next
				next += 512
				mu.Unlock()
				// Keys and states of this goroutine's own: another's Get
				// would take the ticket this one just put, and another's
				// Put of the same state would move it to its key.
				keys := make([]string, 16)
				for j := range keys {
					keys[j] = Key(HostIdentity(fmt.Sprintf("h%d-%d.test", base, j), 443), nil)
				}
				i := 0
				for pb.Next() {
					key := keys[i%len(keys)]
					cc := NewConnCache(c, key)
					if v.tell {
						cc.SetConnectionState(tls.ConnectionState{Version: v.version})
					}
					cc.Put("", states[(base+i%512)%len(states)])
					if _, ok := NewConnCache(c, key).Get(""); !ok {
						b.Fatal("nothing to Get")
					}
					i++
				}
			})
		})
	}
}

func TestConnCacheDiscardOffered(t *testing.T) {
	c := New(Options{})
	s := realStates(t, tls.VersionTLS12, 1)[0]
	c.Put("k", Entry{State: s})
	cc := NewConnCache(c, "k")
	if got, ok := cc.Get("ignored"); !ok || got != s {
		t.Fatalf("Get = %p, %v; want the cached state", got, ok)
	}
	if _, n := c.Len(); n != 1 {
		t.Fatal("a TLS 1.2 state left the cache when offered")
	}
	cc.Discard()
	if keys, n := c.Len(); keys != 0 || n != 0 {
		t.Fatalf("after Discard: %d keys, %d sessions", keys, n)
	}
}
