package giotls

import (
	"errors"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseNetworkAddress(t *testing.T) {
	tests := []struct {
		in       string
		def      uint16
		wantHost string
		wantPort uint16
		wantErr  bool
	}{
		{"example.com:443", 0, "example.com", 443, false},
		{"example.com", 993, "example.com", 993, false},
		{"[::1]:8443", 0, "::1", 8443, false},
		{"[::1]", 21, "::1", 21, false},
		{"::1", 21, "::1", 21, false},
		{"fe80::1%eth0", 21, "fe80::1%eth0", 21, false},
		{"127.0.0.1:25", 0, "127.0.0.1", 25, false},
		{"mail.example.org:imaps", 0, "mail.example.org", 993, false},
		{"bücher.example:443", 0, "bücher.example", 443, false},
		{"", 1, "", 0, true},
		{"   ", 1, "", 0, true},
		{":443", 0, "", 0, true},
		{"host:", 0, "", 0, true},
		{"host:65536", 0, "", 0, true},
		{"host:-1", 0, "", 0, true},
		{"host:nosuchservice", 0, "", 0, true},
		{"[::1", 0, "", 0, true},
		{"[::1]x", 0, "", 0, true},
		{"[example.com]:1", 0, "", 0, true},
		{"[1.2.3.4]:1", 0, "", 0, true},
		{"a:b:c", 0, "", 0, true},
		{"ho st:1", 0, "", 0, true},
	}
	for _, tt := range tests {
		a, err := ParseNetworkAddress(tt.in, tt.def)
		if tt.wantErr {
			if err == nil || !errors.Is(err, ErrMisc) {
				t.Errorf("ParseNetworkAddress(%q) = %v, %v; want an ErrMisc error", tt.in, a, err)
			}
			continue
		}
		if err != nil || a.Hostname != tt.wantHost || a.Port != tt.wantPort {
			t.Errorf("ParseNetworkAddress(%q) = %v, %v; want %s port %d", tt.in, a, err, tt.wantHost, tt.wantPort)
		}
	}
}

// customIdentity is a Stringer that is not one of the identity types.
type customIdentity string

func (c customIdentity) String() string { return string(c) }

// TestConnectableSealed checks that only the three identity types are
// server identities: a Stringer of the user's own, whose String() giotls
// would have to guess at, does not compile as one.
func TestConnectableSealed(t *testing.T) {
	connectable := reflect.TypeFor[Connectable]()
	for _, typ := range []reflect.Type{
		reflect.TypeFor[*NetworkAddress](), reflect.TypeFor[*NetworkService](), reflect.TypeFor[*InetSocketAddress](),
	} {
		if !typ.Implements(connectable) {
			t.Errorf("%v is not a Connectable", typ)
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[customIdentity](), reflect.TypeFor[*net.TCPAddr](), reflect.TypeFor[NetworkAddress]()} {
		if typ.Implements(connectable) {
			t.Errorf("%v is a Connectable; only the three identity types should be", typ)
		}
	}
}

func TestResolveIdentity(t *testing.T) {
	var nilAddr *NetworkAddress
	tests := []struct {
		name    string
		id      Connectable
		host    string
		ip      string
		port    uint16
		wantErr bool
	}{
		{"hostname", NewNetworkAddress("Example.COM", 443), "example.com", "", 443, false},
		{"trailing dot", NewNetworkAddress("example.com.", 443), "example.com", "", 443, false},
		{"IDN", NewNetworkAddress("Bücher.example", 443), "xn--bcher-kva.example", "", 443, false},
		{"underscore", NewNetworkAddress("_dmarc.example", 1), "_dmarc.example", "", 1, false},
		{"IPv4 literal", NewNetworkAddress("127.0.0.1", 1), "", "127.0.0.1", 1, false},
		{"IPv6 literal", NewNetworkAddress("::1", 1), "", "::1", 1, false},
		{"bracketed IPv6", NewNetworkAddress("[::1]", 1), "", "::1", 1, false},
		{"v4-mapped", NewInetSocketAddress(netip.MustParseAddrPort("[::ffff:10.0.0.1]:5")), "", "10.0.0.1", 5, false},
		{"service", NewNetworkService("imap", "tcp", "Example.org."), "example.org", "", 0, false},
		{"nil", nil, "", "", 0, false},
		{"typed nil", nilAddr, "", "", 0, false},
		{"empty host", NewNetworkAddress("", 1), "", "", 0, true},
		{"only a dot", NewNetworkAddress(".", 1), "", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := resolveIdentity(tt.id)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("resolveIdentity = %+v, want an error", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ip := ""
			if n.ip.IsValid() {
				ip = n.ip.String()
			}
			if n.host != tt.host || ip != tt.ip || n.port != tt.port {
				t.Errorf("resolveIdentity = host %q ip %q port %d; want %q %q %d", n.host, ip, n.port, tt.host, tt.ip, tt.port)
			}
			if n.sni() != tt.host {
				t.Errorf("SNI %q, want %q (never an IP literal)", n.sni(), tt.host)
			}
		})
	}
}

// TestPlainHostnameFastPath checks that names skipping IDNA come out as IDNA
// would give them, and that names IDNA must see do not skip it.
func TestPlainHostnameFastPath(t *testing.T) {
	for _, h := range []string{"Example.COM", "a-b.example", "_dmarc.example", "localhost", "x1.y2.z3"} {
		if !isPlainHostname(h) {
			t.Errorf("isPlainHostname(%q) = false", h)
			continue
		}
		want, err := idnaProfile.ToASCII(h)
		if err != nil {
			t.Fatal(err)
		}
		n, err := hostIdentity(h, 1)
		if err != nil || n.host != strings.ToLower(want) {
			t.Errorf("hostIdentity(%q) = %q, %v; IDNA gives %q", h, n.host, err, want)
		}
	}
	for _, h := range []string{"bücher.example", "xn--bcher-kva.example", "-bad.example", "a..b", "ÉCOLE.fr", strings.Repeat("a", 64) + ".example"} {
		if isPlainHostname(h) {
			t.Errorf("isPlainHostname(%q) = true", h)
		}
	}
}
