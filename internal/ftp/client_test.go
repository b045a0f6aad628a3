package ftp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

func TestParseEPSV(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		port int
		ok   bool
	}{
		{"Entering Extended Passive Mode (|||6446|)", 6446, true},
		{"Entering Extended Passive Mode (!!!1!)", 1, true},
		{"Entering Extended Passive Mode (|||0|)", 0, false},
		{"Entering Extended Passive Mode (|||70000|)", 0, false},
		{"Entering Extended Passive Mode (|1|2|3|)", 0, false},
		{"Entering Extended Passive Mode", 0, false},
		{"(|||", 0, false},
		{")(", 0, false},
	} {
		port, err := parseEPSV(tc.msg)
		if (err == nil) != tc.ok || port != tc.port {
			t.Errorf("parseEPSV(%q) = %d, %v; want %d, ok %v", tc.msg, port, err, tc.port, tc.ok)
		}
	}
}

func TestParsePASV(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		port int
		ok   bool
	}{
		{"Entering Passive Mode (127,0,0,1,195,80).", 195<<8 | 80, true},
		{"Entering Passive Mode 10,0,0,1,4,1", 4<<8 | 1, true},
		{"Entering Passive Mode (127,0,0,1,256,1)", 0, false},
		{"Entering Passive Mode (127,0,0,1,0,0)", 0, false},
		{"Entering Passive Mode (127,0,0,1,4)", 0, false},
		{"Entering Passive Mode (a,b,c,d,e,f)", 0, false},
		{"", 0, false},
	} {
		port, err := parsePASV(tc.msg)
		if (err == nil) != tc.ok || port != tc.port {
			t.Errorf("parsePASV(%q) = %d, %v; want %d, ok %v", tc.msg, port, err, tc.port, tc.ok)
		}
	}
}

func TestReplyCode(t *testing.T) {
	for _, tc := range []struct {
		line string
		code int
		ok   bool
	}{
		{"220 ready", 220, true},
		{"211-Features:", 211, true},
		{"600 nope", 0, false},
		{"22 short", 0, false},
		{"abc text", 0, false},
		{"220", 0, false},
	} {
		code, err := replyCode(tc.line)
		if (err == nil) != tc.ok || code != tc.code {
			t.Errorf("replyCode(%q) = %d, %v; want %d, ok %v", tc.line, code, err, tc.code, tc.ok)
		}
	}
}

// fakeServer is an in-process FTPS server for what vsftpd does not do:
// refusing EPSV, MLSD, refusing AUTH TLS. Like vsftpd with
// require_ssl_reuse, it refuses data connections that do not resume.
type fakeServer struct {
	t        *testing.T
	ln       net.Listener
	cfg      *tls.Config
	db       giotls.Database
	noEPSV   bool
	noAuth   bool
	truncate bool   // end data connections without close_notify
	cutOn    string // a command at which the control connection ends without close_notify
	// storReply is the final reply to STOR ("226 done" if empty); stored
	// receives what each upload's data connection carried.
	storReply string
	stored    chan serverUpload
	// refusal is the reply to a data connection that did not resume
	// (vsftpd's 522 if empty).
	refusal  string
	files    map[string]string
	commands chan string
}

func newFakeServer(t *testing.T) *fakeServer {
	ca := testpki.MustCA(t, "Fake FTP Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{
		t: t, ln: ln,
		cfg:      &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}},
		db:       giotls.NewDatabase([]*x509.Certificate{ca.Cert}),
		files:    map[string]string{"a.txt": "alpha\n"},
		commands: make(chan string, 100),
		stored:   make(chan serverUpload, 10),
	}
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *fakeServer) start() {
	go func() {
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			go s.session(c)
		}
	}()
}

