package giotls

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

func TestPrefixConn(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	prefix := []byte("buffered")
	c := PrefixConn(client, prefix)
	prefix[0] = 'X' // PrefixConn keeps a copy
	go func() {
		server.Write([]byte(" then the stream"))
		io.Copy(io.Discard, server)
	}()
	var got []byte
	buf := make([]byte, 3) // small reads: the prefix comes out in pieces
	for len(got) < len("buffered then the stream") {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("Read after %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "buffered then the stream" {
		t.Errorf("read %q", got)
	}
	if _, err := c.Write([]byte("to base")); err != nil {
		t.Errorf("Write: %v", err)
	}
	if nc, ok := c.(interface{ NetConn() net.Conn }); !ok || nc.NetConn() != client {
		t.Errorf("NetConn does not return base")
	}
	if PrefixConn(client, nil) != client {
		t.Errorf("PrefixConn with no prefix is not base itself")
	}
}

// smtpServer is an SMTP-like server on loopback. It reads commands a byte
// at a time, so that it never takes bytes that are not its own, and answers
// STARTTLS with starttls(conn), which returns the connection TLS runs on.
// Over TLS it answers EHLO and QUIT.
func smtpServer(t *testing.T, cfg *tls.Config, starttls func(net.Conn) net.Conn) (addr string, errs <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			ch <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		ch <- serveSMTP(c, cfg, starttls)
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String(), ch
}

func serveSMTP(c net.Conn, cfg *tls.Config, starttls func(net.Conn) net.Conn) error {
	io.WriteString(c, "220 smtp.test ESMTP\r\n")
	for _, want := range []string{"EHLO client", "STARTTLS"} {
		line, err := readLine(c)
		if err != nil {
			return err
		}
		if line != want {
			return fmt.Errorf("server got %q, want %q", line, want)
		}
		if want == "EHLO client" {
			io.WriteString(c, "250-smtp.test\r\n250 STARTTLS\r\n")
		}
	}
	tc := tls.Server(starttls(c), cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	br := bufio.NewReader(tc)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		switch strings.TrimSpace(line) {
		case "EHLO client":
			io.WriteString(tc, "250 smtp.test greets you over TLS\r\n")
		case "QUIT":
			io.WriteString(tc, "221 bye\r\n")
			return tc.Close()
		default:
			return fmt.Errorf("server got %q over TLS", line)
		}
	}
}

// readLine reads a CRLF-terminated line a byte at a time.
func readLine(c net.Conn) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := c.Read(b); err != nil {
			return "", err
		}
		if b[0] == '\n' {
			return strings.TrimSuffix(string(line), "\r"), nil
		}
		line = append(line, b[0])
	}
}

// replyFirst writes reply together with the first bytes TLS writes, in one
// write: the STARTTLS reply and the ServerHello in one segment.
type replyFirst struct {
	net.Conn
	reply []byte
}

func (r *replyFirst) Write(p []byte) (int, error) {
	if r.reply != nil {
		b := append(r.reply, p...)
		r.reply = nil
		n, err := r.Conn.Write(b)
		return max(0, n-(len(b)-len(p))), err
	}
	return r.Conn.Write(p)
}

// smtpClient greets and asks for STARTTLS over raw, returning its buffered
// reader.
func smtpClient(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReaderSize(raw, 16<<10)
	expectLine := func(want string) {
		t.Helper()
		line, err := br.ReadString('\n')
		if err != nil || line != want+"\r\n" {
			t.Fatalf("client got %q, %v; want %q", line, err, want)
		}
	}
	expectLine("220 smtp.test ESMTP")
	io.WriteString(raw, "EHLO client\r\n")
	expectLine("250-smtp.test")
	expectLine("250 STARTTLS")
	io.WriteString(raw, "STARTTLS\r\n")
	return raw, br
}

// pipelinedConn is a client that sends its ClientHello right behind
// STARTTLS without waiting for the reply, saving a round trip: the first
// read for TLS reads the reply with the buffered reader, which also takes
// the ServerHello that came with it, and hands that over with PrefixConn.
type pipelinedConn struct {
	net.Conn
	br       *bufio.Reader
	inner    net.Conn
	reply    string
	buffered []byte
	err      error
}

