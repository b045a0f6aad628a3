// Package sessioncache keeps TLS client sessions for resumption under rules
// meant to limit what resumption reveals about the client.
//
// # Privacy rules
//
// Keys. A session is stored under a key made of the server identity
// (lower-cased ASCII host name and port, service domain, or IP address and
// port, an IPv6 zone included) and a hash of the client certificate chain
// that was sent in the handshake that made the session ("none" when no
// certificate was sent); see [Key]. A session is therefore never offered to
// another host, another port, or under another client certificate:
// resumption ties the new connection to the old one (RFC 8446, Appendix
// C.4), and offering a session made with one certificate while presenting
// another, or none, would let the server link the two identities.
//
// Lineage. A full handshake begins a chain of resumptions; every session
// received on a connection that resumed one of the chain's sessions belongs
// to the chain, and is stored where the chain began (the cache and key of
// its full handshake), however the connection came to offer it: by a lookup
// under its own key or by [ConnCache.CopyFrom]. A copy is the only way a
// session crosses keys, and nothing descending from it ever lands under the
// copier's key or in the copier's cache.
//
// Single use. A TLS 1.3 ticket is taken out of the cache as it is handed out
// and is never offered again: "clients SHOULD NOT reuse a ticket for multiple
// connections" because reuse lets passive observers correlate connections
// (RFC 8446, Appendix C.4). Every ticket a server sends is kept, in a bounded
// first-in first-out queue per key, so that several connections can resume.
// A TLS 1.2 session (RFC 5077) can only be resumed by presenting the same
// state again; it is kept and reused, as GIO and every TLS 1.2 client do.
//
// Age cap. Every session is dropped [Options.MaxAge] (default ten minutes,
// as GIO, following arXiv:1810.07304, section 6) after the full handshake that
// began its resumption chain, however often it was used or renewed since: a
// ticket received on a resumed connection inherits the birth time of the
// session that connection resumed (an entry's Born). Within that cap, a TLS 1.3
// ticket also expires after the ticket_lifetime the server gave it, and never
// lives longer than seven days (RFC 8446, Section 4.6.1). TLS 1.2 tickets
// carry only a lifetime hint (RFC 5077, Section 3.3), which crypto/tls does
// not keep, so only the age cap applies to them. Expired sessions are dropped,
// never offered, with one exception that changes nothing: a ticket's lifetime
// is read (which costs an encoding of the whole session state) only when a
// lookup has another session to offer instead; the only one left is offered
// unread, and crypto/tls refuses to present it past its lifetime (and has it
// forgotten), so the connection makes a full handshake as with nothing offered.
// (ConnCache leaves lifetimes unread when it knows the version; SharedCache
// reads every one as it arrives.) The number of keys is bounded (default 50, least recently
// used evicted) and so is each key's queue (default 8, oldest dropped).
//
// # Using it with crypto/tls
//
// crypto/tls asks its [tls.ClientSessionCache] once per ClientHello, with a
// key of its own (the ServerName, or the remote address): too coarse for the
// rules above. [ConnCache] is a per-connection adapter that ignores that key
// and uses the one it was built with. crypto/tls calls it like this:
//
//   - Get once before the ClientHello (and not at all for renegotiations). It
//     may then decline to use what it got (version or cipher suite no longer
//     offered, leaf certificate expired, chains no longer valid): a TLS 1.3
//     ticket handed out is spent either way, which errs on the side of never
//     presenting a ticket twice.
//   - Put(key, nil) to mean "forget what you gave me": after a resumption
//     attempt failed with an error, or when the cached leaf certificate has
//     expired or its chains no longer verify.
//   - Put(key, state) for a TLS 1.2 ticket at the end of the handshake (after
//     VerifyConnection), and for each TLS 1.3 NewSessionTicket, which arrives
//     after the handshake and is processed inside a Read: a connection that
//     never reads application data receives its TLS 1.3 tickets only when
//     the root's Close drains what the server still sent, and none when it
//     is closed abruptly.
//
// What the giotls package (the root) calls, per handshake, when it starts
// (newHandshake, from the snapshot of the properties it takes then); this
// is all the package exports:
//
//   - NewConnCache(cache, key), used as that handshake's
//     tls.Config.ClientSessionCache. cache is the backend's
//     ([New] for NewSessionCache, else [Default]), or nil with
//     DisableResumption or when there is nothing to key on. key is
//     Key(identity+"@"+address, chain): identity from [HostIdentity],
//     [ServiceIdentity] or [AddressIdentity] (or "none"), address the
//     [AddressIdentity] of the remote address connected to, chain the DER
//     of the client certificate set (with its private key) at that moment.
//   - cc.CopyFrom(src.cc) right after, when CopySessionState named a source
//     whose handshake completed; its result is not used (SessionResumed
//     tells).
//   - cc.StoreUnder(key') from GetClientCertificate, when the chain it sends
//     (one an Interaction supplied, or none) is not the one key was made
//     with.
//   - cc.SetConnectionState(cs) first thing in VerifyConnection, on every
//     handshake, resumed or not, before the server's certificate is
//     verified again (crypto/tls does not re-verify a resumed session's
//     certificates; the root does, against the connection's own identity
//     and database, so a copied session is verified as the copier's).
//   - [Cache.Len] for SessionCache.Len.
//   - NewSharedCache(cache, chain) for Backend.ClientConfig: the
//     tls.ClientSessionCache of a config many connections share, which
//     has no connection to adapt to; see [SharedCache] for how its keys and
//     age cap differ.
//
// Every rejection happens inside VerifyConnection, after which crypto/tls
// calls Put(key, nil) and stores nothing, so nothing needs discarding later.
//
// A TLS 1.2 server may also resume by session ID (RFC 5246), which crypto/tls
// does not support on the client: only tickets are cached.
package sessioncache
