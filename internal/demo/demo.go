// Package demo is `giotls demo`: in-process loopback servers with a
// throwaway CA, and a walk through what giotls promises, each step checked.
//
// It needs nothing outside the process but 127.0.0.1, and its connections
// come from a backend with a session cache of its own, so that what it shows
// does not depend on anything else the process did.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

// Step is one thing the demo shows.
type Step struct {
	Name string
	run  func(context.Context, *env, io.Writer) error
}

// Steps are the demo's steps, in order.
var Steps = []Step{
	{"verified handshake", verifiedHandshake},
	{"certificate problems: every flag, rejected, then accepted by a handler", certificateProblems},
	{"client certificate: accepted CAs, chosen by an Interaction", clientCertificate},
	{"automatic resumption: each TLS 1.3 ticket used once", automaticResumption},
	{"CopySessionState: an FTP-style data connection to another port", copySessionState},
	{"truncation detected", truncation},
}

// Run runs every step, printing a short report of each to w, and returns an
// error naming the first step that did not behave as promised.
func Run(ctx context.Context, w io.Writer) error {
	e, err := newEnv()
	if err != nil {
		return fmt.Errorf("setting up the demo PKI: %w", err)
	}
	defer e.close()
	fmt.Fprintf(w, "giotls demo: loopback servers, a throwaway CA %q, a session cache of its own\n", e.ca.Cert.Subject.CommonName)
	for i, s := range Steps {
		fmt.Fprintf(w, "\n== %d. %s\n", i+1, s.Name)
		if err := s.run(ctx, e, w); err != nil {
			return fmt.Errorf("step %d (%s) did not behave as promised: %w", i+1, s.Name, err)
		}
		fmt.Fprintf(w, "   ok\n")
	}
	fmt.Fprintf(w, "\nevery step behaved as giotls promises\n")
	return nil
}

// env is the demo's throwaway CA, its database, the backend connections
// come from, and the servers started.
type env struct {
	ca      *testpki.CA
	db      giotls.Database
	backend *giotls.Backend

	mu      sync.Mutex
	servers []*loopback.Server
}

func newEnv() (*env, error) {
	ca, err := testpki.NewCA("giotls demo root")
	if err != nil {
		return nil, err
	}
	return &env{
		ca: ca,
		db: giotls.NewDatabase([]*x509.Certificate{ca.Cert}),
		backend: giotls.NewBackend(giotls.BackendOptions{
			SessionCache: giotls.NewSessionCache(giotls.SessionCacheOptions{}),
		}),
	}, nil
}

func (e *env) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.servers {
		s.Close()
	}
}

// serve starts a loopback TLS server with cfg; handle gets each handshaken
// connection and the TCP connection under it (to close it without
// close_notify). The connection is closed with close_notify afterwards.
func (e *env) serve(cfg *tls.Config, handle func(tc *tls.Conn, raw net.Conn)) (uint16, error) {
	srv, err := loopback.Listen("tcp", 10*time.Second, func(raw net.Conn) {
		tc := tls.Server(raw, cfg)
		if err := tc.Handshake(); err != nil {
			return
		}
		handle(tc, raw)
		tc.Close()
	})
	if err != nil {
		return 0, err
	}
	e.mu.Lock()
	e.servers = append(e.servers, srv)
	e.mu.Unlock()
	return srv.Port(), nil
}

// hello answers every connection with a line.
func hello(tc *tls.Conn, _ net.Conn) { io.WriteString(tc, "hello from the demo server\n") }

// connect dials port and wraps the connection for identity host:port.
func (e *env) connect(ctx context.Context, host string, port uint16) (*giotls.ClientConnection, error) {
	base, err := loopback.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	c, err := e.backend.NewClientConnection(base, giotls.NewNetworkAddress(host, port))
	if err != nil {
		base.Close()
		return nil, err
	}
	c.SetDatabase(e.db)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, nil
}

// readLine reads one line from c.
func readLine(c io.Reader) (string, error) {
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func verifiedHandshake(ctx context.Context, e *env, w io.Writer) error {
	leaf, err := e.ca.NewLeaf("localhost", testpki.DNSNames("localhost"))
	if err != nil {
		return err
	}
	port, err := e.serve(&tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}, hello)
	if err != nil {
		return err
	}
	c, err := e.connect(ctx, "localhost", port)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Handshake(ctx); err != nil {
		return err
	}
	peer := c.PeerCertificate()
	fmt.Fprintf(w, "   localhost:%d: %s, %s\n", port, c.ProtocolVersion(), c.CiphersuiteName())
	fmt.Fprintf(w, "   peer %q issued by %q, problems: %v\n", peer.SubjectName(), peer.IssuerName(), c.PeerCertificateErrors())
	if c.PeerCertificateErrors() != 0 {
		return fmt.Errorf("a good certificate was reported with %v", c.PeerCertificateErrors())
	}
	line, err := readLine(c)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   server said: %q\n", line)
	return nil
}

