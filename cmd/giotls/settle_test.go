package main

import (
	"crypto/tls"
	"io"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestConnectTicketWait: --resume waits for a session ticket only as long
// as one can come. TLS 1.2 tickets come in the handshake (RFC 5077,
// section 3.3): no wait. A TLS 1.3 ticket comes after it (RFC 8446,
// section 4.6.1): connect stops when one arrives, or when the server has
// been quiet for a short while after its last record, not after a fixed
// two seconds. -v says how each wait ended; the test reads that, not the
// clock.
func TestConnectTicketWait(t *testing.T) {
	p := newPKI(t, "Ticket Root")
	leaf := p.ca.MustLeaf(t, "server", testpki.DNSNames("localhost"))
	greet := func(tc *tls.Conn) { io.WriteString(tc, "* OK ready\r\n"); waitForClose(tc) }
	for _, tc := range []struct {
		name      string
		version   uint16
		noTickets bool
		handle    func(*tls.Conn)
		want      string // -v, once per connection but the last
		resumed   bool
	}{
		{"TLS 1.2", tls.VersionTLS12, false, waitForClose, "* session ticket: TLS 1.2 sends it in the handshake: no wait", true},
		{"TLS 1.2 without tickets", tls.VersionTLS12, true, waitForClose, "* session ticket: TLS 1.2 sends it in the handshake: no wait", false},
		{"TLS 1.3", tls.VersionTLS13, false, waitForClose, "* session ticket: received", true},
		{"TLS 1.3 without tickets", tls.VersionTLS13, true, waitForClose, "* session ticket: none came; the server has been quiet since its last record (0 reads after the handshake)", false},
		{"TLS 1.3 greeting without tickets", tls.VersionTLS13, true, greet, "* session ticket: none came; the server has been quiet since its last record (1 read after the handshake)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := tlsServer(t, &tls.Config{
				Certificates:           []tls.Certificate{leaf.TLSCertificate()},
				MinVersion:             tc.version,
				MaxVersion:             tc.version,
				SessionTicketsDisabled: tc.noTickets,
			}, tc.handle)
			r := run(t, "", "connect", "--ca", p.caFile, "--no-pipe", "-v", "--timeout", "30s", "--resume", "2", addr)
			if r.code != 0 || strings.Count(r.stderr, tc.want) != 2 {
				t.Errorf("exit %d; stderr does not say %q twice:\n%s", r.code, tc.want, r.stderr)
			}
			if got := strings.Count(r.stdout, "session resumed: yes"); tc.resumed && got != 2 || !tc.resumed && got != 0 {
				t.Errorf("%d reconnections resumed, want all: %v\n%s", got, tc.resumed, r.stdout)
			}
		})
	}
}
