package sessioncache

import (
	"crypto/tls"
	"testing"
	"time"
)

// TestSharedCacheDropAndCap: what TestSharedCacheRules leaves out. Put(k,
// nil), which crypto/tls calls for a session it found unusable, drops only
// that config's TLS 1.2 state under k (another config's, another key's and
// the tickets stay); a reusable TLS 1.2 state stored early is not offered
// once MaxAge has passed since the config's making; and a clock set back
// after the making (a fake one: the real one is monotonic) neither reopens
// the config nor lengthens a session's life past born+MaxAge. A zero or
// negative MaxAge is the default ten minutes, for the config's cap too.
func TestSharedCacheDropAndCap(t *testing.T) {
	t12 := realStates(t, tls.VersionTLS12, 3)
	t13 := realStates(t, tls.VersionTLS13, 1)
	t.Run("Put nil drops one config's TLS 1.2 state under one key", func(t *testing.T) {
		c := New(Options{Now: newFakeClock().Now})
		a, b := NewSharedCache(c, nil), NewSharedCache(c, nil)
		a.Put("a.example", t12[0])
		a.Put("a.example", t13[0])
		a.Put("b.example", t12[1])
		b.Put("a.example", t12[2])
		a.Put("a.example", nil)
		for _, g := range []struct {
			sc   *SharedCache
			key  string
			want *tls.ClientSessionState
		}{{a, "a.example", t13[0]}, {a, "a.example", nil}, {a, "b.example", t12[1]}, {b, "a.example", t12[2]}} {
			if got, ok := g.sc.Get(g.key); got != g.want || ok != (g.want != nil) {
				t.Fatalf("Get(%s) = %p, %v; want %p", g.key, got, ok, g.want)
			}
		}
		checkInvariants(t, c)
	})
	t.Run("TLS 1.2 state not offered past the cap", func(t *testing.T) {
		clock := newFakeClock()
		c := New(Options{Now: clock.Now})
		sc := NewSharedCache(c, nil)
		clock.Advance(time.Minute)
		sc.Put("a.example", t12[0])
		clock.Advance(8*time.Minute + 59*time.Second)
		if got, _ := sc.Get("a.example"); got != t12[0] {
			t.Fatalf("before the cap: %p, want the TLS 1.2 state", got)
		}
		clock.Advance(time.Second)
		if got, ok := sc.Get("a.example"); ok {
			t.Fatalf("MaxAge after the config's making: %p offered", got)
		}
	})
	t.Run("clock set back", func(t *testing.T) {
		clock := newFakeClock()
		c := New(Options{Now: clock.Now})
		sc := NewSharedCache(c, nil)
		clock.Advance(-time.Hour)
		sc.Put("a.example", t12[0]) // before the making, by the clock
		clock.Advance(time.Hour + time.Minute)
		sc.Put("b.example", t12[1])
		clock.Advance(-time.Hour)
		sc.Get("b.example") // offered or not: before the making, by the clock
		clock.Advance(time.Hour + 9*time.Minute)
		for _, k := range []string{"a.example", "b.example"} {
			if got, ok := sc.Get(k); ok {
				t.Fatalf("MaxAge after the making, by the clock set back and forth: %s offered %p", k, got)
			}
		}
		sc.Put("a.example", t12[2]) // after the cap
		clock.Advance(-time.Hour)
		if got, ok := sc.Get("a.example"); ok && got == t12[2] {
			t.Fatalf("stored after the cap, offered when the clock went back")
		}
	})
	for _, maxAge := range []time.Duration{0, -time.Minute} {
		t.Run("MaxAge "+maxAge.String()+" is the default", func(t *testing.T) {
			clock := newFakeClock()
			c := New(Options{Now: clock.Now, MaxAge: maxAge})
			sc := NewSharedCache(c, nil)
			sc.Put("a.example", t12[0])
			clock.Advance(DefaultMaxAge - time.Second)
			if got, _ := sc.Get("a.example"); got != t12[0] {
				t.Fatalf("before DefaultMaxAge: %p, want the TLS 1.2 state", got)
			}
			clock.Advance(time.Second)
			sc.Put("b.example", t12[1])
			for _, k := range []string{"a.example", "b.example"} {
				if got, ok := sc.Get(k); ok {
					t.Fatalf("DefaultMaxAge after the making: %s offered %p", k, got)
				}
			}
		})
	}
}
