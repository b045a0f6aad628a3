package giotls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

// httpsServer is an httptest TLS server (HTTP/2 enabled, so that falling
// back to HTTP/1.1 is the client's doing) answering with what it saw, and a
// database trusting its certificate.
func httpsServer(t *testing.T) (*httptest.Server, Database) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s over TLS %v for %s", r.Proto, r.TLS != nil, r.URL.Path)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, NewDatabase([]*x509.Certificate{srv.Certificate()})
}

func TestDialerHTTPTransport(t *testing.T) {
	srv, db := httpsServer(t)
	d := &Dialer{Database: db}
	tr := &http.Transport{DialTLSContext: d.DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}

	var conns []httptrace.GotConnInfo
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { conns = append(conns, info) }}
	for i, path := range []string{"/first", "/second"} {
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := "HTTP/1.1 over TLS true for " + path; string(body) != want || resp.StatusCode != 200 {
			t.Errorf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, body, want)
		}
		// What the Dialer's documentation promises net/http users.
		if resp.ProtoMajor != 1 || resp.TLS != nil {
			t.Errorf("GET %s: HTTP/%d, Response.TLS %v; want HTTP/1.1 and nil", path, resp.ProtoMajor, resp.TLS)
		}
		if len(conns) != i+1 {
			t.Fatalf("GotConn called %d times", len(conns))
		}
		c, ok := conns[i].Conn.(*ClientConnection)
		if !ok {
			t.Fatalf("GotConn's connection is a %T, not a *ClientConnection", conns[i].Conn)
		}
		if !c.PeerCertificate().IsSame(certificateFromChain([]*x509.Certificate{srv.Certificate()})) || c.PeerCertificateErrors() != 0 {
			t.Errorf("peer %v with %v, want the server's certificate without errors", c.PeerCertificate().SubjectName(), c.PeerCertificateErrors())
		}
		if c.ProtocolVersion() != ProtocolVersionTLS13 || c.NegotiatedProtocol() != "" {
			t.Errorf("version %v, ALPN %q", c.ProtocolVersion(), c.NegotiatedProtocol())
		}
	}
	if !conns[1].Reused || conns[1].Conn != conns[0].Conn {
		t.Errorf("the second request did not reuse the kept-alive connection")
	}
}

// TestDialerHTTP2 runs golang.org/x/net/http2's Transport over the Dialer's
// connections: it takes any net.Conn and fills Response.TLS from a
// ConnectionState method.
func TestDialerHTTP2(t *testing.T) {
	srv, db := httpsServer(t)
	d := &Dialer{Database: db, AdvertisedProtocols: []string{"h2"}}
	var dialed []*ClientConnection
	var mu sync.Mutex
	tr := &http2.Transport{DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			dialed = append(dialed, c.(*ClientConnection))
			mu.Unlock()
		}
		return c, err
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	resp, err := client.Get(srv.URL + "/h2")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "HTTP/2.0 over TLS true for /h2" {
		t.Fatalf("body %q, %v", body, err)
	}
	if resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
		t.Errorf("HTTP/%d, Response.TLS %v; want HTTP/2 with its TLS state", resp.ProtoMajor, resp.TLS)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dialed) != 1 || dialed[0].NegotiatedProtocol() != "h2" {
		t.Errorf("dialed %d connections", len(dialed))
	}
}

