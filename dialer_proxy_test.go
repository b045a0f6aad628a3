package giotls

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
	"github.com/giotls/giotls/internal/testproxy"
)

// destName is the destination the tests dial through proxies: a name that
// does not resolve here (RFC 6761, section 6.2), so that a dial that
// succeeds proves the name reached the proxy unresolved.
const destName = "dest.test"

// proxyKinds start each kind of proxy the Dialer speaks.
var proxyKinds = []struct {
	name  string
	start func(testing.TB, testproxy.Options) *testproxy.Proxy
}{
	{"http", testproxy.StartHTTP},
	{"socks5", func(tb testing.TB, o testproxy.Options) *testproxy.Proxy {
		return testproxy.StartSOCKS5(tb, "socks5", o)
	}},
	{"socks5h", func(tb testing.TB, o testproxy.Options) *testproxy.Proxy {
		return testproxy.StartSOCKS5(tb, "socks5h", o)
	}},
}

// routeTo sends every destination to srv.
func routeTo(srv *tlsServer) func(string) string {
	return func(string) string { return srv.Addr.String() }
}

// useProxy is a Dialer.Proxy that always chooses u.
func useProxy(u *url.URL) func(context.Context, string, string) (*url.URL, error) {
	return func(context.Context, string, string) (*url.URL, error) { return u, nil }
}

func proxyCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestProxyDial connects through each kind of proxy, with and without
// credentials: the proxy is sent the destination's name unresolved and
// the credentials, the server gets the destination's name as SNI, and the
// certificate is checked against it.
func TestProxyDial(t *testing.T) {
	ca := newTestCA(t, "Proxy CA")
	srv := startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, destName, testpki.DNSNames(destName))), nil)
	for _, kind := range proxyKinds {
		for _, user := range []string{"", "alice"} {
			t.Run(kind.name+"/user="+user, func(t *testing.T) {
				p := kind.start(t, testproxy.Options{User: user, Password: "s3cret:x", Route: routeTo(srv)})
				d := &Dialer{Database: ca.db, Proxy: useProxy(p.URL)}
				conn, err := d.DialContext(proxyCtx(t), "tcp", destName+":443")
				if err != nil {
					t.Fatalf("dial through %s: %v", p.URL.Redacted(), err)
				}
				defer conn.Close()
				if _, err := conn.Write([]byte("ping")); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 4)
				if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping" {
					t.Fatalf("echo through the tunnel: %q, %v", buf, err)
				}
				reqs := p.Requests()
				if len(reqs) != 1 || reqs[0].Destination != destName+":443" {
					t.Fatalf("the proxy was asked for %+v, want %s:443 once", reqs, destName)
				}
				r := reqs[0]
				switch {
				case kind.name == "http" && r.Host != destName+":443":
					t.Errorf("Host = %q, want the destination", r.Host)
				case kind.name != "http" && r.AddressType != 3:
					t.Errorf("SOCKS5 ATYP = %d, want 3 (a name, resolved by the proxy)", r.AddressType)
				}
				var wantAuth string
				if user != "" {
					wantAuth = "alice:s3cret:x"
					if kind.name == "http" {
						wantAuth = "Basic YWxpY2U6czNjcmV0Ong=" // base64("alice:s3cret:x")
					}
				}
				if r.Authorization != wantAuth {
					t.Errorf("credentials = %q, want %q", r.Authorization, wantAuth)
				}
				if snis := srv.SNIs(); snis[len(snis)-1] != destName {
					t.Errorf("SNI = %q, want the destination's name", snis[len(snis)-1])
				}
			})
		}
	}
}

