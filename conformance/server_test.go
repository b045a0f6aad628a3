package conformance

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
)

// Server starts what a scenario connects to, once per client, and returns
// its addresses and, for in-process servers, what it saw.
type Server interface {
	Start(t *testing.T) Target
}

// Target is a running server.
type Target interface {
	Addrs() []string
	// Conns waits until every connection has ended and returns what the
	// server saw of each, in accept order; nil for servers that cannot tell
	// (external programs).
	Conns(t *testing.T) []ServerConn
}

// ServerConn is what the in-process server saw of one connection.
type ServerConn struct {
	SNI        string
	ALPN       []string   // protocols offered
	Tickets    [][32]byte // SHA-256 of every ticket presented
	Resumed    bool
	ClientCert string            // the client certificate's common name
	Handshake  string            // "ok" or how the server's handshake failed
	Received   string            // application data received
	Close      string            // how the client ended: "close_notify", "tcp-close" (no close_notify), ...
	Bindings   map[string]string // channel binding data the server computed, in hex
	// External marks a record from a server program's log, which knows
	// only SNI and Resumed.
	External bool
}

// TLSServer is an in-process crypto/tls server on loopback that records,
// for each connection, what the client offered and how it ended. Behaviour:
// after the handshake it writes Greeting, then:
//
//	"greet"    reads until the client ends the connection, and closes
//	"close"    sends close_notify (CloseWrite) at once, then reads until the end
//	"truncate" closes TCP without close_notify at once
//
// or, in mode "silent", writes nothing and reads until the end.
type TLSServer struct {
	Config    func() *tls.Config // certificates, versions, ALPN, client auth
	Mode      string             // "" means "greet"
	Listeners int                // how many ports share the configuration (0 means 1)
	Network   string             // "tcp4" (default) or "tcp6"
}

const greeting = "hello\n"

type tlsTarget struct {
	addrs []string
	base  *tls.Config
	mode  string

	mu    sync.Mutex
	conns []*ServerConn
	wg    sync.WaitGroup
}

func (s TLSServer) Start(t *testing.T) Target {
	t.Helper()
	base := s.Config()
	// One set of ticket keys for every connection and port: each connection
	// gets its own clone of base (for its recording hooks), and clones of a
	// config whose keys were never set would make keys of their own.
	var key [32]byte
	rand.Read(key[:])
	base.SetSessionTicketKeys([][32]byte{key})
	tt := &tlsTarget{base: base, mode: s.Mode}
	if tt.mode == "" {
		tt.mode = "greet"
	}
	network := s.Network
	if network != "tcp6" {
		network = "tcp4"
	}
	for range max(s.Listeners, 1) {
		ln := loopback.Serve(t, network, func(c net.Conn) {
			rec := &ServerConn{}
			tt.mu.Lock()
			tt.conns = append(tt.conns, rec)
			tt.mu.Unlock()
			tt.wg.Add(1)
			defer tt.wg.Done()
			tt.serve(c, rec)
		})
		tt.addrs = append(tt.addrs, ln.Addr().String())
	}
	return tt
}

func (tt *tlsTarget) Addrs() []string { return tt.addrs }

func (tt *tlsTarget) Conns(t *testing.T) []ServerConn {
	t.Helper()
	done := make(chan struct{})
	go func() { tt.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the server's connections did not end within 30s")
	}
	tt.mu.Lock()
	defer tt.mu.Unlock()
	out := make([]ServerConn, len(tt.conns))
	for i, c := range tt.conns {
		out[i] = *c
	}
	return out
}

