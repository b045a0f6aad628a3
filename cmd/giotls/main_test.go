package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// result is what a run of the command gave.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command in-process, with stdin and no terminal.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runCLI(t, &cli{}, stdin, args...)
}

// runCLI is run with c's other fields (such as its resolver) set.
func runCLI(t *testing.T, c *cli, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	c.stdin, c.stdout, c.stderr = bufio.NewReader(strings.NewReader(stdin)), &out, &errOut
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := c.run(ctx, args)
	return result{code, out.String(), errOut.String()}
}

// connectJSON is the part of connect's JSON output the tests check.
type connectJSON struct {
	Address               string   `json:"address"`
	ServerIdentity        string   `json:"server_identity"`
	ProtocolVersion       string   `json:"protocol_version"`
	Ciphersuite           string   `json:"ciphersuite"`
	PeerCertificateErrors []string `json:"peer_certificate_errors"`
	PeerCertificateFlags  uint32   `json:"peer_certificate_flags"`
	AcceptedBy            string   `json:"accepted_by"`
	PeerCertificate       *struct {
		Subject   string    `json:"subject"`
		Issuer    string    `json:"issuer"`
		NotBefore time.Time `json:"not_before"`
		NotAfter  time.Time `json:"not_after"`
		DNSNames  []string  `json:"dns_names"`
	} `json:"peer_certificate"`
	PeerChain            []json.RawMessage `json:"peer_chain"`
	CertificateRequested bool              `json:"certificate_requested"`
	AcceptedCAs          []string          `json:"accepted_cas"`
	ClientCertificate    string            `json:"client_certificate"`
	NegotiatedProtocol   string            `json:"negotiated_protocol"`
	SessionResumed       bool              `json:"session_resumed"`
	Resumptions          []bool            `json:"resumptions"`
	ChannelBindings      []string          `json:"channel_bindings"`
	Error                string            `json:"error"`
	Reconnections        []connectJSON     `json:"reconnections"`
}

func parseJSON(t *testing.T, r result) connectJSON {
	t.Helper()
	var j connectJSON
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		// Unknown fields are fine; a broken object is not.
		if err2 := json.Unmarshal([]byte(r.stdout), &j); err2 != nil {
			t.Fatalf("stdout is not one JSON object: %v\nstdout: %s\nstderr: %s", err2, r.stdout, r.stderr)
		}
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value: %s", r.stdout)
	}
	return j
}

// last is the report of a --resume run's last connection: its last
// reconnection, or the first connection when there is none.
func (j connectJSON) last() connectJSON {
	if n := len(j.Reconnections); n > 0 {
		return j.Reconnections[n-1]
	}
	return j
}

