package giotls

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
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

// dialPeer connects to a real peer's address and returns a connection
// trusting ca, for identity localhost.
func dialPeer(t *testing.T, p *peer.Process, port uint16, ca *testCA) *ClientConnection {
	t.Helper()
	base, err := net.DialTimeout("tcp", p.Addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClientConnection(base, localhost(port))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDatabase(ca.db)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

func TestOpenSSLServer(t *testing.T) {
	ca := newTestCA(t, "OpenSSL Peer Root")
	good := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	expired := ca.MustLeaf(t, "expired", testpki.DNSNames("localhost"), testpki.Expired())
	dir := t.TempDir()
	for _, pc := range []peerCase{
		{"TLS1.2", ProtocolVersionTLS12, []string{"-tls1_2"}},
		{"TLS1.3", ProtocolVersionTLS13, []string{"-tls1_3"}},
	} {
		t.Run(pc.name, func(t *testing.T) {
			cert, key, _, err := good.WriteFiles(dir, "good")
			if err != nil {
				t.Fatal(err)
			}
			port := peer.FreePort(t)
			args := append([]string{"s_server", "-accept", peer.Addr(port), "-cert", cert, "-key", key, "-www", "-naccept", "2"}, pc.args...)
			p := peer.Start(t, peer.Addr(port), "openssl", args...)
			c := dialPeer(t, p, uint16(port), ca)
			if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
				t.Fatal(p.Errorf("Write: %v", err))
			}
			body, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(p.Errorf("ReadAll: %v", err))
			}
			if !bytes.HasPrefix(body, []byte("HTTP/1.0 200 ok")) {
				t.Errorf("s_server answered %.80q", body)
			}
			if c.ProtocolVersion() != pc.version || c.PeerCertificateErrors() != 0 {
				t.Errorf("version %v, errors %v; want %v, none", c.ProtocolVersion(), c.PeerCertificateErrors(), pc.version)
			}
		})
	}
	t.Run("expired certificate", func(t *testing.T) {
		cert, key, _, err := expired.WriteFiles(dir, "expired")
		if err != nil {
			t.Fatal(err)
		}
		port := peer.FreePort(t)
		p := peer.Start(t, peer.Addr(port), "openssl", "s_server", "-accept", peer.Addr(port), "-cert", cert, "-key", key, "-www")
		c := dialPeer(t, p, uint16(port), ca)
		err = c.Handshake(context.Background())
		if !errors.Is(err, ErrBadCertificate) || c.PeerCertificateErrors() != CertificateExpired {
			t.Errorf("Handshake = %v with %v; want ErrBadCertificate with exactly expired", err, c.PeerCertificateErrors())
		}
	})
}

func TestGnuTLSServer(t *testing.T) {
	ca := newTestCA(t, "GnuTLS Peer Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cert, key, _, err := leaf.WriteFiles(t.TempDir(), "leaf")
	if err != nil {
		t.Fatal(err)
	}
	for _, pc := range []peerCase{
		{"TLS1.2", ProtocolVersionTLS12, []string{"--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2"}},
		{"TLS1.3", ProtocolVersionTLS13, []string{"--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"}},
	} {
		t.Run(pc.name, func(t *testing.T) {
			port := peer.FreePort(t)
			args := append([]string{"--echo", "-p", itoa(uint16(port)), "--x509certfile", cert, "--x509keyfile", key, "--disable-client-cert"}, pc.args...)
			p := peer.Start(t, peer.Addr(port), "gnutls-serv", args...)
			c := dialPeer(t, p, uint16(port), ca)
			msg := "echo through gnutls-serv\n"
			if _, err := io.WriteString(c, msg); err != nil {
				t.Fatal(p.Errorf("Write: %v", err))
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || !strings.EqualFold(string(got), msg) {
				t.Fatal(p.Errorf("echo: %q, %v", got, err))
			}
			if c.ProtocolVersion() != pc.version || c.PeerCertificateErrors() != 0 {
				t.Errorf("version %v, errors %v; want %v, none", c.ProtocolVersion(), c.PeerCertificateErrors(), pc.version)
			}
		})
	}
}
