package sessioncache

import (
	"crypto/tls"
	"sync"
	"testing"
	"time"
)

// TestSharedCacheRules drives a SharedCache as crypto/tls would (Get before
// each ClientHello, Put for what arrives, in any order across connections)
// on a fake clock, and checks single use, keys and the age cap, counted
// from the config's making.
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
		{"dated from the config's making", []step{
			{advance: 6 * time.Minute, put: t13[0]}, {advance: 3 * time.Minute, want: t13[0]}, {put: t13[1]},
			{advance: 2 * time.Minute}, // 11 minutes after the config was made: gone, though t13[1] arrived 2 minutes ago
		}},
		{"nothing stored after MaxAge", []step{
			{advance: 10 * time.Minute, put: t13[0]}, {},
			{advance: time.Hour, put: t12[0]}, {},
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

// TestSharedCacheConfigsApart: two configs over one cache (the
// process-wide one) never share sessions, even for the same key and
// certificate: each dates its sessions from its own making, so a session
// of one config's chain must not be resumed, and its tickets stored, by a
// config made later.
func TestSharedCacheConfigsApart(t *testing.T) {
	states := realStates(t, tls.VersionTLS13, 2)
	clock := newFakeClock()
	c := New(Options{Now: clock.Now})
	first := NewSharedCache(c, nil)
	first.Put("a.example", states[0])
	clock.Advance(9 * time.Minute)
	second := NewSharedCache(c, nil)
	if s, ok := second.Get("a.example"); ok {
		t.Fatalf("a later config resumed %p, a session of another config's chain", s)
	}
	second.Put("a.example", states[1])
	if s, ok := first.Get("a.example"); !ok || s != states[0] {
		t.Fatalf("the first config's own session: %p, %v", s, ok)
	}
	if s, ok := second.Get("a.example"); !ok || s != states[1] {
		t.Fatalf("the second config's own session: %p, %v", s, ok)
	}
}
