package giotls

import (
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
	"github.com/giotls/giotls/internal/testproxy"
)

// TestHTTPSProxy: an "https://" proxy is spoken to over TLS, verified
// against ProxyDatabase (nil: the system's anchors) and its own name, and
// refused, before the request and its credentials are sent, when its
// certificate has any problem; the destination is verified against
// Database as always.
func TestHTTPSProxy(t *testing.T) {
	destCA := newTestCA(t, "Destination CA")
	proxyCA := newTestCA(t, "Proxy CA")
	srv := startTLSServer(t, "tcp4", serverConfig(destCA.MustLeaf(t, destName, testpki.DNSNames(destName))), nil)
	good := serverConfig(proxyCA.MustLeaf(t, "proxy", testpki.IPAddresses("127.0.0.1")))
	cases := []struct {
		name    string
		proxyDB Database
		cfg     *tls.Config
		want    error
		flags   string // in the error
	}{
		{"verified", proxyCA.db, good, nil, ""},
		{"system anchors", nil, good, ErrBadCertificate, "unknown-ca"},
		{"the destination's anchors are not the proxy's", destCA.db, good, ErrBadCertificate, "unknown-ca"},
		{"another name", proxyCA.db, serverConfig(proxyCA.MustLeaf(t, "other", testpki.DNSNames("other.test"))), ErrBadCertificate, "bad-identity"},
		{"expired", proxyCA.db, serverConfig(proxyCA.MustLeaf(t, "proxy", testpki.IPAddresses("127.0.0.1"), testpki.Expired())), ErrBadCertificate, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testproxy.StartHTTPS(t, tc.cfg, testproxy.Options{User: "alice", Password: "s3cret", Route: routeTo(srv)})
			d := &Dialer{Database: destCA.db, ProxyDatabase: tc.proxyDB, Proxy: useProxy(p.URL)}
			conn, err := d.DialContext(proxyCtx(t), "tcp", destName+":443")
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if _, err := io.WriteString(conn, "ping"); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 4)
				if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping" {
					t.Fatalf("echo: %q, %v", buf, err)
				}
				if reqs := p.Requests(); len(reqs) != 1 || reqs[0].Destination != destName+":443" || reqs[0].Authorization == "" {
					t.Errorf("the proxy was asked %+v", reqs)
				}
				return
			}
			if err == nil {
				conn.Close()
				t.Fatal("an unverified proxy was used")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "HTTPS proxy") || !strings.Contains(err.Error(), tc.flags) {
				t.Errorf("err = %v, want %v naming the proxy and %s", err, tc.want, tc.flags)
			}
			if reqs := p.Requests(); len(reqs) != 0 {
				t.Errorf("an unverified proxy was sent %+v", reqs)
			}
		})
	}
}

// TestHTTPSProxyStall: an HTTPS proxy that completes TLS and then never
// answers CONNECT is ended by the context, through the TLS connection's
// deadlines.
func TestHTTPSProxyStall(t *testing.T) {
	proxyCA := newTestCA(t, "Proxy CA")
	cfg := serverConfig(proxyCA.MustLeaf(t, "proxy", testpki.IPAddresses("127.0.0.1")))
	for _, how := range []string{"deadline", "cancel"} {
		t.Run(how, func(t *testing.T) {
			p := testproxy.StartHTTPS(t, cfg, testproxy.Options{Stall: true})
			ctx, want := stallContext(t, how)
			start := time.Now()
			_, err := (&Dialer{ProxyDatabase: proxyCA.db, Proxy: useProxy(p.URL)}).DialContext(ctx, "tcp", destName+":443")
			if !errors.Is(err, want) || time.Since(start) > 3*time.Second {
				t.Fatalf("err = %v after %v, want %v", err, time.Since(start), want)
			}
			if len(p.Requests()) != 1 {
				t.Errorf("the proxy saw %d requests, want 1 (it stalled after it)", len(p.Requests()))
			}
		})
	}
}
