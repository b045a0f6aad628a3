package giotls

import (
	"reflect"
	"unsafe"

	"github.com/giotls/giotls/internal/sessioncache"
)

// sessionsOf returns the connection's session adapter, nil before its first
// handshake completed.
func (c *clientConn) sessionsOf() *sessioncache.ConnCache {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hsComplete {
		return nil
	}
	return c.sessions
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
// source may be a ClientConnection of this package or any value that holds
// one: a struct (or pointer to one) embedding it, or with a field of an
// interface type holding it. It is a no-op when source holds none, when
// source has not completed a handshake, or when this connection's handshake
// has already started.
func (c *clientConn) CopySessionState(source ClientConnection) {
	src := findClientConn(reflect.ValueOf(source), 0)
	if src == nil || src == c || c.tlsConn.Load() != nil {
		return
	}
	src.mu.Lock()
	ok := src.hsComplete
	src.mu.Unlock()
	if !ok {
		return
	}
	c.mu.Lock()
	c.copySource = src
	c.mu.Unlock()
}

var clientConnType = reflect.TypeFor[*clientConn]()

// findClientConn finds the *clientConn that v holds: v itself, or, through
// pointers and interfaces, a struct field that embeds one, is one, or has a
// (non-empty) interface type that one satisfies. The walk is bounded, so cyclic
// structures end. Unexported fields are followed too: the pointer is read
// with reflect, never through an exported path the caller did not offer.
func findClientConn(v reflect.Value, depth int) *clientConn {
	if !v.IsValid() || depth > 8 {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if v.Type() == clientConnType {
			return (*clientConn)(unsafe.Pointer(v.Pointer()))
		}
		return findClientConn(v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return findClientConn(v.Elem(), depth+1)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			holds := f.Type == clientConnType ||
				f.Type.Kind() == reflect.Interface && f.Type.NumMethod() > 0 && clientConnType.Implements(f.Type)
			if f.Anonymous || holds {
				if c := findClientConn(v.Field(i), depth+1); c != nil {
					return c
				}
			}
		}
	}
	return nil
}
