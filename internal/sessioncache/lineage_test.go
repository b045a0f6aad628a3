package sessioncache

import (
	"crypto/tls"
	"net/netip"
	"testing"
)

// TestCopyLineage: what a connection receives after resuming a copied
// session goes under the source chain's key, in the source's cache; a copy
// is refused into a connection keyed with another client certificate; and
// with no word on whether the server resumed, a copy's descendants go
// nowhere.
func TestCopyLineage(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			srv := startServer(t, v.version, 2) // control and data ports
			id := func(i int) string { return AddressIdentity(netip.MustParseAddrPort(srv.addrs[i])) }
			alice, bob := [][]byte{[]byte("alice's chain")}, [][]byte{[]byte("bob's chain")}
			c := New(Options{})
			srcKey, dataKey := Key(id(0), alice), Key(id(1), nil)
			src := NewConnCache(c, srcKey)
			mustConnect(t, srv, 0, v.version, src, true, false)

			// A copy with no certificate resumes; what it receives joins
			// src's chain, under src's key.
			dst := NewConnCache(c, dataKey)
			if !dst.CopyFrom(src) {
				t.Fatal("CopyFrom into a connection with no certificate = false")
			}
			mustConnect(t, srv, 1, v.version, dst, true, true)
			if keys, n := c.Len(); keys != 1 || n != 1 {
				t.Fatalf("cache holds %d keys, %d sessions; want src's key with the copy's session", keys, n)
			}
			if _, ok := c.Take(dataKey); ok {
				t.Fatal("a session is stored under the copier's key")
			}
			for _, it := range dst.received {
				if it.lin != src.own || it.owner == nil || it.owner.key != srcKey {
					t.Fatalf("the copy's session is not in src's chain under src's key")
				}
			}

			// Another certificate: refused. The chain's own: taken.
			if NewConnCache(c, Key(id(1), bob)).CopyFrom(src) {
				t.Error("CopyFrom into a connection keyed with bob's chain = true")
			}
			if !NewConnCache(c, Key(id(1), alice)).CopyFrom(src) {
				t.Error("CopyFrom into a connection keyed with the chain's certificate = false")
			}

			// Through another cache: nothing lands there.
			other := New(Options{})
			x := NewConnCache(other, dataKey)
			if !x.CopyFrom(src) {
				t.Fatal("CopyFrom across caches = false")
			}
			mustConnect(t, srv, 1, v.version, x, true, true)
			if keys, n := other.Len(); keys != 0 || n != 0 {
				t.Errorf("the copier's cache holds %d keys, %d sessions; want none", keys, n)
			}

			// SetConnectionState never called: the copy's descendants are
			// kept by the connection only.
			before := map[*tls.ClientSessionState]bool{}
			c.mu.Lock()
			for s := range c.byState {
				before[s] = true
			}
			c.mu.Unlock()
			y := NewConnCache(c, dataKey)
			if !y.CopyFrom(src) {
				t.Fatal("CopyFrom = false")
			}
			if _, err := connect(t, srv, 1, v.version, y, true, false); err != nil {
				t.Fatal(err)
			}
			if len(y.received) == 0 {
				t.Fatal("the untold copy received nothing: the check below proves nothing")
			}
			c.mu.Lock()
			for s := range c.byState {
				if !before[s] {
					t.Errorf("a session of a copy whose resumption was never told is cached")
				}
			}
			c.mu.Unlock()
		})
	}
}
