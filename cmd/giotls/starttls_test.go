package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// plainServer accepts one connection at a time on loopback, runs preamble
// on it in plain text, then (if it returns true) upgrades it with
// crypto/tls and runs secure. It records what the client sent.
type plainServer struct {
	addr string
	cfg  *tls.Config
	seen chan string
}

func startPlainServer(t *testing.T, leaf *testpki.Leaf, preamble func(c net.Conn, r *bufio.Reader, seen chan<- string) bool, secure func(tc *tls.Conn)) *plainServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &plainServer{
		addr: "localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port),
		cfg:  &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}},
		seen: make(chan string, 100),
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				if !preamble(c, r, s.seen) {
					return
				}
				tc := tls.Server(c, s.cfg)
				if err := tc.Handshake(); err != nil {
					return
				}
				secure(tc)
				tc.Close()
			}()
		}
	}()
	return s
}

// readLine reads a CRLF line and records it.
func readLine(r *bufio.Reader, seen chan<- string) string {
	l, _ := r.ReadString('\n')
	l = strings.TrimRight(l, "\r\n")
	seen <- l
	return l
}

func drain(ch chan string) []string {
	var out []string
	for {
		select {
		case s := <-ch:
			out = append(out, s)
		default:
			return out
		}
	}
}

// smtpResponder is a small SMTP server that offers STARTTLS (RFC 3207).
func smtpResponder(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
	io.WriteString(c, "220-mx.test ESMTP\r\n220 giotls test responder\r\n")
	if l := readLine(r, seen); !strings.HasPrefix(l, "EHLO ") {
		io.WriteString(c, "503 EHLO first\r\n")
		return false
	}
	io.WriteString(c, "250-mx.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
	if l := readLine(r, seen); l != "STARTTLS" {
		io.WriteString(c, "502 no\r\n")
		return false
	}
	io.WriteString(c, "220 2.0.0 Ready to start TLS\r\n")
	return true
}

// smtpSecure answers EHLO and QUIT over TLS.
func smtpSecure(tc *tls.Conn) {
	r := bufio.NewReader(tc)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch {
		case strings.HasPrefix(l, "EHLO"):
			io.WriteString(tc, "250 mx.test at your service, over TLS\r\n")
		case strings.HasPrefix(l, "QUIT"):
			io.WriteString(tc, "221 2.0.0 Bye\r\n")
			return
		}
	}
}

