package giotls

import (
	"crypto/x509"
	"net"
	"net/netip"
	"time"

	"github.com/giotls/giotls/internal/sessioncache"
)

// SessionCache keeps TLS sessions for resumption, under rules that limit what
// resumption reveals about the client:
//
//   - A session is stored under the server identity (host name and port,
//     service domain, or IP address and port), the address connected to
//     (IPv6 zone included) and the client certificate chain sent in the
//     handshake that made it ("none" when none was sent). It is never
//     offered to another host or port, or with another client certificate
//     or none.
//   - What a connection receives after resuming a session stays with that
//     session's chain: under the key and in the cache of the full handshake
//     that began it, also when the session came from CopySessionState, so
//     nothing descending from a copy reaches the copier's key or cache.
//   - A TLS 1.3 ticket is used once: it is taken out of the cache when it is
//     offered and never presented again (RFC 8446, Appendix C.4). Every
//     ticket a server sends is kept, in a bounded queue per key. A TLS 1.2
//     session is reusable, as the protocol has it.
//   - Every session is dropped MaxAge (default ten minutes, as GIO) after the
//     full handshake that began its chain of resumptions, and a TLS 1.3
//     ticket also at the lifetime the server gave it (seven days at most).
//
// The lookup happens before the server asks for a client certificate, so it
// uses the certificate set on the connection when the handshake starts: a
// connection whose certificate an Interaction supplies looks up sessions made
// without one, and does a full handshake rather than resume a session tied to
// a certificate it has not chosen yet.
//
// Every resumed handshake is verified again, as a full one is.
type SessionCache struct {
	c *sessioncache.Cache
}

// SessionCacheOptions configure a SessionCache. Zero values select the
// defaults: 50 keys (least recently used evicted), 8 TLS 1.3 tickets per key,
// ten minutes.
type SessionCacheOptions struct {
	MaxKeys          int
	MaxTicketsPerKey int
	MaxAge           time.Duration
}

// NewSessionCache returns an empty cache, for connections that must not share
// sessions with the rest of the process.
func NewSessionCache(o SessionCacheOptions) *SessionCache {
	return &SessionCache{c: sessioncache.New(sessioncache.Options{
		MaxKeys: o.MaxKeys, MaxTicketsPerKey: o.MaxTicketsPerKey, MaxAge: o.MaxAge,
	})}
}

var defaultSessionCache = &SessionCache{c: sessioncache.Default()}

// DefaultSessionCache returns the process-wide cache that connections of the
// default backend share, as GIO's are.
func DefaultSessionCache() *SessionCache { return defaultSessionCache }

// Len returns how many keys and sessions the cache holds.
func (s *SessionCache) Len() (keys, sessions int) { return s.c.Len() }

// sessionKey is the cache key for a connection to name over base presenting
// chain: the identity, the address connected to (as GIO's key has it: a
// session is offered only to the endpoint that made it, even when the
// identity names another port, as an FTP data connection checked against
// its control connection's identity does; its IPv6 zone included), and the
// chain. It is "" when
// there is nothing to key on (no identity, no remote address): such a
// connection keeps no session.
func sessionKey(name serverName, base net.Conn, chain []*x509.Certificate) string {
	var id string
	switch {
	case name.host != "" && name.port == 0:
		id = sessioncache.ServiceIdentity(name.host)
	case name.host != "":
		id = sessioncache.HostIdentity(name.host, name.port)
	case name.ip.IsValid():
		id = sessioncache.AddressIdentity(netip.AddrPortFrom(name.ip, name.port))
	default:
		id = "none"
	}
	ra := base.RemoteAddr()
	if ra == nil {
		if !name.valid() {
			return ""
		}
		id += "@?"
	} else if ap, ok := addrPort(ra); ok {
		id += "@" + sessioncache.AddressIdentity(ap)
	} else {
		id += "@" + ra.Network() + ":" + ra.String()
	}
	var der [][]byte
	for _, c := range chain {
		der = append(der, c.Raw)
	}
	return sessioncache.Key(id, der)
}

// addrPort returns the address and port of ra, read directly from a
// *net.TCPAddr rather than formatted and parsed again on every handshake.
func addrPort(ra net.Addr) (netip.AddrPort, bool) {
	if t, ok := ra.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return ap, ap.IsValid()
	}
	ap, err := netip.ParseAddrPort(ra.String())
	return ap, err == nil
}

// sessionsOf returns the connection's session adapter, nil before its first
// handshake completed.
func (c *ClientConnection) sessionsOf() *sessioncache.ConnCache {
	c.res.mu.Lock()
	defer c.res.mu.Unlock()
	if !c.res.complete {
		return nil
	}
	return c.res.last.sessions
}

// CopySessionState makes this connection resume source's session, whatever
// the cache keys say: for protocols whose servers demand it, FTP over TLS
// above all (an FTP data connection goes to another port, and vsftpd with
// require_ssl_reuse refuses one that does not resume the control
// connection's session).
//
// The session stays in its chain: everything this connection receives after
// resuming it (TLS 1.3 tickets, a renewed TLS 1.2 state) is kept where the
// chain began, under the source chain's identity, address, client
// certificate and cache, never under this connection's own key or in its
// backend's cache. So a later connection that copies nothing never resumes
// a copied chain unless it is one the chain's first connection could have
// resumed itself.
//
// It takes a fresh TLS 1.3 ticket of the chain, one never offered (received
// by source, or by an earlier copy of it, also while its Close drained what
// the server still sent: an upload that never reads gets its ticket there);
// with none left (copies at once, a copy that ended without Close) it
// reuses the chain's latest session knowingly, a TLS 1.2 state or a TLS 1.3
// ticket presented before, which lets observers link the two connections (RFC 8446,
// Appendix C.4): the price such protocols ask. The session is chosen when
// this connection's handshake starts, so tickets that arrive on source until
// then count. SessionResumed tells, after the handshake, whether the server
// accepted it.
//
// A resumed handshake sends no client certificate: the server keeps the one
// of the session (RFC 8446, Section 4.3.2; RFC 5246, Section 7.3). So a
// connection with no certificate set that copies a session made with one
// acts, to the server, as that certificate's owner, which is what an FTP
// data connection needs; and one whose certificate (set when its handshake
// starts) differs from the source chain's does not copy at all, since the
// server would take it for the other identity and link the two: it makes a
// full handshake with its own certificate. The resumed handshake is verified
// again against this connection's own identity and database, and its
// accept-certificate handler asked, as a full one would be.
//
// It is a no-op when source is nil or c itself, when source has not
// completed a handshake, or when this connection's handshake has already
// started. A wrapper that embeds or holds a *ClientConnection passes that
// inner connection (for an embedded field, w.ClientConnection): the session
// is never looked for inside values the caller did not hand over.
func (c *ClientConnection) CopySessionState(source *ClientConnection) {
	if source == nil || source == c || c.tlsConn.Load() != nil {
		return
	}
	source.res.mu.Lock()
	ok := source.res.complete
	source.res.mu.Unlock()
	if !ok {
		return
	}
	c.mu.Lock()
	c.copySource = source
	c.mu.Unlock()
}
