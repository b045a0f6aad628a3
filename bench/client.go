package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/giotls/giotls"
)

// Conn is an established connection: handshake done and Ready read.
type Conn interface {
	net.Conn
	// Resumed reports whether the server resumed a session.
	Resumed() bool
}

// Client opens connections to one endpoint.
type Client interface {
	Connect(ctx context.Context) (Conn, error)
}

// Implementations, as benchmark names and command-line values.
const (
	ImplGiotls    = "giotls" // giotls with a file database given (GIO's tuned path)
	ImplGiotlsDef = "giotls-default"
	ImplCryptoTLS = "crypto-tls"
)

// NewCryptoTLSClient returns a plain crypto/tls client for addr trusting
// cfg's roots; with resume, it keeps sessions in a
// tls.NewLRUClientSessionCache, crypto/tls's own.
func NewCryptoTLSClient(cfg *Config, addr string, resume bool) (Client, error) {
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("bench: no certificate in %s", cfg.CAFile)
	}
	tc := &tls.Config{ServerName: ServerName, RootCAs: roots, MinVersion: tls.VersionTLS12}
	if resume {
		tc.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return &cryptoTLSClient{addr: addr, cfg: tc}, nil
}

type cryptoTLSClient struct {
	addr string
	cfg  *tls.Config
}

func (c *cryptoTLSClient) Connect(ctx context.Context) (Conn, error) {
	var d net.Dialer
	base, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(base, c.cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		base.Close()
		return nil, err
	}
	conn := cryptoTLSConn{tc}
	if err := readReady(conn); err != nil {
		tc.Close()
		return nil, err
	}
	return conn, nil
}

type cryptoTLSConn struct{ *tls.Conn }

func (c cryptoTLSConn) Resumed() bool { return c.ConnectionState().DidResume }

// NewGiotlsClient returns a giotls client for addr. With the default
// backend (def), it is what most programs write: NewClientConnection and
// the system database, accepting the one error that gives, an unknown CA,
// in the accept-certificate handler; resumption through the process-wide
// cache. Otherwise it is the tuned path: a database of cfg's roots, given
// to each connection at construction, and a backend with its own
// SessionCache (resume) or with resumption disabled.
func NewGiotlsClient(cfg *Config, addr string, def, resume bool) (Client, error) {
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, err
	}
	c := &giotlsClient{addr: addr, identity: giotls.NewNetworkAddress(ServerName, uint16(port))}
	if def {
		c.backend = giotls.DefaultBackend()
		return c, nil
	}
	if c.db, err = giotls.NewFileDatabase(cfg.CAFile); err != nil {
		return nil, err
	}
	opts := giotls.BackendOptions{DisableResumption: !resume}
	if resume {
		opts.SessionCache = giotls.NewSessionCache(giotls.SessionCacheOptions{})
	}
	c.backend = giotls.NewBackend(opts)
	return c, nil
}

type giotlsClient struct {
	addr     string
	identity giotls.Connectable
	backend  *giotls.Backend
	db       giotls.Database // nil: the default path
}

func acceptUnknownCA(_ *giotls.Certificate, errs giotls.CertificateFlags) bool {
	return errs == giotls.CertificateUnknownCA
}

func (c *giotlsClient) Connect(ctx context.Context) (Conn, error) {
	var d net.Dialer
	base, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	gc, err := c.backend.NewClientConnection(base, c.identity)
	if err != nil {
		base.Close()
		return nil, err
	}
	if c.db != nil {
		gc.SetDatabase(c.db)
	} else {
		gc.OnAcceptCertificate(acceptUnknownCA)
	}
	if err := gc.Handshake(ctx); err != nil {
		gc.Close()
		return nil, err
	}
	conn := giotlsConn{gc}
	if err := readReady(conn); err != nil {
		gc.Close()
		return nil, err
	}
	return conn, nil
}

type giotlsConn struct{ *giotls.ClientConnection }

func (c giotlsConn) Resumed() bool { return c.SessionResumed() }

// readReady reads the server's Ready byte, and with it any TLS 1.3 ticket
// sent before.
func readReady(c net.Conn) error {
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return err
	}
	if b[0] != Ready {
		return fmt.Errorf("bench: server sent %q, want %q", b[0], Ready)
	}
	return nil
}

// RoundTrip sends buf as a request and reads a response of len(buf) bytes
// into it.
func RoundTrip(c net.Conn, buf []byte) error {
	if len(buf) < HeaderLen {
		return errors.New("bench: request shorter than its header")
	}
	h := Header(uint32(len(buf)-HeaderLen), uint32(len(buf)))
	copy(buf, h[:])
	if _, err := c.Write(buf); err != nil {
		return err
	}
	_, err := io.ReadFull(c, buf)
	return err
}

// Download asks for n bytes and reads them through buf.
func Download(c net.Conn, n int64, buf []byte) error {
	h := Header(0, uint32(n))
	if _, err := c.Write(h[:]); err != nil {
		return err
	}
	for n > 0 {
		m, err := c.Read(buf[:min(n, int64(len(buf)))])
		n -= int64(m)
		if err != nil {
			if n > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if n > 0 {
				return err
			}
		}
	}
	return nil
}

// closeDrainTimeout bounds EndGracefully's wait for the peer, as giotls's
// Close bounds its own.
const closeDrainTimeout = 5 * time.Second

// EndGracefully ends c as giotls's Close does (SEMANTICS.md 2026-12; RFC
// 8446, section 6.1): close_notify, then read and discard until the peer's
// close_notify or the end of the stream, within five seconds, then close.
// A giotls connection does that in Close; a crypto/tls one, whose Close
// only sends close_notify, does it here, so that both variants of
// BenchmarkHandshakeDrained do the same work.
func EndGracefully(c Conn) error {
	cc, ok := c.(cryptoTLSConn)
	if !ok {
		return c.Close()
	}
	cc.SetReadDeadline(time.Now().Add(closeDrainTimeout))
	if err := cc.CloseWrite(); err != nil {
		cc.Close()
		return err
	}
	_, err := io.Copy(io.Discard, cc.Conn) // io.EOF at the peer's close_notify
	if cerr := cc.Close(); err == nil {
		err = cerr
	}
	return err
}
