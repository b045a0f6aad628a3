package main

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
	"github.com/giotls/giotls/internal/testproxy"
)

// TestConnectProxy: connect --proxy and --proxy-env reach openssl s_server
// through loopback proxies, which are asked for the destination's name;
// the certificate is checked against that name, and bad proxy flags are
// usage errors.
func TestConnectProxy(t *testing.T) {
	p := newPKI(t, "Proxy Root")
	cert, key := p.serverFiles(t, p.ca, "server", testpki.DNSNames("localhost", "dest.test"))
	srv, addr := sServer(t, cert, key)
	route := func(string) string { return addr }
	httpProxy := testproxy.StartHTTP(t, testproxy.Options{Route: route, User: "alice", Password: "pw"})
	socksProxy := testproxy.StartSOCKS5(t, "socks5h", testproxy.Options{Route: route})
	refusing := testproxy.StartHTTP(t, testproxy.Options{Refuse: 403})
	proxyLeaf := p.ca.MustLeaf(t, "proxy", testpki.IPAddresses("127.0.0.1"))
	httpsProxy := testproxy.StartHTTPS(t, &tls.Config{Certificates: []tls.Certificate{proxyLeaf.TLSCertificate()}}, testproxy.Options{Route: route})

	for _, tc := range []struct {
		name   string
		env    string // ALL_PROXY
		args   []string
		via    *testproxy.Proxy
		code   int
		stderr string
		dest   string // default dest.test:443, which does not resolve here: only a proxy can reach it
	}{
		{name: "http", args: []string{"--proxy", httpProxy.URL.String()}, via: httpProxy},
		{name: "socks5h", args: []string{"--proxy", socksProxy.URL.String()}, via: socksProxy},
		{name: "environment", env: socksProxy.URL.String(), args: []string{"--proxy-env"}, via: socksProxy},
		// A bad ALL_PROXY would fail the dial if it were read (never a
		// direct dial of dest.test, which would ask the system's resolver).
		{name: "environment unused without --proxy-env", env: "http://[::1", dest: addr},
		{name: "bad environment", env: "http://[::1", args: []string{"--proxy-env"}, code: 1, stderr: "ALL_PROXY is not a proxy URL"},
		{name: "refused", args: []string{"--proxy", refusing.URL.String()}, via: refusing, code: 1, stderr: "403 Forbidden"},
		// The proxy's certificate is checked against the system's CAs,
		// not --ca: this one is refused before CONNECT is sent.
		{name: "https proxy not trusted", args: []string{"--proxy", httpsProxy.URL.String()}, code: 1, stderr: "HTTPS proxy"},
		{name: "socks4 proxy", args: []string{"--proxy", "socks4://" + httpProxy.URL.Host}, code: 2, stderr: `unsupported proxy scheme "socks4"`},
		{name: "bad URL", args: []string{"--proxy", "http://[::1"}, code: 2, stderr: "--proxy: giotls: invalid proxy URL"},
		{name: "both", args: []string{"--proxy", httpProxy.URL.String(), "--proxy-env"}, code: 2, stderr: "exclusive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []string{"https_proxy", "HTTPS_PROXY", "all_proxy", "no_proxy", "NO_PROXY"} {
				t.Setenv(v, "")
			}
			t.Setenv("ALL_PROXY", tc.env)
			var before int
			if tc.via != nil {
				before = len(tc.via.Requests())
			}
			dest := tc.dest
			if dest == "" {
				dest = "dest.test:443"
			}
			args := append([]string{"connect", "--ca", p.caFile, "--json", "--timeout", "5s"}, tc.args...)
			r := run(t, "", append(args, dest)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.stderr)
			}
			if tc.code == 0 {
				if j := parseJSON(t, r); j.ServerIdentity != dest || len(j.PeerCertificateErrors) != 0 {
					t.Error(srv.Errorf("identity %q, errors %v; want %s verified", j.ServerIdentity, j.PeerCertificateErrors, dest))
				}
			}
			if tc.name == "https proxy not trusted" {
				if !strings.Contains(r.stderr, "unknown-ca") || len(httpsProxy.Requests()) != 0 {
					t.Errorf("stderr %q, requests %+v: want unknown-ca and no request sent", r.stderr, httpsProxy.Requests())
				}
			}
			if tc.via != nil {
				reqs := tc.via.Requests()
				if len(reqs) != before+1 || reqs[before].Destination != "dest.test:443" {
					t.Errorf("the proxy was asked %+v, want dest.test:443 once more", reqs[before:])
				}
			}
		})
	}
}
