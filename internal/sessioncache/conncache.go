package sessioncache

import (
	"crypto/tls"
	"slices"
	"sync"
	"time"
)

// A ConnCache is the [tls.ClientSessionCache] of one connection: give each
// tls.Config (one per connection) its own. It ignores the key crypto/tls
// passes, which is only the ServerName, and stores and looks up sessions
// under the key it was built with. It records the sessions its connection
// received, so that [ConnCache.CopyFrom] can hand them to another
// connection, and it reports whether it offered one.
//
// Sessions belong to the chain of resumptions that produced them: what a
// connection receives after resuming a session goes where that session's
// chain began (its cache and key), whichever way it was resumed; only a
// full handshake begins a chain under the connection's own key.
//
// A ConnCache is safe for concurrent use: crypto/tls calls Put from Read
// for TLS 1.3 tickets while another goroutine may copy from it.
type ConnCache struct {
	cache      *Cache // nil: nothing shared; only CopyFrom feeds Get
	key        string
	now        func() time.Time
	maxRecords int

	mu        sync.Mutex
	storeKey  string    // where a chain this connection begins is stored: key unless StoreUnder said otherwise
	own       *lineage  // the chain this connection's full handshake began, once it received a session
	asked     bool      // Get was called
	copied    *item     // from CopyFrom: what Get offers instead of a lookup
	offered   *item     // what Get handed out
	fromCopy  bool      // offered came from CopyFrom
	forgotten bool      // crypto/tls asked to forget offered
	resumed   int8      // from SetConnectionState: 1 resumed, -1 not, 0 unknown
	fullAt    time.Time // from SetConnectionState: when a full handshake (which begins a chain) was verified
	version   uint16    // from SetConnectionState, 0 if not told
	received  []*item
}

// NewConnCache returns a connection's adapter over c (nil: a connection that
// shares no sessions, though CopyFrom still works both ways), storing under
// key (see [Key]). The key must describe the client certificate the
// connection has when the handshake starts: the lookup happens before the
// server asks for one, and CopyFrom compares it with the source's.
func NewConnCache(c *Cache, key string) *ConnCache {
	cc := &ConnCache{cache: c, key: key, storeKey: key, now: time.Now, maxRecords: DefaultMaxTicketsPerKey}
	if c != nil {
		cc.now, cc.maxRecords = c.now, c.maxTickets
	}
	return cc
}

var _ tls.ClientSessionCache = (*ConnCache)(nil)

// Get returns the session CopyFrom set, if any and still unexpired, else
// one taken from the cache under the connection's key (the oldest
// unexpired TLS 1.3 ticket, taken out; else the TLS 1.2 state). crypto/tls
// calls it once, before the ClientHello; key is ignored.
func (cc *ConnCache) Get(key string) (*tls.ClientSessionState, bool) {
	cc.mu.Lock()
	cc.asked = true
	it := cc.copied
	cc.copied = nil
	cc.mu.Unlock()
	if it != nil && !it.live(cc.now(), false) {
		// CopyFrom checked it, but the handshake may come much later:
		// past the chain's age cap, which crypto/tls does not know of,
		// the copy is offered no more than a lookup would offer it.
		it = nil
	}
	fromCopy := it != nil
	if it == nil && cc.cache != nil {
		it = cc.cache.take(cc.key)
	}
	if it == nil {
		return nil, false
	}
	cc.mu.Lock()
	cc.offered, cc.fromCopy = it, fromCopy
	cc.mu.Unlock()
	return it.State, true
}

// Put stores a session the connection received: with the chain of the
// session it resumed, under that chain's key and in that chain's cache; after
// a full handshake, under the connection's own key (or the one StoreUnder
// set), beginning a chain. key is ignored. The protocol version comes from
// SetConnectionState, else from describe, which also gives the ticket
// lifetime; failing both, the session is taken for a single-use TLS 1.3
// ticket. When SetConnectionState told TLS 1.3, the lifetime is left
// unread until a choice depends on it (see entry.Unread). A session received after offering one inherits
// its Born, unless SetConnectionState said the server did not resume: then
// it is dated from that full handshake, however late it arrives. Renewing a
// session never extends its age cap.
//
// When a session from CopyFrom was offered and SetConnectionState never said
// whether the server took it, what arrives is stored in no cache: it might
// belong to either chain.
//
// Put(key, nil) is crypto/tls saying that the session Get offered failed or
// is unusable: it is removed from its cache.
func (cc *ConnCache) Put(key string, s *tls.ClientSessionState) {
	if s == nil {
		cc.mu.Lock()
		it := cc.offered
		cc.forgotten = it != nil
		cc.mu.Unlock()
		if it != nil {
			it.forget()
		}
		return
	}
	e := entry{State: s, TLS13: true}
	cc.mu.Lock()
	version := cc.version
	cc.mu.Unlock()
	if version != 0 && version < tls.VersionTLS13 {
		// describe costs microseconds (it encodes the whole state) and would
		// only tell what is known: a TLS 1.2 ticket has no lifetime to read.
		e.TLS13 = false
	} else if version != 0 {
		// A TLS 1.3 ticket: its lifetime is read when a choice depends on
		// it (item.live), which most resumptions never need.
		e.Unread = true
	} else if info, err := describe(s); err == nil {
		e.TLS13, e.Lifetime = info.TLS13(), info.Lifetime
	} else if version != 0 {
		e.TLS13 = version >= tls.VersionTLS13
	}
	cc.mu.Lock()
	lin := cc.homeLocked()
	if cc.resumedLocked() {
		e.Born = cc.offered.Born
	} else if cc.resumed < 0 {
		// Dated from the full handshake, not from its arrival: a server may
		// send a ticket at any time after it (RFC 8446, section 4.6.1).
		e.Born = cc.fullAt
	}
	cc.mu.Unlock()
	var it *item
	if lin != nil && lin.cache != nil {
		it = lin.cache.put(lin, e)
	} else {
		if lin == nil {
			lin = &lineage{}
		}
		if it = newItem(e, cc.now(), DefaultMaxAge); it != nil {
			it.lin = lin
			lin.keepLoose(it, cc.maxRecords)
		}
	}
	if it == nil {
		return
	}
	cc.mu.Lock()
	cc.received = append(cc.received, it)
	if len(cc.received) > cc.maxRecords {
		cc.received = slices.Delete(cc.received, 0, len(cc.received)-cc.maxRecords)
	}
	cc.mu.Unlock()
}