// pki is a throwaway CA with its certificate in a file, for --ca.
type pki struct {
	ca     *testpki.CA
	dir    string
	caFile string
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	ca := testpki.MustCA(t, name)
	dir := t.TempDir()
	caFile, err := ca.WriteCertFile(dir, "ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	return &pki{ca: ca, dir: dir, caFile: caFile}
}

// serverFiles writes a leaf of issuer for localhost and returns its
// certificate and key files.
func (p *pki) serverFiles(t *testing.T, issuer *testpki.CA, name string, opts ...testpki.Option) (cert, key string) {
	t.Helper()
	leaf := issuer.MustLeaf(t, "localhost", append([]testpki.Option{testpki.DNSNames("localhost")}, opts...)...)
	cert, key, _, err := leaf.WriteFiles(p.dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func sServer(t *testing.T, cert, key string, extra ...string) (*peer.Process, string) {
	t.Helper()
	port := peer.FreePort(t)
	args := append([]string{"s_server", "-accept", peer.Addr(port), "-cert", cert, "-key", key, "-www"}, extra...)
	return peer.Start(t, peer.Addr(port), "openssl", args...), "localhost:" + strconv.Itoa(port)
}

func TestConnectOpenSSL(t *testing.T) {
	p := newPKI(t, "Connect Test Root")
	cert, key := p.serverFiles(t, p.ca, "good")
	for _, tc := range []struct {
		name, flag, version string
		bindings            []string
	}{
		{"TLS1.2", "-tls1_2", "TLS 1.2", []string{"tls-unique", "tls-server-end-point", "tls-exporter"}},
		{"TLS1.3", "-tls1_3", "TLS 1.3", []string{"tls-server-end-point", "tls-exporter"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, addr := sServer(t, cert, key, tc.flag)
			r := run(t, "", "connect", "--ca", p.caFile, "--json", "--resume", "2", addr)
			if r.code != 0 {
				t.Fatal(srv.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr))
			}
			j := parseJSON(t, r)
			if j.ProtocolVersion != tc.version || j.Ciphersuite == "" || len(j.PeerCertificateErrors) != 0 || j.PeerCertificateErrors == nil {
				t.Errorf("protocol_version %q, ciphersuite %q, peer_certificate_errors %#v; want %q, a suite, []",
					j.ProtocolVersion, j.Ciphersuite, j.PeerCertificateErrors, tc.version)
			}
			if j.SessionResumed || !j.last().SessionResumed || len(j.Resumptions) != 3 || j.Resumptions[0] || !j.Resumptions[1] || !j.Resumptions[2] {
				t.Errorf("session_resumed %v, then %v, resumptions %v; want false, then true, [false true true]", j.SessionResumed, j.last().SessionResumed, j.Resumptions)
			}
			if pc := j.PeerCertificate; pc == nil || pc.Subject != "CN=localhost" || pc.Issuer != "CN=Connect Test Root" ||
				len(pc.DNSNames) != 1 || pc.DNSNames[0] != "localhost" || !pc.NotBefore.Before(time.Now()) || !pc.NotAfter.After(time.Now()) {
				t.Errorf("peer_certificate %+v", j.PeerCertificate)
			}
			if j.CertificateRequested || j.AcceptedCAs == nil || len(j.AcceptedCAs) != 0 {
				t.Errorf("certificate_requested %v, accepted_cas %#v; want false, []", j.CertificateRequested, j.AcceptedCAs)
			}
			if strings.Join(j.ChannelBindings, ",") != strings.Join(tc.bindings, ",") {
				t.Errorf("channel_bindings %v, want %v", j.ChannelBindings, tc.bindings)
			}
		})
	}
}

func TestConnectPipe(t *testing.T) {
	p := newPKI(t, "Pipe Test Root")
	cert, key := p.serverFiles(t, p.ca, "good")
	srv, addr := sServer(t, cert, key)
	r := run(t, "GET / HTTP/1.0\r\n\r\n", "connect", "--ca", p.caFile, "--alpn", "h2,http/1.1", addr)
	if r.code != 0 {
		t.Fatal(srv.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr))
	}
	for _, want := range []string{
		"Connected to " + addr + ", server identity " + addr,
		"protocol:          TLS 1.3",
		"ALPN:              none agreed (offered h2, http/1.1)",
		"0 subject:  CN=localhost",
		"issuer:   CN=Pipe Test Root",
		"Certificate problems: none",
		"Client certificate: not requested",
		"HTTP/1.0 200 ok", // what s_server -www answered through the pipe
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestConnectCertificateProblems(t *testing.T) {
	p := newPKI(t, "Trusted Root")
	stranger := testpki.MustCA(t, "Stranger Root")
	cert, key := p.serverFiles(t, stranger, "bad", testpki.Expired())
	srv, addr := sServer(t, cert, key)

	r := run(t, "", "connect", "--ca", p.caFile, "--json", addr)
	j := parseJSON(t, r)
	if r.code != 1 || strings.Join(j.PeerCertificateErrors, ",") != "unknown-ca,expired" || j.PeerCertificateFlags != 0x09 || j.Error == "" {
		t.Error(srv.Errorf("exit %d, peer_certificate_errors %v (0x%x), error %q; want 1, [unknown-ca expired] (0x09), an error\n%s",
			r.code, j.PeerCertificateErrors, j.PeerCertificateFlags, j.Error, r.stderr))
	}

	// The human report spells out every flag, and how to accept them.
	r = run(t, "", "connect", "--ca", p.caFile, "--servername", "wrong.example", "--no-pipe", addr)
	for _, want := range []string{
		"certificate rejected: unknown-ca|bad-identity|expired (0x0b)",
		"unknown-ca:   no chain to a trusted CA",
		"bad-identity: the certificate is not for wrong.example:",
		"expired:      a certificate on the path has expired",
		"--accept 'unknown-ca|bad-identity|expired'",
	} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
		}
	}

	// --accept naming only some of the problems is not enough.
	r = run(t, "", "connect", "--ca", p.caFile, "--accept", "expired", "--json", addr)
	if j := parseJSON(t, r); r.code != 1 || j.AcceptedBy != "" {
		t.Errorf("--accept expired: exit %d, accepted_by %q; want 1, none", r.code, j.AcceptedBy)
	}
	r = run(t, "", "connect", "--ca", p.caFile, "--accept", "unknown-ca|expired", "--json", addr)
	j = parseJSON(t, r)
	if r.code != 0 || j.AcceptedBy != "--accept" || strings.Join(j.PeerCertificateErrors, ",") != "unknown-ca,expired" {
		t.Errorf("--accept unknown-ca|expired: exit %d, accepted_by %q, errors %v; want 0, --accept, [unknown-ca expired]\n%s",
			r.code, j.AcceptedBy, j.PeerCertificateErrors, r.stderr)
	}

	// A resumed handshake is verified again, and accepted again by --accept.
	// (crypto/tls never resumes a session whose certificate has expired, so
	// this server's certificate is only from an unknown CA.)
	cert, key = p.serverFiles(t, stranger, "unknown")
	_, addr = sServer(t, cert, key)
	r = run(t, "", "connect", "--ca", p.caFile, "--accept", "unknown-ca", "--json", "--resume", "1", addr)
	j = parseJSON(t, r)
	if l := j.last(); r.code != 0 || len(j.Reconnections) != 1 || l.AcceptedBy != "--accept" || strings.Join(l.PeerCertificateErrors, ",") != "unknown-ca" || !l.SessionResumed {
		t.Errorf("--accept unknown-ca --resume 1: exit %d, %d reconnections, then accepted_by %q, errors %v, resumed %v; want 0, 1, --accept, [unknown-ca], true\n%s",
			r.code, len(j.Reconnections), l.AcceptedBy, l.PeerCertificateErrors, l.SessionResumed, r.stderr)
	}
}

func TestConnectClientCertificate(t *testing.T) {
	p := newPKI(t, "Server Root")
	cert, key := p.serverFiles(t, p.ca, "server")
	clients := testpki.MustCA(t, "Client Root")
	clientCA, err := clients.WriteCertFile(p.dir, "clients.pem")
	if err != nil {
		t.Fatal(err)
	}
	alice := clients.MustLeaf(t, "alice")
	aliceCert, aliceKey, _, err := alice.WriteFiles(p.dir, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// A PKCS#12 file of alice, encrypted, as openssl writes it.
	p12 := filepath.Join(p.dir, "alice.p12")
	passFile := filepath.Join(p.dir, "pass")
	os.WriteFile(passFile, []byte("s3cret\n"), 0o600)
	if out, err := exec.Command(peer.Need(t, "openssl"), "pkcs12", "-export", "-in", aliceCert, "-inkey", aliceKey,
		"-out", p12, "-passout", "pass:s3cret").CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12: %v\n%s", err, out)
	}

	srv, addr := sServer(t, cert, key, "-Verify", "1", "-CAfile", clientCA)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"PEM", []string{"--cert", aliceCert, "--key", aliceKey}},
		{"PKCS12", []string{"--p12", p12, "--pass-file", passFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"connect", "--ca", p.caFile, "--json"}, tc.args...)
			r := run(t, "", append(args, addr)...)
			j := parseJSON(t, r)
			if r.code != 0 || !j.CertificateRequested || strings.Join(j.AcceptedCAs, "|") != "CN=Client Root" || j.ClientCertificate != "CN=alice" {
				t.Error(srv.Errorf("exit %d, requested %v, accepted_cas %q, client_certificate %q; want 0, true, [CN=Client Root], CN=alice\n%s",
					r.code, j.CertificateRequested, j.AcceptedCAs, j.ClientCertificate, r.stderr))
			}
		})
	}
	t.Run("without", func(t *testing.T) {
		// TLS 1.3: the server's refusal comes after the client's handshake
		// has completed; connect waits for it.
		r := run(t, "", "connect", "--ca", p.caFile, "--no-pipe", addr)
		if r.code != 1 || !strings.Contains(r.stdout, "accepts certificates from:\n  CN=Client Root\n  sent: none") ||
			!strings.Contains(r.stderr, "the server refused the connection after the handshake") {
			t.Error(srv.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr))
		}
		r = run(t, "", "connect", "--ca", p.caFile, "--json", addr)
		j := parseJSON(t, r)
		if r.code != 1 || !j.CertificateRequested || strings.Join(j.AcceptedCAs, "|") != "CN=Client Root" || j.ClientCertificate != "" || j.Error == "" {
			t.Errorf("--json: exit %d, %+v", r.code, j)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		bad := filepath.Join(p.dir, "bad")
		os.WriteFile(bad, []byte("nope\n"), 0o600)
		r := run(t, "", "connect", "--p12", p12, "--pass-file", bad, addr)
		if r.code != 2 || !strings.Contains(r.stderr, "password") {
			t.Errorf("wrong password: exit %d, stderr %q; want 2 and a word about the password", r.code, r.stderr)
		}
	})
}

