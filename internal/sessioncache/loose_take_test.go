package sessioncache

import (
	"crypto/tls"
	"testing"
)

// Tests for the chain kept with no cache (lineage.loose), each written
// against a mutant that scripts/mutate found living (file:line:column as
// gremlins reported it when the test was written).

// TestCopyWithoutCacheTakesLooseTickets: with no cache, copies of a source
// whose own tickets are spent each claim a fresh ticket another connection of
// the chain received, newest first down to the oldest one kept, before any
// ticket is presented a second time (RFC 8446, Appendix C.4)
// (cache.go:78:33 i > 0 and i < 0; conncache.go:263:10 pick != nil and
// 263:30 lin.cache != nil).
func TestCopyWithoutCacheTakesLooseTickets(t *testing.T) {
	const key = "host/example.com:21/none"
	max := DefaultMaxTicketsPerKey
	s := realStates(t, tls.VersionTLS13, 1+max+1)
	src := NewConnCache(nil, key)
	src.Put("", s[0])

	// A copy spends src's only ticket, resumes with it and receives one
	// ticket more than the chain keeps: s[1], the oldest, is dropped.
	first := NewConnCache(nil, Key("host/example.com:990", nil))
	if !first.CopyFrom(src) {
		t.Fatal("CopyFrom(src) = false")
	}
	if got, ok := first.Get(""); !ok || got != s[0] {
		t.Fatalf("first copy offered %p, want src's ticket %p", got, s[0])
	}
	first.SetConnectionState(tls.ConnectionState{Version: tls.VersionTLS13, DidResume: true})
	for _, st := range s[1:] {
		first.Put("", st)
	}

	// Each further copy of src takes the newest of first's tickets not yet
	// handed out, the last one being at the head of the chain's list.
	for i := len(s) - 1; i >= 2; i-- {
		cc := NewConnCache(nil, Key("host/example.com:990", nil))
		if !cc.CopyFrom(src) {
			t.Fatalf("CopyFrom(src) for ticket %d = false", i)
		}
		got, ok := cc.Get("")
		if !ok || got != s[i] {
			t.Fatalf("copy offered %p (src's spent ticket is %p), want ticket %d %p, fresh", got, s[0], i, s[i])
		}
	}
	// All spent: the chain's latest session is reused knowingly.
	cc := NewConnCache(nil, Key("host/example.com:990", nil))
	if !cc.CopyFrom(src) {
		t.Fatal("CopyFrom(src) with every ticket spent = false")
	}
	if got, _ := cc.Get(""); got != s[0] {
		t.Errorf("copy with every ticket spent offered %p, want src's own %p again", got, s[0])
	}
}