func TestStartTLSSMTP(t *testing.T) {
	p := newPKI(t, "SMTP Root")
	leaf := p.ca.MustLeaf(t, "mx", testpki.DNSNames("localhost"))
	s := startPlainServer(t, leaf, smtpResponder, smtpSecure)

	r := run(t, "", "connect", "--starttls", "smtp", "--ca", p.caFile, "--json", s.addr)
	j := parseJSON(t, r)
	if r.code != 0 || j.ProtocolVersion != "TLS 1.3" || len(j.PeerCertificateErrors) != 0 || j.PeerCertificate.Subject != "CN=mx" {
		t.Fatalf("exit %d, %s, errors %v, peer %+v\n%s", r.code, j.ProtocolVersion, j.PeerCertificateErrors, j.PeerCertificate, r.stderr)
	}
	seen := drain(s.seen)
	if len(seen) != 2 || seen[0] != "EHLO [127.0.0.1]" || seen[1] != "STARTTLS" {
		t.Errorf("the responder saw %q; want EHLO [127.0.0.1], STARTTLS", seen)
	}

	// Piped: the SMTP dialogue goes on over TLS.
	r = run(t, "EHLO again\r\nQUIT\r\n", "connect", "--starttls", "smtp", "--ca", p.caFile, s.addr)
	if r.code != 0 || !strings.Contains(r.stdout, "250 mx.test at your service, over TLS\r\n221 2.0.0 Bye\r\n") {
		t.Errorf("piped SMTP: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestStartTLSInjection(t *testing.T) {
	// CVE-2011-0411: plain text after the go-ahead would be read as if it
	// came over TLS. giotls refuses to go on.
	p := newPKI(t, "Injection Root")
	leaf := p.ca.MustLeaf(t, "mx", testpki.DNSNames("localhost"))
	s := startPlainServer(t, leaf, func(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
		io.WriteString(c, "220 mx.test\r\n")
		readLine(r, seen)
		io.WriteString(c, "250-mx.test\r\n250 STARTTLS\r\n")
		readLine(r, seen)
		io.WriteString(c, "220 Ready\r\n250 injected\r\n")
		time.Sleep(200 * time.Millisecond)
		return false
	}, func(*tls.Conn) {})
	r := run(t, "", "connect", "--starttls", "smtp", "--ca", p.caFile, "--no-pipe", s.addr)
	if r.code != 1 || !strings.Contains(r.stderr, "after agreeing to start TLS") {
		t.Errorf("exit %d, stderr %q; want 1 and the injection named", r.code, r.stderr)
	}
}

func TestStartTLSProtocols(t *testing.T) {
	p := newPKI(t, "STARTTLS Root")
	leaf := p.ca.MustLeaf(t, "server", testpki.DNSNames("localhost"))
	greet := func(tc *tls.Conn) { io.WriteString(tc, "hello over TLS\r\n") }
	for _, tc := range []struct {
		proto    string
		preamble func(c net.Conn, r *bufio.Reader, seen chan<- string) bool
		want     []string
	}{
		{"imap", func(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
			io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
			if readLine(r, seen) != "a001 STARTTLS" {
				return false
			}
			io.WriteString(c, "* CAPABILITY IMAP4rev1\r\na001 OK Begin TLS negotiation now\r\n")
			return true
		}, []string{"a001 STARTTLS"}},
		{"pop3", func(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
			io.WriteString(c, "+OK POP3 ready\r\n")
			if readLine(r, seen) != "STLS" {
				return false
			}
			io.WriteString(c, "+OK Begin TLS negotiation\r\n")
			return true
		}, []string{"STLS"}},
		{"ftp", func(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
			io.WriteString(c, "220-welcome\r\n220 ready\r\n")
			if readLine(r, seen) != "AUTH TLS" {
				return false
			}
			io.WriteString(c, "234 go ahead\r\n")
			return true
		}, []string{"AUTH TLS"}},
		{"xmpp", func(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
			header, _ := r.ReadString('>') // <?xml ...?>
			rest, _ := r.ReadString('>')   // <stream:stream ...>
			seen <- header + rest
			io.WriteString(c, "<?xml version='1.0'?><stream:stream from='localhost' id='1' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"+
				"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>")
			req, _ := r.ReadString('>')
			seen <- req
			io.WriteString(c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
			return strings.Contains(req, "<starttls")
		}, []string{"<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
			"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"}},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			s := startPlainServer(t, leaf, tc.preamble, greet)
			r := run(t, "", "connect", "--starttls", tc.proto, "--ca", p.caFile, s.addr)
			if r.code != 0 || !strings.Contains(r.stdout, "Certificate problems: none") || !strings.HasSuffix(r.stdout, "---\nhello over TLS\r\n") {
				t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if seen := drain(s.seen); strings.Join(seen, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("the server saw %q, want %q", seen, tc.want)
			}
		})
	}
}

func TestStartTLSRefused(t *testing.T) {
	p := newPKI(t, "Refusal Root")
	leaf := p.ca.MustLeaf(t, "mx", testpki.DNSNames("localhost"))
	s := startPlainServer(t, leaf, func(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
		io.WriteString(c, "220 mx.test\r\n")
		readLine(r, seen)
		io.WriteString(c, "250-mx.test\r\n250 8BITMIME\r\n")
		time.Sleep(100 * time.Millisecond)
		return false
	}, func(*tls.Conn) {})
	r := run(t, "", "connect", "--starttls", "smtp", "--ca", p.caFile, s.addr)
	if r.code != 1 || !strings.Contains(r.stderr, "the server does not offer STARTTLS") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if seen := drain(s.seen); len(seen) != 1 {
		t.Errorf("the client sent %q; want only EHLO", seen)
	}
}
