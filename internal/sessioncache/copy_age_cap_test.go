package sessioncache

import (
	"crypto/tls"
	"testing"
	"time"
)

// TestCopiedSessionPastCapAtGet: CopyFrom picks a session within its
// chain's age cap (and, for a TLS 1.3 ticket, its lifetime), but the
// connection asks for it (Get, at its handshake) only after the cap has
// passed: nothing is offered then, as a lookup would offer nothing. The
// control asks just before the cap.
func TestCopiedSessionPastCapAtGet(t *testing.T) {
	for _, v := range versions {
		for _, wait := range []time.Duration{9*time.Minute + 59*time.Second, 10*time.Minute + time.Second} {
			t.Run(v.name+"/"+wait.String(), func(t *testing.T) {
				clock := newFakeClock()
				c := New(Options{Now: clock.Now}) // MaxAge: ten minutes
				src := NewConnCache(c, "control")
				src.SetConnectionState(tls.ConnectionState{Version: v.version})
				src.Put("", realStates(t, v.version, 1)[0])
				clock.Advance(time.Minute)
				dst := NewConnCache(c, "data")
				if !dst.CopyFrom(src) {
					t.Fatal("CopyFrom within the cap = false")
				}
				clock.Advance(wait - time.Minute)
				_, ok := dst.Get("")
				if want := wait < 10*time.Minute; ok != want {
					t.Errorf("Get %v after the full handshake: offered %v, want %v", wait, ok, want)
				}
			})
		}
	}
}
