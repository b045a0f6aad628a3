package sessioncache

import (
	"crypto/tls"
	"encoding/binary"
	"testing"
	"time"
)

// TestParseStateExactEnds: fields that end exactly where the input does are
// read, not taken for truncations (state.go:92:13 len(*r) <= n, the TLS 1.3
// use_by last; state.go:104:28 uint64(len(*r)) <= l, the TLS 1.2
// verified_chains last), and a ticket whose use_by equals its created_at
// has a zero lifetime, not a bad one (state.go:79:19 useBy <= created).
func TestParseStateExactEnds(t *testing.T) {
	tls13 := stateBytes(t, tls.VersionTLS13, false)
	tls12 := stateBytes(t, tls.VersionTLS12, false)
	zero := append([]byte(nil), tls13...)
	binary.BigEndian.PutUint64(zero[len(zero)-12:], uint64(clientTime.Unix()))
	for _, tt := range []struct {
		name     string
		b        []byte
		lifetime time.Duration
	}{
		// age_add (4 bytes) cut: the input ends with use_by.
		{"TLS 1.3 ending with use_by", tls13[:len(tls13)-4], 7 * 24 * time.Hour},
		// curve_id (2 bytes) cut: the input ends with verified_chains.
		{"TLS 1.2 ending with verified_chains", tls12[:len(tls12)-2], 0},
		{"TLS 1.3 use_by equal to created_at", zero, 0},
	} {
		info, err := parseState(tt.b)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if info.Lifetime != tt.lifetime || !info.Created.Equal(clientTime) {
			t.Errorf("%s: %+v, want lifetime %v", tt.name, info, tt.lifetime)
		}
	}
}