// TestProxyIdentityIsDestination: a proxy that tunnels to another server
// than the one asked for is caught by the certificate check against the
// destination, never silently accepted, whatever that server presents:
// another name, another CA, or a certificate valid for the proxy itself.
func TestProxyIdentityIsDestination(t *testing.T) {
	ca := newTestCA(t, "Proxy CA")
	other := newTestCA(t, "Other CA")
	impostors := []struct {
		name string
		leaf *testpki.Leaf
		want CertificateFlags
	}{
		{"another name", ca.MustLeaf(t, "other.test", testpki.DNSNames("other.test")), CertificateBadIdentity},
		{"another CA", other.MustLeaf(t, destName, testpki.DNSNames(destName)), CertificateUnknownCA},
		{"the proxy's own certificate", ca.MustLeaf(t, "proxy", testpki.DNSNames("localhost"), testpki.IPAddresses("127.0.0.1")), CertificateBadIdentity},
	}
	for _, kind := range proxyKinds {
		for _, imp := range impostors {
			t.Run(kind.name+"/"+imp.name, func(t *testing.T) {
				srv := startTLSServer(t, "tcp4", serverConfig(imp.leaf), nil)
				p := kind.start(t, testproxy.Options{Route: routeTo(srv)})
				var got CertificateFlags
				d := &Dialer{Database: ca.db, Proxy: useProxy(p.URL),
					AcceptCertificate: func(_ *Certificate, errs CertificateFlags) bool { got = errs; return false }}
				conn, err := d.DialContext(proxyCtx(t), "tcp", destName+":443")
				if err == nil {
					conn.Close()
					t.Fatal("the impostor behind the proxy was accepted")
				}
				if !errors.Is(err, ErrBadCertificate) || got != imp.want {
					t.Fatalf("err = %v, flags %v; want ErrBadCertificate with %v", err, got, imp.want)
				}
				if snis := srv.SNIs(); len(snis) != 1 || snis[0] != destName {
					t.Errorf("SNIs = %q, want the destination's name", snis)
				}
			})
		}
	}
}

// TestProxyRefusals: every way a proxy says no is an ErrMisc holding a
// *ProxyError that says what the proxy answered.
func TestProxyRefusals(t *testing.T) {
	cases := []struct {
		name   string
		start  func(testing.TB, testproxy.Options) *testproxy.Proxy
		opts   testproxy.Options
		creds  *url.Userinfo // put in the URL the Dialer is given
		status int
		reply  string
	}{
		{"http forbidden", testproxy.StartHTTP, testproxy.Options{Refuse: 403}, nil, 403, "403 Forbidden"},
		{"http bad gateway", testproxy.StartHTTP, testproxy.Options{Refuse: 502}, nil, 502, "502 Bad Gateway"},
		{"http no credentials", testproxy.StartHTTP, testproxy.Options{User: "alice", Password: "right"}, nil, 407, "no credentials were given"},
		{"http wrong credentials", testproxy.StartHTTP, testproxy.Options{User: "alice", Password: "right"}, url.UserPassword("alice", "wrong"), 407, "credentials given were refused"},
		{"socks not allowed", proxyKinds[1].start, testproxy.Options{Refuse: 2}, nil, 0, "connection not allowed by ruleset"},
		{"socks host unreachable", proxyKinds[2].start, testproxy.Options{Refuse: 4}, nil, 0, "host unreachable"},
		{"socks no credentials", proxyKinds[1].start, testproxy.Options{User: "alice", Password: "right"}, nil, 0, "no acceptable authentication methods"},
		{"socks wrong credentials", proxyKinds[2].start, testproxy.Options{User: "alice", Password: "right"}, url.UserPassword("alice", "wrong"), 0, "authentication failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.start(t, tc.opts)
			u := *p.URL
			u.User = tc.creds
			d := &Dialer{Proxy: useProxy(&u)}
			conn, err := d.DialContext(proxyCtx(t), "tcp", destName+":443")
			if err == nil {
				conn.Close()
				t.Fatal("dial succeeded through a refusing proxy")
			}
			var pe *ProxyError
			if !errors.Is(err, ErrMisc) || !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want ErrMisc holding a *ProxyError", err, err)
			}
			if pe.StatusCode != tc.status || !strings.Contains(pe.Reply, tc.reply) || pe.Destination != destName+":443" {
				t.Errorf("ProxyError = %+v, want status %d, reply with %q", pe, tc.status, tc.reply)
			}
			if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), "right") {
				t.Errorf("the error shows a password: %v", err)
			}
		})
	}
}

