package sessioncache

import (
	"crypto/tls"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for [Options]; the first and last are GIO's.
const (
	DefaultMaxKeys          = 50
	DefaultMaxTicketsPerKey = 8
	DefaultMaxAge           = 10 * time.Minute
)

// maxLifetime is the longest a client may keep a ticket, whatever the server
// says (RFC 8446, Section 4.6.1).
const maxLifetime = 7 * 24 * time.Hour

// Options configure a [Cache]. Zero or negative values select the defaults.
type Options struct {
	MaxKeys          int           // keys kept; the least recently used is evicted
	MaxTicketsPerKey int           // TLS 1.3 tickets queued per key; the oldest is dropped
	MaxAge           time.Duration // age cap from the entry's Born; at most seven days
	Now              func() time.Time
}

// An entry is a session as the cache stores it.
type entry struct {
	State *tls.ClientSessionState
	// TLS13 marks a single-use TLS 1.3 ticket, queued and handed out once.
	// Otherwise the state is a TLS 1.2 session, which replaces the key's
	// previous one and is handed out as often as asked.
	TLS13 bool
	// Lifetime is the server's ticket_lifetime (0: unknown). The entry
	// expires that long after Put, and never later than Born+MaxAge.
	Lifetime time.Duration
	// Unread marks a TLS 1.3 ticket whose lifetime was not read when it
	// was put: reading it encodes the whole session state (describe), so
	// ConnCache.Put leaves it to the cache, which reads it only when a
	// choice depends on it (item.live).
	Unread bool
	// Born is when the full handshake that began the session's resumption
	// chain took place. Put treats the zero time as now. Sessions received on
	// a resumed connection inherit the Born of the session it resumed, so that
	// resuming and renewing cannot extend the age cap.
	Born time.Time
}

// A lineage is one chain of resumptions: the full handshake that began it
// and every session that descends from it, however it was resumed (by a
// lookup, or by [ConnCache.CopyFrom] on any connection). Its sessions are
// stored in cache under key, and nowhere else.
type lineage struct {
	cache *Cache // nil: stored in no cache
	key   string

	// loose holds, when cache is nil, the chain's latest sessions (oldest
	// first, at most a key's queue): with no cache to find them in, a copy
	// of the chain would otherwise find only the sessions its source
	// received, and present one again when a fresh one is at hand.
	mu    sync.Mutex
	loose []*item
}

// keepLoose records it as one of lin's sessions, for a chain in no cache.
func (lin *lineage) keepLoose(it *item, max int) {
	lin.mu.Lock()
	defer lin.mu.Unlock()
	lin.loose = append(lin.loose, it)
	if len(lin.loose) > max {
		lin.loose = slices.Delete(lin.loose, 0, len(lin.loose)-max)
	}
}

// takeLoose claims the newest unexpired TLS 1.3 ticket of lin's loose
// sessions never handed out, removing it; nil if there is none.
func (lin *lineage) takeLoose(now time.Time) *item {
	lin.mu.Lock()
	defer lin.mu.Unlock()
	for i := len(lin.loose) - 1; i >= 0; i-- {
		it := lin.loose[i]
		if it.TLS13 && it.live(now, false) && it.claimed.CompareAndSwap(false, true) {
			lin.loose = slices.Delete(lin.loose, i, i+1)
			return it
		}
	}
	return nil
}

// item is a stored entry.
type item struct {
	entry
	expires time.Time // Born+MaxAge, and the Lifetime if known when put
	arrived time.Time // when it was put: a ticket's lifetime runs from then
	// lifeEnd is, once an Unread ticket's lifetime has been read, when it
	// ends in Unix nanoseconds (math.MaxInt64: unknown); 0 before.
	lifeEnd atomic.Int64
	lin     *lineage // the chain it belongs to; its cache is the one it was put in
	owner   *bucket  // nil once out of the cache; guarded by lin.cache.mu
	// claimed is set when a TLS 1.3 ticket is handed out by take, takeOfLineage
	// or ConnCache.CopyFrom: whoever sets it is the only one to present it.
	claimed atomic.Bool
}

// bucket holds one key's sessions; buckets form the LRU list.
type bucket struct {
	key        string
	tickets    []*item // oldest first
	tls12      *item
	prev, next *bucket
}

// A Cache holds TLS client sessions under [Key]s. It is safe for concurrent
// use. See the package documentation for the rules it enforces.
type Cache struct {
	maxKeys, maxTickets int
	maxAge              time.Duration
	now                 func() time.Time

	mu       sync.Mutex
	buckets  map[string]*bucket
	byState  map[*tls.ClientSessionState]*item
	lru      bucket // sentinel: lru.next is the most recently used
	sessions int
}

// New returns an empty cache.
func New(o Options) *Cache {
	c := &Cache{
		maxKeys:    o.MaxKeys,
		maxTickets: o.MaxTicketsPerKey,
		maxAge:     o.MaxAge,
		now:        o.Now,
		buckets:    make(map[string]*bucket),
		byState:    make(map[*tls.ClientSessionState]*item),
	}
	if c.maxKeys <= 0 {
		c.maxKeys = DefaultMaxKeys
	}
	if c.maxTickets <= 0 {
		c.maxTickets = DefaultMaxTicketsPerKey
	}
	if c.maxAge <= 0 {
		c.maxAge = DefaultMaxAge
	}
	c.maxAge = min(c.maxAge, maxLifetime)
	if c.now == nil {
		c.now = time.Now
	}
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	return c
}

var defaultCache = New(Options{})

// Default returns the process-wide cache, with default options.
func Default() *Cache { return defaultCache }

// newItem computes when e expires; nil if it already has.
func newItem(e entry, now time.Time, maxAge time.Duration) *item {
	if e.Born.IsZero() || e.Born.After(now) {
		e.Born = now
	}
	expires := e.Born.Add(maxAge)
	if e.Lifetime > 0 && now.Add(e.Lifetime).Before(expires) {
		expires = now.Add(e.Lifetime)
	}
	if now.Add(maxLifetime).Before(expires) {
		expires = now.Add(maxLifetime)
	}
	if !now.Before(expires) {
		return nil
	}
	return &item{entry: e, expires: expires, arrived: now}
}

// live reports whether it may still be offered at now, reading an Unread
// ticket's lifetime first unless sole is set. sole says that it is the
// only session a lookup could offer: offering it unread then changes
// nothing, because crypto/tls refuses to present a TLS 1.3 ticket past its
// lifetime (handshake_client.go, loadSession: useBy) and calls
// Put(key, nil), which forgets it, and the connection makes a full
// handshake as it would with nothing offered. Reading it anyway would
// cost every resumed handshake an encoding of the whole session state.
func (it *item) live(now time.Time, sole bool) bool {
	if !now.Before(it.expires) {
		return false
	}
	if !it.Unread {
		return true
	}
	end := it.lifeEnd.Load()
	if end == 0 {
		if sole {
			return true
		}
		end = math.MaxInt64
		if info, err := describe(it.State); err == nil && info.TLS13() {
			end = it.arrived.Add(info.Lifetime).UnixNano()
		}
		it.lifeEnd.Store(end)
	}
	return now.UnixNano() < end
}

// put stores e under lin.key as a session of lin; lin.cache must be c.
func (c *Cache) put(lin *lineage, e entry) *item {
	if e.State == nil {
		return nil
	}
	it := newItem(e, c.now(), c.maxAge)
	if it == nil {
		return nil
	}
	it.lin = lin
	key := lin.key
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.byState[e.State]; old != nil {
		c.remove(old) // the same state again: keep one copy, the newer
	}
	b := c.buckets[key]
	if b == nil {
		if len(c.buckets) >= c.maxKeys {
			c.removeBucket(c.lru.prev)
		}
		b = &bucket{key: key}
		c.buckets[key] = b
	} else {
		c.unlink(b)
	}
	c.pushFront(b)
	it.owner = b
	c.byState[e.State] = it
	c.sessions++
	// Add first, then drop what it displaces: b never empties on the way.
	if e.TLS13 {
		b.tickets = append(b.tickets, it)
		if len(b.tickets) > c.maxTickets {
			c.remove(b.tickets[0])
		}
	} else {
		old := b.tls12
		b.tls12 = it
		if old != nil {
			old.owner = nil
			delete(c.byState, old.State)
			c.sessions--
		}
	}
	return it
}

func (c *Cache) take(key string) *item {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buckets[key]
	if b == nil {
		return nil
	}
	var found *item
	for len(b.tickets) > 0 && found == nil {
		it := b.tickets[0]
		c.remove(it)
		sole := len(b.tickets) == 0 && b.tls12 == nil
		if it.live(now, sole) && it.claimed.CompareAndSwap(false, true) {
			found = it
		}
	}
	if found == nil && b.tls12 != nil {
		if now.Before(b.tls12.expires) {
			found = b.tls12
		} else {
			c.remove(b.tls12)
		}
	}
	if b.prev != nil { // not emptied by remove
		c.unlink(b)
		c.pushFront(b)
	}
	return found
}

// takeOfLineage claims the newest unexpired TLS 1.3 ticket of lin that
// lin.cache holds and was never handed out, removing it; failing that, it
// returns lin's TLS 1.2 state there, which stays.
func (c *Cache) takeOfLineage(lin *lineage) *item {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buckets[lin.key]
	if b == nil {
		return nil
	}
	for i := len(b.tickets) - 1; i >= 0; i-- {
		it := b.tickets[i]
		if it.lin == lin && it.live(now, false) && it.claimed.CompareAndSwap(false, true) {
			c.remove(it)
			return it
		}
	}
	if it := b.tls12; it != nil && it.lin == lin && now.Before(it.expires) {
		return it
	}
	return nil
}

// Len reports how many keys and sessions the cache holds, expired ones that
// have not been dropped yet included.
func (c *Cache) Len() (keys, sessions int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buckets), c.sessions
}

