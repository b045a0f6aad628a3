package giotls

import "github.com/giotls/giotls/internal/sessioncache"

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
// by source, or by an earlier copy of it); with none left it reuses the
// chain's latest session knowingly, a TLS 1.2 state or a TLS 1.3 ticket
// presented before, which lets observers link the two connections (RFC 8446,
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