// TestProxyStallHonoursContext: a proxy that takes the request and never
// answers is ended by the context's deadline or cancellation.
func TestProxyStallHonoursContext(t *testing.T) {
	for _, kind := range proxyKinds {
		for _, how := range []string{"deadline", "cancel"} {
			t.Run(kind.name+"/"+how, func(t *testing.T) {
				p := kind.start(t, testproxy.Options{Stall: true})
				ctx, want := stallContext(t, how)
				start := time.Now()
				conn, err := (&Dialer{Proxy: useProxy(p.URL)}).DialContext(ctx, "tcp", destName+":443")
				if err == nil {
					conn.Close()
					t.Fatal("dial succeeded through a silent proxy")
				}
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
				if took := time.Since(start); took > 3*time.Second {
					t.Errorf("the dial took %v to notice its context", took)
				}
				if len(p.Requests()) != 1 {
					t.Errorf("the proxy saw %d requests, want 1 (it stalled after the request)", len(p.Requests()))
				}
			})
		}
	}
}

// TestProxyEarlyData: what an HTTP proxy sends after its 200, in the same
// segment, belongs to the destination and is read first: a server that
// speaks first (SMTP, FTP) is not cut short.
func TestProxyEarlyData(t *testing.T) {
	const greeting = "220 dest.test ESMTP ready\r\n"
	banner := loopback.Serve(t, "tcp4", func(c net.Conn) {
		io.WriteString(c, greeting)
		io.Copy(io.Discard, c)
	})
	p := testproxy.StartHTTP(t, testproxy.Options{EarlyData: true, Route: func(string) string { return banner.Addr().String() }})
	conn, err := DialProxy(proxyCtx(t), p.URL, nil, "tcp", destName+":25")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, len(greeting))
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != greeting {
		t.Fatalf("read %q, %v; want the greeting %q", buf, err, greeting)
	}
}

// TestProxyResponseBounded: a proxy whose answer never ends is cut off at
// 64 KiB.
func TestProxyResponseBounded(t *testing.T) {
	p := testproxy.StartHTTP(t, testproxy.Options{Flood: true})
	start := time.Now()
	conn, err := DialProxy(proxyCtx(t), p.URL, nil, "tcp", destName+":443")
	if err == nil {
		conn.Close()
		t.Fatal("a flooding proxy gave a tunnel")
	}
	if !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), "longer than 65536 bytes") {
		t.Fatalf("err = %v, want ErrMisc saying the answer is too long", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

// TestProxyBadInput: unsupported schemes and destinations that could
// smuggle something into the request fail before anything is sent.
func TestProxyBadInput(t *testing.T) {
	p := testproxy.StartHTTP(t, testproxy.Options{})
	cases := []struct {
		name, proxy, addr, want string
	}{
		{"socks4 proxy", "socks4://" + p.URL.Host, destName + ":443", `unsupported proxy scheme "socks4"`},
		{"ftp proxy", "ftp://" + p.URL.Host, destName + ":443", `unsupported proxy scheme "ftp"`},
		{"header injection", p.URL.String(), "dest.test\r\nX-Evil\r\n:443", "want a host name"},
		{"space", p.URL.String(), "dest test:443", "want a host name"},
		{"userinfo", p.URL.String(), "user@dest.test:443", "want a host name"},
		{"zone", p.URL.String(), "[fe80::1%eth0]:443", "a zone means nothing"},
		{"proxy without host", "http://", destName + ":443", "has no host"},
		{"socks proxy without host", "socks5h://:1080", destName + ":443", "has no host"},
		{"socks user without password", "socks5://alice@" + p.URL.Host, destName + ":443", "a user name and a password of 1 to 255 bytes"},
		{"no port", p.URL.String(), destName, "invalid address"},
		{"bad port", p.URL.String(), destName + ":nosuchservice", "invalid address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.proxy)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := (&Dialer{Proxy: useProxy(u)}).DialContext(proxyCtx(t), "tcp", tc.addr)
			if err == nil {
				conn.Close()
				t.Fatal("dial succeeded")
			}
			if !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrMisc with %q", err, tc.want)
			}
		})
	}
	if reqs := p.Requests(); len(reqs) != 0 {
		t.Errorf("the proxy was sent %+v", reqs)
	}
}

