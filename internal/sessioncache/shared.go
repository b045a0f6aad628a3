package sessioncache

import (
	"crypto/tls"
	"time"
)

// A SharedCache is the [tls.ClientSessionCache] of a tls.Config that many
// connections share at once (the root's Backend.ClientConfig), where a
// per-connection [ConnCache] cannot be had. crypto/tls gives it only its own
// key (the config's ServerName, or the remote address when that is empty)
// and no connection, so two rules of the package change:
//
// Keys. A session is stored under Key("config/"+key, chain), chain being the
// client certificate the config sends (nil for none): what crypto/tls keys
// on, plus the certificate. The config must not let the certificate be
// chosen at handshake time (an Interaction): Put could not tell which
// connection, so which certificate, a session came with; such a config gets
// no session cache at all.
//
// Age cap, by arrival. Put cannot tell a session received on a connection
// that resumed (which belongs to an older chain) from one a full handshake
// began, so every key has an epoch: the first session stored under the key
// starts it, and every session stored under the key until it ends is dated
// from that start ([entry.Born]), whichever connection it came from. An
// epoch ends MaxAge after it started. When none of its sessions was handed
// out, the next session starts a new epoch. When one was, a connection that
// resumed it may still receive tickets of that chain at any later time (a
// server may send a TLS 1.3 NewSessionTicket whenever it likes), so the key
// is closed: it stores nothing for another MaxAge, which refuses the
// tickets such connections receive soon after (servers send them with the
// handshake); then it starts a new epoch. This is no bound against a
// server or a relay that holds a ticket back: a connection may stay open
// and receive its first (or a later) ticket in a new epoch, dated from its
// arrival, not from the handshake as a [ConnCache] dates it; the chain then
// lives as much longer as the ticket was held. The cache remembers at most
// four times MaxKeys epochs; when that many are live or closed, new keys
// store nothing until some end (at most twice MaxAge), so that a program
// made to resume many names cannot turn resumption off for good.
//
// Single use is kept: a TLS 1.3 ticket is taken out by Get and never offered
// again. A SharedCache is safe for concurrent use.
type SharedCache struct {
	c   *Cache
	der [][]byte
}

// epoch is one key's current dating of sessions (see [SharedCache]); its
// lineage's handed says whether Get handed one of them out.
type epoch struct {
	lin  *lineage
	born time.Time
}

// NewSharedCache returns the shared adapter over c for a config sending the
// client certificate chain clientCertDER (nil: none).
func NewSharedCache(c *Cache, clientCertDER [][]byte) *SharedCache {
	return &SharedCache{c: c, der: clientCertDER}
}

var _ tls.ClientSessionCache = (*SharedCache)(nil)

func (s *SharedCache) key(k string) string { return Key("config/"+k, s.der) }

// Get hands out the oldest unexpired TLS 1.3 ticket under k (taken out), else
// the TLS 1.2 state.
func (s *SharedCache) Get(k string) (*tls.ClientSessionState, bool) {
	key := s.key(k)
	it := s.c.take(key) // marks its lineage handed, in the same critical section
	if it == nil {
		return nil, false
	}
	return it.State, true
}

// Put stores a session under k, dated from k's epoch; Put(k, nil), which
// crypto/tls calls when a session failed or is unusable, drops k's TLS 1.2
// state (a TLS 1.3 ticket handed out is gone already).
func (s *SharedCache) Put(k string, st *tls.ClientSessionState) {
	key := s.key(k)
	if st == nil {
		s.c.mu.Lock()
		if b := s.c.buckets[key]; b != nil && b.tls12 != nil {
			s.c.remove(b.tls12)
		}
		s.c.mu.Unlock()
		return
	}
	e := entry{State: st, TLS13: true}
	if info, err := describe(st); err == nil {
		e.TLS13, e.Lifetime = info.TLS13(), info.Lifetime
	}
	lin, born, ok := s.c.epochOf(key)
	if !ok {
		return
	}
	e.Born = born
	s.c.put(lin, e)
}

// epochOf returns the lineage and start of key's epoch for a session stored
// now, starting one if needed; ok is false when key stores nothing (see
// [SharedCache]).
func (c *Cache) epochOf(key string) (lin *lineage, born time.Time, ok bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	ep := c.epochs[key]
	if ep != nil && now.Before(ep.born.Add(c.maxAge)) {
		return ep.lin, ep.born, true
	}
	if ep != nil && ep.lin.handed && now.Before(ep.born.Add(2*c.maxAge)) {
		return nil, time.Time{}, false // closed: a resumed connection may still be on its chain
	}
	if ep == nil {
		if c.epochs == nil {
			c.epochs = make(map[string]*epoch)
		}
		if len(c.epochs) >= 4*c.maxKeys {
			for k, e := range c.epochs {
				if !now.Before(e.born.Add(c.maxAge)) && (!e.lin.handed || !now.Before(e.born.Add(2*c.maxAge))) {
					delete(c.epochs, k)
				}
			}
			if len(c.epochs) >= 4*c.maxKeys {
				return nil, time.Time{}, false
			}
		}
	}
	ep = &epoch{lin: &lineage{cache: c, key: key}, born: now}
	c.epochs[key] = ep
	return ep.lin, ep.born, true
}
