package sessioncache

import (
	"crypto/tls"
	"testing"
	"time"
)

// Tests for where a ticket is taken from and put to, each written against a
// mutant that scripts/mutate found living (file:line:column in parentheses,
// as gremlins reported it when the test was written).

// TestTakeOfLineage: a copy falling back to the cache takes the newest
// unclaimed ticket of its own chain, never another chain's sharing the key,
// wherever in the key's queue it sits (cache.go:265:33 i > 0, 265:40 i++,
// 267:13 it.lin != lin).
func TestTakeOfLineage(t *testing.T) {
	c := New(Options{})
	const key = "host/example.com:443/none"
	a, b := &lineage{cache: c, key: key}, &lineage{cache: c, key: key}
	s := realStates(t, tls.VersionTLS13, 2)
	// a's ticket first (index 0), then b's (index 1, the newest).
	a1 := c.put(a, Entry{State: s[0], TLS13: true})
	b1 := c.put(b, Entry{State: s[1], TLS13: true})
	if got := c.takeOfLineage(a); got != a1 {
		t.Fatalf("takeOfLineage(a) = %v, want a's ticket, the oldest in the queue", got)
	}
	if got := c.takeOfLineage(a); got != nil {
		t.Fatalf("takeOfLineage(a) after a's only ticket was taken = %v, want nil", got)
	}
	if got := c.takeOfLineage(b); got != b1 {
		t.Fatalf("takeOfLineage(b) = %v, want b's ticket", got)
	}
}

// TestForgottenOfferStartsChain: after crypto/tls says the offered session
// failed (Put(key, nil)), what the connection then receives begins a chain
// of its own, with its own Born, instead of extending the failed session's
// age cap (conncache.go:100:21 cc.forgotten = it == nil).
func TestForgottenOfferStartsChain(t *testing.T) {
	clock := newFakeClock()
	c := New(Options{Now: clock.Now})
	const key = "host/example.com:443/none"
	s := realStates(t, tls.VersionTLS13, 2)
	born := clock.Now().Add(-5 * time.Minute)
	c.Put(key, Entry{State: s[0], TLS13: true, Born: born})
	cc := NewConnCache(c, key)
	if _, ok := cc.Get(key); !ok {
		t.Fatal("Get offered nothing")
	}
	cc.Put(key, nil)
	cc.Put(key, s[1])
	e, ok := c.Take(key)
	if !ok || e.State != s[1] {
		t.Fatalf("Take = %v, %v; want the session received after the failure", e.State, ok)
	}
	if !e.Born.Equal(clock.Now()) {
		t.Errorf("Born = %v, want now (%v): it inherited the failed session's %v", e.Born, clock.Now(), born)
	}
}

// TestPutUndescribableAfterTLS13: when Describe cannot read a session and
// SetConnectionState said TLS 1.3, or said nothing, it is stored as a
// single-use ticket (conncache.go:115:42 err != nil; 117:20 version == 0,
// which took the unknown version 0 for TLS 1.2).
func TestPutUndescribableAfterTLS13(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS13, 0} {
		c := New(Options{})
		const key = "host/example.com:443/none"
		cc := NewConnCache(c, key)
		if version != 0 {
			cc.SetConnectionState(tls.ConnectionState{Version: version})
		}
		s := new(tls.ClientSessionState) // no state inside: Describe fails
		if _, err := Describe(s); err == nil {
			t.Fatal("Describe of an empty ClientSessionState succeeded; the test needs one it cannot read")
		}
		cc.Put(key, s)
		if e, ok := c.Take(key); !ok || !e.TLS13 {
			t.Fatalf("version %#x told: Take = %+v, %v; want a TLS 1.3 ticket", version, e, ok)
		}
		if _, ok := c.Take(key); ok {
			t.Errorf("version %#x told: the ticket was handed out twice", version)
		}
	}
}

// TestCopyChainWithoutCache: with no cache, a chain still keeps its key
// through a copy: a connection that resumed a copy of alice's session can be
// copied again into one keyed with alice's chain, never with bob's
// (conncache.go:130:10 lin != nil).
func TestCopyChainWithoutCache(t *testing.T) {
	alice, bob := [][]byte{[]byte("alice's chain")}, [][]byte{[]byte("bob's chain")}
	s := realStates(t, tls.VersionTLS13, 2)
	src := NewConnCache(nil, Key("host/example.com:21", alice))
	src.Put("", s[0])
	dst := NewConnCache(nil, Key("host/example.com:990", nil))
	if !dst.CopyFrom(src) {
		t.Fatal("CopyFrom(src) = false")
	}
	if got, ok := dst.Get(""); !ok || got != s[0] {
		t.Fatal("Get did not offer the copied session")
	}
	dst.SetConnectionState(tls.ConnectionState{Version: tls.VersionTLS13, DidResume: true})
	dst.Put("", s[1])
	if !NewConnCache(nil, Key("host/example.com:991", alice)).CopyFrom(dst) {
		t.Error("CopyFrom(dst) into a connection keyed with alice's chain = false")
	}
	if NewConnCache(nil, Key("host/example.com:991", bob)).CopyFrom(dst) {
		t.Error("CopyFrom(dst) into a connection keyed with bob's chain = true")
	}
}

// TestCopyFromFreshSourceKeepsStoreUnder: a refused CopyFrom from a source
// that has neither resumed nor received anything does not fix the source's
// chain to its lookup key: the certificate StoreUnder names later is still
// the one its sessions are stored under (conncache.go:245:46
// len(src.received) >= 0).
func TestCopyFromFreshSourceKeepsStoreUnder(t *testing.T) {
	c := New(Options{})
	alice := [][]byte{[]byte("alice's chain")}
	lookup, sent := Key("host/example.com:21", nil), Key("host/example.com:21", alice)
	src := NewConnCache(c, lookup)
	if NewConnCache(c, Key("host/example.com:990", nil)).CopyFrom(src) {
		t.Fatal("CopyFrom a source with no session = true")
	}
	src.StoreUnder(sent)
	src.Put("", realStates(t, tls.VersionTLS13, 1)[0])
	if _, ok := c.Take(lookup); ok {
		t.Error("the session is stored under the lookup key, made without the certificate sent")
	}
	if _, ok := c.Take(sent); !ok {
		t.Error("the session is not stored under the key of the certificate sent")
	}
}

// TestKeyFoldsAToZ: both ends of the ASCII range are lower-cased
// (key.go:52:22 ch < 'Z'), and the certificate part is found even in the key
// of an empty identity (key.go:79:7 i <= 0).
func TestKeyFoldsAToZ(t *testing.T) {
	if Key("service/AZ.example", nil) != Key("service/az.example", nil) {
		t.Error("Key does not lower-case A and Z")
	}
	chain := [][]byte{[]byte("certificate")}
	for _, tt := range []struct{ key, want string }{
		{Key("", nil), noCertificate},
		{Key("service/example.com", nil), noCertificate},
		{"no slash", ""},
	} {
		if got := certificatePart(tt.key); got != tt.want {
			t.Errorf("certificatePart(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	if k := Key("", chain); certificatePart(k) != k[1:] {
		t.Errorf("certificatePart(%q) = %q, want the hash after the slash", k, certificatePart(k))
	}
}
