package sessioncache

import (
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// checkInvariants verifies the cache's internal bookkeeping: every bucket is
// in the map and the LRU list once, non-empty and within bounds, and every
// session is indexed and counted once.
func checkInvariants(t *testing.T, c *Cache) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	listed, items := 0, 0
	for b := c.lru.next; b != &c.lru; b = b.next {
		listed++
		if b.next.prev != b {
			t.Fatalf("LRU list broken at %q", b.key)
		}
		if c.buckets[b.key] != b {
			t.Fatalf("bucket %q in LRU list but not in map", b.key)
		}
		if len(b.tickets) == 0 && b.tls12 == nil {
			t.Fatalf("empty bucket %q kept", b.key)
		}
		if len(b.tickets) > c.maxTickets {
			t.Fatalf("bucket %q holds %d tickets, bound %d", b.key, len(b.tickets), c.maxTickets)
		}
		all := b.tickets
		if b.tls12 != nil {
			all = append(all[:len(all):len(all)], b.tls12)
		}
		for _, it := range all {
			items++
			if it.owner != b || c.byState[it.State] != it {
				t.Fatalf("session in %q badly indexed", b.key)
			}
		}
	}
	if listed != len(c.buckets) || listed > c.maxKeys {
		t.Fatalf("%d buckets listed, %d in map, bound %d", listed, len(c.buckets), c.maxKeys)
	}
	if items != c.sessions || items != len(c.byState) {
		t.Fatalf("%d sessions in buckets, count %d, index %d", items, c.sessions, len(c.byState))
	}
}

func TestTLS13TicketsSingleUseFIFO(t *testing.T) {
	c := New(Options{})
	s := realStates(t, tls.VersionTLS13, 3)
	for _, st := range s {
		c.Put("k", Entry{State: st, TLS13: true})
	}
	for i, want := range s {
		e, ok := c.Take("k")
		if !ok || e.State != want {
			t.Fatalf("Take #%d = %p, %v; want ticket %d (%p)", i, e.State, ok, i, want)
		}
		checkInvariants(t, c)
	}
	if e, ok := c.Take("k"); ok {
		t.Fatalf("Take after all tickets were used = %p, want none", e.State)
	}
	if keys, n := c.Len(); keys != 0 || n != 0 {
		t.Fatalf("Len = %d, %d; want an empty cache", keys, n)
	}
}

func TestTLS12Reusable(t *testing.T) {
	c := New(Options{})
	s := realStates(t, tls.VersionTLS12, 2)
	c.Put("k", Entry{State: s[0]})
	for i := range 3 {
		if e, ok := c.Take("k"); !ok || e.State != s[0] {
			t.Fatalf("Take #%d = %p, %v; want the TLS 1.2 state again", i, e.State, ok)
		}
	}
	c.Put("k", Entry{State: s[1]})
	if e, ok := c.Take("k"); !ok || e.State != s[1] {
		t.Fatalf("Take after a new TLS 1.2 state = %p, %v; want the new state", e.State, ok)
	}
	if keys, n := c.Len(); keys != 1 || n != 1 {
		t.Fatalf("Len = %d, %d; want 1, 1 (the new state replaces the old)", keys, n)
	}
	checkInvariants(t, c)
}

func TestTicketsBeforeTLS12State(t *testing.T) {
	c := New(Options{})
	t12 := realStates(t, tls.VersionTLS12, 1)[0]
	t13 := realStates(t, tls.VersionTLS13, 1)[0]
	c.Put("k", Entry{State: t12})
	c.Put("k", Entry{State: t13, TLS13: true})
	for i, want := range []*tls.ClientSessionState{t13, t12, t12} {
		if e, ok := c.Take("k"); !ok || e.State != want {
			t.Fatalf("Take #%d = %p, want %p", i, e.State, want)
		}
	}
}

func TestTicketQueueBound(t *testing.T) {
	c := New(Options{MaxTicketsPerKey: 3})
	s := realStates(t, tls.VersionTLS13, 5)
	for _, st := range s {
		c.Put("k", Entry{State: st, TLS13: true})
		checkInvariants(t, c)
	}
	if _, n := c.Len(); n != 3 {
		t.Fatalf("%d sessions kept, want the bound 3", n)
	}
	for _, want := range s[2:] { // the two oldest were dropped
		if e, ok := c.Take("k"); !ok || e.State != want {
			t.Fatalf("Take = %p, %v; want %p", e.State, ok, want)
		}
	}
	if _, ok := c.Take("k"); ok {
		t.Fatal("a dropped ticket was offered")
	}
}

