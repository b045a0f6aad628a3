package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// ftpAuthTLS is an FTP server's plain-text part: greeting, AUTH TLS.
func ftpAuthTLS(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
	io.WriteString(c, "220 ready\r\n")
	if readLine(r, seen) != "AUTH TLS" {
		return false
	}
	io.WriteString(c, "234 go ahead\r\n")
	return true
}

// TestFTPNamesIdentity: a certificate rejected for its name says which
// name it was checked against, as connect does.
func TestFTPNamesIdentity(t *testing.T) {
	p := newPKI(t, "FTP Name Root")
	leaf := p.ca.MustLeaf(t, "ftp", testpki.DNSNames("localhost"))
	s := startPlainServer(t, leaf, ftpAuthTLS, func(*tls.Conn) {})
	byIP := strings.Replace(s.addr, "localhost", "127.0.0.1", 1)
	r := run(t, "", "ftp", "--ca", p.caFile, "ftp://"+byIP+"/")
	want := "bad-identity: the certificate is not for " + byIP + "\n"
	if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "(no identity)") {
		t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}
}

// prosodyHeader is the stream header prosody 0.12 sends: longer than the
// 120 characters connect used to quote.
const prosodyHeader = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xml:lang='en' id='3c8f1a0e-5b7d-4e0b-9a41-7f2d1c6b8e90' version='1.0' xmlns='jabber:client' from='localhost'>"

// TestStartTLSXMPPStreamError: an XMPP server that ends the stream instead
// of offering STARTTLS gives its reason, the stream error's condition and
// text (RFC 6120, section 4.9), and -v shows all it sent.
func TestStartTLSXMPPStreamError(t *testing.T) {
	p := newPKI(t, "XMPP Root")
	leaf := p.ca.MustLeaf(t, "xmpp", testpki.DNSNames("localhost"))
	const features = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
	for _, tc := range []struct {
		name, answer string // after reading the client's header; "starttls" separates what comes after <starttls/>
		want         string
	}{
		{"host-unknown", prosodyHeader + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>This server does not serve localhost</text></stream:error></stream:stream>",
			`the server ended the stream: host-unknown: "This server does not serve localhost"`},
		{"without text", prosodyHeader + "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
			"the server ended the stream: policy-violation"},
		{"failure", prosodyHeader + features + "starttls<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
			`the server refused STARTTLS: "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"`},
		{"closed", prosodyHeader + strings.Repeat("<!-- padding -->", 20) + "<message>the end</message>",
			"the server closed the connection after " + `"` + prosodyHeader[:40]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, after, twoSteps := strings.Cut(tc.answer, "starttls<")
			s := startPlainServer(t, leaf, func(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
				r.ReadString('>') // <?xml ...?>
				r.ReadString('>') // <stream:stream ...>
				io.WriteString(c, before)
				if twoSteps {
					r.ReadString('>')
					io.WriteString(c, "<"+after)
				}
				return false
			}, func(*tls.Conn) {})
			for _, verbose := range []bool{false, true} {
				args := []string{"connect", "--starttls", "xmpp", "--ca", p.caFile, s.addr}
				if verbose {
					args = append(args, "-v")
				}
				r := run(t, "", args...)
				if r.code != 1 || !strings.Contains(r.stderr, "STARTTLS (xmpp): "+tc.want) {
					t.Errorf("-v %v: exit %d, stderr %q; want 1 and %q", verbose, r.code, r.stderr, tc.want)
				}
				// All the server sent, up to the end of the stream error.
				for _, part := range []string{strings.TrimSuffix(before, "</stream:stream>"), "<" + after} {
					if verbose && part != "<" && !strings.Contains(r.stderr, "< "+part+"\n") {
						t.Errorf("-v does not show all the server sent, %q:\n%s", part, r.stderr)
					}
				}
			}
		})
	}
}

// TestPlainTextAfterHandshake: a server that gives up on TLS after the
// handshake and writes plain text on the socket, as vsftpd does with its
// "500 OOPS: ...", gets its text shown and an error saying what happened,
// not crypto/tls's "received record with version 3030".
func TestPlainTextAfterHandshake(t *testing.T) {
	p := newPKI(t, "Plain Root")
	leaf := p.ca.MustLeaf(t, "ftp", testpki.DNSNames("localhost"))
	const oops = "500 OOPS: vsftpd: refusing to run with writable root inside chroot()"
	s := startPlainServer(t, leaf, ftpAuthTLS, func(tc *tls.Conn) {
		io.WriteString(tc.NetConn(), oops+"\r\n")
		io.Copy(io.Discard, tc.NetConn()) // until the client closes
	})
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"ftp", []string{"ftp", "--ca", p.caFile, "ftp://" + s.addr + "/"}},
		{"connect", []string{"connect", "--starttls", "ftp", "--ca", p.caFile, s.addr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", tc.args...)
			for _, want := range []string{"the server sent plain text after the TLS handshake, where TLS records belong", "\n  " + oops + "\n"} {
				if r.code != 1 || !strings.Contains(r.stderr, want) {
					t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
				}
			}
			if strings.Contains(r.stderr, "received record with version") {
				t.Errorf("stderr shows crypto/tls's raw error: %q", r.stderr)
			}
		})
	}
}

// TestPrintable: a server's text reaches the terminal without control
// characters or broken UTF-8.
func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"500 OOPS: plain", "500 OOPS: plain"},
		{"500 \x1b[2Jcleared", `500 \x1b[2Jcleared`},
		{"bell\a and \xff", `bell\a and \xff`},
		{"accentué ✓", "accentué ✓"},
	} {
		if got := printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFTPVsftpdOOPS: vsftpd, whose session process dies after the login
// (here because its anonymous root is writable), writes "500 OOPS: ..." in
// plain text on the TLS control connection.
func TestFTPVsftpdOOPS(t *testing.T) {
	p := newPKI(t, "OOPS Root")
	cert, key := p.serverFiles(t, p.ca, "ftp")
	v := peer.StartVsftpd(t, peer.VsftpdOptions{CertFile: cert, KeyFile: key})
	if err := os.Chmod(v.Root, 0o777); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "ftp", "--ca", p.caFile, "ftp://localhost:"+strconv.Itoa(v.Port)+"/")
	if r.code != 1 || !strings.Contains(r.stderr, "the server sent plain text after the TLS handshake") ||
		!strings.Contains(r.stderr, "\n  500 OOPS: ") || strings.Contains(r.stderr, "received record with version") {
		t.Error(v.Errorf("exit %d, stderr %q; want 1, the plain text and 500 OOPS", r.code, r.stderr))
	}
}
