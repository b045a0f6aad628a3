// Package testproxy runs small proxies on loopback for tests: an HTTP
// CONNECT proxy (RFC 9110, section 9.3.6) and a SOCKS5 proxy (RFC 1928,
// RFC 1929), each recording what it was asked (the destination as sent,
// the credentials) and able to misbehave: refuse, stall, redirect to
// another server, or send the destination's first bytes with its answer.
package testproxy

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/giotls/giotls/internal/loopback"
)

// Options say how a proxy behaves; the zero value tunnels every request
// to the destination asked for.
type Options struct {
	// User and Password, if User is set, are required: an HTTP proxy
	// answers 407 without them, a SOCKS5 proxy accepts only RFC 1929's
	// method.
	User, Password string
	// Route maps the destination asked for ("host:port") to the address
	// dialed; nil dials the destination itself. A test points names that
	// do not resolve here ("dest.test:443") at its servers.
	Route func(dest string) string
	// Refuse, if not 0, is the answer instead of a tunnel: an HTTP status
	// code, or a SOCKS5 reply code (RFC 1928, section 6).
	Refuse int
	// Stall makes the proxy read the request and never answer.
	Stall bool
	// EarlyData makes an HTTP proxy read the destination's first bytes
	// and send them in the same write as its 200 answer.
	EarlyData bool
	// Flood makes an HTTP proxy answer with header fields without end.
	Flood bool
}

// Request is what a client asked a proxy for.
type Request struct {
	// Destination is the destination exactly as sent: CONNECT's
	// request-target, or a SOCKS5 request's address and port.
	Destination string
	// Host is an HTTP request's Host header field.
	Host string
	// AddressType is a SOCKS5 request's ATYP: 1 IPv4, 3 a domain name, 4
	// IPv6.
	AddressType byte
	// Authorization is an HTTP request's Proxy-Authorization field; for
	// SOCKS5, "user:password" as received (RFC 1929), or "".
	Authorization string
}

// Proxy is a proxy listening on loopback.
type Proxy struct {
	// URL is the proxy's URL, with the credentials of Options if any.
	URL *url.URL

	opts Options
	srv  *loopback.Server
	mu   sync.Mutex
	reqs []Request
}

// Requests returns what clients asked for so far, in order.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.reqs...)
}

func (p *Proxy) record(r Request) {
	p.mu.Lock()
	p.reqs = append(p.reqs, r)
	p.mu.Unlock()
}

func (p *Proxy) route(dest string) string {
	if p.opts.Route != nil {
		return p.opts.Route(dest)
	}
	return dest
}

// listen starts a proxy whose connections handle serves; each connection
// is bounded by loopback.Deadline.
func listen(scheme string, opts Options, handle func(*Proxy, net.Conn)) (*Proxy, error) {
	p := &Proxy{opts: opts}
	srv, err := loopback.Listen("tcp4", loopback.Deadline, func(c net.Conn) { handle(p, c) })
	if err != nil {
		return nil, err
	}
	p.srv = srv
	p.URL = &url.URL{Scheme: scheme, Host: srv.Addr().String()}
	if opts.User != "" {
		p.URL.User = url.UserPassword(opts.User, opts.Password)
	}
	return p, nil
}

// start is listen for a test: the proxy stops when the test ends.
func start(tb testing.TB, scheme string, opts Options, handle func(*Proxy, net.Conn)) *Proxy {
	tb.Helper()
	p, err := listen(scheme, opts, handle)
	if err != nil {
		tb.Fatalf("listen on loopback: %v", err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// Close stops the proxy and waits for its connections to end.
func (p *Proxy) Close() error { return p.srv.Close() }

// stall waits until the client goes away (or loopback's deadline).
func stall(c net.Conn) { io.Copy(io.Discard, c) }

// relay copies between the client and the destination until both are
// done, passing on each side's end of stream.
func relay(client, dest net.Conn) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(dest, client)
		if cw, ok := dest.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
	}()
	io.Copy(client, dest)
	if cw, ok := client.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	wg.Wait()
}