func TestKeyBoundLRU(t *testing.T) {
	c := New(Options{MaxKeys: 3})
	s := realStates(t, tls.VersionTLS12, 4)
	c.Put("k1", Entry{State: s[0]})
	c.Put("k2", Entry{State: s[1]})
	c.Put("k3", Entry{State: s[2]})
	c.Take("k1")                    // k1 is now more recent than k2
	c.Put("k4", Entry{State: s[3]}) // evicts k2
	checkInvariants(t, c)
	for key, want := range map[string]bool{"k1": true, "k2": false, "k3": true, "k4": true} {
		if _, ok := c.Take(key); ok != want {
			t.Errorf("Take(%q) found = %v, want %v", key, ok, want)
		}
	}
	if keys, _ := c.Len(); keys != 3 {
		t.Fatalf("%d keys, want 3", keys)
	}
}

func TestExpiry(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name     string
		maxAge   time.Duration
		tls13    bool
		lifetime time.Duration
		born     time.Duration // before Put; 0: Put sets it
		after    time.Duration // Take this long after Put
		want     bool
	}{
		{"age cap default, just before", 0, true, 0, 0, 10*time.Minute - time.Second, true},
		{"age cap default, reached", 0, true, 0, 0, 10 * time.Minute, false},
		{"age cap TLS 1.2, just before", 0, false, 0, 0, 10*time.Minute - time.Second, true},
		{"age cap TLS 1.2, reached", 0, false, 0, 0, 10 * time.Minute, false},
		{"ticket lifetime, just before", 0, true, time.Minute, 0, time.Minute - time.Second, true},
		{"ticket lifetime, reached", 0, true, time.Minute, 0, time.Minute, false},
		{"lifetime longer than the cap", 0, true, time.Hour, 0, 10 * time.Minute, false},
		{"custom cap", time.Hour, true, 2 * time.Hour, 0, time.Hour - time.Second, true},
		{"custom cap reached", time.Hour, true, 2 * time.Hour, 0, time.Hour, false},
		{"seven days at most, before", 30 * day, true, 0, 0, 7*day - time.Second, true},
		{"seven days at most, reached", 30 * day, true, 0, 0, 7 * day, false},
		{"seven days at most, TLS 1.2", 30 * day, false, 0, 0, 7 * day, false},
		{"inherited birth, before", 0, true, 0, 9 * time.Minute, time.Minute - time.Second, true},
		{"inherited birth, reached", 0, true, 0, 9 * time.Minute, time.Minute, false},
		{"inherited birth TLS 1.2, reached", 0, false, 0, 9 * time.Minute, time.Minute, false},
		{"born expired", 0, true, 0, 10 * time.Minute, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			c := New(Options{MaxAge: tt.maxAge, Now: clock.Now})
			version := uint16(tls.VersionTLS12)
			if tt.tls13 {
				version = tls.VersionTLS13
			}
			s := realStates(t, version, 1)[0]
			e := Entry{State: s, TLS13: tt.tls13, Lifetime: tt.lifetime}
			if tt.born != 0 {
				e.Born = clock.Now().Add(-tt.born)
			}
			c.Put("k", e)
			clock.Advance(tt.after)
			got, ok := c.Take("k")
			if ok != tt.want || (ok && got.State != s) {
				t.Fatalf("Take after %v = %p, %v; want found = %v", tt.after, got.State, ok, tt.want)
			}
			if !ok {
				if keys, n := c.Len(); keys != 0 || n != 0 {
					t.Fatalf("expired session kept: Len = %d, %d", keys, n)
				}
			}
			checkInvariants(t, c)
		})
	}
}

