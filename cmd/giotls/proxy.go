package main

import (
	"context"
	"flag"
	"net"
	"net/url"

	"github.com/giotls/giotls"
)

// proxyFlags choose how connect reaches the server: directly, through the
// proxy --proxy names, or through the one the environment names. The
// environment is read only when --proxy-env asks: a diagnostic tool that
// silently went through whatever proxy the shell had set would report on
// the proxy's network path, not the one asked for.
type proxyFlags struct {
	proxy    string
	proxyEnv bool

	proxyURL *url.URL
}

func (p *proxyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.proxy, "proxy", "", "connect through the proxy at `URL`: http://[user:password@]host:port (HTTP CONNECT; https:// over TLS, the proxy verified against the system's CAs) or socks5h://[user:password@]host:port (SOCKS5); the proxy resolves the name")
	fs.BoolVar(&p.proxyEnv, "proxy-env", false, "connect through the proxy HTTPS_PROXY or ALL_PROXY names, unless NO_PROXY exempts the host (lower-case names first)")
}

// check checks the flags and parses --proxy.
func (p *proxyFlags) check() error {
	if p.proxy == "" {
		return nil
	}
	if p.proxyEnv {
		return usagef("--proxy and --proxy-env are exclusive")
	}
	u, err := giotls.ParseProxyURL(p.proxy)
	if err != nil {
		return usagef("--proxy: %v", err)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return usagef("--proxy: unsupported proxy scheme %q: want http, https, socks5 or socks5h", u.Scheme)
	}
	p.proxyURL = u
	return nil
}

// dial connects to addr as the flags say, bounded by ctx, resolving names
// through resolver (nil: the default one).
func (p *proxyFlags) dial(ctx context.Context, addr string, resolver *net.Resolver) (net.Conn, error) {
	u := p.proxyURL
	if p.proxyEnv {
		var err error
		if u, err = giotls.ProxyFromEnvironment(ctx, "tcp", addr); err != nil {
			return nil, err
		}
	}
	return giotls.DialProxy(ctx, u, &net.Dialer{Resolver: resolver}, "tcp", addr)
}
