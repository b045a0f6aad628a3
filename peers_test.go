package giotls

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// peerCase is one TLS version against a real server program.
type peerCase struct {
	name    string
	version ProtocolVersion
	args    []string // version-selecting arguments for the program
}

// peerServer is a real TLS server program, the same table for every test
// that runs them.
type peerServer struct {
	name     string // the program
	versions []peerCase
	serve    func(port uint16, cert, key string) []string // serving cert and key
	noAuth   []string                                     // asking for no client certificate
	// requireAuth requires a client certificate issued by one of cas (a
	// PEM file), which the server names in that order.
	requireAuth func(cas string) []string
	// talk exchanges application data, failing t if the server does not
	// answer as it should, and returns what the server said about the
	// client (s_server -www shows its certificate; an echo shows nothing).
	talk func(t *testing.T, proc *peer.Process, c *ClientConnection) string
}

var peerServers = []peerServer{
	{
		name: "openssl",
		versions: []peerCase{
			{"TLS1.2", ProtocolVersionTLS12, []string{"-tls1_2"}},
			{"TLS1.3", ProtocolVersionTLS13, []string{"-tls1_3"}},
		},
		serve: func(port uint16, cert, key string) []string {
			return []string{"s_server", "-accept", peer.Addr(int(port)), "-cert", cert, "-key", key, "-www"}
		},
		requireAuth: func(cas string) []string { return []string{"-Verify", "1", "-CAfile", cas} }, // a chain one certificate deep
		talk: func(t *testing.T, proc *peer.Process, c *ClientConnection) string {
			t.Helper()
			if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
				t.Fatal(proc.Errorf("Write: %v", err))
			}
			body, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(proc.Errorf("ReadAll: %v", err))
			}
			if !bytes.HasPrefix(body, []byte("HTTP/1.0 200 ok")) {
				t.Errorf("s_server answered %.80q", body)
			}
			return string(body)
		},
	},
	{
		name: "gnutls-serv",
		versions: []peerCase{
			{"TLS1.2", ProtocolVersionTLS12, []string{"--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2"}},
			{"TLS1.3", ProtocolVersionTLS13, []string{"--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"}},
		},
		serve: func(port uint16, cert, key string) []string {
			return []string{"--echo", "-p", itoa(port), "--x509certfile", cert, "--x509keyfile", key}
		},
		noAuth: []string{"--disable-client-cert"},
		requireAuth: func(cas string) []string {
			return []string{"--x509cafile", cas, "--require-client-cert", "--verify-client-cert"}
		},
		talk: func(t *testing.T, proc *peer.Process, c *ClientConnection) string {
			t.Helper()
			msg := "echo through gnutls-serv\n"
			if _, err := io.WriteString(c, msg); err != nil {
				t.Fatal(proc.Errorf("Write: %v", err))
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || !strings.EqualFold(string(got), msg) {
				t.Fatal(proc.Errorf("echo: %q, %v", got, err))
			}
			return ""
		},
	},
}

// start runs the server on a free port with args after its serving ones.
func (s peerServer) start(t *testing.T, cert, key string, args ...string) (*peer.Process, uint16) {
	t.Helper()
	port := uint16(peer.FreePort(t))
	return peer.Start(t, peer.Addr(int(port)), s.name, append(s.serve(port, cert, key), args...)...), port
}

// dialPeer connects to a real peer's address and returns a connection
// trusting ca, for identity localhost.
func dialPeer(t *testing.T, p *peer.Process, port uint16, ca *testCA) *ClientConnection {
	t.Helper()
	return dialTest(t, p.Addr, dialConfig{Identity: localhost(port), Database: ca.db, Deadline: 20 * time.Second})
}

// TestPeerServer connects to each real server, in each version: the data
// goes through and the certificate verifies; an expired one is refused with
// exactly CertificateExpired.
func TestPeerServer(t *testing.T) {
	ca := newTestCA(t, "Peer Root")
	dir := t.TempDir()
	good, goodKey, _, err := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost")).WriteFiles(dir, "good")
	if err != nil {
		t.Fatal(err)
	}
	expired, expiredKey, _, err := ca.MustLeaf(t, "expired", testpki.DNSNames("localhost"), testpki.Expired()).WriteFiles(dir, "expired")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range peerServers {
		for _, pc := range s.versions {
			t.Run(s.name+"/"+pc.name, func(t *testing.T) {
				p, port := s.start(t, good, goodKey, append(pc.args, s.noAuth...)...)
				c := dialPeer(t, p, port, ca)
				s.talk(t, p, c)
				if c.ProtocolVersion() != pc.version || c.PeerCertificateErrors() != 0 {
					t.Errorf("version %v, errors %v; want %v, none", c.ProtocolVersion(), c.PeerCertificateErrors(), pc.version)
				}
			})
		}
		t.Run(s.name+"/expired certificate", func(t *testing.T) {
			p, port := s.start(t, expired, expiredKey, s.noAuth...)
			c := dialPeer(t, p, port, ca)
			err := c.Handshake(context.Background())
			if !errors.Is(err, ErrBadCertificate) || c.PeerCertificateErrors() != CertificateExpired {
				t.Errorf("Handshake = %v with %v; want ErrBadCertificate with exactly expired", err, c.PeerCertificateErrors())
			}
		})
	}
}