func TestTakeSkipsExpiredTickets(t *testing.T) {
	clock := newFakeClock()
	c := New(Options{Now: clock.Now})
	s := realStates(t, tls.VersionTLS13, 3)
	c.Put("k", Entry{State: s[0], TLS13: true, Lifetime: time.Minute})
	c.Put("k", Entry{State: s[1], TLS13: true, Lifetime: time.Minute})
	c.Put("k", Entry{State: s[2], TLS13: true})
	clock.Advance(time.Minute)
	if e, ok := c.Take("k"); !ok || e.State != s[2] {
		t.Fatalf("Take = %p, %v; want the only unexpired ticket", e.State, ok)
	}
	if keys, n := c.Len(); keys != 0 || n != 0 {
		t.Fatalf("Len = %d, %d; want expired tickets dropped", keys, n)
	}
}

func TestTakeReturnsBorn(t *testing.T) {
	clock := newFakeClock()
	c := New(Options{Now: clock.Now})
	s := realStates(t, tls.VersionTLS13, 2)
	born := clock.Now().Add(-time.Minute)
	c.Put("k", Entry{State: s[0], TLS13: true, Born: born})
	c.Put("k", Entry{State: s[1], TLS13: true, Born: clock.Now().Add(time.Hour)}) // future: now
	if e, _ := c.Take("k"); !e.Born.Equal(born) {
		t.Errorf("Born = %v, want %v", e.Born, born)
	}
	if e, _ := c.Take("k"); !e.Born.Equal(clock.Now()) {
		t.Errorf("Born in the future = %v, want now (%v)", e.Born, clock.Now())
	}
}

func TestTakeThisAndForget(t *testing.T) {
	clock := newFakeClock()
	c := New(Options{Now: clock.Now})
	t13 := realStates(t, tls.VersionTLS13, 4)
	t12 := realStates(t, tls.VersionTLS12, 2)
	c.Put("a", Entry{State: t13[0], TLS13: true})
	c.Put("a", Entry{State: t13[1], TLS13: true})
	c.Put("b", Entry{State: t12[0]})
	c.Put("b", Entry{State: t13[2], TLS13: true, Lifetime: time.Second})

	if !c.TakeThis(t13[1]) {
		t.Fatal("TakeThis of a cached ticket = false")
	}
	if c.TakeThis(t13[1]) {
		t.Fatal("TakeThis of a ticket already taken = true")
	}
	if e, ok := c.Take("a"); !ok || e.State != t13[0] {
		t.Fatalf("Take(a) = %p, want the other ticket", e.State)
	}
	if c.TakeThis(t13[0]) {
		t.Fatal("TakeThis of a ticket Take handed out = true")
	}
	if c.TakeThis(t13[3]) || c.TakeThis(nil) {
		t.Fatal("TakeThis of a session never cached = true")
	}
	clock.Advance(time.Second)
	if c.TakeThis(t13[2]) {
		t.Fatal("TakeThis of an expired ticket = true")
	}
	c.Forget(t12[1]) // not cached: nothing happens
	c.Forget(nil)
	if _, n := c.Len(); n != 1 {
		t.Fatalf("%d sessions, want the TLS 1.2 state only", n)
	}
	c.Forget(t12[0])
	if keys, n := c.Len(); keys != 0 || n != 0 {
		t.Fatalf("Len after Forget = %d, %d; want empty", keys, n)
	}
	if _, ok := c.Take("b"); ok {
		t.Fatal("a forgotten state was offered")
	}
	c.Put("b", Entry{State: t12[1]})
	if !c.TakeThis(t12[1]) {
		t.Fatal("TakeThis of a TLS 1.2 state = false")
	}
	checkInvariants(t, c)
}

func TestPutSameStateTwice(t *testing.T) {
	c := New(Options{})
	s := realStates(t, tls.VersionTLS13, 1)[0]
	c.Put("a", Entry{State: s, TLS13: true})
	c.Put("b", Entry{State: s, TLS13: true})
	c.Put(" nil", Entry{})
	if keys, n := c.Len(); keys != 1 || n != 1 {
		t.Fatalf("Len = %d, %d; want the one state once, under its latest key", keys, n)
	}
	if _, ok := c.Take("a"); ok {
		t.Fatal("state offered under its former key")
	}
	if _, ok := c.Take("b"); !ok {
		t.Fatal("state missing under its latest key")
	}
	checkInvariants(t, c)
}

