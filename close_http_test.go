package giotls

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// TestDialerHTTPCloseIdle: net/http closes idle connections synchronously,
// in CloseIdleConnections and, holding the Transport's idle lock, when it
// evicts one (MaxIdleConns, IdleConnTimeout). Close must not wait there for
// the server's close_notify: against a server that does not answer it (it
// keeps the connection until its own idle timeout) each Close would stall
// net/http for five seconds. It does not, because net/http keeps a Read in
// flight on every idle connection (its readLoop), and Close then closes at
// once (close.go); with that rule gone this test takes 5 s per connection.
// Measured against crypto/tls's net/http server too, which answers at once.
func TestDialerHTTPCloseIdle(t *testing.T) {
	ca := newTestCA(t, "HTTP Idle Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	goServer := func(t *testing.T, version uint16) string {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		}))
		srv.TLS = serverConfig(leaf)
		srv.TLS.MinVersion, srv.TLS.MaxVersion = version, version
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	silentServer := func(t *testing.T, version uint16) string {
		release := make(chan struct{})
		cfg := serverConfig(leaf)
		cfg.MinVersion, cfg.MaxVersion = version, version
		srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) {
			br := bufio.NewReader(c)
			for { // until the client's close_notify, left unanswered
				if _, err := http.ReadRequest(br); err != nil {
					break
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
			<-release
		})
		t.Cleanup(func() { close(release) })
		return srv.Addr.String()
	}
	tests := []struct {
		name    string
		version uint16
		start   func(t *testing.T, version uint16) string
	}{
		{"net/http server, TLS 1.2", tls.VersionTLS12, goServer},
		{"net/http server, TLS 1.3", tls.VersionTLS13, goServer},
		{"server not answering close_notify, TLS 1.2", tls.VersionTLS12, silentServer},
		{"server not answering close_notify, TLS 1.3", tls.VersionTLS13, silentServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.start(t, tt.version)
			d := &Dialer{Database: ca.db}
			tr := &http.Transport{DialTLSContext: d.DialContext}
			t.Cleanup(tr.CloseIdleConnections)
			_, port, _ := net.SplitHostPort(addr)
			url := "https://localhost:" + port + "/"
			var conn *ClientConnection
			trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
				conn = info.Conn.(*ClientConnection)
			}}
			for range 3 { // one connection, used in turn, then idle
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", url, nil)
				resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(body) != "ok" {
					t.Fatalf("body %q, %v", body, err)
				}
			}
			// net/http puts the connection back among the idle ones just
			// before its readLoop reads again: wait for that Read, the state
			// of every idle connection this test is about. (Closed inside
			// that window, a connection to a server that never answers
			// close_notify waits out Close's bound.)
			for deadline := time.Now().Add(5 * time.Second); conn.closing.busy.Load() == 0; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("net/http's readLoop never read from the idle connection")
				}
			}
			start := time.Now()
			within(t, 20*time.Second, "CloseIdleConnections", tr.CloseIdleConnections)
			if took := time.Since(start); took > time.Second {
				t.Errorf("CloseIdleConnections took %v; want well under a second", took)
			}
		})
	}
}
