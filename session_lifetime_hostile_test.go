package giotls

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// TestHostileOneSecondTickets: a server sends four TLS 1.3 tickets with a
// one-second lifetime on every connection. Within the second, the next
// connection presents one of them (the control: the server sees a
// pre_shared_key); two seconds later, when the lookup reads three
// lifetimes and offers the last ticket unread, no ticket is presented,
// and the tickets of that full handshake are offered to the connection
// after it.
func TestHostileOneSecondTickets(t *testing.T) {
	ca := newTestCA(t, "Short Tickets Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	var mu sync.Mutex
	var psk []bool // per ClientHello: it carried a pre_shared_key (RFC 8446, section 4.2.11)
	n := 0
	srv := startRecordServer(t, leaf, func(r *serverRecords, done <-chan struct{}) {
		var msgs []byte
		mu.Lock()
		n++
		for i := range 4 {
			msgs = append(msgs, newSessionTicket(1, []byte{byte(i)}, fmt.Appendf(nil, "conn-%d-ticket-%d", n, i))...)
		}
		mu.Unlock()
		if r.write(recordHandshake, msgs) == nil {
			r.write(recordApplicationData, []byte{'.'})
		}
		waitOrDone(done)
	}, func(cfg *tls.Config) {
		cfg.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			psk = append(psk, slices.Contains(hi.Extensions, 41))
			mu.Unlock()
			return nil, nil
		}
	})
	b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
	connect := func(wait time.Duration) bool {
		t.Helper()
		time.Sleep(wait)
		c, _ := dialClient(t, b, srv.Addr, localhost(srv.Addr.Port()))
		c.SetDatabase(ca.db)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c.CloseContext(ctx) // at once: the server never closes
		mu.Lock()
		defer mu.Unlock()
		return psk[len(psk)-1]
	}
	if connect(0) {
		t.Fatal("the first connection presented a ticket")
	}
	if !connect(0) {
		t.Fatal("control: a ticket within its lifetime was not presented")
	}
	if connect(2100 * time.Millisecond) {
		t.Error("a ticket past its one-second lifetime was presented")
	}
	if !connect(0) {
		t.Error("the tickets of the full handshake after the expired ones were not offered")
	}
}
