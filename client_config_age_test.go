package giotls

import (
	"context"
	"crypto/tls"
	"io"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// TestClientConfigTicketHeldBack: a config's sessions are dated from the
// config's making, so a ticket a relay holds back past MaxAge is not
// resumed (dated from its arrival, it was), while one in time is. OpenSSL
// sends its TLS 1.3 ticket after the client's Finished, which the relay
// holds back.
func TestClientConfigTicketHeldBack(t *testing.T) {
	const maxAge, delay = time.Second, 1500 * time.Millisecond
	ca := newTestCA(t, "Held Ticket Root")
	certFile, keyFile, _, err := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost")).WriteFiles(t.TempDir(), "leaf")
	if err != nil {
		t.Fatal(err)
	}
	port := peer.FreePort(t)
	p := peer.Start(t, peer.Addr(port), "openssl", "s_server", "-accept", peer.Addr(port), "-cert", certFile, "-key", keyFile,
		"-tls1_3", "-num_tickets", "1", "-www")
	get := func(addr string, cfg *tls.Config) bool {
		t.Helper()
		raw, err := loopback.Dial(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		raw.SetDeadline(time.Now().Add(20 * time.Second))
		tc := tls.Client(raw, cfg)
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
