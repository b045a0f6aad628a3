package giotls

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

// tlsServer is an in-process crypto/tls server on loopback that records what
// each client sent (SNI, ALPN) and hands each connection to handle.
type tlsServer struct {
	Addr netip.AddrPort

	mu   sync.Mutex
	snis []string
	errs []error
}

// startTLSServer serves cfg on 127.0.0.1 (network "tcp4") or [::1] ("tcp6").
// handle runs after a successful server handshake; the connection is closed
// when it returns (with close_notify). A nil handle echoes.
func startTLSServer(t testing.TB, network string, cfg *tls.Config, handle func(*tls.Conn)) *tlsServer {
	t.Helper()
	s := &tlsServer{}
	cfg = cfg.Clone()
	inner := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		s.mu.Lock()
		s.snis = append(s.snis, hello.ServerName)
		s.mu.Unlock()
		if inner != nil {
			return inner(hello)
		}
		return nil, nil
	}
	if handle == nil {
		handle = echo
	}
	ln := loopback.Serve(t, network, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if err := tc.HandshakeContext(context.Background()); err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
			return
		}
		handle(tc)
		tc.Close()
	})
	s.Addr = ln.Addr().(*net.TCPAddr).AddrPort()
	return s
}

func echo(c *tls.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// SNIs returns the server names clients sent, in order.
func (s *tlsServer) SNIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.snis...)
}

// HandshakeErrors returns the server-side handshake errors so far.
func (s *tlsServer) HandshakeErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// dialConfig is what a test sets on a connection before its handshake; the
// zero value is the default backend, no server identity, the backend's
// default database and no deadline.
type dialConfig struct {
	Backend  *Backend
	Identity Connectable
	Database Database
	Deadline time.Duration           // bounds the connection from the dial; 0: none
	Wrap     func(net.Conn) net.Conn // the base the connection runs over, made from the TCP connection
}

// dialTest is the tests' one dial: it connects to addr on loopback and
// returns a giotls client connection over it as cfg says, closed when the
// test ends. The handshake has not started.
func dialTest(t testing.TB, addr string, cfg dialConfig) *ClientConnection {
	t.Helper()
	raw, err := loopback.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	base := raw
	if cfg.Wrap != nil {
		base = cfg.Wrap(raw)
	}
	b := cfg.Backend
	if b == nil {
		b = DefaultBackend()
	}
	c, err := b.NewClientConnection(base, cfg.Identity)
	if err != nil {
		raw.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if cfg.Database != nil {
		c.SetDatabase(cfg.Database)
	}
	if cfg.Deadline != 0 {
		c.SetDeadline(time.Now().Add(cfg.Deadline))
	}
	return c
}

// testCA is a root with a database trusting it.
type testCA struct {
	*testpki.CA
	db       Database
	rootFile string
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	ca := testpki.MustCA(t, name)
	path := filepath.Join(t.TempDir(), "anchors.pem")
	if err := os.WriteFile(path, ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := NewFileDatabase(path)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{CA: ca, db: db, rootFile: path}
}

// serverConfig returns a server configuration presenting leaf.
func serverConfig(leaf *testpki.Leaf) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}
}

func localhost(port uint16) *NetworkAddress { return NewNetworkAddress("localhost", port) }