// TestDialerIdentity checks the identity made from addr: a host name is sent
// as SNI and checked against DNS names, an IP literal against IP addresses
// and not sent.
func TestDialerIdentity(t *testing.T) {
	ca := newTestCA(t, "Dialer Identity Root")
	both := ca.MustLeaf(t, "both", testpki.DNSNames("localhost"), testpki.IPAddresses("127.0.0.1", "::1"))
	dnsOnly := ca.MustLeaf(t, "dns only", testpki.DNSNames("localhost"))
	srv4 := startTLSServer(t, "tcp4", serverConfig(both), nil)
	srv6 := startTLSServer(t, "tcp6", serverConfig(both), nil)
	srvDNS := startTLSServer(t, "tcp4", serverConfig(dnsOnly), nil)
	tests := []struct {
		name      string
		srv       *tlsServer
		network   string
		addr      string
		wantHost  string
		wantSNI   string
		wantFlags CertificateFlags
	}{
		{"host name", srv4, "tcp", fmt.Sprintf("localhost:%d", srv4.Addr.Port()), "localhost", "localhost", 0},
		{"IPv4 literal", srv4, "tcp4", srv4.Addr.String(), "127.0.0.1", "", 0},
		{"IPv6 literal", srv6, "tcp6", srv6.Addr.String(), "::1", "", 0},
		{"IPv4 literal, DNS-only certificate", srvDNS, "tcp", srvDNS.Addr.String(), "127.0.0.1", "", CertificateBadIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var flags CertificateFlags
			d := &Dialer{Database: ca.db, AcceptCertificate: func(_ *Certificate, f CertificateFlags) bool { flags = f; return false }}
			before := len(tt.srv.SNIs())
			conn, err := d.DialContext(context.Background(), tt.network, tt.addr)
			if tt.wantFlags == 0 {
				if err != nil {
					t.Fatalf("DialContext: %v", err)
				}
				defer conn.Close()
				id, ok := conn.(*ClientConnection).ServerIdentity().(*NetworkAddress)
				if !ok || id.Hostname != tt.wantHost || id.Port != tt.srv.Addr.Port() {
					t.Errorf("ServerIdentity = %#v, want NetworkAddress %s port %d", id, tt.wantHost, tt.srv.Addr.Port())
				}
			} else if !errors.Is(err, ErrBadCertificate) || flags != tt.wantFlags || conn != nil {
				t.Fatalf("DialContext = %v, %v with flags %v; want ErrBadCertificate with %v", conn, err, flags, tt.wantFlags)
			}
			snis := tt.srv.SNIs()
			if len(snis) != before+1 || snis[before] != tt.wantSNI {
				t.Errorf("server saw SNI %q, want %q", snis[before:], tt.wantSNI)
			}
		})
	}
	for _, addr := range []string{"localhost", ":443", "localhost:nosuchservice", ""} {
		if conn, err := new(Dialer).DialContext(context.Background(), "tcp", addr); err == nil || conn != nil {
			t.Errorf("DialContext(%q) = %v, %v; want an error", addr, conn, err)
		}
	}
}

