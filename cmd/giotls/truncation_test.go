package main

import (
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

// cutConn is a server's base connection that, once cut is set, sends only
// the first half of the next write and closes: a record cut short.
type cutConn struct {
	net.Conn
	cut atomic.Bool
}

func (c *cutConn) Write(p []byte) (int, error) {
	if c.cut.Load() {
		c.Conn.Write(p[:len(p)/2])
		c.Conn.Close()
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// TestConnectTruncated: connect pipes what the server sends to stdout, and
// a server that ends without close_notify (at a record boundary or in the
// middle of a record) is a failure (exit 1, said on stderr), never a
// success; a clean end (close_notify) is one.
func TestConnectTruncated(t *testing.T) {
	p := newPKI(t, "Truncated Root")
	leaf := p.ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cfg := &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}
	tests := []struct {
		name   string
		end    func(tc *tls.Conn, base *cutConn) // after the data was written
		code   int
		stderr string
	}{
		{"close_notify", func(tc *tls.Conn, _ *cutConn) { tc.Close() }, 0, ""},
		{"TCP close", func(tc *tls.Conn, base *cutConn) { base.Conn.Close() }, 1, "without close_notify"},
		{"record cut short", func(tc *tls.Conn, base *cutConn) {
			base.cut.Store(true)
			tc.Write([]byte("the rest"))
		}, 1, "without close_notify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := loopback.Serve(t, "tcp4", func(c net.Conn) {
				base := &cutConn{Conn: c}
				tc := tls.Server(base, cfg)
				if tc.Handshake() != nil {
					return
				}
				tc.Write([]byte("the first part\n"))
				tt.end(tc, base)
			})
			addr := "localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			r := run(t, "", "connect", "--ca", p.caFile, addr)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
			if !strings.Contains(r.stdout, "the first part\n") {
				t.Errorf("stdout lacks what the server sent:\n%s", r.stdout)
			}
		})
	}
}
