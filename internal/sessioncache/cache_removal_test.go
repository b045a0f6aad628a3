package sessioncache

import (
	"crypto/tls"
	"testing"
)

// Tests that a session or key taken out of the cache is gone from it, each
// written against a mutant under which the tests of cache_test.go hang
// (take, or checkInvariants walking the LRU list, loops forever) and which
// scripts/mutate therefore reported as timed out. These tests observe only
// through Take and Len, which return under those mutants, and this file
// sorts before cache_test.go, so that a -failfast run (as gremlins makes)
// stops at their failure instead of reaching a hang.

// TestForgetRemoves: a forgotten TLS 1.2 state is neither counted nor offered
// again (cache.go:308:7 b != nil, which left every session in its bucket).
func TestForgetRemoves(t *testing.T) {
	c := New(Options{})
	s := realStates(t, tls.VersionTLS12, 1)[0]
	c.Put("k", Entry{State: s})
	c.Forget(s)
	if keys, n := c.Len(); keys != 0 || n != 0 {
		t.Errorf("Len after Forget = %d keys, %d sessions; want an empty cache", keys, n)
	}
	if e, ok := c.Take("k"); ok {
		t.Errorf("Take after Forget = %p, want none: the forgotten state is offered again", e.State)
	}
}

// TestLRUMoveToFront: a key used again moves to the front of the LRU list,
// out of its old place, so the next new key evicts the least recently used
// one, not it (cache.go:354:12 b.prev == nil, under which unlink left a
// listed bucket in place and pushFront listed it twice).
func TestLRUMoveToFront(t *testing.T) {
	for _, refresh := range []string{"Put", "Take"} {
		c := New(Options{MaxKeys: 2})
		s := realStates(t, tls.VersionTLS12, 4)
		c.Put("a", Entry{State: s[0]})
		c.Put("b", Entry{State: s[1]})
		if refresh == "Put" {
			c.Put("a", Entry{State: s[2]})
		} else if _, ok := c.Take("a"); !ok {
			t.Fatalf("Take(a) found nothing")
		}
		c.Put("c", Entry{State: s[3]}) // evicts b, the least recently used
		for key, want := range map[string]bool{"a": true, "b": false, "c": true} {
			if _, ok := c.Take(key); ok != want {
				t.Errorf("a refreshed by %s: Take(%q) found = %v, want %v", refresh, key, ok, want)
			}
		}
	}
}
