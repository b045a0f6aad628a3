//go:build linux

package interop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/giotls/giotls"
)

// TestNginx fetches a page from nginx through giotls.Dialer, over HTTP/1.1
// (net/http's Transport) and h2 (x/net/http2's, as ExampleDialer_http2
// does), with and without a client certificate, and checks what nginx
// says it saw.
func TestNginx(t *testing.T) {
	n := startNginx(t)
	p := getPKI(t)
	db := giotls.NewDatabase([]*x509.Certificate{p.server.Root()})
	clientPEM, err := os.ReadFile(p.clientCert)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(p.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := giotls.NewCertificateFromPEM(append(clientPEM, keyPEM...))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		h2       bool
		mutual   bool // the server requires a client certificate
		cert     *giotls.Certificate
		wantCode int
		want     string // in the body
	}{
		// nginx 1.22's default ssl_protocols stop at TLSv1.2 (1.23.4 added
		// TLSv1.3): what Debian 12's users run.
		{"HTTP/1.1", false, false, nil, 200, "http=HTTP/1.1 tls=TLSv1.2 client=[]"},
		{"h2", true, false, nil, 200, "http=HTTP/2.0 tls=TLSv1.2 client=[]"},
		{"HTTP/1.1 client certificate", false, true, cert, 200, "http=HTTP/1.1 tls=TLSv1.2 client=[CN=interop client]"},
		{"h2 client certificate", true, true, cert, 200, "http=HTTP/2.0 tls=TLSv1.2 client=[CN=interop client]"},
		// nginx answers a missing certificate with 400, not a handshake
		// failure: the request must still go through.
		{"HTTP/1.1 client certificate required, none sent", false, true, nil, 400, "No required SSL certificate was sent"},
		{"h2 client certificate required, none sent", true, true, nil, 400, "No required SSL certificate was sent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := record(t, "nginx", c.name, "library (Dialer)")
			addr := n.open
			if c.mutual {
				addr = n.mutual
			}
			d := &giotls.Dialer{Database: db, Certificate: c.cert, SessionCache: giotls.NewSessionCache(giotls.SessionCacheOptions{})}
			var rt http.RoundTripper
			if c.h2 {
				d.AdvertisedProtocols = []string{"h2"}
				tr := &http2.Transport{DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
					return d.DialContext(ctx, network, addr)
				}}
				defer tr.CloseIdleConnections()
				rt = tr
			} else {
				tr := &http.Transport{DialTLSContext: d.DialContext}
				defer tr.CloseIdleConnections()
				rt = tr
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "GET", "https://"+addr+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := (&http.Client{Transport: rt}).Do(req)
			if err != nil {
				t.Fatalf("GET: %v\nnginx's log:\n%s", err, readLog(n.errorLog))
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			r.notef("%d %s", resp.StatusCode, firstLine(string(body)))
			if resp.StatusCode != c.wantCode || !strings.Contains(string(body), c.want) {
				t.Errorf("got %d %q, want %d and %q", resp.StatusCode, body, c.wantCode, c.want)
			}
			if c.h2 && resp.Proto != "HTTP/2.0" {
				t.Errorf("response over %s, want HTTP/2.0", resp.Proto)
			}
		})
	}
}

// firstLine returns s's first non-empty line, or the <title> of an HTML
// page.
func firstLine(s string) string {
	if _, rest, ok := strings.Cut(s, "<title>"); ok {
		s, _, _ = strings.Cut(rest, "</title>")
	}
	return strings.TrimSpace(strings.SplitN(strings.TrimSpace(s), "\n", 2)[0])
}

// TestNginxResumption makes two HTTPS connections through one Dialer (keep-
// alive off, so the second is a new connection): the second must resume
// the first's session from the Dialer's session cache, as nginx's
// $ssl_session_reused says ("r"), with and without a client certificate.
func TestNginxResumption(t *testing.T) {
	n := startNginx(t)
	p := getPKI(t)
	cert, err := giotls.NewCertificateFromFiles(p.clientCert, p.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		addr string
		cert *giotls.Certificate
	}{
		{"second connection resumes", n.open, nil},
		{"second connection resumes, client certificate", n.mutual, cert},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := record(t, "nginx", "HTTP/1.1 "+c.name, "library (Dialer)")
			d := &giotls.Dialer{
				Database:     giotls.NewDatabase([]*x509.Certificate{p.server.Root()}),
				Certificate:  c.cert,
				SessionCache: giotls.NewSessionCache(giotls.SessionCacheOptions{}),
			}
			tr := &http.Transport{DialTLSContext: d.DialContext, DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			var bodies []string
			for range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				req, err := http.NewRequestWithContext(ctx, "GET", "https://"+c.addr+"/", nil)
				if err != nil {
					cancel()
					t.Fatal(err)
				}
				resp, err := (&http.Client{Transport: tr}).Do(req)
				if err != nil {
					cancel()
					t.Fatalf("GET: %v\nnginx's log:\n%s", err, readLog(n.errorLog))
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				cancel()
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("GET: %d %q, %v", resp.StatusCode, body, err)
				}
				bodies = append(bodies, strings.TrimSpace(string(body)))
			}
			r.notef("first: %s; second: %s", bodies[0], bodies[1])
			if !strings.HasSuffix(bodies[0], "reused=.") || !strings.HasSuffix(bodies[1], "reused=r") {
				t.Errorf("want a full handshake, then a resumed one; nginx saw %q", bodies)
			}
		})
	}
}

// TestNginxJSONResume runs `connect --json --resume 1` with a client
// certificate against the nginx that requires one: the first connection's
// report stays whole (the certificate was requested, with the CAs nginx
// accepts), and the reconnection, resumed, has a report of its own (issue
// 14, point 4).
func TestNginxJSONResume(t *testing.T) {
	n := startNginx(t)
	p := getPKI(t)
	r := record(t, "nginx", "connect --json --resume 1, client certificate required", "CLI")
	_, port, _ := net.SplitHostPort(n.mutual)
	res := runCLI(t, "", "connect", "--json", "--resume", "1", "--ca", p.caFile,
		"--cert", p.clientCert, "--key", p.clientKey, "localhost:"+port)
	var rep struct {
		CertificateRequested bool     `json:"certificate_requested"`
		AcceptedCAs          []string `json:"accepted_cas"`
		ClientCertificate    string   `json:"client_certificate"`
		Resumptions          []bool   `json:"resumptions"`
		Reconnections        []struct {
			SessionResumed bool `json:"session_resumed"`
		} `json:"reconnections"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || res.code != 0 {
		r.notef("exit %d: %s", res.code, firstLine(res.stderr))
		t.Fatalf("want exit 0 and one JSON object (%v); %s", err, res)
	}
	r.notef("certificate_requested %v, accepted_cas %q, resumptions %v, %d reconnection report(s)",
		rep.CertificateRequested, rep.AcceptedCAs, rep.Resumptions, len(rep.Reconnections))
	if !rep.CertificateRequested || !slices.Contains(rep.AcceptedCAs, "CN=giotls interop client CA") {
		t.Errorf("the first connection's report lost the certificate request: %s", res.stdout)
	}
	if !slices.Equal(rep.Resumptions, []bool{false, true}) || len(rep.Reconnections) != 1 || !rep.Reconnections[0].SessionResumed {
		t.Errorf("want resumptions [false true] and one resumed reconnection report: %s", res.stdout)
	}
}
