package giotls

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzHostIdentityIPForms: hostIdentity takes a host for an IP address
// exactly when the code before mayBeIP did (so mayBeIP skips no address):
// when netip.ParseAddr reads it without one trailing dot and its brackets,
// as that address unmapped and without its zone; every other string stays
// a host name (or an error).
// The seeds are the forms GIO users write: brackets (also with a trailing
// dot or a zone), zones, trailing dots, IPv4-mapped and upper-case hex,
// and what only looks like an address ("0x" forms, leading zeros, short
// and decimal IPv4, full-width digits, an IPv4 zone, spaces).
func FuzzHostIdentityIPForms(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1", "127.0.0.1.", "[127.0.0.1]", "[127.0.0.1].", "[::1]", "[::1].", "::1.", "[[::1]]", "[::1",
		"fe80::1%eth0", "[fe80::1%eth0]", "fe80::1%25eth0", "fe80::1%", "::FFFF:7F00:1", "::ffff:127.0.0.1",
		"[::FFFF:127.0.0.1]", "2001:DB8::1", "0x7f.0.0.1", "0177.0.0.1", "127.0.0.01", "127.1", "2130706433",
		"1.2.3.4.5", "1.2.3.4..", "1.2.3.4%eth0", " 1.2.3.4", "1.2.3.4 ", "１２７.０.０.１", "::１", "", ".", "[]",
		"example.com", "EXAMPLE.com.", "xn--bcher-kva.example", "bücher.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		got, err := hostIdentity(host, 443)
		want, perr := netip.ParseAddr(strings.Trim(strings.TrimSuffix(host, "."), "[]"))
		if perr == nil {
			if err != nil || got.ip != want.Unmap().WithZone("") || got.host != "" || got.port != 443 {
				t.Fatalf("hostIdentity(%q) = %+v, %v; want the address %v", host, got, err, want.Unmap().WithZone(""))
			}
			return
		}
		if got.ip.IsValid() {
			t.Fatalf("hostIdentity(%q) = the address %v; ParseAddr reads none (%v)", host, got.ip, perr)
		}
	})
}