// TestDialerSystemDatabase: a nil Database means the system database, which
// does not know a throwaway CA.
func TestDialerSystemDatabase(t *testing.T) {
	ca := newTestCA(t, "Not In The System Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	sys, err := SystemDatabase()
	if err != nil {
		t.Fatal(err)
	}
	var db Database
	var flags CertificateFlags
	d := &Dialer{
		Configure:         func(c *ClientConnection) error { db = c.Database(); return nil },
		AcceptCertificate: func(_ *Certificate, f CertificateFlags) bool { flags = f; return false },
	}
	conn, err := d.DialContext(context.Background(), "tcp", fmt.Sprintf("localhost:%d", srv.Addr.Port()))
	if !errors.Is(err, ErrBadCertificate) || conn != nil {
		t.Fatalf("DialContext = %v, %v; want ErrBadCertificate", conn, err)
	}
	if db == nil || db != sys {
		t.Errorf("the connection's database is %v, want the system database", db)
	}
	if flags != CertificateUnknownCA {
		t.Errorf("flags = %v, want exactly unknown-ca", flags)
	}
}

// TestDialerSettings checks that each field reaches the connection.
func TestDialerSettings(t *testing.T) {
	ca := newTestCA(t, "Dialer Settings Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	clientLeaf := ca.MustLeaf(t, "client", testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))
	clientCert, err := NewCertificateFromX509(clientLeaf.Chain, clientLeaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := serverConfig(leaf)
	cfg.ClientAuth = tls.RequireAnyClientCert
	cfg.NextProtos = []string{"x-giotls"}
	got := make(chan []byte, 1)
	srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) {
		got <- c.ConnectionState().PeerCertificates[0].Raw
		echo(c)
	})
	interaction := &recordingInteraction{}
	var configured *ClientConnection
	d := &Dialer{
		Database:            ca.db,
		Certificate:         clientCert,
		Interaction:         interaction,
		AdvertisedProtocols: []string{"x-giotls"},
		Configure: func(c *ClientConnection) error {
			configured = c
			if c.PeerCertificate() != nil || c.ProtocolVersion() != ProtocolVersionUnknown {
				t.Errorf("Configure called after the handshake")
			}
			c.SetRequireCloseNotify(false)
			return nil
		},
	}
	conn, err := d.DialContext(context.Background(), "tcp", fmt.Sprintf("localhost:%d", srv.Addr.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := conn.(*ClientConnection)
	if c != configured {
		t.Errorf("Configure saw another connection")
	}
	if c.Database() != ca.db || c.Certificate() != clientCert || c.Interaction() != interaction || c.RequireCloseNotify() {
		t.Errorf("database, certificate, interaction or require-close-notify not applied")
	}
	if c.NegotiatedProtocol() != "x-giotls" {
		t.Errorf("NegotiatedProtocol = %q", c.NegotiatedProtocol())
	}
	select {
	case raw := <-got:
		if !bytes.Equal(raw, clientLeaf.Cert.Raw) {
			t.Errorf("the server got another client certificate")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server handler did not run")
	}

	// A failing Configure stops the dial before the handshake.
	before := len(srv.SNIs())
	boom := errors.New("boom")
	d = &Dialer{Database: ca.db, Configure: func(*ClientConnection) error { return boom }}
	if conn, err := d.DialContext(context.Background(), "tcp", srv.Addr.String()); !errors.Is(err, boom) || conn != nil {
		t.Errorf("DialContext with a failing Configure = %v, %v", conn, err)
	}
	if n := len(srv.SNIs()); n != before {
		t.Errorf("a handshake ran after Configure failed")
	}
}

// recordingInteraction is an Interaction that handles nothing.
type recordingInteraction struct{}

func (*recordingInteraction) AskPassword(context.Context, *Password) (InteractionResult, error) {
	return InteractionUnhandled, nil
}

func (*recordingInteraction) RequestCertificate(context.Context, *ClientConnection) (InteractionResult, error) {
	return InteractionUnhandled, nil
}

// watchServer accepts connections, runs serve (if set) on each, then reads
// it until the client closes it, and reports how the read ended: nil (EOF)
// or a reset (a close with data unread) is the client's close.
func watchServer(t *testing.T, serve func(net.Conn)) (addr string, closed <-chan error) {
	t.Helper()
	ch := make(chan error, 4)
	ln := loopback.Serve(t, "tcp4", func(c net.Conn) {
		if serve != nil {
			serve(c)
		}
		_, err := io.Copy(io.Discard, c)
		ch <- err
	})
	return ln.Addr().String(), ch
}

// expectClosed waits for watchServer's report that the client closed.
func expectClosed(t *testing.T, closed <-chan error) {
	t.Helper()
	select {
	case err := <-closed:
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("server read ended with %v, want EOF or a reset from the client's close", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("the TCP connection was not closed")
	}
}

// TestDialerClosesOnFailure: the TCP connection of a failed handshake is
// closed.
func TestDialerClosesOnFailure(t *testing.T) {
	ca := newTestCA(t, "Closing Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cfg := serverConfig(leaf)
	addr, closed := watchServer(t, func(c net.Conn) { tls.Server(c, cfg).Handshake() })
	d := &Dialer{} // the system database does not know the CA
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if conn != nil || !errors.Is(err, ErrBadCertificate) {
		t.Fatalf("DialContext = %v, %v; want ErrBadCertificate", conn, err)
	}
	expectClosed(t, closed)
}

// TestDialerHandshakeBounded: ctx and NetDialer.Timeout bound the handshake,
// and the TCP connection is closed when it fails.
func TestDialerHandshakeBounded(t *testing.T) {
	addr, closed := watchServer(t, nil)
	background := func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }
	tests := []struct {
		name string
		d    func() *Dialer
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"context deadline", func() *Dialer { return &Dialer{} }, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}},
		{"NetDialer.Timeout", func() *Dialer { return &Dialer{NetDialer: &net.Dialer{Timeout: 200 * time.Millisecond}} }, background},
		{"NetDialer.Deadline", func() *Dialer {
			return &Dialer{NetDialer: &net.Dialer{Deadline: time.Now().Add(200 * time.Millisecond)}}
		}, background},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			d := tt.d()
			var conn net.Conn
			var err error
			within(t, 10*time.Second, "DialContext", func() { conn, err = d.DialContext(ctx, "tcp", addr) })
			if conn != nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("DialContext = %v, %v; want context.DeadlineExceeded", conn, err)
			}
			expectClosed(t, closed)
		})
	}
}

// nssKeyLogLine is a line of the NSS key log format: a label, the client
// random and a secret, in hex.
var nssKeyLogLine = regexp.MustCompile(`^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) ([0-9a-f]{64}) ([0-9a-f]{64,})$`)

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