func (p *pipelinedConn) Read(b []byte) (int, error) {
	if p.inner == nil {
		p.reply, p.err = p.br.ReadString('\n')
		if p.err != nil {
			return 0, p.err
		}
		if !strings.HasPrefix(p.reply, "220 ") {
			p.err = fmt.Errorf("STARTTLS refused: %q", p.reply)
			return 0, p.err
		}
		p.buffered, _ = p.br.Peek(p.br.Buffered())
		p.buffered = bytes.Clone(p.buffered)
		p.inner = PrefixConn(p.Conn, p.buffered)
	}
	return p.inner.Read(b)
}

// TestSTARTTLSPipelined: the server's STARTTLS reply and its first TLS bytes
// arrive in one segment, and the client's buffered reader takes both. The
// handshake succeeds only if those bytes reach TLS.
func TestSTARTTLSPipelined(t *testing.T) {
	ca := newTestCA(t, "STARTTLS Root")
	leaf := ca.MustLeaf(t, "smtp.test", testpki.DNSNames("smtp.test"))
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			cfg := serverConfig(leaf)
			cfg.MinVersion, cfg.MaxVersion = v, v
			addr, serverErr := smtpServer(t, cfg, func(c net.Conn) net.Conn {
				return &replyFirst{Conn: c, reply: []byte("220 2.0.0 Ready to start TLS\r\n")}
			})
			raw, br := smtpClient(t, addr)
			pc := &pipelinedConn{Conn: raw, br: br}
			c, err := NewClientConnection(pc, NewNetworkAddress("smtp.test", 25))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDatabase(ca.db)
			if err := c.Handshake(context.Background()); err != nil {
				t.Fatalf("Handshake: %v (reply %q, %d bytes handed over)", err, pc.reply, len(pc.buffered))
			}
			if pc.reply != "220 2.0.0 Ready to start TLS\r\n" {
				t.Errorf("reply %q", pc.reply)
			}
			// The case under test: TLS bytes were in the buffer.
			if len(pc.buffered) < 5 || pc.buffered[0] != 22 {
				t.Fatalf("the buffered reader held %d bytes after the reply (%x), want the start of the server's TLS flight", len(pc.buffered), pc.buffered[:min(len(pc.buffered), 8)])
			}
			tb := bufio.NewReader(c)
			io.WriteString(c, "EHLO client\r\n")
			if line, err := tb.ReadString('\n'); err != nil || line != "250 smtp.test greets you over TLS\r\n" {
				t.Errorf("EHLO over TLS: %q, %v", line, err)
			}
			io.WriteString(c, "QUIT\r\n")
			if line, err := tb.ReadString('\n'); err != nil || line != "221 bye\r\n" {
				t.Errorf("QUIT over TLS: %q, %v", line, err)
			}
			if err := <-serverErr; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
}

// TestSTARTTLSInjectedReply: plain text after the STARTTLS reply (a response
// injected by a man in the middle) goes to TLS with PrefixConn and fails the
// handshake with ErrNotTLS, instead of being dropped or, worse, read as the
// reply to the next command.
func TestSTARTTLSInjectedReply(t *testing.T) {
	ca := newTestCA(t, "STARTTLS Injection Root")
	leaf := ca.MustLeaf(t, "smtp.test", testpki.DNSNames("smtp.test"))
	addr, _ := smtpServer(t, serverConfig(leaf), func(c net.Conn) net.Conn {
		// Reply and injected text in one write, then a real TLS server.
		io.WriteString(c, "220 2.0.0 Ready to start TLS\r\n250 smtp.test greets you over TLS\r\n")
		return c
	})
	raw, br := smtpClient(t, addr)
	if line, err := br.ReadString('\n'); err != nil || line != "220 2.0.0 Ready to start TLS\r\n" {
		t.Fatalf("STARTTLS reply %q, %v", line, err)
	}
	rest, _ := br.Peek(br.Buffered())
	if len(rest) == 0 {
		t.Fatalf("the injected text was not in the buffer with the reply")
	}
	c, err := NewClientConnection(PrefixConn(raw, rest), NewNetworkAddress("smtp.test", 25))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDatabase(ca.db)
	var herr error
	within(t, 10*time.Second, "Handshake", func() { herr = c.Handshake(context.Background()) })
	if !errors.Is(herr, ErrNotTLS) {
		t.Errorf("Handshake = %v, want ErrNotTLS", herr)
	}
}
