package conformance

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// externalTarget is a server program on loopback.
type externalTarget struct {
	addrs []string
	conns func(t *testing.T) []ServerConn // nil: the program tells nothing
}

func (e *externalTarget) Addrs() []string { return e.addrs }

func (e *externalTarget) Conns(t *testing.T) []ServerConn {
	if e.conns == nil {
		return nil
	}
	return e.conns(t)
}

// writeCert writes a server chain and key for a program to read.
func writeCert(t *testing.T, c serverCert) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	key, err := testpki.EncodeKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, testpki.EncodeCertificates(c.chain...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// OpenSSLServer is openssl s_server -www: it answers "GET /" with a page
// that says whether the session was "New" or "Reused".
type OpenSSLServer struct {
	Cert serverCert
	Args []string // e.g. "-tls1_2"
}

func (s OpenSSLServer) Start(t *testing.T) Target {
	t.Helper()
	// s_server takes the leaf from -cert and the rest from -cert_chain.
	cert, key := writeCert(t, serverCert{s.Cert.chain[:1], s.Cert.key})
	chain, _ := writeCert(t, serverCert{s.Cert.chain[1:], s.Cert.key})
	addr := peer.Addr(peer.FreePort(t))
	args := append([]string{"s_server", "-accept", addr, "-cert", cert, "-key", key, "-cert_chain", chain, "-www", "-quiet"}, s.Args...)
	peer.Start(t, addr, "openssl", args...)
	return &externalTarget{addrs: []string{addr}}
}

// GnuTLSServer is gnutls-serv --echo. Its log tells, for each connection,
// the server name the client sent and whether the session was resumed.
type GnuTLSServer struct {
	Cert     serverCert
	Priority string // --priority, e.g. "NORMAL:-VERS-ALL:+VERS-TLS1.2"
}

func (s GnuTLSServer) Start(t *testing.T) Target {
	t.Helper()
	cert, key := writeCert(t, s.Cert)
	port := peer.FreePort(t)
	addr := peer.Addr(port)
	args := []string{"--echo", "-p", strconv.Itoa(port), "--x509certfile", cert, "--x509keyfile", key, "--disable-client-cert"}
	if s.Priority != "" {
		args = append(args, "--priority", s.Priority)
	}
	p := peer.Start(t, addr, "gnutls-serv", args...)
	return &externalTarget{addrs: []string{addr}, conns: func(t *testing.T) []ServerConn {
		// The log of the last connection may still be on its way.
		time.Sleep(100 * time.Millisecond)
		return parseGnuTLSLog(p.Output())
	}}
}

// parseGnuTLSLog reads gnutls-serv's log: a "* Accepted connection" block
// per connection, with "- Version:" once the handshake succeeded. Blocks
// without one (peer.Start's readiness probe) are left out.
func parseGnuTLSLog(log string) []ServerConn {
	var out []ServerConn
	for _, block := range strings.Split(log, "* Accepted connection")[1:] {
		if !strings.Contains(block, "\n- Version:") {
			continue
		}
		c := ServerConn{External: true, Resumed: strings.Contains(block, "*** This is a resumed session")}
		if _, rest, ok := strings.Cut(block, "- Given server name[1]: "); ok {
			c.SNI, _, _ = strings.Cut(rest, "\n")
		}
		out = append(out, c)
	}
	return out
}

// VsftpdServer is vsftpd with require_ssl_reuse=YES (internal/peer).
type VsftpdServer struct {
	Cert     serverCert
	MaxTLS12 bool
}

func (s VsftpdServer) Start(t *testing.T) Target {
	t.Helper()
	cert, key := writeCert(t, s.Cert)
	v := peer.StartVsftpd(t, peer.VsftpdOptions{CertFile: cert, KeyFile: key, MaxTLS12: s.MaxTLS12})
	// The listing shows the upload directory's time: the same for both
	// clients' servers.
	fixed := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(v.Upload, fixed, fixed); err != nil {
		t.Fatal(err)
	}
	return &externalTarget{addrs: []string{peer.Addr(v.Port)}}
}

// RawServer is a TCP server on loopback that does not speak TLS: Handle gets
// each connection, which is closed when it returns.
type RawServer struct {
	Handle func(net.Conn)
}

func (s RawServer) Start(t *testing.T) Target {
	t.Helper()
	ln := loopback.Serve(t, "tcp4", s.Handle)
	return &externalTarget{addrs: []string{ln.Addr().String()}}
}
