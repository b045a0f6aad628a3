package sessioncache

import (
	"crypto/tls"
	"strconv"
	"sync/atomic"
	"time"
)

// A SharedCache is the [tls.ClientSessionCache] of a tls.Config that many
// connections share at once (the root's Backend.ClientConfig), where a
// per-connection [ConnCache] cannot be had. crypto/tls gives it only its own
// key (the config's ServerName, or the remote address when that is empty)
// and no connection, so two rules of the package change:
//
// Keys. A session is stored under Key("config/"+id+"/"+key, chain), id
// being the SharedCache's own and chain the client certificate the config
// sends (nil for none): what crypto/tls keys on, plus the certificate, and
// never shared with another config. The config must not let the
// certificate be chosen at handshake time (an Interaction): Put could not
// tell which connection, so which certificate, a session came with; such a
// config gets no session cache at all.
//
// Age cap, per config. Put cannot tell which connection a session comes
// from, so not when its chain began: a session received on a connection
// that resumed belongs to an older chain, and a server (or a relay) may
// send a TLS 1.3 NewSessionTicket long after the handshake (RFC 8446,
// section 4.6.1). Every chain a config's connections take part in began
// after the config was made, so every session is dated from then
// ([entry.Born]), and the config stores nothing from MaxAge after it: no
// session outlives MaxAge after the earliest its chain could have begun. A
// config made for a session of work (an FTP session, a batch of mail)
// resumes as a connection does; one kept longer stops resuming MaxAge after
// it was made, and a new config starts again.
//
// Single use is kept: a TLS 1.3 ticket is taken out by Get and never offered
// again. A SharedCache is safe for concurrent use.
type SharedCache struct {
	c    *Cache
	der  [][]byte
	id   string
	born time.Time
}

// sharedIDs numbers SharedCaches, so that their keys never meet.
var sharedIDs atomic.Uint64

// NewSharedCache returns the shared adapter over c for a config sending the
// client certificate chain clientCertDER (nil: none), made now.
func NewSharedCache(c *Cache, clientCertDER [][]byte) *SharedCache {
	return &SharedCache{c: c, der: clientCertDER, id: strconv.FormatUint(sharedIDs.Add(1), 10), born: c.now()}
}

var _ tls.ClientSessionCache = (*SharedCache)(nil)

func (s *SharedCache) key(k string) string { return Key("config/"+s.id+"/"+k, s.der) }

// open reports whether the config may still store sessions: less than
// MaxAge after it was made.
func (s *SharedCache) open() bool { return s.c.now().Before(s.born.Add(s.c.maxAge)) }

// Get hands out the oldest unexpired TLS 1.3 ticket under k (taken out), else
// the TLS 1.2 state.
func (s *SharedCache) Get(k string) (*tls.ClientSessionState, bool) {
	if !s.open() {
		return nil, false // everything stored is past its cap
	}
	it := s.c.take(s.key(k))
	if it == nil {
		return nil, false
	}
	return it.State, true
}

// Put stores a session under k, dated from the config's making; Put(k,
// nil), which crypto/tls calls when a session failed or is unusable, drops
// k's TLS 1.2 state (a TLS 1.3 ticket handed out is gone already).
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
	if !s.open() {
		return
	}
	e := entry{State: st, TLS13: true, Born: s.born}
	if info, err := describe(st); err == nil {
		e.TLS13, e.Lifetime = info.TLS13(), info.Lifetime
	}
	s.c.put(&lineage{cache: s.c, key: key}, e)
}