func (s *fakeServer) session(raw net.Conn) {
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	var conn net.Conn = raw
	r := bufio.NewReader(conn)
	say := func(format string, args ...any) { fmt.Fprintf(conn, format+"\r\n", args...) }
	say("220-fake FTP server\r\n220 ready")
	var dataLn net.Listener
	defer func() {
		if dataLn != nil {
			dataLn.Close()
		}
	}()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd, arg, _ := strings.Cut(line, " ")
		s.commands <- cmd
		if cmd == s.cutOn {
			return // raw closes: no close_notify
		}
		switch cmd {
		case "AUTH":
			if s.noAuth {
				say("502 no TLS here")
				continue
			}
			say("234 go")
			tc := tls.Server(raw, s.cfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, r = tc, bufio.NewReader(tc)
		case "USER":
			say("331 password")
		case "PASS":
			say("230 in")
		case "PBSZ", "PROT", "TYPE":
			say("200 ok")
		case "FEAT":
			say("211-Features:\r\n MLST type*;size*;\r\n EPSV\r\n211 End")
		case "EPSV", "PASV":
			if cmd == "EPSV" && s.noEPSV {
				say("500 unknown command")
				continue
			}
			if dataLn != nil {
				dataLn.Close()
			}
			dataLn, _ = net.Listen("tcp", "127.0.0.1:0")
			p := dataLn.Addr().(*net.TCPAddr).Port
			if cmd == "EPSV" {
				say("229 Entering Extended Passive Mode (|||%d|)", p)
			} else {
				// A wrong address: the client must use the control one.
				say("227 Entering Passive Mode (192,0,2,1,%d,%d).", p>>8, p&255)
			}
		case "MLSD", "RETR":
			body, ok := s.files[arg]
			if cmd == "MLSD" {
				body, ok = "type=file;size=6; a.txt\r\n", true
			}
			if !ok {
				say("550 no such file")
				continue
			}
			d, err := dataLn.Accept()
			if err != nil {
				return
			}
			say("150 here it comes")
			tc := tls.Server(d, s.cfg)
			d.SetDeadline(time.Now().Add(10 * time.Second))
			if err := tc.Handshake(); err != nil || !tc.ConnectionState().DidResume {
				d.Close()
				s.refuse(say)
				return
			}
			io.WriteString(tc, body)
			if s.truncate {
				d.Close()
			} else {
				tc.Close()
			}
			say("226 done")
		case "STOR":
			d, err := dataLn.Accept()
			if err != nil {
				return
			}
			say("150 send it")
			tc := tls.Server(d, s.cfg)
			d.SetDeadline(time.Now().Add(10 * time.Second))
			if err := tc.Handshake(); err != nil || !tc.ConnectionState().DidResume {
				d.Close()
				say("522 SSL connection failed: session reuse required")
				return
			}
			n, err := io.Copy(io.Discard, tc) // nil: it ended with close_notify
			tc.Close()
			s.stored <- serverUpload{n, err}
			if s.storReply == "" {
				say("226 done")
			} else {
				say("%s", s.storReply)
			}
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 %s not implemented", cmd)
		}
	}
}

// refuse answers a data connection that did not resume the session.
func (s *fakeServer) refuse(say func(string, ...any)) {
	if s.refusal != "" {
		say("%s", s.refusal)
		return
	}
	say("522 SSL connection failed: session reuse required")
}

func (s *fakeServer) config() Config {
	backend := giotls.NewBackend(giotls.BackendOptions{SessionCache: giotls.NewSessionCache(giotls.SessionCacheOptions{})})
	return Config{
		Addr: s.ln.Addr().String(), ServerName: "localhost", Timeout: 10 * time.Second,
		TLS: func(base net.Conn, id giotls.Connectable) (*giotls.ClientConnection, error) {
			c, err := backend.NewClientConnection(base, id)
			if err == nil {
				c.SetDatabase(s.db)
			}
			return c, err
		},
	}
}

