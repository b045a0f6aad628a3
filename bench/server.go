// Package bench measures giotls against the TLS stack it wraps (plain
// crypto/tls) and against the reference GIO client (glib-networking over
// GnuTLS), all talking to the same kind of server: this package's Server, a
// crypto/tls server on loopback.
//
// The benchmarks are in bench_test.go and run only with -bench; the script
// bench/compare runs them together with the GIO client (gio_client.c) and
// prints the ratios. See BENCHMARKS.md at the repository root.
//
// # Protocol
//
// Every client speaks the same small protocol, so that the work per
// connection is the same whoever the client is. After the handshake the
// server writes one byte, 'R'. Reading it makes a TLS 1.3 client process the
// NewSessionTicket the server sent before it (RFC 8446, Section 4.6.1): a
// client that never reads gets no ticket and cannot resume. Then, until the
// client closes, the client sends requests: an 8-byte header (uint32
// request length, uint32 response length, big-endian) followed by the
// request bytes; the server reads them and answers with that many zero
// bytes. A 1 KiB round trip is the header {1024, 1024} and 1 KiB; a bulk
// download of n bytes is {0, n}.
package bench

import (
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/giotls/giotls/internal/testpki"
)

// Ready is the byte the server writes after the handshake.
const Ready = 'R'

// HeaderLen is the length of a request header.
const HeaderLen = 8

// The server's certificates: a P-256 chain and an RSA-2048 one (root,
// intermediate, leaf), where a full handshake costs the server an RSA
// signature: resumption saves the most there.
const (
	ECDSA = "ecdsa"
	RSA   = "rsa"
)

// The highest protocol version an endpoint accepts.
const (
	TLS12 = "tls12"
	TLS13 = "tls13"
)

// ServerName is the name the leaf certificates are issued for (they also
// hold 127.0.0.1 and ::1).
const ServerName = "localhost"

// Endpoint names one listener: key type and version, "ecdsa-tls13".
func Endpoint(key, version string) string { return key + "-" + version }

// Config describes a running server to clients, in-process or not: it is
// what the benchserver command writes as JSON.
type Config struct {
	CAFile    string            `json:"ca_file"`   // PEM roots of both chains
	Endpoints map[string]string `json:"endpoints"` // Endpoint(key, version) -> "127.0.0.1:port"
	Stats     string            `json:"stats,omitempty"`
}

// LoadConfig reads a Config written by the benchserver command.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("bench: %s: %v", path, err)
	}
	if c.CAFile == "" || len(c.Endpoints) == 0 {
		return nil, fmt.Errorf("bench: %s: no CA file or endpoints", path)
	}
	return &c, nil
}

// Stats counts what an endpoint saw.
type Stats struct {
	Handshakes int64 `json:"handshakes"`
	Resumed    int64 `json:"resumed"`
	Failed     int64 `json:"failed"`
}

// Server is the benchmark server: one crypto/tls listener on 127.0.0.1 per
// key type and version, each sending session tickets as servers do by
// default.
type Server struct {
	Config

	listeners []*listener
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	closed    bool
}

type listener struct {
	name                        string
	ln                          net.Listener
	cfg                         *tls.Config
	handshakes, resumed, failed atomic.Int64
}

// StartServer creates the certificates for keys (ECDSA, RSA) in dir, writes
// the roots to dir/ca.pem and starts an endpoint for each key and version.
func StartServer(dir string, keys ...string) (*Server, error) {
	s := &Server{Config: Config{Endpoints: map[string]string{}}, conns: map[net.Conn]struct{}{}}
	var roots []byte
	for _, key := range keys {
		cert, root, err := chain(key)
		if err != nil {
			return nil, err
		}
		roots = append(roots, root...)
		for _, v := range []string{TLS12, TLS13} {
			cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13}
			if v == TLS12 {
				cfg.MaxVersion = tls.VersionTLS12
			}
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				s.Close()
				return nil, err
			}
			l := &listener{name: Endpoint(key, v), ln: ln, cfg: cfg}
			s.listeners = append(s.listeners, l)
			s.Endpoints[l.name] = ln.Addr().String()
		}
	}
	s.CAFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(s.CAFile, roots, 0o644); err != nil {
		s.Close()
		return nil, err
	}
	for _, l := range s.listeners {
		s.wg.Add(1)
		go s.serve(l)
	}
	return s, nil
}

// chain returns a server certificate for key, issued through an
// intermediate, and its root in PEM.
func chain(key string) (tls.Certificate, []byte, error) {
	kt := testpki.ECDSAP256
	if key == RSA {
		kt = testpki.RSA2048
	} else if key != ECDSA {
		return tls.Certificate{}, nil, fmt.Errorf("bench: unknown key type %q", key)
	}
	root, err := testpki.NewCA("giotls bench root "+key, testpki.Key(kt))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	inter, err := root.NewIntermediate("giotls bench intermediate "+key, testpki.Key(kt))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := inter.NewLeaf(ServerName, testpki.Key(kt), testpki.DNSNames(ServerName),
		testpki.IPAddresses("127.0.0.1", "::1"))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return leaf.TLSCertificate(), root.CertPEM(), nil
}

// Stats returns each endpoint's counters.
func (s *Server) Stats() map[string]Stats {
	out := map[string]Stats{}
	for _, l := range s.listeners {
		out[l.name] = Stats{Handshakes: l.handshakes.Load(), Resumed: l.resumed.Load(), Failed: l.failed.Load()}
	}
	return out
}

// Close stops the listeners, closes every connection and waits for their
// goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for _, l := range s.listeners {
		l.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve(l *listener) {
	defer s.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(l, c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

var (
	zeros = make([]byte, 256<<10) // what responses are made of
	ready = []byte{Ready}
)

func (s *Server) handle(l *listener, c net.Conn) {
	tc := tls.Server(c, l.cfg)
	defer tc.Close()
	if err := tc.Handshake(); err != nil {
		l.failed.Add(1)
		return
	}
	l.handshakes.Add(1)
	if tc.ConnectionState().DidResume {
		l.resumed.Add(1)
	}
	if _, err := tc.Write(ready); err != nil {
		return
	}
	var hdr [HeaderLen]byte
	var buf []byte // for request bodies, made on the first
	for {
		if _, err := io.ReadFull(tc, hdr[:]); err != nil {
			return
		}
		req := int64(binary.BigEndian.Uint32(hdr[:4]))
		resp := int64(binary.BigEndian.Uint32(hdr[4:]))
		if req > 0 && buf == nil {
			buf = make([]byte, 16<<10)
		}
		for req > 0 {
			n, err := tc.Read(buf[:min(req, int64(len(buf)))])
			if err != nil {
				return
			}
			req -= int64(n)
		}
		for resp > 0 {
			n := min(resp, int64(len(zeros)))
			if _, err := tc.Write(zeros[:n]); err != nil {
				return
			}
			resp -= n
		}
	}
}

// Header returns a request header asking the server to read req bytes and
// answer with resp bytes.
func Header(req, resp uint32) [HeaderLen]byte {
	var h [HeaderLen]byte
	binary.BigEndian.PutUint32(h[:4], req)
	binary.BigEndian.PutUint32(h[4:], resp)
	return h
}