func certificateProblems(ctx context.Context, e *env, w io.Writer) error {
	stranger, err := testpki.NewCA("a CA nobody trusts")
	if err != nil {
		return err
	}
	cases := []struct {
		name   string
		issuer *testpki.CA
		opts   []testpki.Option
		want   giotls.CertificateFlags
	}{
		{"expired", e.ca, []testpki.Option{testpki.DNSNames("localhost"), testpki.Expired()}, giotls.CertificateExpired},
		{"wrong host", e.ca, []testpki.Option{testpki.DNSNames("elsewhere.example")}, giotls.CertificateBadIdentity},
		{"unknown CA", stranger, []testpki.Option{testpki.DNSNames("localhost")}, giotls.CertificateUnknownCA},
		{"all three", stranger, []testpki.Option{testpki.DNSNames("elsewhere.example"), testpki.Expired()},
			giotls.CertificateUnknownCA | giotls.CertificateBadIdentity | giotls.CertificateExpired},
	}
	for _, tc := range cases {
		leaf, err := tc.issuer.NewLeaf(tc.name, tc.opts...)
		if err != nil {
			return err
		}
		port, err := e.serve(&tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}, hello)
		if err != nil {
			return err
		}

		c, err := e.connect(ctx, "localhost", port)
		if err != nil {
			return err
		}
		err = c.Handshake(ctx)
		c.Close()
		fmt.Fprintf(w, "   %-11s no handler, rejected: %v\n", tc.name+":", err)
		if !errors.Is(err, giotls.ErrBadCertificate) || c.PeerCertificateErrors() != tc.want {
			return fmt.Errorf("%s: want ErrBadCertificate with exactly %v, got %v with %v", tc.name, tc.want, err, c.PeerCertificateErrors())
		}

		c, err = e.connect(ctx, "localhost", port)
		if err != nil {
			return err
		}
		var asked giotls.CertificateFlags
		c.OnAcceptCertificate(func(peer *giotls.Certificate, errs giotls.CertificateFlags) bool {
			asked = errs
			return errs == tc.want // accept exactly the problems we know of
		})
		err = c.Handshake(ctx)
		if err == nil {
			_, err = readLine(c)
		}
		c.Close()
		if err != nil {
			return fmt.Errorf("%s: the handler accepted, but: %w", tc.name, err)
		}
		fmt.Fprintf(w, "   %-11s accept-certificate asked with %v (0x%02x), accepts: connected, %s; peer-certificate-errors still %v\n",
			"", asked, uint32(asked), c.ProtocolVersion(), c.PeerCertificateErrors())
		if asked != tc.want || c.PeerCertificateErrors() != tc.want {
			return fmt.Errorf("%s: handler asked with %v, errors %v; want %v", tc.name, asked, c.PeerCertificateErrors(), tc.want)
		}
	}
	return nil
}

// pickByIssuer is an Interaction that answers a certificate request with
// the first candidate issued by one of the CAs the server accepts.
type pickByIssuer struct {
	candidates []*giotls.Certificate
	chosen     *giotls.Certificate
}

func (*pickByIssuer) AskPassword(context.Context, *giotls.Password) (giotls.InteractionResult, error) {
	return giotls.InteractionUnhandled, nil
}

func (p *pickByIssuer) RequestCertificate(ctx context.Context, conn *giotls.ClientConnection) (giotls.InteractionResult, error) {
	for _, dn := range conn.AcceptedCAs() {
		for _, cand := range p.candidates {
			if bytes.Equal(cand.X509().RawIssuer, dn) {
				p.chosen = cand
				conn.SetCertificate(cand)
				return giotls.InteractionHandled, nil
			}
		}
	}
	return giotls.InteractionUnhandled, nil
}