func TestPASVFallbackAndMLSD(t *testing.T) {
	s := newFakeServer(t)
	s.noEPSV = true
	s.start()
	ctx := context.Background()
	c, err := Dial(ctx, s.config())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var list bytes.Buffer
	if err := c.List(ctx, "", &list); err != nil {
		t.Fatal(err)
	}
	if list.String() != "type=file;size=6; a.txt\r\n" {
		t.Errorf("MLSD gave %q", list.String())
	}
	if d := c.LastData(); d.Passive != "PASV" || !d.Resumed || !strings.HasPrefix(d.Addr, "127.0.0.1:") {
		t.Errorf("data connection %+v; want PASV to 127.0.0.1 (not the address in the reply), resumed", d)
	}
	var got bytes.Buffer
	if _, err := c.Retrieve(ctx, "a.txt", &got); err != nil || got.String() != "alpha\n" {
		t.Errorf("RETR = %q, %v", got.String(), err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Error(err)
	}
	var seen []string
	for len(s.commands) > 0 {
		seen = append(seen, <-s.commands)
	}
	want := "AUTH USER PASS PBSZ PROT TYPE FEAT EPSV PASV MLSD PASV RETR QUIT"
	if strings.Join(seen, " ") != want {
		t.Errorf("commands %q, want %q (EPSV tried once, then PASV)", strings.Join(seen, " "), want)
	}
}

func TestNoPlainTextFallback(t *testing.T) {
	s := newFakeServer(t)
	s.noAuth = true
	s.start()
	_, err := Dial(context.Background(), s.config())
	var fe *Error
	if !errors.As(err, &fe) || fe.Command != "AUTH TLS" || fe.Code != 502 {
		t.Fatalf("Dial = %v; want the AUTH TLS refusal", err)
	}
	for len(s.commands) > 0 {
		if cmd := <-s.commands; cmd != "AUTH" {
			t.Errorf("the client sent %s in plain text after AUTH TLS was refused", cmd)
		}
	}
}

func TestBadCertificateStopsBeforeLogin(t *testing.T) {
	s := newFakeServer(t)
	s.start()
	cfg := s.config()
	cfg.ServerName = "elsewhere.example"
	_, err := Dial(context.Background(), cfg)
	if !errors.Is(err, giotls.ErrBadCertificate) {
		t.Fatalf("Dial = %v; want ErrBadCertificate", err)
	}
	for len(s.commands) > 0 {
		if cmd := <-s.commands; cmd != "AUTH" {
			t.Errorf("the client sent %s to a server whose certificate was rejected", cmd)
		}
	}
}

func TestCancel(t *testing.T) {
	// A server that never answers: Dial must end when the context does.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Dial(ctx, Config{Addr: ln.Addr().String(), TLS: func(base net.Conn, id giotls.Connectable) (*giotls.ClientConnection, error) {
		return giotls.NewClientConnection(base, id)
	}})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("Dial = %v after %v; want the context's error promptly", err, time.Since(start))
	}
}

func TestBrokenServers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		greet string
		want  string
	}{
		{"garbage", "hello there\r\n", "malformed reply"},
		{"short", "22\r\n", "malformed reply"},
		{"code out of range", "999 what\r\n", "malformed reply"},
		{"endless line", "220 " + strings.Repeat("x", maxLine+10), "longer than"},
		{"closed", "", "closed the connection"},
		{"refusal", "421 too many users\r\n", "421"},
		{"unterminated multi-line", "220-hello\r\n220-still\r\n", "closed the connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				c, err := ln.Accept()
				if err != nil {
					return
				}
				io.WriteString(c, tc.greet)
				c.Close()
			}()
			_, err = Dial(context.Background(), Config{Addr: ln.Addr().String(), Timeout: 5 * time.Second,
				TLS: func(base net.Conn, id giotls.Connectable) (*giotls.ClientConnection, error) {
					return giotls.NewClientConnection(base, id)
				}})
			<-done
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Dial = %v; want an error about %q", err, tc.want)
			}
		})
	}
}

// TestTruncatedDownload: a data connection that ends without close_notify
// may have been cut by an attacker; the server's 226 does not make the
// download good.
func TestTruncatedDownload(t *testing.T) {
	s := newFakeServer(t)
	s.truncate = true
	s.start()
	ctx := context.Background()
	c, err := Dial(ctx, s.config())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got bytes.Buffer
	_, err = c.Retrieve(ctx, "a.txt", &got)
	if !errors.Is(err, giotls.ErrEOF) || !strings.Contains(err.Error(), "replied 226") {
		t.Errorf("Retrieve = %v; want giotls.ErrEOF despite the 226", err)
	}
	if errors.Is(err, io.EOF) {
		t.Errorf("Retrieve = %v matches io.EOF: a caller could take the download for complete", err)
	}
}

