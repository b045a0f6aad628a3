package sessioncache

import (
	"crypto/tls"
	"testing"
	"time"
)

// TestConnCacheDatesFromFullHandshake: a session a connection receives
// after a full handshake is dated from that handshake (SetConnectionState),
// not from its arrival: one that arrives after MaxAge is not kept, one that
// arrives sooner expires MaxAge after the handshake.
func TestConnCacheDatesFromFullHandshake(t *testing.T) {
	states := realStates(t, tls.VersionTLS13, 2)
	for _, tc := range []struct {
		name   string
		delay  time.Duration // between the handshake and the ticket
		within time.Duration // after the ticket, a lookup that must find it, 0 for none
	}{
		{"late", 11 * time.Minute, 0},
		{"on time, then past the cap", 6 * time.Minute, 0},
		{"on time", time.Minute, 8 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			c := New(Options{Now: clock.Now})
			cc := NewConnCache(c, "a.example:443")
			cc.Get("")
			cc.SetConnectionState(tls.ConnectionState{Version: tls.VersionTLS13})
			clock.Advance(tc.delay)
			cc.Put("", states[0])
			if tc.within == 0 {
				clock.Advance(5 * time.Minute)
			} else {
				clock.Advance(tc.within)
			}
			_, ok := NewConnCache(c, "a.example:443").Get("")
			if want := tc.within != 0; ok != want {
				t.Fatalf("a later connection found the ticket: %v, want %v", ok, want)
			}
		})
	}
}