func clientCertificate(ctx context.Context, e *env, w io.Writer) error {
	staff, err := testpki.NewCA("giotls demo staff CA")
	if err != nil {
		return err
	}
	partners, err := testpki.NewCA("giotls demo partners CA")
	if err != nil {
		return err
	}
	elsewhere, err := testpki.NewCA("a CA this server does not know")
	if err != nil {
		return err
	}
	var candidates []*giotls.Certificate
	for _, l := range []struct {
		ca *testpki.CA
		cn string
	}{{elsewhere, "alice (elsewhere)"}, {partners, "alice (partner)"}} {
		leaf, err := l.ca.NewLeaf(l.cn)
		if err != nil {
			return err
		}
		cert, err := giotls.NewCertificateFromX509(leaf.Chain, leaf.Key)
		if err != nil {
			return err
		}
		candidates = append(candidates, cert)
	}
	names := map[string]string{}
	pool := x509.NewCertPool()
	for _, ca := range []*testpki.CA{staff, partners} {
		pool.AddCert(ca.Cert)
		names[string(ca.Cert.RawSubject)] = ca.Cert.Subject.String()
	}
	leaf, err := e.ca.NewLeaf("localhost", testpki.DNSNames("localhost"))
	if err != nil {
		return err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{leaf.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}
	port, err := e.serve(cfg, func(tc *tls.Conn, _ net.Conn) {
		peer := tc.ConnectionState().PeerCertificates[0]
		fmt.Fprintf(tc, "hello %s\n", peer.Subject.CommonName)
	})
	if err != nil {
		return err
	}
	c, err := e.connect(ctx, "localhost", port)
	if err != nil {
		return err
	}
	defer c.Close()
	interaction := &pickByIssuer{candidates: candidates}
	c.SetInteraction(interaction)
	if err := c.Handshake(ctx); err != nil {
		return err
	}
	line, err := readLine(c)
	if err != nil {
		return fmt.Errorf("the server did not accept the certificate: %w", err)
	}
	cas := c.AcceptedCAs()
	fmt.Fprintf(w, "   the server accepts certificates from %d CAs:\n", len(cas))
	for _, dn := range cas {
		name, ok := names[string(dn)]
		if !ok {
			name = "unexpected DN " + hex.EncodeToString(dn)
		}
		fmt.Fprintf(w, "     %s\n", name)
	}
	if len(cas) != 2 {
		return fmt.Errorf("accepted-cas has %d entries, want 2", len(cas))
	}
	for _, dn := range cas {
		if _, ok := names[string(dn)]; !ok {
			return fmt.Errorf("accepted-cas holds a DN the server did not send: %x", dn)
		}
	}
	if interaction.chosen == nil {
		return errors.New("the Interaction chose no certificate")
	}
	fmt.Fprintf(w, "   the Interaction chose %q (not %q), sent in %s\n",
		interaction.chosen.SubjectName(), candidates[0].SubjectName(), c.ProtocolVersion())
	fmt.Fprintf(w, "   server said: %q\n", line)
	if interaction.chosen != candidates[1] || line != "hello alice (partner)" {
		return fmt.Errorf("chose %q, the server said %q", interaction.chosen.SubjectName(), line)
	}
	return nil
}

// ticketLog records a hash of every session ticket servers are presented.
type ticketLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *ticketLog) add(identity []byte) string {
	sum := sha256.Sum256(identity)
	h := hex.EncodeToString(sum[:6])
	l.mu.Lock()
	l.seen = append(l.seen, h)
	l.mu.Unlock()
	return h
}

func (l *ticketLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// recordingConfig is a server configuration that logs the ticket hashes
// presented to it (tls.Config.UnwrapSession) before decrypting them as
// crypto/tls would.
func (e *env) recordingConfig(log *ticketLog, maxVersion uint16) (*tls.Config, error) {
	leaf, err := e.ca.NewLeaf("localhost", testpki.DNSNames("localhost"))
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}, MaxVersion: maxVersion}
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		log.add(identity)
		return cfg.DecryptTicket(identity, cs)
	}
	return cfg, nil
}

func automaticResumption(ctx context.Context, e *env, w io.Writer) error {
	var log ticketLog
	cfg, err := e.recordingConfig(&log, tls.VersionTLS13)
	if err != nil {
		return err
	}
	port, err := e.serve(cfg, hello)
	if err != nil {
		return err
	}
	// Connections 1 and 2 read the server's line, and with it the ticket
	// the server sent after the handshake; connection 3 reads nothing, but
	// Close, draining what the server still sent, takes its ticket in too;
	// connection 4 hangs up (closes the TCP connection under TLS) without
	// reading, so no fresh ticket is left for connection 5.
	steps := []struct {
		read   bool
		hangUp bool
		resume bool
		note   string
	}{
		{true, false, false, "full handshake; reads, so receives a ticket"},
		{true, false, true, "resumes with that ticket, receives another"},
		{false, false, true, "resumes with the second ticket; reads nothing, Close takes in a third"},
		{false, true, true, "resumes with the third ticket; hangs up without reading"},
		{false, false, false, "no fresh ticket left: a full handshake, no ticket presented twice"},
	}
	for i, s := range steps {
		before := len(log.all())
		c, err := e.connect(ctx, "localhost", port)
		if err != nil {
			return err
		}
		err = c.Handshake(ctx)
		if err == nil && s.read {
			_, err = readLine(c)
		}
		if s.hangUp {
			c.BaseIOStream().Close()
		}
		c.Close()
		if err != nil {
			return fmt.Errorf("connection %d: %w", i+1, err)
		}
		presented := "no ticket"
		if seen := log.all(); len(seen) > before {
			presented = "ticket " + seen[len(seen)-1]
		}
		fmt.Fprintf(w, "   connection %d: resumed=%-5v (%s presented) %s\n", i+1, c.SessionResumed(), presented, s.note)
		if c.SessionResumed() != s.resume {
			return fmt.Errorf("connection %d: resumed=%v, want %v", i+1, c.SessionResumed(), s.resume)
		}
	}
	seen := log.all()
	unique := map[string]bool{}
	for _, h := range seen {
		if unique[h] {
			return fmt.Errorf("ticket %s was presented twice", h)
		}
		unique[h] = true
	}
	if len(seen) != 3 {
		return fmt.Errorf("the server was presented %d tickets, want 3", len(seen))
	}
	fmt.Fprintf(w, "   the server saw %d tickets, each once (plain crypto/tls would present a ticket again)\n", len(seen))
	return nil
}