func TestConnectGnuTLS(t *testing.T) {
	p := newPKI(t, "GnuTLS Root")
	cert, key := p.serverFiles(t, p.ca, "server")
	for _, tc := range []struct{ name, priority, version string }{
		{"TLS1.2", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "TLS 1.2"},
		{"TLS1.3", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "TLS 1.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := peer.FreePort(t)
			srv := peer.Start(t, peer.Addr(port), "gnutls-serv", "--echo", "-p", strconv.Itoa(port),
				"--x509certfile", cert, "--x509keyfile", key, "--disable-client-cert", "--priority", tc.priority)
			addr := "localhost:" + strconv.Itoa(port)
			r := run(t, "", "connect", "--ca", p.caFile, "--json", "--resume", "2", addr)
			j := parseJSON(t, r)
			if r.code != 0 || j.ProtocolVersion != tc.version || len(j.PeerCertificateErrors) != 0 || !j.last().SessionResumed ||
				len(j.Resumptions) != 3 || !j.Resumptions[1] {
				t.Error(srv.Errorf("exit %d, %s, errors %v, session_resumed %v, resumptions %v; want 0, %s, [], true, [false true true]\n%s",
					r.code, j.ProtocolVersion, j.PeerCertificateErrors, j.last().SessionResumed, j.Resumptions, tc.version, r.stderr))
			}
			// Piped: gnutls-serv echoes what stdin sends.
			// gnutls-serv never closes on its own: connect stops after --idle-timeout.
			r = run(t, "echo through giotls\n", "connect", "--ca", p.caFile, "--idle-timeout", "500ms", addr)
			if r.code != 0 || !strings.Contains(r.stdout, "echo through giotls\n") {
				t.Error(srv.Errorf("piped: exit %d\n%s\n%s", r.code, r.stdout, r.stderr))
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	p := newPKI(t, "Exit Root")
	cert, key := p.serverFiles(t, p.ca, "server")
	_, addr := sServer(t, cert, key)
	free := "127.0.0.1:" + strconv.Itoa(peer.FreePort(t))
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, 2, "usage: giotls"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"bad flag", []string{"connect", "--frobnicate", addr}, 2, "flag provided but not defined"},
		{"no host", []string{"connect"}, 2, "want one HOST[:PORT]"},
		{"two hosts", []string{"connect", addr, addr}, 2, "want one HOST[:PORT]"},
		{"bad port", []string{"connect", "localhost:http2"}, 2, "bad port"},
		{"bad accept", []string{"connect", "--accept", "sloppy", addr}, 2, `unknown certificate flag "sloppy"`},
		{"bad starttls", []string{"connect", "--starttls", "gopher", addr}, 2, "want smtp, imap, pop3, ftp, xmpp or ldap"},
		{"unreadable ca", []string{"connect", "--ca", "/nonexistent/ca.pem", addr}, 2, "/nonexistent/ca.pem"},
		{"key without cert", []string{"connect", "--key", "k.pem", addr}, 2, "--key needs --cert"},
		{"unreadable cert", []string{"connect", "--cert", "/nonexistent/c.pem", addr}, 2, "/nonexistent/c.pem"},
		{"refused", []string{"connect", "--ca", p.caFile, free}, 1, "could not connect"},
		{"unknown CA", []string{"connect", "--no-pipe", addr}, 1, "certificate rejected: unknown-ca"},
		{"not TLS", []string{"connect", "--ca", p.caFile, "--starttls", "smtp", "--timeout", "300ms", addr}, 1, "STARTTLS (smtp)"},
		{"ftp bad scheme", []string{"ftp", "http://localhost/"}, 2, "want ftp://"},
		{"ftp -o dir", []string{"ftp", "-o", "x", "ftp://localhost/dir/"}, 2, "names a directory"},
		{"ftp user without password", []string{"ftp", "ftp://me@localhost/x"}, 2, "a password for me is needed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		words []string
	}{
		{[]string{"connect", "--help"}, []string{"usage: giotls connect [flags] HOST[:PORT]", "giotls connect --service NAME[/PROTO] [flags] DOMAIN", "--ca FILE", "--cert FILE", "--key FILE",
			"--p12 FILE", "--pass-file FILE", "--alpn LIST", "--servername NAME", "--service NAME[/PROTO]", "--starttls PROTO",
			"smtp,", "xmpp or ldap", "--idle-timeout DURATION", "--resume N", "--tls-max VERSION", "--tls-min VERSION", "--accept FLAGS", "--json", "--timeout DURATION", "--no-pipe", "Exit codes: 0"}},
		{[]string{"ftp", "-h"}, []string{"usage: giotls ftp [flags] URL", "ftp://[USER[:PASSWORD]@]HOST[:PORT]/PATH", "ftps://",
			"-o FILE", "--upload FILE", "--tls-max VERSION", "--pass-file FILE", "--ca FILE", "--accept FLAGS", "CopySessionState", "Exit codes: 0"}},
		{[]string{"demo", "--help"}, []string{"usage: giotls demo"}},
		{[]string{"help"}, []string{"connect", "ftp", "demo"}},
	} {
		r := run(t, "", tc.args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%v: exit %d, stderr %q; want 0 and nothing", tc.args, r.code, r.stderr)
		}
		for _, w := range tc.words {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%v: the help lacks %q", tc.args, w)
			}
		}
		for i, line := range strings.Split(r.stdout, "\n") {
			if len(line) > 80 {
				t.Errorf("%v: line %d is %d characters long: %q", tc.args, i+1, len(line), line)
			}
		}
	}
}

func TestDemoCommand(t *testing.T) {
	r := run(t, "", "demo")
	if r.code != 0 || !strings.Contains(r.stdout, "every step behaved as giotls promises") {
		t.Errorf("demo: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// runTerminal runs the command as if a person sat at a terminal and typed
// stdin.
func runTerminal(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdin: bufio.NewReader(strings.NewReader(stdin)), stdout: &out, stderr: &errOut, terminal: true}
	code := c.run(context.Background(), args)
	return result{code, out.String(), errOut.String()}
}

func TestConnectAsksOnTerminal(t *testing.T) {
	p := newPKI(t, "Prompt Root")
	stranger := testpki.MustCA(t, "Unknown Root")
	cert, key := p.serverFiles(t, stranger, "unknown")
	_, addr := sServer(t, cert, key)

	r := runTerminal(t, "y\n", "connect", "--ca", p.caFile, "--json", "--resume", "1", addr)
	j := parseJSON(t, r)
	if l := j.last(); r.code != 0 || j.AcceptedBy != "you" || len(j.Reconnections) != 1 || l.AcceptedBy != "you" || !l.SessionResumed {
		t.Errorf("answered y: exit %d, accepted_by %q, %d reconnections, then accepted_by %q, resumed %v\n%s", r.code, j.AcceptedBy, len(j.Reconnections), l.AcceptedBy, l.SessionResumed, r.stderr)
	}
	// Asked once: the answer holds for the resumed handshake, which is
	// verified again.
	if n := strings.Count(r.stderr, "Accept it? [y/N]"); n != 1 {
		t.Errorf("asked %d times, want 1:\n%s", n, r.stderr)
	}
	for _, want := range []string{"has problems:", "subject: CN=localhost", "issuer:  CN=Unknown Root", "unknown-ca:   no chain to a trusted CA"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the question lacks %q:\n%s", want, r.stderr)
		}
	}

	r = runTerminal(t, "n\n", "connect", "--ca", p.caFile, "--no-pipe", addr)
	if r.code != 1 || !strings.Contains(r.stderr, "Accept it? [y/N]") || !strings.Contains(r.stderr, "certificate rejected: unknown-ca") {
		t.Errorf("answered n: exit %d\n%s", r.code, r.stderr)
	}
	// Without a terminal nobody is asked.
	r = run(t, "y\n", "connect", "--ca", p.caFile, "--no-pipe", addr)
	if r.code != 1 || strings.Contains(r.stderr, "Accept it?") {
		t.Errorf("no terminal: exit %d\n%s", r.code, r.stderr)
	}
}

func TestConnectPasswordPrompt(t *testing.T) {
	p := newPKI(t, "P12 Root")
	cert, key := p.serverFiles(t, p.ca, "server")
	_, addr := sServer(t, cert, key)
	leaf := p.ca.MustLeaf(t, "bob")
	bobCert, bobKey, _, err := leaf.WriteFiles(p.dir, "bob")
	if err != nil {
		t.Fatal(err)
	}
	p12 := filepath.Join(p.dir, "bob.p12")
	if out, err := exec.Command(peer.Need(t, "openssl"), "pkcs12", "-export", "-in", bobCert, "-inkey", bobKey,
		"-out", p12, "-passout", "pass:pw").CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12: %v\n%s", err, out)
	}
	r := runTerminal(t, "wrong\npw\n", "connect", "--ca", p.caFile, "--p12", p12, "--json", addr)
	if r.code != 0 || strings.Count(r.stderr, "Password for "+p12+": ") != 2 {
		t.Errorf("exit %d, stderr %q; want 0 after two prompts", r.code, r.stderr)
	}
	r = run(t, "pw\n", "connect", "--ca", p.caFile, "--p12", p12, addr)
	if r.code != 2 || !strings.Contains(r.stderr, "is encrypted: give its password") {
		t.Errorf("no terminal: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestConnectService(t *testing.T) {
	p := newPKI(t, "Service Root")
	cert, key := p.serverFiles(t, p.ca, "server")
	_, addr := sServer(t, cert, key)
	port := strings.TrimPrefix(addr, "localhost:")
	r := run(t, "", "connect", "--ca", p.caFile, "--service", "imaps", "--servername", "localhost", "--json", "127.0.0.1:"+port)
	j := parseJSON(t, r)
	if r.code != 0 || j.ServerIdentity != "_imaps._tcp.localhost" || len(j.PeerCertificateErrors) != 0 || j.Address != "127.0.0.1:"+port {
		t.Errorf("exit %d, server_identity %q, errors %v, address %q\n%s", r.code, j.ServerIdentity, j.PeerCertificateErrors, j.Address, r.stderr)
	}
	// The address alone is not the certificate's identity.
	r = run(t, "", "connect", "--ca", p.caFile, "--json", "127.0.0.1:"+port)
	if j := parseJSON(t, r); r.code != 1 || strings.Join(j.PeerCertificateErrors, ",") != "bad-identity" {
		t.Errorf("by address: exit %d, errors %v; want 1, [bad-identity]", r.code, j.PeerCertificateErrors)
	}
}

func TestConnectALPN(t *testing.T) {
	p := newPKI(t, "ALPN Root")
	cert, key := p.serverFiles(t, p.ca, "server")
	_, addr := sServer(t, cert, key, "-alpn", "http/1.1")
	r := run(t, "", "connect", "--ca", p.caFile, "--alpn", "h2,http/1.1", "--json", addr)
	j := parseJSON(t, r)
	if r.code != 0 || j.NegotiatedProtocol != "http/1.1" {
		t.Errorf("exit %d, negotiated_protocol %q; want 0, http/1.1\n%s", r.code, j.NegotiatedProtocol, r.stderr)
	}
	r = run(t, "", "connect", "--ca", p.caFile, "--alpn", "h2,http/1.1", "--no-pipe", addr)
	if !strings.Contains(r.stdout, "ALPN:              http/1.1 (offered h2, http/1.1)") {
		t.Errorf("report lacks the ALPN line:\n%s", r.stdout)
	}
}
