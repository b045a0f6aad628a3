package sessioncache

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"time"
)

// stateInfo is what the cache needs to know about a session that crypto/tls keeps
// in unexported fields of [tls.SessionState].
type stateInfo struct {
	Version uint16    // protocol version of the session: tls.VersionTLS12, tls.VersionTLS13, ...
	Created time.Time // when the client got the session (TLS 1.3) or finished its handshake (TLS 1.2)
	// Lifetime is the ticket_lifetime the server gave a TLS 1.3 ticket
	// (RFC 8446, Section 4.6.1), at one-second resolution; 0 for TLS 1.2,
	// whose lifetime hint crypto/tls discards.
	Lifetime time.Duration
}

// TLS13 reports whether the session is a single-use TLS 1.3 ticket.
func (i stateInfo) TLS13() bool { return i.Version >= tls.VersionTLS13 }

var errBadState = errors.New("sessioncache: unrecognised session state encoding")

// describe reads the version, creation time and ticket lifetime of s from
// the encoding of [tls.SessionState.Bytes], the only place crypto/tls exposes
// them. That encoding (crypto/tls ticket.go, in the language of RFC 8446,
// Section 3) starts
//
//	uint16 version; uint8 type; uint16 cipher_suite; uint64 created_at;
//	opaque secret<1..2^8-1>; opaque extra<0..2^24-1>;
//	uint8 ext_master_secret; uint8 early_data;
//	opaque certificate<0..2^24-1>; opaque verified_chains<0..2^24-1>;
//	[early_data: opaque alpn<1..2^8-1>]
//
// and, for a TLS 1.3 client session, continues with uint64 use_by and
// uint32 age_add. Go documents the encoding as opaque, but it can only grow
// at the end (other Go versions must parse it, as a server shares ticket
// keys): describe reads the fields it needs and ignores anything after them.
// created_at and use_by come from the same clock (the client's Config.Time),
// so their difference is the server's ticket_lifetime. An error means the
// encoding changed; the caller should then treat the session as a TLS 1.3
// ticket of unknown lifetime, which is the stricter choice.
func describe(s *tls.ClientSessionState) (stateInfo, error) {
	_, ss, err := s.ResumptionState()
	if err != nil {
		return stateInfo{}, err
	}
	if ss == nil {
		return stateInfo{}, errors.New("sessioncache: empty session state")
	}
	b, err := ss.Bytes()
	if err != nil {
		return stateInfo{}, err
	}
	return parseState(b)
}

func parseState(b []byte) (stateInfo, error) {
	r := reader(b)
	version, ok1 := r.uint(2)
	typ, ok2 := r.uint(1)
	_, ok3 := r.uint(2) // cipher_suite
	created, ok4 := r.uint(8)
	ok5 := r.skip(1) && r.skip(3) // secret, extra
	_, ok6 := r.uint(1)           // ext_master_secret
	earlyData, ok7 := r.uint(1)
	ok8 := r.skip(3) && r.skip(3) // certificate, verified_chains
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 || !ok8 || typ != 2 || earlyData > 1 {
		return stateInfo{}, errBadState
	}
	if earlyData == 1 && !r.skip(1) { // alpn
		return stateInfo{}, errBadState
	}
	info := stateInfo{Version: uint16(version), Created: time.Unix(int64(created), 0)}
	if info.TLS13() {
		useBy, ok := r.uint(8)
		if !ok || useBy < created || useBy-created > uint64(maxLifetime/time.Second) {
			return stateInfo{}, errBadState
		}
		info.Lifetime = time.Duration(useBy-created) * time.Second
	}
	return info, nil
}

// reader reads big-endian integers and length-prefixed vectors (RFC 8446,
// Section 3.4), consuming itself.
type reader []byte

func (r *reader) uint(n int) (uint64, bool) {
	if len(*r) < n {
		return 0, false
	}
	var buf [8]byte
	copy(buf[8-n:], (*r)[:n])
	*r = (*r)[n:]
	return binary.BigEndian.Uint64(buf[:]), true
}

// skip drops a vector with an n-byte length prefix.
func (r *reader) skip(n int) bool {
	l, ok := r.uint(n)
	if !ok || uint64(len(*r)) < l {
		return false
	}
	*r = (*r)[l:]
	return true
}
