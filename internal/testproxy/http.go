package testproxy

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
)

// StartHTTP starts an HTTP CONNECT proxy on 127.0.0.1, stopped when the
// test ends.
func StartHTTP(tb testing.TB, opts Options) *Proxy {
	tb.Helper()
	return start(tb, "http", opts, (*Proxy).serveHTTP)
}

// StartHTTPS starts an HTTP CONNECT proxy spoken to over TLS with cfg
// ("https://" proxy URLs), stopped when the test ends.
func StartHTTPS(tb testing.TB, cfg *tls.Config, opts Options) *Proxy {
	tb.Helper()
	return start(tb, "https", opts, func(p *Proxy, c net.Conn) {
		tc := tls.Server(c, cfg)
		defer tc.Close()
		p.serveHTTP(tc)
	})
}

// ListenHTTP starts an HTTP CONNECT proxy on 127.0.0.1 outside a test (for
// examples); Close stops it.
func ListenHTTP(opts Options) (*Proxy, error) { return listen("http", opts, (*Proxy).serveHTTP) }

func (p *Proxy) serveHTTP(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.record(Request{Destination: req.RequestURI, Host: req.Host, Authorization: req.Header.Get("Proxy-Authorization")})
	switch {
	case p.opts.Stall:
		stall(c)
		return
	case p.opts.Flood:
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\n")
		for {
			if _, err := fmt.Fprintf(c, "X-Filler: %0100d\r\n", 0); err != nil {
				return
			}
		}
	case req.Method != http.MethodConnect:
		fmt.Fprintf(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	case p.opts.User != "" && req.Header.Get("Proxy-Authorization") != basic(p.opts.User, p.opts.Password):
		fmt.Fprintf(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n\r\n")
		return
	case p.opts.Refuse != 0:
		fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n", p.opts.Refuse, http.StatusText(p.opts.Refuse))
		return
	}
	dest, err := loopback.Dial(req.Context(), p.route(req.RequestURI))
	if err != nil {
		fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer dest.Close()
	answer := []byte("HTTP/1.1 200 Connection established\r\n\r\n")
	if p.opts.EarlyData {
		// The destination speaks first: its greeting goes out in the
		// same segment as the answer.
		buf := make([]byte, 4096)
		dest.SetReadDeadline(time.Now().Add(loopback.DialTimeout))
		n, _ := dest.Read(buf)
		dest.SetReadDeadline(time.Time{})
		answer = append(answer, buf[:n]...)
	}
	if _, err := c.Write(answer); err != nil {
		return
	}
	// Whatever the client sent after its request was read with it.
	if n := br.Buffered(); n > 0 {
		early, _ := br.Peek(n)
		if _, err := dest.Write(early); err != nil {
			return
		}
	}
	relay(c, dest)
}

// basic is the Proxy-Authorization value of Basic credentials (RFC 7617).
func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}
