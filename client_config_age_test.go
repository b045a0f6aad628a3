package giotls

import (
	"crypto/tls"
	"io"
	"testing"
	"time"
)

// TestClientConfigTicketHeldBack: a config's sessions are dated from the
// config's making, so a ticket a relay holds back past MaxAge is not
// resumed (dated from its arrival, it was), while one in time is. OpenSSL
// sends its TLS 1.3 ticket after the client's Finished, which the relay
// holds back.
func TestClientConfigTicketHeldBack(t *testing.T) {
	const maxAge, delay = time.Second, 1500 * time.Millisecond
	ca := newTestCA(t, "Held Ticket Root")
	p, _ := ticketServer(t, ca)
	get := func(addr string, cfg *tls.Config) bool {
		t.Helper()
		tc := configClient(t, addr, cfg)
		defer tc.Close()
		io.WriteString(tc, "GET / HTTP/1.0\r\n\r\n")
		if _, err := io.ReadAll(tc); err != nil {
			t.Fatal(p.Errorf("%v", err))
		}
		return tc.ConnectionState().DidResume
	}
	for _, tc := range []struct {
		name  string
		delay time.Duration
		want  bool // the second connection resumes
	}{{"ticket in time", 0, true}, {"ticket past MaxAge", delay, false}} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{MaxAge: maxAge})})
			cfg := mustConfig(t, b, ClientConfigOptions{ServerName: "localhost", Database: ca.db})
			relay := ticketDelayRelay(t, p.Addr, tc.delay)
			for i, want := range []bool{false, tc.want} {
				if got := get(relay, cfg); got != want {
					t.Fatalf("connection %d: resumed %v, want %v (the ticket held back %v; MaxAge %v)", i+1, got, want, tc.delay, maxAge)
				}
			}
		})
	}
}