// TestProxyChoice: Proxy is asked with the numeric "host:port" dialed; nil
// dials directly, and its error fails the dial.
func TestProxyChoice(t *testing.T) {
	ca := newTestCA(t, "Proxy CA")
	srv := startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"), testpki.IPAddresses("127.0.0.1"))), nil)
	var asked []string
	d := &Dialer{Database: ca.db, Proxy: func(_ context.Context, network, addr string) (*url.URL, error) {
		asked = append(asked, network+" "+addr)
		return nil, nil
	}}
	conn, err := d.DialContext(proxyCtx(t), "tcp", srv.Addr.String())
	if err != nil {
		t.Fatalf("direct dial: %v", err)
	}
	conn.Close()
	if len(asked) != 1 || asked[0] != "tcp "+srv.Addr.String() {
		t.Errorf("Proxy was asked %q", asked)
	}
	asked = nil
	if _, err := d.DialContext(proxyCtx(t), "tcp", "localhost:https"); err != nil && len(asked) == 0 {
		t.Fatalf("Proxy was not asked: %v", err)
	}
	if asked[0] != "tcp localhost:443" {
		t.Errorf("Proxy was asked %q, want the numeric port", asked)
	}
	boom := errors.New("no proxy configuration")
	d.Proxy = func(context.Context, string, string) (*url.URL, error) { return nil, boom }
	if _, err := d.DialContext(proxyCtx(t), "tcp", srv.Addr.String()); !errors.Is(err, boom) || !errors.Is(err, ErrMisc) {
		t.Errorf("err = %v, want ErrMisc holding the Proxy's error", err)
	}
}

// TestProxyIPLiteral: an IP address destination goes to the proxy as an
// address (CONNECT's "[v6]:port", SOCKS5 ATYP 4) and is checked against the
// certificate's IP addresses.
func TestProxyIPLiteral(t *testing.T) {
	ca := newTestCA(t, "Proxy CA")
	srv := startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, "v6", testpki.IPAddresses("2001:db8::1"))), nil)
	for _, kind := range proxyKinds {
		t.Run(kind.name, func(t *testing.T) {
			p := kind.start(t, testproxy.Options{Route: routeTo(srv)})
			conn, err := (&Dialer{Database: ca.db, Proxy: useProxy(p.URL)}).DialContext(proxyCtx(t), "tcp", "[2001:db8::1]:443")
			if err != nil {
				t.Fatal(err)
			}
			conn.Close()
			r := p.Requests()[0]
			if r.Destination != "[2001:db8::1]:443" || (kind.name != "http" && r.AddressType != 4) {
				t.Errorf("the proxy was asked %+v", r)
			}
		})
	}
}

// TestProxyNegotiationCap: with a context that can never end, a silent
// proxy is given up on after proxyNegotiationCap.
func TestProxyNegotiationCap(t *testing.T) {
	defer func(d time.Duration) { proxyNegotiationCap = d }(proxyNegotiationCap)
	proxyNegotiationCap = 300 * time.Millisecond
	for _, kind := range proxyKinds[:2] {
		t.Run(kind.name, func(t *testing.T) {
			p := kind.start(t, testproxy.Options{Stall: true})
			start := time.Now()
			_, err := DialProxy(context.Background(), p.URL, nil, "tcp", destName+":443")
			if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
				t.Fatalf("err = %v after %v, want a deadline after the cap", err, time.Since(start))
			}
		})
	}
}

// TestProxyNetwork: the network dialed applies to the connection to the
// proxy: "tcp6" cannot reach a proxy on 127.0.0.1, "tcp4" can.
func TestProxyNetwork(t *testing.T) {
	for _, kind := range proxyKinds {
		t.Run(kind.name, func(t *testing.T) {
			refuse := 2 // SOCKS5: not allowed
			if kind.name == "http" {
				refuse = 403
			}
			p := kind.start(t, testproxy.Options{Refuse: refuse})
			_, err := DialProxy(proxyCtx(t), p.URL, nil, "tcp6", destName+":443")
			var pe *ProxyError
			if err == nil || errors.As(err, &pe) {
				t.Errorf("tcp6: err = %v, want no connection to the IPv4 proxy", err)
			}
			if _, err := DialProxy(proxyCtx(t), p.URL, nil, "tcp4", destName+":443"); !errors.As(err, &pe) {
				t.Errorf("tcp4: err = %v, want the proxy's refusal", err)
			}
		})
	}
}

// stallContext is a context that ends 300 ms from now, by its deadline
// (how "deadline") or by a cancellation, and the error it ends with.
func stallContext(t *testing.T, how string) (context.Context, error) {
	if how == "deadline" {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		t.Cleanup(cancel)
		return ctx, context.DeadlineExceeded
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	time.AfterFunc(300*time.Millisecond, cancel)
	return ctx, context.Canceled
}
