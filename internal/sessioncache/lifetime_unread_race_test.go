package sessioncache

import (
	"crypto/tls"
	"sync"
	"testing"
	"time"
)

// TestUnreadLifetimeConcurrentTakes: the Unread tickets of one connection,
// some past their lifetime, are taken at once by lookups (Get) and by
// CopyFrom on the same items, so that take, CopyFrom and live read the
// lifetimes of the same tickets concurrently (run it with -race). There are
// as many takers as live tickets, so CopyFrom never falls back to a ticket
// handed out already: every taker gets one, and no ticket goes to two.
func TestUnreadLifetimeConcurrentTakes(t *testing.T) {
	var lifetimes []time.Duration
	live := 0
	for i := range 12 {
		l := time.Minute
		if i%3 != 1 {
			l, live = time.Hour, live+1
		}
		lifetimes = append(lifetimes, l)
	}
	tickets := ticketsWithLifetimes(t, lifetimes...)
	for round := range 50 {
		clock := newFakeClock()
		c := New(Options{MaxTicketsPerKey: len(tickets), MaxAge: 24 * time.Hour, Now: clock.Now})
		src := NewConnCache(c, "k")
		src.SetConnectionState(tls.ConnectionState{Version: tls.VersionTLS13})
		for _, s := range tickets {
			src.Put("", s)
		}
		clock.Advance(2 * time.Minute)
		got := make([]*tls.ClientSessionState, live)
		var wg sync.WaitGroup
		for i := range live {
			wg.Go(func() {
				cc := NewConnCache(c, "k")
				if i%2 == 1 && !cc.CopyFrom(src) {
					return
				}
				got[i], _ = cc.Get("")
			})
		}
		wg.Wait()
		seen := make(map[*tls.ClientSessionState]int)
		for i, s := range got {
			if s == nil {
				t.Fatalf("round %d: taker %d got nothing; %d live tickets for %d takers", round, i, live, live)
			}
			if j, dup := seen[s]; dup {
				t.Fatalf("round %d: takers %d and %d got the same ticket", round, j, i)
			}
			seen[s] = i
		}
		checkInvariants(t, c)
	}
}
