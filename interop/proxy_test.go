//go:build linux

package interop

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls"
)

// TestProxies: net/http over a giotls.Dialer reaches nginx through
// tinyproxy (HTTP CONNECT, Basic credentials) and Dante (SOCKS5), each
// given the destination's name to resolve; the certificate is checked
// against that name. tinyproxy's refusal of wrong credentials is a
// *giotls.ProxyError with its 407.
func TestProxies(t *testing.T) {
	n := startNginx(t)
	db := giotls.NewDatabase([]*x509.Certificate{getPKI(t).server.Root()})
	// nginx listens on 127.0.0.1; the proxies are sent "localhost".
	_, port, _ := strings.Cut(n.open, ":")
	dest := "localhost:" + port
	tiny, tinyURL := startTinyproxy(t, "alice", "s3cret")
	dante, danteURL := startDante(t)
	wrong := *tinyURL
	wrong.User = url.UserPassword("alice", "wrong")

	cases := []struct {
		name, server string
		proxy        *url.URL
		log          func() string
		wantLog      string // in the proxy's log
		wantStatus   int    // a refusal's status; 0: the GET works
		wantReply    string // in the refusal's reply
	}{
		{"HTTP CONNECT with Basic credentials", "tinyproxy", tinyURL, tiny.Output, `Established connection to host "localhost"`, 0, ""},
		// tinyproxy answers 401 where RFC 9110 says 407.
		{"HTTP CONNECT with wrong credentials", "tinyproxy", &wrong, tiny.Output, "", 401, "the credentials given were refused"},
		{"SOCKS5, name resolved by the proxy", "dante", danteURL, dante.Output, "tcp/connect", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := record(t, c.server, c.name, "library (Dialer.Proxy)")
			d := &giotls.Dialer{Database: db, Proxy: func(context.Context, string, string) (*url.URL, error) { return c.proxy, nil }}
			tr := &http.Transport{DialTLSContext: d.DialContext}
			defer tr.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "GET", "https://"+dest+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if c.wantStatus != 0 {
				var pe *giotls.ProxyError
				if !errors.As(err, &pe) || pe.StatusCode != c.wantStatus || !strings.Contains(pe.Reply, c.wantReply) {
					t.Fatalf("err = %v, want a *giotls.ProxyError with %d and %q\n%s", err, c.wantStatus, c.wantReply, c.log())
				}
				r.notef("refused: %s", pe.Reply)
				return
			}
			if err != nil {
				t.Fatalf("GET through %s: %v\n%s", c.proxy.Redacted(), err, c.log())
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "tls=TLSv1.2") {
				t.Fatalf("got %d %q, %v", resp.StatusCode, body, err)
			}
			if !strings.Contains(c.log(), c.wantLog) {
				t.Errorf("the proxy's log lacks %q:\n%s", c.wantLog, c.log())
			}
			r.notef("%d %s; the proxy's log: %s", resp.StatusCode, firstLine(string(body)), lineWith(c.log(), c.wantLog))
		})
	}
}
