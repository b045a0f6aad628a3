package main

import (
	"crypto/tls"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/giotls/giotls/internal/testpki"
)

// TestConnectRememberedAnswerNotWidened: what accepted the first
// connection's problems, a person's "y" for that certificate or --accept,
// accepts those problems, nothing more. A reconnection (--resume, with no
// ticket to resume, so the server presents its certificate again) that
// shows another certificate, or the same one with a new problem, is asked
// about again and the "n" rejects it, or --accept rejects it.
func TestConnectRememberedAnswerNotWidened(t *testing.T) {
	p := newPKI(t, "Remember Root")
	stranger := testpki.MustCA(t, "Remember Stranger")
	leaf := stranger.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	elsewhere := stranger.MustLeaf(t, "elsewhere", testpki.DNSNames("elsewhere.test"))
	now := time.Now()
	revoked, err := ocsp.CreateResponse(stranger.Cert, stranger.Cert, ocsp.Response{Status: ocsp.Revoked,
		SerialNumber: leaf.Cert.SerialNumber, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour),
		RevokedAt: now.Add(-time.Hour)}, stranger.Key)
	if err != nil {
		t.Fatal(err)
	}
	// The stranger root is sent, so that a stapled response can be checked
	// against it; it is still no trusted CA.
	sent := func(l *testpki.Leaf, staple []byte) tls.Certificate {
		c := l.TLSCertificate()
		c.Certificate = append(c.Certificate, stranger.Cert.Raw)
		c.OCSPStaple = staple
		return c
	}
	for _, tc := range []struct {
		name          string
		first, second tls.Certificate
		wantSecond    string // the reconnection's problems
	}{
		{"another certificate", sent(leaf, nil), sent(elsewhere, nil), "unknown-ca|bad-identity"},
		{"the same certificate, now revoked", sent(leaf, nil), sent(leaf, revoked), "unknown-ca|revoked"},
	} {
		for _, mode := range []struct {
			name, by string
			asked    int
			run      func(*testing.T, string) result
		}{
			{"answered", "you", 2, func(t *testing.T, addr string) result {
				return runTerminal(t, "y\nn\n", "connect", "--ca", p.caFile, "--json", "--resume", "1", addr)
			}},
			{"--accept unknown-ca", "--accept", 0, func(t *testing.T, addr string) result {
				return run(t, "", "connect", "--ca", p.caFile, "--accept", "unknown-ca", "--json", "--resume", "1", addr)
			}},
		} {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				var n atomic.Int32
				addr := tlsServer(t, &tls.Config{
					SessionTicketsDisabled: true,
					GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
						if n.Add(1) == 1 {
							return &tc.first, nil
						}
						return &tc.second, nil
					},
				}, waitForClose)
				r := mode.run(t, addr)
				j := parseJSON(t, r)
				if j.AcceptedBy != mode.by || strings.Join(j.PeerCertificateErrors, "|") != "unknown-ca" {
					t.Errorf("first connection: accepted_by %q, errors %v; want %s, [unknown-ca]\n%s", j.AcceptedBy, j.PeerCertificateErrors, mode.by, r.stderr)
				}
				if len(j.Reconnections) != 1 {
					t.Fatalf("%d reconnections reported, want 1\n%s", len(j.Reconnections), r.stderr)
				}
				l := j.Reconnections[0]
				if got := strings.Join(l.PeerCertificateErrors, "|"); r.code != 1 || l.AcceptedBy != "" || l.Error == "" || got != tc.wantSecond || l.SessionResumed {
					t.Errorf("reconnection: exit %d, accepted_by %q, error %q, errors %s, resumed %v; want 1, rejected, an error, %s, not resumed\n%s",
						r.code, l.AcceptedBy, l.Error, got, l.SessionResumed, tc.wantSecond, r.stderr)
				}
				if asked := strings.Count(r.stderr, "Accept it? [y/N]"); asked != mode.asked {
					t.Errorf("asked %d times, want %d:\n%s", asked, mode.asked, r.stderr)
				}
			})
		}
	}
}
