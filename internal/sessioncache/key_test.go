package sessioncache

import (
	"net/netip"
	"strings"
	"testing"
)

func TestIdentities(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{HostIdentity("example.com", 443), "host/example.com:443"},
		{HostIdentity("xn--bcher-kva.example", 990), "host/xn--bcher-kva.example:990"},
		{ServiceIdentity("example.com"), "service/example.com"},
		{AddressIdentity(netip.MustParseAddrPort("127.0.0.1:21")), "ip/127.0.0.1:21"},
		{AddressIdentity(netip.MustParseAddrPort("[::ffff:127.0.0.1]:21")), "ip/127.0.0.1:21"},
		{AddressIdentity(netip.MustParseAddrPort("[fe80::1]:443")), "ip/[fe80::1]:443"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("identity = %q, want %q", tt.got, tt.want)
		}
	}
}

// TestZonesInKeys: an IPv6 zone is part of the address (RFC 4007, Section
// 6): the same address on two links, or on a link and on none, are two
// servers, whose sessions must not meet, even where the zone names differ
// only in case (Key lower-cases identities).
func TestZonesInKeys(t *testing.T) {
	addrs := []string{"[fe80::1]:443", "[fe80::1%eth0]:443", "[fe80::1%eth1]:443", "[fe80::1%ETH0]:443", "[::1%lo]:21", "[::1]:21"}
	seen := map[string]string{}
	for _, a := range addrs {
		k := Key(AddressIdentity(netip.MustParseAddrPort(a)), nil)
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s share the key %q", a, other, k)
		}
		seen[k] = a
	}
	if Key(AddressIdentity(netip.MustParseAddrPort("[fe80::1%eth0]:443")), nil) != Key(AddressIdentity(netip.MustParseAddrPort("[fe80::1%eth0]:443")), nil) {
		t.Error("the same zoned address gives two keys")
	}
}

func TestKey(t *testing.T) {
	a, b := []byte("certificate A"), []byte("certificate B")
	host := HostIdentity("example.com", 443)
	if got := Key(host, nil); got != "host/example.com:443/none" {
		t.Errorf("Key without certificate = %q", got)
	}
	if Key("host/EXAMPLE.com:443", nil) != Key(host, nil) {
		t.Error("Key does not lower-case ASCII")
	}
	if Key("host/ÉXAMPLE.com:443", nil) == Key("host/éxample.com:443", nil) {
		t.Error("Key lower-cased a non-ASCII letter")
	}
	if Key(host, [][]byte{}) != Key(host, nil) {
		t.Error("an empty chain is not the same as none")
	}
	if k := Key(host, [][]byte{a}); !strings.HasPrefix(k, host+"/") || len(k) != len(host)+1+64 {
		t.Errorf("Key with certificate = %q, want identity, slash, 64 hex digits", k)
	}
	if strings.Contains(Key(host, [][]byte{a}), "certificate") {
		t.Error("Key holds the certificate")
	}
	// Every one of these must give a distinct key.
	distinct := map[string][2]any{}
	for _, tt := range []struct {
		identity string
		chain    [][]byte
	}{
		{host, nil},
		{host, [][]byte{a}},
		{host, [][]byte{b}},
		{host, [][]byte{a, b}},
		{host, [][]byte{b, a}},
		{host, [][]byte{[]byte("certificate Acertificate B")}},
		{host, [][]byte{a, b[:4], b[4:]}},
		{HostIdentity("example.com", 990), nil},
		{HostIdentity("example.org", 443), nil},
		{HostIdentity("example.com", 0), nil},
		{ServiceIdentity("example.com"), nil},
		{AddressIdentity(netip.MustParseAddrPort("192.0.2.1:443")), nil},
		{HostIdentity("192.0.2.1", 443), nil},
		{AddressIdentity(netip.MustParseAddrPort("192.0.2.1:443")), [][]byte{a}},
	} {
		k := Key(tt.identity, tt.chain)
		if prev, dup := distinct[k]; dup {
			t.Errorf("Key(%q, %q) = Key(%q, %q) = %q", tt.identity, tt.chain, prev[0], prev[1], k)
		}
		distinct[k] = [2]any{tt.identity, tt.chain}
	}
	if Key(host, [][]byte{a}) != Key(host, [][]byte{[]byte("certificate A")}) {
		t.Error("Key is not a function of the chain's bytes")
	}
}