// ftpControl is what an FTP client holds: a struct embedding the control
// connection, which it passes to CopySessionState.
type ftpControl struct {
	*giotls.ClientConnection
	user string
}

func copySessionState(ctx context.Context, e *env, w io.Writer) error {
	for _, v := range []struct {
		name string
		max  uint16
		want giotls.ProtocolVersion
	}{{"TLS 1.2", tls.VersionTLS12, giotls.ProtocolVersionTLS12}, {"TLS 1.3", tls.VersionTLS13, giotls.ProtocolVersionTLS13}} {
		var log ticketLog
		cfg, err := e.recordingConfig(&log, v.max)
		if err != nil {
			return err
		}
		controlPort, err := e.serve(cfg, func(tc *tls.Conn, _ net.Conn) { io.WriteString(tc, "220 ready\n") })
		if err != nil {
			return err
		}
		// Like vsftpd with require_ssl_reuse=YES: a data connection that
		// does not resume the control connection's session is refused.
		dataPort, err := e.serve(cfg, func(tc *tls.Conn, _ net.Conn) {
			if !tc.ConnectionState().DidResume {
				io.WriteString(tc, "522 SSL connection failed: session reuse required\n")
				return
			}
			io.WriteString(tc, "226 transfer complete\n")
		})
		if err != nil {
			return err
		}
		c, err := e.connect(ctx, "localhost", controlPort)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := readLine(c); err != nil {
			return fmt.Errorf("%s control connection: %w", v.name, err)
		}
		control := &ftpControl{ClientConnection: c, user: "anonymous"}

		for _, copied := range []bool{false, true} {
			d, err := e.connect(ctx, "localhost", dataPort)
			if err != nil {
				return err
			}
			if copied {
				d.CopySessionState(control.ClientConnection)
			}
			line, err := readLine(d)
			d.Close()
			if err != nil {
				return fmt.Errorf("%s data connection: %w", v.name, err)
			}
			how := "without CopySessionState"
			if copied {
				how = "with CopySessionState(control)"
			}
			fmt.Fprintf(w, "   %s, control port %d, data port %d, %-31s resumed=%-5v server: %q\n", v.name, controlPort, dataPort, how+":", d.SessionResumed(), line)
			want := strings.HasPrefix(line, "226")
			if d.SessionResumed() != copied || want != copied || d.ProtocolVersion() != v.want {
				return fmt.Errorf("%s %s: resumed=%v on %v, server said %q", v.name, how, d.SessionResumed(), d.ProtocolVersion(), line)
			}
		}
	}
	return nil
}

func truncation(ctx context.Context, e *env, w io.Writer) error {
	leaf, err := e.ca.NewLeaf("localhost", testpki.DNSNames("localhost"))
	if err != nil {
		return err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}
	const body = "the first half of a file"
	for _, tc := range []struct {
		truncate bool
		wantErr  error
		describe string
	}{
		{true, giotls.ErrEOF, "TCP closed without close_notify"},
		{false, nil, "close_notify, then TCP closed"},
	} {
		port, err := e.serve(cfg, func(tls *tls.Conn, raw net.Conn) {
			io.WriteString(tls, body)
			if tc.truncate {
				raw.Close() // a FIN without close_notify: what an attacker can send
			}
		})
		if err != nil {
			return err
		}
		c, err := e.connect(ctx, "localhost", port)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(c)
		c.Close()
		fmt.Fprintf(w, "   %-31s read %d bytes, then %v\n", tc.describe+":", len(data), errOrEOF(err))
		if string(data) != body {
			return fmt.Errorf("%s: read %q, want %q", tc.describe, data, body)
		}
		if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
			return fmt.Errorf("%s: got %v, want %v", tc.describe, err, errOrEOF(tc.wantErr))
		}
	}
	fmt.Fprintf(w, "   (plain crypto/tls returns io.EOF for both)\n")
	return nil
}

func errOrEOF(err error) any {
	if err == nil {
		return "io.EOF (a clean end)"
	}
	return err
}