// resumedLocked reports whether the connection continues the chain of the
// session Get offered: offered, not forgotten, and not known to have been
// refused. cc.mu is held.
func (cc *ConnCache) resumedLocked() bool {
	return cc.offered != nil && !cc.forgotten && cc.resumed >= 0
}

// homeLocked returns the chain what the connection receives belongs to: the
// offered session's when the connection resumed it, else the one its full
// handshake begins. It is nil when that cannot be told (a copied session
// offered, and no word on whether the server took it). cc.mu is held.
func (cc *ConnCache) homeLocked() *lineage {
	if cc.resumedLocked() {
		if cc.resumed == 0 && cc.fromCopy {
			return nil
		}
		return cc.offered.lin
	}
	if cc.own == nil {
		cc.own = &lineage{cache: cc.cache, key: cc.storeKey}
	}
	return cc.own
}

// StoreUnder makes Put store under key from now on. The lookup key is made
// before the handshake, from the client certificate the connection has then;
// a full handshake may send another, one an Interaction supplied when the
// server asked. Sessions belong under the certificate actually sent, so call
// StoreUnder from tls.Config.GetClientCertificate, which crypto/tls calls
// before any Put of that handshake, when the certificate returned is not the
// one the key was made with. (When the server asks for none, keeping the
// lookup key is merely stricter.) A resumed handshake sends no certificate
// and keeps the one of the session it resumed (RFC 8446, Section 4.3.2), so
// its key stays right.
func (cc *ConnCache) StoreUnder(key string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.storeKey = key
}

// SetConnectionState tells the adapter the negotiated version and whether
// the server accepted resumption; call it from tls.Config.VerifyConnection,
// which crypto/tls runs before it Puts a TLS 1.2 ticket. It is optional: it
// refines the Born of later sessions (a full handshake starts a new chain)
// and gives the version when describe cannot.
func (cc *ConnCache) SetConnectionState(cs tls.ConnectionState) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.version = cs.Version
	cc.resumed = -1
	if cs.DidResume {
		cc.resumed = 1
	} else {
		cc.fullAt = cc.now()
	}
}

// CopyFrom makes the next Get offer a session of src's chain, whatever the
// keys, for protocols whose servers demand that a second connection resume
// the first one's session (FTP over TLS: the data connection goes to another
// port). What cc receives after resuming it goes back to that chain's key
// and cache, never under cc's own key: nothing that descends from a copy is
// offered to a connection that did not ask for it.
//
// It claims a fresh TLS 1.3 ticket of the chain, never handed out before:
// one src received, else one an earlier copy received. With none left it
// reuses the chain's latest session knowingly: a TLS 1.2 state, or a TLS 1.3
// ticket presented once already, which lets observers link the two
// connections (RFC 8446, Appendix C.4) but is what such servers require.
//
// It refuses (returns false) when cc's key names a client certificate that
// is neither none nor the chain's: a resumed handshake sends no certificate
// and the server keeps the chain's (RFC 8446, Section 4.3.2; RFC 5246,
// Section 7.3), so the connection would be taken for the chain's owner while
// its own was set up with another, and the server could link the two. It
// reports whether it found a session; it does nothing once cc's Get has
// been called.
func (cc *ConnCache) CopyFrom(src *ConnCache) bool {
	if src == nil || src == cc {
		return false
	}
	cc.mu.Lock()
	asked := cc.asked
	cc.mu.Unlock()
	if asked {
		return false // not to spend a ticket for nothing
	}
	now := cc.now()
	src.mu.Lock()
	var lin *lineage
	if src.resumedLocked() || len(src.received) > 0 {
		lin = src.homeLocked()
	}
	recs := slices.Clone(src.received)
	if src.resumedLocked() {
		// The session src resumed is its oldest; it may be the only one
		// (TLS 1.3 before any Read, TLS 1.2 without a new ticket).
		recs = slices.Insert(recs, 0, src.offered)
	}
	src.mu.Unlock()
	if lin == nil {
		return false
	}
	if mine := certificatePart(cc.key); mine != noCertificate && mine != certificatePart(lin.key) {
		return false
	}
	var pick *item
	for _, it := range slices.Backward(recs) {
		if it.TLS13 && it.live(now, false) && it.claim() {
			pick = it
			break
		}
	}
	if pick == nil && lin.cache != nil {
		pick = lin.cache.takeOfLineage(lin)
	}
	if pick == nil && lin.cache == nil {
		pick = lin.takeLoose(now)
	}
	if pick == nil {
		for _, it := range slices.Backward(recs) {
			if it.live(now, false) {
				pick = it
				break
			}
		}
	}
	if pick == nil {
		return false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.asked {
		return false
	}
	cc.copied = pick
	return true
}