func TestDialerKeyLog(t *testing.T) {
	ca := newTestCA(t, "Key Log Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	wantLabels := map[uint16][]string{
		tls.VersionTLS12: {"CLIENT_RANDOM"},
		tls.VersionTLS13: {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"},
	}
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			var serverLog, clientLog syncBuffer
			cfg := serverConfig(leaf)
			cfg.MinVersion, cfg.MaxVersion = v, v
			cfg.KeyLogWriter = &serverLog
			srv := startTLSServer(t, "tcp4", cfg, nil)
			d := &Dialer{Database: ca.db, KeyLogWriter: &clientLog, SessionCache: NewSessionCache(SessionCacheOptions{})}
			conn, err := d.DialContext(context.Background(), "tcp", fmt.Sprintf("localhost:%d", srv.Addr.Port()))
			if err != nil {
				t.Fatal(err)
			}
			// Echo once, so that the server's handshake has completed.
			if _, err := conn.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(conn, make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			conn.Close()

			lines := clientLog.lines()
			var labels []string
			var random string
			for _, l := range lines {
				m := nssKeyLogLine.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("not an NSS key log line: %q", l)
				}
				if random != "" && m[2] != random {
					t.Errorf("lines for more than one client random: %q", lines)
				}
				labels, random = append(labels, m[1]), m[2]
			}
			sort.Strings(labels)
			if !slices.Equal(labels, wantLabels[v]) {
				t.Errorf("labels %q, want %q", labels, wantLabels[v])
			}
			// The secrets are the connection's: the server logs the same.
			server := serverLog.lines()
			sort.Strings(server)
			sort.Strings(lines)
			if !slices.Equal(lines, server) {
				t.Errorf("client logged %q\nserver logged %q", lines, server)
			}
		})
	}
}

// TestNoKeyLogWithoutOptIn: SSLKEYLOGFILE in the environment is not a key
// log for giotls; only a program's KeyLogWriter is.
func TestNoKeyLogWithoutOptIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.log")
	t.Setenv("SSLKEYLOGFILE", path)
	ca := newTestCA(t, "No Key Log Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	d := &Dialer{Database: ca.db}
	conn, err := d.DialContext(context.Background(), "tcp", fmt.Sprintf("localhost:%d", srv.Addr.Port()))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
	c.SetDatabase(ca.db)
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SSLKEYLOGFILE %s was written (stat: %v)", path, err)
	}
}

// recordHandler is a slog.Handler keeping every record, at every level.
type recordHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

// take returns the records so far, as message and attributes, and forgets
// them.
func (h *recordHandler) take() []loggedRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []loggedRecord
	for _, r := range h.records {
		lr := loggedRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
		r.Attrs(func(a slog.Attr) bool { lr.attrs[a.Key] = a.Value.String(); return true })
		out = append(out, lr)
	}
	h.records = nil
	return out
}

type loggedRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// find returns the record with msg, failing the test if there is none.
func find(t *testing.T, records []loggedRecord, msg string) loggedRecord {
	t.Helper()
	for _, r := range records {
		if r.msg == msg {
			if r.level != slog.LevelDebug {
				t.Errorf("%q logged at %v, want debug", msg, r.level)
			}
			return r
		}
	}
	t.Fatalf("no %q record in %v", msg, records)
	return loggedRecord{}
}

func TestDialerLogger(t *testing.T) {
	ca := newTestCA(t, "Logger Root")
	other := newTestCA(t, "Logger Other Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cfg := serverConfig(leaf)
	cfg.MaxVersion = tls.VersionTLS12 // resumable without reading
	srv := startTLSServer(t, "tcp4", cfg, nil)
	addr := fmt.Sprintf("localhost:%d", srv.Addr.Port())
	h := &recordHandler{}
	d := &Dialer{Database: ca.db, Logger: slog.New(h), SessionCache: NewSessionCache(SessionCacheOptions{})}

	for i, resumed := range []string{"false", "true"} {
		conn, err := d.DialContext(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		records := h.take()
		v := find(t, records, "giotls: server certificate verified")
		want := map[string]string{"identity": addr, "errors": "none", "accepted": "true", "resumed": resumed}
		for k, w := range want {
			if v.attrs[k] != w {
				t.Errorf("connection %d: verified record %s=%q, want %q (%v)", i+1, k, v.attrs[k], w, v.attrs)
			}
		}
		done := find(t, records, "giotls: handshake complete")
		if done.attrs["resumed"] != resumed || done.attrs["version"] != ProtocolVersionTLS12.String() || done.attrs["identity"] != addr {
			t.Errorf("connection %d: handshake record %v", i+1, done.attrs)
		}
	}

	// A rejected certificate: its errors and the refusal.
	d.Database = other.db
	if _, err := d.DialContext(context.Background(), "tcp", addr); !errors.Is(err, ErrBadCertificate) {
		t.Fatalf("DialContext = %v, want ErrBadCertificate", err)
	}
	v := find(t, h.take(), "giotls: server certificate verified")
	if v.attrs["errors"] != CertificateUnknownCA.String() || v.attrs["accepted"] != "false" || v.attrs["identity"] != addr {
		t.Errorf("rejection record %v", v.attrs)
	}
}
