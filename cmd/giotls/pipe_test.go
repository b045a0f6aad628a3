package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// imapPreamble is an IMAP server's plain-text part: greeting, STARTTLS.
func imapPreamble(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
	io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
	if readLine(r, seen) != "a001 STARTTLS" {
		return false
	}
	io.WriteString(c, "a001 OK Begin TLS negotiation now\r\n")
	return true
}

// slowIMAP answers each command after delay, as a server checking a
// password does, and closes after LOGOUT. Like dovecot, it drops the
// commands it has not answered yet when the client's close_notify (or
// any end of its input) comes. With bye false it never closes on its own.
func slowIMAP(delay time.Duration, bye bool) func(tc *tls.Conn) {
	return func(tc *tls.Conn) {
		lines := make(chan string, 16)
		eof := make(chan struct{})
		go func() {
			defer close(eof)
			r := bufio.NewReader(tc)
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				lines <- strings.TrimRight(l, "\r\n")
			}
		}()
		defer func() { tc.NetConn().Close(); <-eof }()
		for {
			var l string
			select {
			case l = <-lines:
			case <-eof:
				return // the client's input ended: unanswered commands are dropped
			}
			time.Sleep(delay)
			select {
			case <-eof:
				return
			default:
			}
			tag, cmd, _ := strings.Cut(l, " ")
			if !strings.HasPrefix(cmd, "LOGOUT") {
				io.WriteString(tc, tag+" OK "+cmd+" completed.\r\n")
				continue
			}
			io.WriteString(tc, "* BYE Logging out\r\n"+tag+" OK LOGOUT completed.\r\n")
			if bye {
				tc.Close()
				return
			}
		}
	}
}

// TestConnectPipeEndOfInput: when stdin ends, connect stops sending but
// sends no close_notify (a server such as dovecot drops the commands it
// has not answered when it comes) and reads until the server closes; a
// server that never closes is left after --idle-timeout of silence.
func TestConnectPipeEndOfInput(t *testing.T) {
	p := newPKI(t, "Pipe Input Root")
	leaf := p.ca.MustLeaf(t, "imap", testpki.DNSNames("localhost"))
	const input = "a1 LOGIN alice secret\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n"
	want := "a1 OK LOGIN alice secret completed.\r\na2 OK SELECT INBOX completed.\r\n* BYE Logging out\r\na3 OK LOGOUT completed.\r\n"
	for _, tc := range []struct {
		name  string
		bye   bool
		flags []string
		note  string // on stderr
	}{
		{"server closes", true, nil, ""},
		{"server stays", false, []string{"--idle-timeout", "300ms"}, "nothing from the server for 300ms after the end of input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startPlainServer(t, leaf, imapPreamble, slowIMAP(150*time.Millisecond, tc.bye))
			args := append([]string{"connect", "--starttls", "imap", "--ca", p.caFile}, tc.flags...)
			r := run(t, input, append(args, s.addr)...)
			if r.code != 0 || !strings.HasSuffix(r.stdout, "---\n"+want) {
				t.Errorf("exit %d, stdout does not end with every reply %q:\n%s\n%s", r.code, want, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.note) || (tc.note == "" && r.stderr != "") {
				t.Errorf("stderr %q, want %q", r.stderr, tc.note)
			}
		})
	}
}