// claim takes it for a single presentation, removing it from its cache if
// it is still there.
func (it *item) claim() bool {
	if !it.claimed.CompareAndSwap(false, true) {
		return false
	}
	if c := it.lin.cache; c != nil {
		c.mu.Lock()
		c.remove(it)
		c.mu.Unlock()
	}
	return true
}

// forget removes it from its cache, if it is still there.
func (it *item) forget() {
	if c := it.lin.cache; c != nil {
		c.mu.Lock()
		c.remove(it)
		c.mu.Unlock()
	}
}

// remove takes it out of its bucket, and the bucket out of the cache once
// empty. c.mu must be held.
func (c *Cache) remove(it *item) {
	b := it.owner
	if b == nil {
		return
	}
	if b.tls12 == it {
		b.tls12 = nil
	} else {
		for i, t := range b.tickets {
			if t == it {
				copy(b.tickets[i:], b.tickets[i+1:])
				b.tickets[len(b.tickets)-1] = nil
				b.tickets = b.tickets[:len(b.tickets)-1]
				break
			}
		}
	}
	it.owner = nil
	delete(c.byState, it.State)
	c.sessions--
	if b.tls12 == nil && len(b.tickets) == 0 {
		c.unlink(b)
		delete(c.buckets, b.key)
	}
}

func (c *Cache) removeBucket(b *bucket) {
	for _, it := range b.tickets {
		it.owner = nil
		delete(c.byState, it.State)
		c.sessions--
	}
	if b.tls12 != nil {
		b.tls12.owner = nil
		delete(c.byState, b.tls12.State)
		c.sessions--
	}
	b.tickets, b.tls12 = nil, nil
	c.unlink(b)
	delete(c.buckets, b.key)
}

func (c *Cache) pushFront(b *bucket) {
	b.prev, b.next = &c.lru, c.lru.next
	b.prev.next, b.next.prev = b, b
}

func (c *Cache) unlink(b *bucket) {
	if b.prev != nil {
		b.prev.next, b.next.prev = b.next, b.prev
		b.prev, b.next = nil, nil
	}
}
