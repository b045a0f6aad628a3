package giotls

import (
	"crypto/tls"
	"testing"
)

// TestCloseDrainKeepsTickets: a connection that never reads (an FTP upload)
// receives its TLS 1.3 ticket only while Close drains. Kept there, under the
// rules of its chain, it is what lets the next connection resume without
// presenting a ticket again: eight copies in a row, and eight plain
// connections in a row, each one handshaking and closing without reading,
// all resume and no ticket is presented twice. What the copies bring back
// stays with the source's chain (connect checks that a plain connection
// where they went resumes none of it).
func TestCloseDrainKeepsTickets(t *testing.T) {
	tests := []struct {
		name     string
		disabled bool // the backend has DisableResumption: its chains live in no cache
		copy     bool // each connection copies the first one's session
	}{
		{"copies", false, true},
		{"copies, DisableResumption", true, true},
		{"plain connections", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLineageEnv(t, tls.VersionTLS13)
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{}), DisableResumption: tt.disabled})
			a, _ := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example"})
			for i := range 8 {
				lc := lineageConn{backend: b, port: 0, host: "a.example", noRead: true}
				if tt.copy {
					lc.port, lc.copy = 1, a
				}
				c, v := e.mustConnect(t, lc)
				if err := c.Close(); err != nil {
					t.Fatalf("connection %d: Close: %v", i+1, err)
				}
				if !v.resumed || v.reused || v.origin != chainTag("a.example", 0, "") {
					t.Errorf("connection %d: server saw %+v; want A's chain resumed with a ticket never presented before", i+1, v)
				}
			}
			if tt.copy {
				if _, v := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "a.example"}); v.resumed {
					t.Errorf("a plain connection where the copies went resumed %s", v.origin)
				}
			}
			if n := e.reusedTickets(); n != 0 {
				t.Errorf("%d tickets presented again", n)
			}
		})
	}
}
