package giotls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

func TestParseNetworkAddressURI(t *testing.T) {
	tests := []struct {
		uri      string
		wantHost string
		wantPort uint16
		wantErr  string
	}{
		{"https://example.org/", "example.org", 443, ""},
		{"https://example.org:8443/path?q=1#f", "example.org", 8443, ""},
		{"imaps://user:secret@mail.example.org", "mail.example.org", 443, ""},
		{"https://[::1]:993/", "::1", 993, ""},
		{"https://[::1]", "::1", 443, ""},
		{"https://[fe80::1%25eth0]:8443/", "fe80::1%eth0", 8443, ""},
		{"https://192.0.2.1:65535", "192.0.2.1", 65535, ""},
		{"https://example.org:0/", "example.org", 443, ""}, // GIO: port <= 0 is the default
		{"HTTPS://Example.ORG", "Example.ORG", 443, ""},
		{"example.org:443", "", 0, "want scheme://host[:port]"},
		{"example.org", "", 0, "want scheme://host[:port]"},
		{"/path/only", "", 0, "want scheme://host[:port]"},
		{"mailto:someone@example.org", "", 0, "want scheme://host[:port]"},
		{"https:///path", "", 0, "no host"},
		{"https://user@:443/", "", 0, "no host"},
		{"https://example.org:65536/", "", 0, "bad port"},
		{"https://example.org:99999999999999999999/", "", 0, "bad port"},
		{"https://example.org:/", "", 0, "empty port"},
		{"https://example.org:x/", "", 0, "invalid URI"},
		{"https://[::1/", "", 0, "invalid URI"},
		{"https://a b/", "", 0, "invalid URI"},
		{"A://::0", "", 0, "needs brackets"},
		{"https://::1/", "", 0, "invalid URI"},
		{"https://[example.org]/", "", 0, "invalid URI"},
		{"https://[192.0.2.1]/", "", 0, "invalid URI"},
		{"", "", 0, "want scheme://host[:port]"},
	}
	for _, tt := range tests {
		got, err := ParseNetworkAddressURI(tt.uri, 443)
		if tt.wantErr != "" {
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrorMisc || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseNetworkAddressURI(%q) = %v, %v; want a giotls *Error saying %q", tt.uri, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Hostname != tt.wantHost || got.Port != tt.wantPort {
			t.Errorf("ParseNetworkAddressURI(%q) = %v, %v; want %s port %d", tt.uri, got, err, tt.wantHost, tt.wantPort)
		}
	}
}

func TestDialHostAndURI(t *testing.T) {
	ca := newTestCA(t, "URI CA")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"), testpki.IPAddresses("::1"))
	v4 := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	v6 := startTLSServer(t, "tcp6", serverConfig(leaf), nil)
	d := &Dialer{Database: ca.db}
	tests := []struct {
		name string
		dial func() (*ClientConnection, error)
		want string // the server's address
		sni  string
	}{
		{"DialHost with its port", func() (*ClientConnection, error) {
			return d.DialHost(context.Background(), fmt.Sprintf("localhost:%d", v4.Addr.Port()), 1)
		}, v4.Addr.String(), "localhost"},
		{"DialHost with the default port", func() (*ClientConnection, error) {
			return d.DialHost(context.Background(), "localhost", v4.Addr.Port())
		}, v4.Addr.String(), "localhost"},
		{"DialURI with its port", func() (*ClientConnection, error) {
			return d.DialURI(context.Background(), fmt.Sprintf("https://localhost:%d/index.html", v4.Addr.Port()), 1)
		}, v4.Addr.String(), "localhost"},
		{"DialURI with the default port", func() (*ClientConnection, error) {
			return d.DialURI(context.Background(), "imaps://user@localhost", v4.Addr.Port())
		}, v4.Addr.String(), "localhost"},
		{"DialURI to an IPv6 literal", func() (*ClientConnection, error) {
			return d.DialURI(context.Background(), fmt.Sprintf("https://[::1]:%d/", v6.Addr.Port()), 1)
		}, v6.Addr.String(), ""},
	}
	for _, tt := range tests {
		conn, err := tt.dial()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := conn.RemoteAddr().String(); got != tt.want {
			t.Errorf("%s: connected to %s, want %s", tt.name, got, tt.want)
		}
		conn.Close()
	}
	if got := v4.SNIs(); len(got) != 4 || got[3] != "localhost" {
		t.Errorf("SNIs sent to the host %q, want localhost four times", got)
	}
	if got := v6.SNIs(); len(got) != 1 || got[0] != "" {
		t.Errorf("SNIs sent to the IPv6 literal %q, want none (RFC 6066, section 3)", got)
	}

	for _, bad := range []func() (*ClientConnection, error){
		func() (*ClientConnection, error) { return d.DialURI(context.Background(), "localhost:443", 443) },
		func() (*ClientConnection, error) { return d.DialHost(context.Background(), "local host", 443) },
		func() (*ClientConnection, error) { return d.DialHost(context.Background(), "[::1", 443) },
	} {
		var e *Error
		if _, err := bad(); !errors.As(err, &e) {
			t.Errorf("bad input: %v, want a giotls *Error", err)
		}
	}
}

// ParseNetworkAddressURI never panics, and what it accepts is a host that
// ParseNetworkAddress reads back from String.
func FuzzParseNetworkAddressURI(f *testing.F) {
	for _, s := range []string{"https://example.org/", "imaps://u:p@[::1]:993", "https://[fe80::1%25eth0]/", "x://h:0", "https://%41/", "mailto:a@b", "https://[::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		a, err := ParseNetworkAddressURI(uri, 443)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a giotls *Error", err)
			}
			return
		}
		if a.Hostname == "" || strings.ContainsAny(a.Hostname, " /\\@\x00") {
			t.Fatalf("%q gave host %q", uri, a.Hostname)
		}
		back, err := ParseNetworkAddress(a.String(), 1)
		if err != nil || back.Port != a.Port {
			t.Fatalf("%q gave %v, which ParseNetworkAddress reads as %v, %v", uri, a, back, err)
		}
	})
}
