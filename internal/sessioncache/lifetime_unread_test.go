package sessioncache

import (
	"crypto/tls"
	"encoding/binary"
	"testing"
	"time"
)

// ticketsWithLifetimes returns distinct TLS 1.3 sessions made from a real
// one, each with the ticket_lifetime given (use_by - created_at).
func ticketsWithLifetimes(t *testing.T, lifetimes ...time.Duration) []*tls.ClientSessionState {
	t.Helper()
	b := stateBytes(t, tls.VersionTLS13, false)
	out := make([]*tls.ClientSessionState, len(lifetimes))
	for i, l := range lifetimes {
		bb := append([]byte(nil), b...)
		binary.BigEndian.PutUint64(bb[len(bb)-12:], uint64(clientTime.Add(l).Unix()))
		ss, err := tls.ParseSessionState(bb)
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = tls.NewResumptionState([]byte{'t', byte(i)}, ss); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// An Unread ticket's lifetime is read when the lookup has another session
// to offer, and an expired one is skipped; the last one left is offered
// unread (crypto/tls refuses it past its lifetime:
// TestExpiredUnreadTicketNotPresented).
func TestUnreadLifetime(t *testing.T) {
	s := ticketsWithLifetimes(t, time.Minute, time.Hour, time.Minute)
	t12 := realStates(t, tls.VersionTLS12, 1)[0]
	for _, tc := range []struct {
		name    string
		entries []Entry
		after   time.Duration
		want    *tls.ClientSessionState // nil: none
		read    []bool                  // per entry: lifetime read by the lookup
	}{
		{"oldest expired, next offered unread", []Entry{{State: s[0]}, {State: s[1]}}, time.Minute,
			s[1], []bool{true, false}},
		{"oldest just alive", []Entry{{State: s[0]}, {State: s[1]}}, time.Minute - time.Nanosecond,
			s[0], []bool{true, false}},
		{"two expired, the last offered unread", []Entry{{State: s[0]}, {State: s[2]}}, time.Hour,
			s[2], []bool{true, false}},
		{"sole ticket, expired, offered unread", []Entry{{State: s[0]}}, 2 * time.Minute,
			s[0], []bool{false}},
		{"expired ticket before a TLS 1.2 state", []Entry{{State: t12}, {State: s[0]}}, time.Minute,
			t12, []bool{false, true}},
		{"no lifetime to read: alive", []Entry{{State: t12, TLS13: true}, {State: s[1]}}, 2 * time.Hour,
			t12, []bool{true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			c := New(Options{MaxAge: 24 * time.Hour, Now: clock.Now})
			lin := &lineage{cache: c, key: "k"}
			items := make([]*item, len(tc.entries))
			for i, e := range tc.entries {
				if e.State != t12 || e.TLS13 {
					e.TLS13, e.Unread = true, true
				}
				items[i] = c.put(lin, e)
			}
			clock.Advance(tc.after)
			got, ok := c.Take("k")
			if ok != (tc.want != nil) || got.State != tc.want {
				t.Fatalf("Take = %p, %v; want %p", got.State, ok, tc.want)
			}
			for i, it := range items {
				if read := it.lifeEnd.Load() != 0; read != tc.read[i] {
					t.Errorf("entry %d: lifetime read %v, want %v", i, read, tc.read[i])
				}
			}
			checkInvariants(t, c)
		})
	}
}

// ConnCache.Put leaves a TLS 1.3 ticket's lifetime unread when
// SetConnectionState told the version, and reads it otherwise.
func TestConnCachePutLeavesLifetimeUnread(t *testing.T) {
	s := ticketsWithLifetimes(t, time.Minute, time.Hour)
	for _, told := range []bool{true, false} {
		clock := newFakeClock()
		c := New(Options{Now: clock.Now})
		cc := NewConnCache(c, "k")
		if told {
			cc.SetConnectionState(tls.ConnectionState{Version: tls.VersionTLS13})
		}
		cc.Put("", s[0])
		cc.Put("", s[1])
		for i, it := range cc.received {
			if it.Unread != told || it.Lifetime != 0 && told || it.Lifetime == 0 && !told {
				t.Errorf("told %v, ticket %d: Unread %v, Lifetime %v", told, i, it.Unread, it.Lifetime)
			}
		}
		clock.Advance(time.Minute)
		if st, ok := NewConnCache(c, "k").Get(""); !ok || st != s[1] {
			t.Errorf("told %v: Get = %p, %v; want the unexpired ticket %p", told, st, ok, s[1])
		}
	}
}

// What TestUnreadLifetime counts on: crypto/tls does not present a TLS 1.3
// ticket past its lifetime; it asks the cache to forget it and makes a full
// handshake.
func TestExpiredUnreadTicketNotPresented(t *testing.T) {
	srv := startServer(t, tls.VersionTLS13, 1)
	c := New(Options{})
	key := addrKey(t, srv.addrs[0])
	// A one-minute ticket got at clientTime, its lifetime unread, offered
	// by the cache (whose clock says now) to a client whose clock says two
	// minutes later.
	st := ticketsWithLifetimes(t, time.Minute)[0]
	it := c.put(&lineage{cache: c, key: key}, Entry{State: st, TLS13: true, Unread: true})
	cc := NewConnCache(c, key)
	cfg := clientConfig(t, tls.VersionTLS13, cc)
	cfg.Time = func() time.Time { return clientTime.Add(2 * time.Minute) }
	cfg.VerifyConnection = func(cs tls.ConnectionState) error { cc.SetConnectionState(cs); return nil }
	cs, err := dial(t, srv.addrs[0], cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	if !cc.Offered() || cs.DidResume || it.lifeEnd.Load() != 0 {
		t.Fatalf("offered %v, resumed %v, lifetime read %v; want the ticket offered unread and not resumed",
			cc.Offered(), cs.DidResume, it.lifeEnd.Load() != 0)
	}
	if _, tickets := srv.maxPresented(); tickets != 0 {
		t.Fatalf("the server was presented %d tickets, want none", tickets)
	}
	if keys, n := c.Len(); keys != 0 || n != 0 {
		t.Fatalf("%d keys, %d sessions; want the expired ticket forgotten", keys, n)
	}

	// The control: the same ticket within its lifetime is presented.
	st = ticketsWithLifetimes(t, time.Minute)[0]
	c.put(&lineage{cache: c, key: key}, Entry{State: st, TLS13: true, Unread: true})
	cfg.ClientSessionCache = NewConnCache(c, key)
	cfg.Time = func() time.Time { return clientTime.Add(time.Minute - time.Second) }
	if _, err := dial(t, srv.addrs[0], cfg, false); err != nil {
		t.Fatal(err)
	}
	if _, tickets := srv.maxPresented(); tickets != 1 {
		t.Fatalf("the server was presented %d tickets within the lifetime, want 1", tickets)
	}
}
