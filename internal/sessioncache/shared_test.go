package sessioncache

import (
	"crypto/tls"
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
			{advance: time.Hour, put: t13[2]}, {},
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
	clock := newFakeClock()
	c := New(Options{MaxKeys: 1, Now: clock.Now})
	sc := NewSharedCache(c, nil)
	states := realStates(t, tls.VersionTLS13, 6)
	for i := range 4 {
		sc.Put(string(rune('a'+i)), states[i])
	}
	if _, ok := sc.Get("d"); !ok {
		t.Fatal("the fourth key stored nothing")
	}
	sc.Put("e", states[4])
	if _, ok := sc.Get("e"); ok {
		t.Fatal("a fifth epoch was started: the table is unbounded")
	}
	clock.Advance(11 * time.Minute) // a, b, c expire unresumed; d was resumed and stays closed
	sc.Put("e", states[5])
	if s, ok := sc.Get("e"); !ok || s != states[5] {
		t.Fatal("no room was made by dropping expired epochs nobody resumed")
	}
	if len(c.epochs) != 2 {
		t.Fatalf("%d epochs kept, want d (closed) and e", len(c.epochs))
	}
}
