package giotls

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

// TestDialerHTTPTruncation: through the Dialer, net/http must not take a
// truncated response for a whole one. A body delimited by the end of the
// connection (no Content-Length, not chunked: RFC 9112, section 6.3) that
// ends with a TCP close without close_notify fails with ErrEOF, never
// io.EOF; one cut inside its Content-Length or its chunks fails too (with
// ErrEOF, or io.ErrUnexpectedEOF from net/http when require-close-notify is
// off); the same body ended by close_notify reads whole.
func TestDialerHTTPTruncation(t *testing.T) {
	ca := newTestCA(t, "HTTP Truncation Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	const body = "the body as far as it goes"
	tests := []struct {
		name    string
		header  string
		notify  bool  // the server ends with close_notify
		lenient bool  // require-close-notify off
		wantErr error // nil: the body reads whole
	}{
		{"close-delimited, close_notify", "Connection: close\r\n", true, false, nil},
		{"close-delimited, TCP close", "Connection: close\r\n", false, false, ErrEOF},
		{"Content-Length, cut", "Content-Length: 1000\r\n", false, false, ErrEOF},
		{"chunked, cut", "Transfer-Encoding: chunked\r\n", false, false, ErrEOF},
		// Without require-close-notify a TCP close is io.EOF, which net/http
		// turns into io.ErrUnexpectedEOF inside a length or chunks.
		{"Content-Length, cut, not required", "Content-Length: 1000\r\n", false, true, io.ErrUnexpectedEOF},
		{"chunked, cut, not required", "Transfer-Encoding: chunked\r\n", false, true, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := loopback.Serve(t, "tcp4", func(raw net.Conn) {
				c := tls.Server(raw, serverConfig(leaf))
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				payload := body
				if tt.header == "Transfer-Encoding: chunked\r\n" {
					payload = "1a\r\n" + body // and no last chunk
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\n"+tt.header+"\r\n"+payload)
				if tt.notify {
					c.Close()
				} else {
					raw.Close()
				}
			})
			d := &Dialer{Database: ca.db, Configure: func(c *ClientConnection) error {
				c.SetRequireCloseNotify(!tt.lenient)
				return nil
			}}
			tr := &http.Transport{DialTLSContext: d.DialContext}
			t.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			req, _ := http.NewRequestWithContext(context.Background(), "GET", "https://localhost:"+port+"/", nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.wantErr == nil {
				if err != nil || string(got) != body {
					t.Errorf("body %q, %v; want %q whole", got, err, body)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || errors.Is(err, io.EOF) {
				t.Errorf("body %q, %v; want an error matching %v and not io.EOF", got, err, tt.wantErr)
			}
		})
	}
}
