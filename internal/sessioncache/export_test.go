package sessioncache

import "crypto/tls"

// What the tests use and the giotls package does not: the cache read and
// written directly, and the adapter's own view of what it did.

type (
	Entry = entry
	Info  = stateInfo
)

// Describe is describe, for the tests.
func Describe(s *tls.ClientSessionState) (stateInfo, error) { return describe(s) }

// Put stores e under key. A TLS 1.3 ticket joins the key's queue, dropping
// the oldest when the queue is full; a TLS 1.2 state replaces the key's
// previous one. A new key evicts the least recently used one when the cache
// is full. Put ignores a nil State and an entry that has already expired.
// Each Put begins a lineage of its own.
func (c *Cache) Put(key string, e entry) { c.put(&lineage{cache: c, key: key}, e) }

// Take returns a session to offer for key: the oldest unexpired TLS 1.3
// ticket, removed as it is returned so that it is never offered twice
// (RFC 8446, Appendix C.4); else the key's TLS 1.2 state, which stays.
// Expired sessions met on the way are dropped. The returned entry has Born
// filled in.
func (c *Cache) Take(key string) (entry, bool) {
	it := c.take(key)
	if it == nil {
		return entry{}, false
	}
	return it.entry, true
}

// TakeThis removes exactly s, under whatever key it is, and reports whether
// it was there, unexpired and (for a TLS 1.3 ticket) not yet handed out. It
// lets a caller that saw s arrive claim it for itself.
func (c *Cache) TakeThis(s *tls.ClientSessionState) bool {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	it := c.byState[s]
	if it == nil {
		return false
	}
	c.remove(it)
	if !it.live(now, false) {
		return false
	}
	return !it.TLS13 || it.claimed.CompareAndSwap(false, true)
}

// Forget removes s if it is still cached: the server rejected it, or
// crypto/tls found it unusable.
func (c *Cache) Forget(s *tls.ClientSessionState) {
	if s == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if it := c.byState[s]; it != nil {
		c.remove(it)
	}
}

// Offered reports whether Get handed out a session. crypto/tls may still
// have declined to use it; tls.ConnectionState.DidResume says whether the
// server accepted it.
func (cc *ConnCache) Offered() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.offered != nil
}

// Discard removes from their cache the session this connection resumed and
// every session it received, and forgets them: for a connection whose peer
// was rejected after its handshake, so that nothing tied to that peer is
// offered again. (A rejection inside VerifyConnection needs no Discard:
// crypto/tls then calls Put(key, nil) and stores nothing.)
func (cc *ConnCache) Discard() {
	cc.mu.Lock()
	recs := cc.received
	if cc.offered != nil {
		recs = append(recs, cc.offered)
	}
	cc.received, cc.offered, cc.forgotten = nil, nil, false
	cc.mu.Unlock()
	for _, it := range recs {
		it.forget()
	}
}
