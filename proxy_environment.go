package giotls

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strings"

	"golang.org/x/net/http/httpproxy"
)

// ProxyFromEnvironment is a [Dialer.Proxy] that reads the environment on
// each call, as curl and net/http do:
//
//   - the proxy is https_proxy or HTTPS_PROXY, else all_proxy or ALL_PROXY
//     (lower case first); a value without a scheme ("proxy:3128") is an
//     HTTP proxy; "socks5://" and "socks5h://" are SOCKS5 proxies. A value
//     that is not a URL is an error, never a direct connection;
//   - no_proxy or NO_PROXY lists, comma-separated, what goes direct: "*"
//     (everything), a domain ("example.org" matches it and its subdomains,
//     ".example.org" and "*.example.org" only its subdomains), an IP
//     address or a CIDR prefix (192.0.2.0/24, 2001:db8::/32), each with an
//     optional port ("example.org:443", "[2001:db8::1]:443");
//   - "localhost" and loopback addresses always go direct.
//
// The matching is golang.org/x/net/http/httpproxy's. GIO's
// GSimpleProxyResolver differs in two points: its ".example.org" also
// matches example.org itself, and it proxies localhost like any host.
func ProxyFromEnvironment(ctx context.Context, network, addr string) (*url.URL, error) {
	return proxyFromEnv(os.Getenv, addr)
}

// proxyFromEnv is ProxyFromEnvironment reading the environment through
// getenv.
func proxyFromEnv(getenv func(string) string, addr string) (*url.URL, error) {
	name, raw := firstEnv(getenv, "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
	if raw == "" {
		return nil, nil
	}
	u, err := parseProxyURL(raw)
	if err != nil {
		return nil, newError(ErrorMisc, err, "%s is not a proxy URL", name)
	}
	_, noProxy := firstEnv(getenv, "no_proxy", "NO_PROXY")
	cfg := httpproxy.Config{HTTPSProxy: u.String(), NoProxy: noProxy}
	use, err := cfg.ProxyFunc()(&url.URL{Scheme: "https", Host: addr})
	if err != nil || use == nil {
		return nil, err
	}
	return u, nil
}

// firstEnv returns the first of names set to a non-empty value, and it.
func firstEnv(getenv func(string) string, names ...string) (string, string) {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return n, v
		}
	}
	return "", ""
}

// ParseProxyURL reads a proxy as people write it: a URL
// ("socks5h://user:password@proxy:1080") or a bare "host:port", which is
// an HTTP proxy. The URL must have a host and nothing after it but "/".
func ParseProxyURL(s string) (*url.URL, error) {
	u, err := parseProxyURL(s)
	if err != nil {
		return nil, newError(ErrorMisc, err, "invalid proxy URL")
	}
	return u, nil
}

// parseProxyURL is ParseProxyURL with a plain error, which never quotes
// the value (it may hold a password).
func parseProxyURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err
		}
		return nil, errors.New("not a URL")
	}
	if u.Hostname() == "" {
		return nil, errors.New("no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("a proxy URL has no path, query or fragment")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u, nil
}
