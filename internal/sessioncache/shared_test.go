package sessioncache

import (
	"crypto/tls"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestSharedCacheRules drives a SharedCache as crypto/tls would (Get before
// each ClientHello, Put for what arrives, in any order across connections)
// on a fake clock, and checks single use, keys and the conservative age cap.
func TestSharedCacheRules(t *testing.T) {
	t13 := realStates(t, tls.VersionTLS13, 6)
	t12 := realStates(t, tls.VersionTLS12, 1)
	type step struct {
		advance time.Duration
		put     *tls.ClientSessionState // else Get
		cert    bool                    // through the cache that sends a certificate
		name    string                  // crypto/tls's key; "" is "a.example"
		want    *tls.ClientSessionState // for Get: nil wants nothing
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"ticket used once", []step{{put: t13[0]}, {put: t13[1]}, {want: t13[0]}, {want: t13[1]}, {}}},
		{"TLS 1.2 state reusable", []step{{put: t12[0]}, {want: t12[0]}, {want: t12[0]}}},
		{"never across certificates", []step{{put: t13[0]}, {cert: true}, {put: t13[1], cert: true}, {want: t13[0]}, {cert: true, want: t13[1]}, {}}},
		{"never across names", []step{{put: t13[0]}, {name: "b.example"}, {want: t13[0]}}},
		{"epoch dates later sessions", []step{
			{put: t13[0]}, {advance: 6 * time.Minute, want: t13[0]}, {put: t13[1]}, // t13[1] may descend from t13[0]
			{advance: 5 * time.Minute}, // 11 minutes after t13[0]: gone
		}},
		{"closed after a handed-out epoch", []step{
			{put: t13[0]}, {want: t13[0]}, {advance: 11 * time.Minute, put: t13[1]}, {},
			{advance: 8 * time.Minute, put: t13[2]}, {}, // 19 minutes after the epoch began: still closed
			{advance: 2 * time.Minute, put: t13[3]}, {want: t13[3]}, // 21: a new epoch
		}},
		{"reopened after an epoch nobody resumed", []step{
			{put: t13[0]}, {advance: 11 * time.Minute, put: t13[1]}, {want: t13[1]},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			c := New(Options{Now: clock.Now})
			plain := NewSharedCache(c, nil)
			withCert := NewSharedCache(c, [][]byte{[]byte("client certificate")})
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				sc, name := plain, s.name
				if s.cert {
					sc = withCert
				}
				if name == "" {
					name = "a.example"
				}
				if s.put != nil {
					sc.Put(name, s.put)
					continue
				}
				got, ok := sc.Get(name)
				if got != s.want || ok != (s.want != nil) {
					t.Fatalf("step %d: Get = %p, %v; want %p", i, got, ok, s.want)
				}
				checkInvariants(t, c)
			}
		})
	}
}

