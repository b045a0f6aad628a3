package sessioncache

import (
	"crypto/tls"
	"testing"
	"time"
)

// TestRefusedOfferLineage: crypto/tls declines the one session a lookup
// offers, for each reason it has (past the ticket's lifetime, offered
// unread; the server certificate expired; a version or cipher suite no
// longer offered), some with Put(key, nil) and some without. The full
// handshake that follows begins a chain of its own: what it receives is
// stored under the connection's key, in a lineage other than the declined
// session's, dated from that handshake (not from the declined chain's
// Born, nine minutes older), and is still offered after the declined
// chain's age cap.
func TestRefusedOfferLineage(t *testing.T) {
	hourTicket := func(t *testing.T) *tls.ClientSessionState { return ticketsWithLifetimes(t, time.Hour)[0] }
	for _, tc := range []struct {
		name    string
		server  uint16 // the server's only version
		offered func(t *testing.T) *tls.ClientSessionState
		config  func(cfg *tls.Config)
		putNil  bool // crypto/tls asks to forget it
	}{
		{"ticket past its lifetime, unread", tls.VersionTLS13,
			func(t *testing.T) *tls.ClientSessionState { return ticketsWithLifetimes(t, time.Minute)[0] },
			func(cfg *tls.Config) { cfg.Time = func() time.Time { return clientTime.Add(2 * time.Minute) } }, true},
		{"server certificate expired", tls.VersionTLS13, hourTicket,
			func(cfg *tls.Config) {
				cfg.Time = func() time.Time { return time.Now().Add(25 * time.Hour) }
				cfg.InsecureSkipVerify = true // the full handshake with the expired certificate
			}, true},
		{"TLS 1.3 ticket, TLS 1.2 only", tls.VersionTLS12, hourTicket,
			func(cfg *tls.Config) { cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12 }, false},
		{"TLS 1.2 state, its cipher suite not offered", tls.VersionTLS12,
			func(t *testing.T) *tls.ClientSessionState { return realStates(t, tls.VersionTLS12, 1)[0] },
			func(cfg *tls.Config) {
				cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
				cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
			}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.server, 1)
			clock := newFakeClock()
			c := New(Options{Now: clock.Now}) // MaxAge: the default ten minutes
			key := addrKey(t, srv.addrs[0])
			old := &lineage{cache: c, key: key}
			st := tc.offered(t)
			e := Entry{State: st, TLS13: true, Unread: true, Born: clock.Now().Add(-9 * time.Minute)}
			if info, err := describe(st); err != nil || !info.TLS13() {
				e.TLS13, e.Unread = false, false
			}
			c.put(old, e)
			cc := NewConnCache(c, key)
			cfg := clientConfig(t, tc.server, cc)
			tc.config(cfg)
			cfg.VerifyConnection = func(cs tls.ConnectionState) error { cc.SetConnectionState(cs); return nil }
			cs, err := dial(t, srv.addrs[0], cfg, true)
			if err != nil {
				t.Fatal(err)
			}
			if !cc.Offered() || cs.DidResume {
				t.Fatalf("offered %v, resumed %v; want offered and declined", cc.Offered(), cs.DidResume)
			}
			if _, n := srv.maxPresented(); n != 0 {
				t.Fatalf("the server was presented %d tickets, want none", n)
			}
			cc.mu.Lock()
			forgotten, received := cc.forgotten, cc.received
			cc.mu.Unlock()
			if forgotten != tc.putNil {
				t.Errorf("crypto/tls asked to forget the offer: %v, want %v", forgotten, tc.putNil)
			}
			if len(received) == 0 {
				t.Fatal("the full handshake stored nothing")
			}
			for i, it := range received {
				if it.lin == old || it.lin.key != key || it.lin.cache != c {
					t.Errorf("session %d: in the declined chain %v, or under key %q (want a new chain under %q)", i, it.lin == old, it.lin.key, key)
				}
				if !it.Born.Equal(clock.Now()) {
					t.Errorf("session %d: Born %v, want the full handshake's %v", i, it.Born, clock.Now())
				}
			}
			clock.Advance(2 * time.Minute) // past the declined chain's cap
			if got, ok := NewConnCache(c, key).Get(""); !ok || got != received[0].State {
				t.Errorf("after the declined chain's cap: Get = %p, %v; want the full handshake's session %p", got, ok, received[0].State)
			}
		})
	}
}
