package sessioncache

import (
	"crypto/tls"
	"encoding/binary"
	"testing"
	"time"
)

func TestDescribeRealSessions(t *testing.T) {
	tests := []struct {
		version  uint16
		lifetime time.Duration
	}{
		// crypto/tls servers give every TLS 1.3 ticket the longest lifetime
		// allowed, seven days (RFC 8446, Section 4.6.1).
		{tls.VersionTLS13, 7 * 24 * time.Hour},
		{tls.VersionTLS12, 0},
	}
	for _, tt := range tests {
		info, err := Describe(realState(t, tt.version))
		if err != nil {
			t.Fatalf("TLS %x: %v", tt.version, err)
		}
		want := Info{Version: tt.version, Created: clientTime, Lifetime: tt.lifetime}
		if info != want || info.TLS13() != (tt.version == tls.VersionTLS13) {
			t.Errorf("Describe(TLS %x session) = %+v, want %+v", tt.version, info, want)
		}
	}
}

// stateBytes returns the encoding of a real session of the given version.
func stateBytes(t *testing.T, version uint16, earlyData bool) []byte {
	t.Helper()
	_, ss, err := realStates(t, version, 1)[0].ResumptionState()
	if err != nil {
		t.Fatal(err)
	}
	ss.EarlyData = earlyData
	b, err := ss.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStateFields(t *testing.T) {
	// A TLS 1.3 client session ends with use_by (8 bytes) and age_add (4):
	// set use_by to an hour after created_at and check the parser finds it,
	// with and without the optional ALPN field that early_data brings.
	for _, early := range []bool{false, true} {
		b := stateBytes(t, tls.VersionTLS13, early)
		binary.BigEndian.PutUint64(b[len(b)-12:], uint64(clientTime.Unix())+3600)
		info, err := parseState(b)
		if err != nil {
			t.Fatalf("early_data %v: %v", early, err)
		}
		if info.Lifetime != time.Hour || !info.Created.Equal(clientTime) {
			t.Errorf("early_data %v: %+v, want a one-hour lifetime", early, info)
		}
		// Fields appended by a later Go are ignored.
		if info2, err := parseState(append(b, 1, 2, 3)); err != nil || info2 != info {
			t.Errorf("with trailing fields: %+v, %v", info2, err)
		}
	}
}

func TestParseStateRejects(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		b := stateBytes(t, version, false)
		// Every truncation fails cleanly, except those that only cut what
		// the parser does not read (TLS 1.2 curve_id, TLS 1.3 age_add).
		tail := 2
		if version == tls.VersionTLS13 {
			tail = 4
		}
		for n := range len(b) - tail {
			if _, err := parseState(b[:n]); err == nil {
				t.Fatalf("TLS %x: state truncated to %d of %d bytes parsed", version, n, len(b))
			}
		}
	}
	b := stateBytes(t, tls.VersionTLS13, false)
	for name, mutate := range map[string]func([]byte){
		"server session": func(b []byte) { b[2] = 1 },
		"bad early_data": func(b []byte) {
			// version(2) type(1) suite(2) created(8) secret<1> extra<3> ems(1)
			i := 13 + 1 + int(b[13])
			i += 3 + int(b[i])<<16 | int(b[i+1])<<8 | int(b[i+2])
			b[i+1] = 2
		},
		"use_by before created_at": func(b []byte) {
			binary.BigEndian.PutUint64(b[len(b)-12:], uint64(clientTime.Unix())-1)
		},
		"lifetime over seven days": func(b []byte) {
			binary.BigEndian.PutUint64(b[len(b)-12:], uint64(clientTime.Unix())+7*24*3600+1)
		},
	} {
		c := append([]byte(nil), b...)
		mutate(c)
		if info, err := parseState(c); err == nil {
			t.Errorf("%s: parsed as %+v", name, info)
		}
	}
}

func TestDescribeEmpty(t *testing.T) {
	if _, err := Describe(nil); err == nil {
		t.Error("Describe(nil) succeeded")
	}
	if _, err := Describe(new(tls.ClientSessionState)); err == nil {
		t.Error("Describe of an empty state succeeded")
	}
}
