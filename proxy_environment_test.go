package giotls

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
	"github.com/giotls/giotls/internal/testproxy"
)

// envOf is a getenv over a fixed environment.
func envOf(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

// TestNoProxyMatching: which destinations NO_PROXY sends direct.
func TestNoProxyMatching(t *testing.T) {
	cases := []struct {
		noProxy, addr string
		proxied       bool
	}{
		{"", "example.org:443", true},
		{"*", "example.org:443", false},
		{"*", "192.0.2.1:443", false},
		{"example.org", "example.org:443", false},
		{"example.org", "www.example.org:443", false},
		{"example.org", "notexample.org:443", true},
		{"example.org", "example.org.evil.test:443", true},
		{".example.org", "www.example.org:443", false},
		{".example.org", "example.org:443", true}, // GIO's GSimpleProxyResolver would go direct
		{"*.example.org", "a.b.example.org:443", false},
		{"*.example.org", "example.org:443", true},
		{"EXAMPLE.org", "Example.ORG:443", false},
		{"example.org:8443", "example.org:443", true},
		{"example.org:8443", "example.org:8443", false},
		{"192.0.2.1", "192.0.2.1:443", false},
		{"192.0.2.1", "192.0.2.2:443", true},
		{"192.0.2.1:443", "192.0.2.1:443", false},
		{"192.0.2.1:443", "192.0.2.1:80", true},
		{"192.0.2.0/24", "192.0.2.200:443", false},
		{"192.0.2.0/24", "198.51.100.1:443", true},
		{"2001:db8::/32", "[2001:db8::5]:443", false},
		{"[2001:db8::1]:443", "[2001:db8::1]:443", false},
		{"[2001:db8::1]:443", "[2001:db8::1]:80", true},
		{"2001:db8::1", "[2001:db8::2]:443", true},
		{"other.test, example.org ,foo", "example.org:443", false},
		{"192.0.2.0/24", "example.org:443", true}, // no local lookup to match an IP rule
		{"", "localhost:443", false},
		{"", "127.0.0.1:443", false},
		{"", "[::1]:443", false},
	}
	for _, tc := range cases {
		t.Run(tc.noProxy+"/"+tc.addr, func(t *testing.T) {
			for _, name := range []string{"NO_PROXY", "no_proxy"} {
				env := map[string]string{"HTTPS_PROXY": "http://proxy.test:3128", name: tc.noProxy}
				u, err := proxyFromEnv(envOf(env), tc.addr)
				if err != nil {
					t.Fatal(err)
				}
				if got := u != nil; got != tc.proxied {
					t.Errorf("%s=%q: %s proxied = %v, want %v", name, tc.noProxy, tc.addr, got, tc.proxied)
				}
			}
		})
	}
}

// TestProxyEnvironmentParsing: which variable wins, and how values are
// read; a value that is no URL is an error (never a direct connection)
// that does not show the password.
func TestProxyEnvironmentParsing(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    string // the proxy's URL; "" direct
		wantErr string
	}{
		{"nothing set", map[string]string{}, "", ""},
		{"HTTPS_PROXY", map[string]string{"HTTPS_PROXY": "http://p.test:3128"}, "http://p.test:3128", ""},
		{"https_proxy first", map[string]string{"https_proxy": "http://lower.test:1", "HTTPS_PROXY": "http://upper.test:1"}, "http://lower.test:1", ""},
		{"ALL_PROXY", map[string]string{"ALL_PROXY": "socks5h://s.test:1080"}, "socks5h://s.test:1080", ""},
		{"all_proxy first", map[string]string{"all_proxy": "socks5://lower.test", "ALL_PROXY": "socks5://upper.test"}, "socks5://lower.test", ""},
		{"HTTPS_PROXY over ALL_PROXY", map[string]string{"ALL_PROXY": "socks5://s.test", "HTTPS_PROXY": "http://h.test"}, "http://h.test", ""},
		{"HTTP_PROXY ignored", map[string]string{"HTTP_PROXY": "http://h.test", "http_proxy": "http://h.test"}, "", ""},
		{"no scheme", map[string]string{"HTTPS_PROXY": "p.test:3128"}, "http://p.test:3128", ""},
		{"credentials", map[string]string{"HTTPS_PROXY": "http://u:pw@p.test:3128"}, "http://u:pw@p.test:3128", ""},
		{"trailing slash", map[string]string{"HTTPS_PROXY": "http://p.test:3128/"}, "http://p.test:3128/", ""},
		{"upper-case scheme", map[string]string{"HTTPS_PROXY": "SOCKS5H://s.test:1080"}, "socks5h://s.test:1080", ""},
		{"spaces", map[string]string{"HTTPS_PROXY": " http://p.test:3128 "}, "http://p.test:3128", ""},
		{"https scheme kept", map[string]string{"HTTPS_PROXY": "https://p.test"}, "https://p.test", ""},
		{"bad port", map[string]string{"HTTPS_PROXY": "http://u:hunter2@p.test:31x8"}, "", "HTTPS_PROXY is not a proxy URL"},
		{"no host", map[string]string{"ALL_PROXY": "socks5://u:hunter2@:1080"}, "", "ALL_PROXY is not a proxy URL: no host"},
		{"path", map[string]string{"https_proxy": "http://p.test/pac.js"}, "", "https_proxy is not a proxy URL"},
		{"control character", map[string]string{"HTTPS_PROXY": "http://p.test\x00:1"}, "", "not a proxy URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := proxyFromEnv(envOf(tc.env), "example.org:443")
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, %v; want ErrMisc with %q", u, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if u != nil {
				got = u.String()
			}
			if got != tc.want {
				t.Errorf("proxy = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestProxyFromEnvironmentDial: a Dialer with ProxyFromEnvironment goes
// through the proxy the environment names, and HTTPS_PROXY's URL errors
// fail the dial.
func TestProxyFromEnvironmentDial(t *testing.T) {
	ca := newTestCA(t, "Proxy CA")
	srv := startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, destName, testpki.DNSNames(destName))), nil)
	p := testproxy.StartSOCKS5(t, "socks5h", testproxy.Options{Route: routeTo(srv)})
	t.Setenv("https_proxy", "")
	t.Setenv("HTTPS_PROXY", "")
	t.Setenv("all_proxy", "")
	t.Setenv("ALL_PROXY", p.URL.String())
	t.Setenv("no_proxy", "")
	t.Setenv("NO_PROXY", "example.org")
	d := &Dialer{Database: ca.db, Proxy: ProxyFromEnvironment}
	conn, err := d.DialContext(context.Background(), "tcp", destName+":443")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "x")
	conn.Close()
	if reqs := p.Requests(); len(reqs) != 1 || reqs[0].Destination != destName+":443" {
		t.Errorf("the proxy was asked %+v", reqs)
	}
	t.Setenv("HTTPS_PROXY", "http://[::1")
	if _, err := d.DialContext(context.Background(), "tcp", destName+":443"); !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), "HTTPS_PROXY is not a proxy URL") {
		t.Errorf("err = %v, want the bad HTTPS_PROXY reported", err)
	}
	if n := len(p.Requests()); n != 1 {
		t.Errorf("the proxy was asked %d times, want 1", n)
	}
}