func TestConcurrentTakeDistinct(t *testing.T) {
	const tickets, takers = 30, 100
	c := New(Options{MaxTicketsPerKey: tickets})
	s := realStates(t, tls.VersionTLS13, tickets)
	for _, st := range s {
		c.Put("k", Entry{State: st, TLS13: true})
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		got   = make([]*tls.ClientSessionState, takers)
	)
	for i := range takers {
		wg.Go(func() {
			<-start
			if e, ok := c.Take("k"); ok {
				got[i] = e.State
			}
		})
	}
	close(start)
	wg.Wait()
	seen := map[*tls.ClientSessionState]bool{}
	for _, st := range got {
		if st == nil {
			continue
		}
		if seen[st] {
			t.Fatalf("ticket %p handed out twice", st)
		}
		seen[st] = true
	}
	if len(seen) != tickets {
		t.Fatalf("%d takers got a ticket, want %d", len(seen), tickets)
	}
}

func TestBoundedUnderLoad(t *testing.T) {
	const puts, workers = 10_000, 8
	clock := newFakeClock()
	c := New(Options{Now: clock.Now})
	states := append(realStates(t, tls.VersionTLS13, 500), realStates(t, tls.VersionTLS12, 100)...)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range puts / workers {
				st := states[r.IntN(len(states))]
				key := fmt.Sprintf("host/h%d.test:443/none", r.IntN(200))
				c.Put(key, Entry{State: st, TLS13: r.IntN(6) != 0, Lifetime: time.Duration(r.IntN(1000)) * time.Second})
				if i%3 == 0 {
					c.Take(fmt.Sprintf("host/h%d.test:443/none", r.IntN(200)))
				}
				if i%100 == 0 {
					clock.Advance(time.Second)
				}
			}
		})
	}
	wg.Wait()
	keys, n := c.Len()
	if keys > DefaultMaxKeys || n > DefaultMaxKeys*(DefaultMaxTicketsPerKey+1) {
		t.Fatalf("after %d Puts: %d keys, %d sessions; bounds %d keys, %d sessions",
			puts, keys, n, DefaultMaxKeys, DefaultMaxKeys*(DefaultMaxTicketsPerKey+1))
	}
	if keys < DefaultMaxKeys/2 {
		t.Fatalf("only %d keys after %d Puts on 200 keys: eviction too eager", keys, puts)
	}
	checkInvariants(t, c)
}

func TestOptionsDefaults(t *testing.T) {
	c := New(Options{MaxKeys: -1, MaxTicketsPerKey: -1, MaxAge: -1})
	if c.maxKeys != DefaultMaxKeys || c.maxTickets != DefaultMaxTicketsPerKey || c.maxAge != DefaultMaxAge {
		t.Fatalf("defaults = %d, %d, %v", c.maxKeys, c.maxTickets, c.maxAge)
	}
	if Default() == nil || Default() != Default() {
		t.Fatal("Default is not one process-wide cache")
	}
}

// Cache operations under contention. In PutTake13 every Put is followed by a
// Take, so the figure is the cost of two operations. Measured on the 2-core
// development machine (go test -bench Cache -cpu 1,2): PutTake13 750-1250
// ns/op, i.e. 400-650 ns per operation, with or without contention; Take12
// (the read-only TLS 1.2 path) 105-125 ns/op.
func BenchmarkCache(b *testing.B) {
	states13 := realStates(b, tls.VersionTLS13, 4096)
	states12 := realStates(b, tls.VersionTLS12, 64)
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = Key(HostIdentity(fmt.Sprintf("h%d.test", i), 443), nil)
	}
	b.Run("PutTake13", func(b *testing.B) {
		c := New(Options{})
		var n sync.Mutex
		next := 0
		b.RunParallel(func(pb *testing.PB) {
			n.Lock()
			i := next
			next += 512
			n.Unlock()
			for pb.Next() {
				key := keys[i%len(keys)]
				c.Put(key, Entry{State: states13[i%len(states13)], TLS13: true})
				c.Take(key)
				i++
			}
		})
	})
	b.Run("Take12", func(b *testing.B) {
		c := New(Options{MaxKeys: len(keys)})
		for i, k := range keys {
			c.Put(k, Entry{State: states12[i]})
		}
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, ok := c.Take(keys[i%len(keys)]); !ok {
					b.Fatal("TLS 1.2 state missing")
				}
				i++
			}
		})
	})
}