// TestTruncatedControl: a control connection that ends without
// close_notify while a reply is awaited fails the command with ErrEOF,
// saying that the server closed it, and not matching io.EOF.
func TestTruncatedControl(t *testing.T) {
	s := newFakeServer(t)
	s.cutOn = "RETR"
	s.start()
	ctx := context.Background()
	c, err := Dial(ctx, s.config())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Retrieve(ctx, "a.txt", io.Discard)
	if !errors.Is(err, giotls.ErrEOF) || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "the server closed the connection") {
		t.Errorf("Retrieve = %v; want giotls.ErrEOF (not io.EOF) saying the server closed the connection", err)
	}
}

// serverUpload is what the fake server read from an upload's data connection.
type serverUpload struct {
	n   int64
	err error
}

// TestUploadNeedsTransferComplete: an upload ends with close_notify, which
// the server sees; it succeeds only on a transfer-complete reply (226, or
// 250), not on any other positive one.
func TestUploadNeedsTransferComplete(t *testing.T) {
	for _, tc := range []struct {
		reply string
		ok    bool
	}{
		{"226 Transfer complete", true},
		{"250 File stored", true},
		{"200 Whatever", false},
		{"451 Local error", false},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			s := newFakeServer(t)
			s.storReply = tc.reply
			s.start()
			ctx := context.Background()
			c, err := Dial(ctx, s.config())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			data := bytes.Repeat([]byte("upload "), 10000)
			n, err := c.Store(ctx, "up.bin", bytes.NewReader(data))
			if got := <-s.stored; got.n != int64(len(data)) || got.err != nil {
				t.Errorf("the server read %d of %d bytes, then %v; want all, then close_notify", got.n, len(data), got.err)
			}
			if tc.ok && (err != nil || n != int64(len(data))) {
				t.Errorf("Store = %d, %v; want %d bytes, no error", n, err, len(data))
			}
			code, _, _ := strings.Cut(tc.reply, " ")
			var fe *Error
			if !tc.ok && (!errors.As(err, &fe) || fmt.Sprint(fe.Code) != code) {
				t.Errorf("Store = %d, %v; want the %s reply as an *Error", n, err, code)
			}
		})
	}
}

// TestSessionReuseRefusal: a server that requires TLS session reuse on data
// connections but issues no session tickets (proftpd's mod_tls with
// TLSSessionTickets off: it resumes TLS 1.2 by session ID only, which
// crypto/tls cannot do) refuses every data connection. The error must say
// so, and what the server's operator can change, without -v; the server's
// reply stays reachable.
func TestSessionReuseRefusal(t *testing.T) {
	proftpd := "425 Unable to build data connection: Operation not permitted"
	vsftpd := "522 SSL connection failed: session reuse required"
	for _, tc := range []struct {
		name    string
		version uint16
		refusal string
		code    int
		want    []string
	}{
		{"TLS 1.2, proftpd", tls.VersionTLS12, proftpd, 425,
			[]string{"requires TLS session reuse on data connections", "did not resume the control connection's TLS 1.2 session",
				"resumes TLS 1.2 only with session tickets", "TLSSessionTickets on", "or TLS 1.3", proftpd}},
		{"TLS 1.2, vsftpd", tls.VersionTLS12, vsftpd, 522,
			[]string{"requires TLS session reuse on data connections", "resumes TLS 1.2 only with session tickets", vsftpd}},
		{"TLS 1.3, proftpd", tls.VersionTLS13, proftpd, 425,
			[]string{"requires TLS session reuse on data connections", "did not resume the control connection's TLS 1.3 session", proftpd}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFakeServer(t)
			s.cfg.MaxVersion = tc.version
			s.cfg.SessionTicketsDisabled = true
			s.refusal = tc.refusal
			s.start()
			ctx := context.Background()
			c, err := Dial(ctx, s.config())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var got bytes.Buffer
			_, err = c.Retrieve(ctx, "a.txt", &got)
			if err == nil {
				t.Fatal("Retrieve succeeded; want the refusal")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			var ge *giotls.Error
			if !errors.As(err, &ge) || ge.Code != giotls.ErrorMisc {
				t.Errorf("error %v is not a *giotls.Error", err)
			}
			var fe *Error
			if !errors.As(err, &fe) || fe.Code != tc.code {
				t.Errorf("error %v does not hold the server's %d reply", err, tc.code)
			}
			if d := c.LastData(); d.Resumed || !d.CopiedSession {
				t.Errorf("data connection %+v; want the session copied and not resumed", d)
			}
		})
	}
}