// serverBindings computes the channel binding data on the server's side:
// tls-unique (RFC 5929, section 3; TLS 1.2), tls-server-end-point (section
// 4: the hash of the certificate the server sent, SHA-256 for the ECDSA and
// RSA SHA-256 certificates the scenarios use) and tls-exporter (RFC 9266).
func serverBindings(cs tls.ConnectionState, leaf []byte) map[string]string {
	b := map[string]string{}
	if len(cs.TLSUnique) > 0 {
		b["tls-unique"] = hex.EncodeToString(cs.TLSUnique)
	}
	sum := sha256.Sum256(leaf)
	b["tls-server-end-point"] = hex.EncodeToString(sum[:])
	if ekm, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", []byte{}, 32); err == nil {
		b["tls-exporter"] = hex.EncodeToString(ekm)
	}
	return b
}

// rawConn is the server's TCP connection; it notes when the client closed
// TCP, which tells a close_notify (crypto/tls stops reading at the alert)
// from a bare TCP close (crypto/tls reports io.EOF for both).
type rawConn struct {
	net.Conn
	eof atomic.Bool
}

func (c *rawConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.eof.Store(true)
	}
	return n, err
}

func (tt *tlsTarget) serve(c net.Conn, rec *ServerConn) {
	raw := &rawConn{Conn: c}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(30 * time.Second))
	var mu sync.Mutex // the hooks run in the handshake goroutine; rec is read after it
	cfg := tt.base.Clone()
	inner := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		rec.SNI, rec.ALPN = hello.ServerName, hello.SupportedProtos
		mu.Unlock()
		if inner != nil {
			return inner(hello)
		}
		return nil, nil
	}
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		if len(identity) > 0 { // TLS 1.2 servers are asked even without a ticket
			mu.Lock()
			rec.Tickets = append(rec.Tickets, sha256.Sum256(identity))
			mu.Unlock()
		}
		return tt.base.DecryptTicket(identity, cs)
	}
	tc := tls.Server(raw, cfg)
	err := tc.HandshakeContext(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		rec.Handshake = handshakeError(err)
		rec.Close = "-"
		// A lingering close: the client may still be writing its flight,
		// and closing now would reset it before it reads the alert.
		raw.SetReadDeadline(time.Now().Add(2 * time.Second))
		io.Copy(io.Discard, raw)
		return
	}
	rec.Handshake = "ok"
	cs := tc.ConnectionState()
	rec.Resumed = cs.DidResume
	if len(cs.PeerCertificates) > 0 {
		rec.ClientCert = cs.PeerCertificates[0].Subject.CommonName
	}
	rec.Bindings = serverBindings(cs, tt.base.Certificates[0].Certificate[0])
	if tt.mode != "silent" {
		if _, err := io.WriteString(tc, greeting); err != nil {
			rec.Close = "write: " + serverError(err)
			return
		}
	}
	switch tt.mode {
	case "truncate":
		rec.Close = "-"
		raw.Close()
		return
	case "close":
		tc.CloseWrite()
	}
	var got strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := tc.Read(buf)
		got.Write(buf[:n])
		if err == nil {
			continue
		}
		rec.Received = got.String()
		switch {
		case err == io.EOF && !raw.eof.Load():
			rec.Close = "close_notify"
		case err == io.EOF:
			rec.Close = "tcp-close"
		default:
			rec.Close = serverError(err)
		}
		break
	}
	tc.Close()
}

// handshakeError is how the client ended a failed handshake: the alert it
// sent, or "no alert" when it just closed TCP (a reset when it left
// records unread, as the server's session tickets often are).
func handshakeError(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return "no alert"
	}
	return serverError(err)
}

// serverError is a server-side error in words that do not depend on ports
// or timing: the alert the client sent, or what happened to the stream.
func serverError(err error) string {
	s := err.Error()
	switch {
	case errors.Is(err, io.EOF):
		return "tcp-close"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "tcp-close mid-record"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case strings.Contains(s, "remote error: tls: "):
		return "alert: " + s[strings.Index(s, "remote error: tls: ")+len("remote error: tls: "):]
	}
	if i := strings.LastIndex(s, "tls: "); i >= 0 {
		return s[i:]
	}
	return s
}