// TestSharedCacheConcurrent has many goroutines Get and Put under one key:
// no ticket is handed out twice (run with -race).
func TestSharedCacheConcurrent(t *testing.T) {
	states := realStates(t, tls.VersionTLS13, 64)
	c := New(Options{MaxTicketsPerKey: 64})
	sc := NewSharedCache(c, nil)
	var mu sync.Mutex
	seen := map[*tls.ClientSessionState]bool{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 8 {
				sc.Put("a.example", states[i*8+j])
				if s, ok := sc.Get("a.example"); ok {
					mu.Lock()
					if seen[s] {
						t.Errorf("ticket %p handed out twice", s)
					}
					seen[s] = true
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	checkInvariants(t, c)
}

// TestSharedCacheEpochBound: at most four times MaxKeys epochs are kept;
// beyond them new keys store nothing, until epochs nobody resumed expire.
func TestSharedCacheEpochBound(t *testing.T) {
	for _, maxKeys := range []int{1, 2} { // the table holds 4 × MaxKeys epochs
		bound := 4 * maxKeys
		clock := newFakeClock()
		c := New(Options{MaxKeys: maxKeys, Now: clock.Now})
		sc := NewSharedCache(c, nil)
		states := realStates(t, tls.VersionTLS13, bound+2)
		key := func(i int) string { return fmt.Sprintf("k%d", i) }
		for i := range bound {
			sc.Put(key(i), states[i])
		}
		last := key(bound - 1)
		if _, ok := sc.Get(last); !ok {
			t.Fatalf("MaxKeys %d: key %d of %d stored nothing", maxKeys, bound, bound)
		}
		extra := key(bound)
		sc.Put(extra, states[bound])
		if _, ok := sc.Get(extra); ok {
			t.Fatalf("MaxKeys %d: epoch %d was started: the table is unbounded", maxKeys, bound+1)
		}
		clock.Advance(11 * time.Minute) // all but the last expire unresumed; the last was resumed and stays closed
		sc.Put(extra, states[bound+1])
		if s, ok := sc.Get(extra); !ok || s != states[bound+1] {
			t.Fatalf("MaxKeys %d: no room was made by dropping expired epochs nobody resumed", maxKeys)
		}
		if len(c.epochs) != 2 {
			t.Fatalf("MaxKeys %d: %d epochs kept, want the resumed one (closed) and the new one", maxKeys, len(c.epochs))
		}
	}
}

// TestSharedCacheEpochSlots: the epoch table makes room by dropping only
// expired epochs nobody resumed, when it is full, and a key keeps its slot
// until then: a key whose epoch expired starts a new one even when every
// other slot holds a live epoch, and resumed (closed) epochs keep theirs.
func TestSharedCacheEpochSlots(t *testing.T) {
	const maxKeys = 2
	bound := 4 * maxKeys
	key := func(i int) string { return fmt.Sprintf("k%d", i) }
	t.Run("expired key keeps its slot", func(t *testing.T) {
		clock := newFakeClock()
		c := New(Options{MaxKeys: maxKeys, Now: clock.Now})
		sc := NewSharedCache(c, nil)
		states := realStates(t, tls.VersionTLS13, bound+1)
		sc.Put(key(0), states[0])
		clock.Advance(11 * time.Minute)
		for i := 1; i < bound; i++ { // the table fills with live epochs
			sc.Put(key(i), states[i])
		}
		sc.Put(key(0), states[bound])
		if s, ok := sc.Get(key(0)); !ok || s != states[bound] {
			t.Fatal("a key whose epoch expired, nobody having resumed it, could not start a new one in a full table")
		}
	})
	t.Run("closed epochs keep their slots", func(t *testing.T) {
		clock := newFakeClock()
		c := New(Options{MaxKeys: maxKeys, Now: clock.Now})
		sc := NewSharedCache(c, nil)
		states := realStates(t, tls.VersionTLS13, bound+1)
		for i := range bound {
			sc.Put(key(i), states[i])
			if i < 3 { // resumed: closed once they expire
				if _, ok := sc.Get(key(i)); !ok {
					t.Fatalf("key %d stored nothing", i)
				}
			}
		}
		clock.Advance(11 * time.Minute)
		sc.Put(key(bound), states[bound]) // the five unresumed go; three closed stay, far under the bound
		if s, ok := sc.Get(key(bound)); !ok || s != states[bound] {
			t.Fatal("no new epoch with three closed epochs in a table of eight")
		}
		if len(c.epochs) != 4 {
			t.Fatalf("%d epochs kept, want the three closed and the new one", len(c.epochs))
		}
	})
}

// TestSharedCacheClosedEpochsEnd: a table full of closed epochs (every key
// resumed once, as a program made to connect twice to many names leaves
// it) refuses new keys only until those epochs end, twice MaxAge after they
// began: resumption is not turned off for good.
func TestSharedCacheClosedEpochsEnd(t *testing.T) {
	const maxKeys = 1
	bound := 4 * maxKeys
	clock := newFakeClock()
	c := New(Options{MaxKeys: maxKeys, Now: clock.Now})
	sc := NewSharedCache(c, nil)
	states := realStates(t, tls.VersionTLS13, bound+2)
	for i := range bound {
		k := fmt.Sprintf("k%d", i)
		sc.Put(k, states[i])
		if _, ok := sc.Get(k); !ok {
			t.Fatalf("key %d stored nothing", i)
		}
	}
	clock.Advance(11 * time.Minute)
	sc.Put("new", states[bound])
	if _, ok := sc.Get("new"); ok {
		t.Fatal("a new key stored a session in a table of closed epochs")
	}
	clock.Advance(10 * time.Minute) // 21 minutes: the closed epochs are over
	sc.Put("new", states[bound+1])
	if s, ok := sc.Get("new"); !ok || s != states[bound+1] {
		t.Fatal("closed epochs still refuse new keys twice MaxAge after they began")
	}
}
