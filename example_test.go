package giotls_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/netip"
	"os"
	"sort"
	"strings"

	"golang.org/x/net/http2"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

// The examples talk to servers on 127.0.0.1 with certificates from a
// throwaway CA, which a Database made from its certificate trusts. Real
// programs leave the connection's database alone: the system's is the
// default.

// examplePKI is a throwaway CA and a database trusting it.
type examplePKI struct {
	ca *testpki.CA
	db giotls.Database
}

func newPKI(name string) *examplePKI {
	ca, err := testpki.NewCA(name)
	if err != nil {
		log.Fatal(err)
	}
	db, err := giotls.NewDatabaseFromPEM(ca.CertPEM())
	if err != nil {
		log.Fatal(err)
	}
	return &examplePKI{ca: ca, db: db}
}

// serverConfig is a server configuration with a certificate for names (DNS
// names or IP addresses).
func (p *examplePKI) serverConfig(names ...string) *tls.Config {
	var opts []testpki.Option
	for _, n := range names {
		if _, err := netip.ParseAddr(n); err == nil {
			opts = append(opts, testpki.IPAddresses(n))
		} else {
			opts = append(opts, testpki.DNSNames(n))
		}
	}
	leaf, err := p.ca.NewLeaf(names[0], opts...)
	if err != nil {
		log.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}
}

// exampleServer serves TLS on 127.0.0.1.
type exampleServer struct {
	*loopback.Server
	addr string
	port uint16
}

// serve accepts connections with cfg and hands each to handle after the
// handshake; a nil handle echoes lines.
func serve(cfg *tls.Config, handle func(*tls.Conn)) *exampleServer {
	if handle == nil {
		handle = func(c *tls.Conn) { io.Copy(c, c) }
	}
	ln, err := loopback.Listen("tcp4", 0, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		defer tc.Close()
		if tc.Handshake() == nil {
			handle(tc)
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	return &exampleServer{Server: ln, addr: ln.Addr().String(), port: ln.Port()}
}

// connect dials s and returns a client connection for identity, trusting
// db: what ExampleNewClientConnection shows step by step.
func connect(s *exampleServer, identity giotls.Connectable, db giotls.Database) *giotls.ClientConnection {
	base, err := loopback.Dial(context.Background(), s.addr)
	if err != nil {
		log.Fatal(err)
	}
	conn, err := giotls.NewClientConnection(base, identity)
	if err != nil {
		log.Fatal(err)
	}
	conn.SetDatabase(db)
	return conn
}

func ExampleNewClientConnection() {
	pki := newPKI("Example Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()

	base, err := net.Dial("tcp", srv.addr)
	if err != nil {
		log.Fatal(err)
	}
	// The identity gives SNI and is checked against the certificate.
	conn, err := giotls.NewClientConnection(base, giotls.NewNetworkAddress("localhost", srv.port))
	if err != nil {
		base.Close()
		log.Fatal(err)
	}
	defer conn.Close()
	conn.SetDatabase(pki.db) // the default is the system database

	// Handshake is optional: the first Read or Write runs it.
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("protocol:", conn.ProtocolVersion())
	fmt.Println("server:", conn.PeerCertificate().SubjectName())
	fmt.Println("certificate errors:", conn.PeerCertificateErrors())

	fmt.Fprintf(conn, "hello\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print("echo: ", line)
	// Output:
	// protocol: TLS 1.3
	// server: CN=localhost
	// certificate errors: none
	// echo: hello
}

// A stream ends cleanly only with the server's close_notify: then Read
// returns io.EOF itself, and io.ReadAll or io.Copy return nil. A server
// (or an attacker) that closes TCP without it gives ErrEOF, which
// errors.Is never matches to io.EOF, so no idiom takes a truncated download
// for a complete one. Protocols that mark their own end may set
// RequireCloseNotify(false): a TCP close is then io.EOF too.
func ExampleClientConnection_SetRequireCloseNotify() {
	pki := newPKI("Truncation Root")
	clean := serve(pki.serverConfig("localhost"), func(c *tls.Conn) {
		io.WriteString(c, "all of it") // then close_notify, when serve closes c
	})
	defer clean.Close()
	cut := serve(pki.serverConfig("localhost"), func(c *tls.Conn) {
		io.WriteString(c, "part of i")
		c.NetConn().Close() // no close_notify
	})
	defer cut.Close()

	for _, tt := range []struct {
		srv     *exampleServer
		require bool
	}{{clean, true}, {cut, true}, {cut, false}} {
		conn := connect(tt.srv, giotls.NewNetworkAddress("localhost", tt.srv.port), pki.db)
		conn.SetRequireCloseNotify(tt.require)
		data, err := io.ReadAll(conn)
		conn.Close()
		switch {
		case errors.Is(err, giotls.ErrEOF):
			fmt.Printf("%q: truncated (errors.Is(err, io.EOF): %v)\n", data, errors.Is(err, io.EOF))
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Printf("%q: complete\n", data)
		}
	}
	// Output:
	// "all of it": complete
	// "part of i": truncated (errors.Is(err, io.EOF): false)
	// "part of i": complete
}

// An FTP server such as vsftpd with require_ssl_reuse wants each data
// connection to resume the control connection's TLS session, although it
// goes to another port.
func ExampleClientConnection_CopySessionState() {
	pki := newPKI("FTP Root")
	cfg := pki.serverConfig("ftp.example") // one configuration: the same ticket keys
	greet := func(c *tls.Conn) {
		io.WriteString(c, "220 ready\r\n")
		io.Copy(io.Discard, c)
	}
	controlSrv, dataSrv := serve(cfg, greet), serve(cfg, greet)
	defer controlSrv.Close()
	defer dataSrv.Close()

	control := connect(controlSrv, giotls.NewNetworkAddress("ftp.example", controlSrv.port), pki.db)
	defer control.Close()
	// Reading brings the TLS 1.3 session tickets, which arrive after the
	// handshake.
	if _, err := bufio.NewReader(control).ReadString('\n'); err != nil {
		log.Fatal(err)
	}

	data := connect(dataSrv, giotls.NewNetworkAddress("ftp.example", dataSrv.port), pki.db)
	defer data.Close()
	data.CopySessionState(control)
	if err := data.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("control connection resumed:", control.SessionResumed())
	fmt.Println("data connection resumed:", data.SessionResumed())
	// Output:
	// control connection resumed: false
	// data connection resumed: true
}

func ExampleClientConnection_AcceptedCAs() {
	pki := newPKI("Server Root")
	cfg := pki.serverConfig("localhost")
	// The server asks for a client certificate from one of two CAs.
	cfg.ClientAuth = tls.RequestClientCert
	cfg.ClientCAs = x509.NewCertPool()
	for _, name := range []string{"Staff CA", "Partner CA"} {
		cfg.ClientCAs.AddCert(newPKI(name).ca.Cert)
	}
	srv := serve(cfg, nil)
	defer srv.Close()

	conn := connect(srv, giotls.NewNetworkAddress("localhost", srv.port), pki.db)
	defer conn.Close()
	fmt.Println("before the handshake:", conn.AcceptedCAs())
	// With no certificate set and no Interaction to supply one, the
	// handshake goes on without one: the server only requested it.
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	for _, dn := range conn.AcceptedCAs() {
		fmt.Println("accepted CA:", giotls.FormatDN(dn))
	}
	// Output:
	// before the handshake: []
	// accepted CA: CN=Staff CA
	// accepted CA: CN=Partner CA
}

// The identity can be set, or changed, before the handshake: here a
// connection made to an IP address is for the virtual host mail.example.
func ExampleClientConnection_SetServerIdentity() {
	pki := newPKI("Mail Root")
	cfg := pki.serverConfig("mail.example")
	sni := make(chan string, 1)
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		sni <- hello.ServerName
		return nil, nil
	}
	srv := serve(cfg, nil)
	defer srv.Close()

	conn := connect(srv, giotls.NewInetSocketAddress(netip.MustParseAddrPort(srv.addr)), pki.db)
	defer conn.Close()
	conn.SetServerIdentity(giotls.NewNetworkAddress("mail.example", 993))
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("identity:", conn.ServerIdentity())
	fmt.Printf("SNI the server saw: %q\n", <-sni)
	fmt.Println("certificate errors:", conn.PeerCertificateErrors())
	// Output:
	// identity: mail.example:993
	// SNI the server saw: "mail.example"
	// certificate errors: none
}

// The identity a connection was made for, or last set: here an SRV-style
// service identity, checked against its domain, which is also the SNI.
func ExampleClientConnection_ServerIdentity() {
	pki := newPKI("XMPP Root")
	cfg := pki.serverConfig("chat.example")
	sni := make(chan string, 1)
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		sni <- hello.ServerName
		return nil, nil
	}
	srv := serve(cfg, nil)
	defer srv.Close()

	conn := connect(srv, giotls.NewNetworkService("xmpp-client", "tcp", "chat.example"), pki.db)
	defer conn.Close()
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	id := conn.ServerIdentity().(*giotls.NetworkService)
	fmt.Println("service:", id.Service, id.Protocol, id.Domain)
	fmt.Printf("SNI the server saw: %q\n", <-sni)
	fmt.Println("certificate errors:", conn.PeerCertificateErrors())
	// Output:
	// service: xmpp-client tcp chat.example
	// SNI the server saw: "chat.example"
	// certificate errors: none
}

// UseSSL3 is false unless set; either way the connection negotiates TLS 1.2
// or 1.3.
func ExampleClientConnection_UseSSL3() {
	pki := newPKI("UseSSL3 Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()

	conn := connect(srv, giotls.NewNetworkAddress("localhost", srv.port), pki.db)
	defer conn.Close()
	fmt.Println("use-ssl3:", conn.UseSSL3())
	// Output:
	// use-ssl3: false
}

// ValidationFlags says which certificate errors fail the handshake (when
// no accept-certificate handler accepts them): all of them by default.
func ExampleClientConnection_ValidationFlags() {
	pki := newPKI("Validation Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()

	conn := connect(srv, giotls.NewNetworkAddress("localhost", srv.port), pki.db)
	defer conn.Close()
	fmt.Println(conn.ValidationFlags() == giotls.CertificateValidateAll)
	fmt.Println(conn.ValidationFlags())
	// Output:
	// true
	// unknown-ca|bad-identity|not-activated|expired|revoked|insecure|generic-error
}

// SSL 3.0 is long gone: the property is kept for GIO compatibility and does
// nothing.
func ExampleClientConnection_SetUseSSL3() {
	pki := newPKI("SSL3 Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()

	conn := connect(srv, giotls.NewNetworkAddress("localhost", srv.port), pki.db)
	defer conn.Close()
	conn.SetUseSSL3(true)
	fmt.Println("use-ssl3:", conn.UseSSL3())
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("protocol:", conn.ProtocolVersion())
	// Output:
	// use-ssl3: true
	// protocol: TLS 1.3
}

// validation-flags still masks errors, as in GIO, but cannot be used
// safely: a masked flag can hide another problem. An accept-certificate
// handler (OnAcceptCertificate) that looks at the errors is the way.
func ExampleClientConnection_SetValidationFlags() {
	pki := newPKI("Unknown Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()

	conn := connect(srv, giotls.NewNetworkAddress("localhost", srv.port), nil) // no database: unknown-ca
	defer conn.Close()
	conn.SetValidationFlags(giotls.CertificateValidateAll &^ giotls.CertificateUnknownCA)
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("accepted with errors:", conn.PeerCertificateErrors())
	// Output:
	// accepted with errors: unknown-ca
}

// tls-exporter for SCRAM-SHA-256-PLUS (RFC 9266) and friends.
func ExampleClientConnection_ChannelBindingData() {
	pki := newPKI("Binding Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()

	conn := connect(srv, giotls.NewNetworkAddress("localhost", srv.port), pki.db)
	defer conn.Close()
	if _, err := conn.ChannelBindingData(giotls.ChannelBindingTLSExporter); errors.Is(err, giotls.ErrBindingInvalidState) {
		fmt.Println("before the handshake: invalid state")
	}
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	cb, err := conn.ChannelBindingData(giotls.ChannelBindingTLSExporter)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("tls-exporter bytes:", len(cb))
	if _, err := conn.ChannelBindingData(giotls.ChannelBindingTLSUnique); errors.Is(err, giotls.ErrBindingNotSupported) {
		fmt.Println("tls-unique on", conn.ProtocolVersion(), "is not supported")
	}
	// Output:
	// before the handshake: invalid state
	// tls-exporter bytes: 32
	// tls-unique on TLS 1.3 is not supported
}

// A Dialer makes net/http speak HTTP/1.1 over giotls. Response.TLS stays nil;
// the connection, which httptrace hands over, has the TLS state.
func ExampleDialer() {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello over", r.Proto)
	}))
	srv.StartTLS()
	defer srv.Close()

	d := &giotls.Dialer{Database: giotls.NewDatabase([]*x509.Certificate{srv.Certificate()})}
	tr := &http.Transport{DialTLSContext: d.DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var conn *giotls.ClientConnection
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		conn = info.Conn.(*giotls.ClientConnection)
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(body))
	fmt.Println("Response.TLS is nil:", resp.TLS == nil)
	fmt.Println("from the connection:", conn.ProtocolVersion(), conn.PeerCertificateErrors())
	// Output:
	// hello over HTTP/1.1
	// Response.TLS is nil: true
	// from the connection: TLS 1.3 none
}

// golang.org/x/net/http2's Transport runs over any net.Conn, and fills
// Response.TLS from its ConnectionState method. (x/net marks this Transport
// deprecated in favour of net/http's, which speaks HTTP/2 only over
// *tls.Conn.)
func ExampleDialer_http2() {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello over", r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	d := &giotls.Dialer{
		Database:            giotls.NewDatabase([]*x509.Certificate{srv.Certificate()}),
		AdvertisedProtocols: []string{"h2"},
	}
	tr := &http2.Transport{DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(body))
	fmt.Println("ALPN:", resp.TLS.NegotiatedProtocol)
	// Output:
	// hello over HTTP/2.0
	// ALPN: h2
}

// Key logs for Wireshark are written only where a program says. To honour
// SSLKEYLOGFILE as curl and browsers do, a program opens it itself:
//
//	if path := os.Getenv("SSLKEYLOGFILE"); path != "" {
//		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
//		...
//		d.KeyLogWriter = f
//	}
//
// A Logger receives the handshake's decisions at debug level.
func ExampleDialer_keyLog() {
	pki := newPKI("Debug Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()

	var keys bytes.Buffer
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.MessageKey, "errors", "accepted", "resumed":
				return a
			}
			return slog.Attr{} // time, level, identity (with its port), ...
		},
	}))
	d := &giotls.Dialer{Database: pki.db, KeyLogWriter: &keys, Logger: logger}
	conn, err := d.DialContext(context.Background(), "tcp", fmt.Sprintf("localhost:%d", srv.port))
	if err != nil {
		log.Fatal(err)
	}
	conn.Close()

	var labels []string
	for _, line := range strings.Split(strings.TrimSpace(keys.String()), "\n") {
		labels = append(labels, strings.Fields(line)[0])
	}
	sort.Strings(labels)
	fmt.Println(strings.Join(labels, "\n"))
	// Output:
	// msg="giotls: server certificate verified" errors=none accepted=true resumed=false
	// msg="giotls: handshake complete" resumed=false
	// CLIENT_HANDSHAKE_TRAFFIC_SECRET
	// CLIENT_TRAFFIC_SECRET_0
	// SERVER_HANDSHAKE_TRAFFIC_SECRET
	// SERVER_TRAFFIC_SECRET_0
}

// SMTP's STARTTLS (RFC 3207): the conversation starts in plain text over a
// buffered reader, and whatever that reader took past the 220 reply goes to
// TLS with PrefixConn.
func ExamplePrefixConn() {
	pki := newPKI("Mail Root")
	srv := smtpServer(pki.serverConfig("mail.example"))
	defer srv.Close()

	raw, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	br := bufio.NewReader(raw)
	reply := func() string {
		line, err := br.ReadString('\n')
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("S:", strings.TrimRight(line, "\r\n"))
		return line
	}
	reply()
	fmt.Fprintf(raw, "EHLO client.example\r\n")
	for strings.HasPrefix(reply(), "250-") {
	}
	fmt.Fprintf(raw, "STARTTLS\r\n")
	if !strings.HasPrefix(reply(), "220 ") {
		log.Fatal("STARTTLS refused")
	}

	rest, _ := br.Peek(br.Buffered())
	conn, err := giotls.NewClientConnection(giotls.PrefixConn(raw, rest), giotls.NewNetworkAddress("mail.example", 25))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	conn.SetDatabase(pki.db)
	br = bufio.NewReader(conn) // the old reader is done with
	fmt.Fprintf(conn, "EHLO client.example\r\n")
	reply()
	fmt.Fprintf(conn, "QUIT\r\n")
	reply()
	fmt.Println("over", conn.ProtocolVersion())
	// Output:
	// S: 220 mail.example ESMTP
	// S: 250-mail.example
	// S: 250 STARTTLS
	// S: 220 2.0.0 Ready to start TLS
	// S: 250 mail.example
	// S: 221 2.0.0 Bye
	// over TLS 1.3
}

// smtpServer is a minimal SMTP server offering STARTTLS with cfg, for one
// client. It reads a byte at a time, so it never takes bytes meant for TLS.
func smtpServer(cfg *tls.Config) *loopback.Server {
	s, err := loopback.Listen("tcp4", 0, func(c net.Conn) {
		var rw io.ReadWriter = c
		overTLS := false
		readLine := func() string {
			var line []byte
			b := make([]byte, 1)
			for {
				if _, err := rw.Read(b); err != nil {
					return ""
				}
				if b[0] == '\n' {
					return strings.TrimSuffix(string(line), "\r")
				}
				line = append(line, b[0])
			}
		}
		io.WriteString(rw, "220 mail.example ESMTP\r\n")
		for {
			switch cmd := readLine(); {
			case strings.HasPrefix(cmd, "EHLO") && !overTLS:
				io.WriteString(rw, "250-mail.example\r\n250 STARTTLS\r\n")
			case strings.HasPrefix(cmd, "EHLO"):
				io.WriteString(rw, "250 mail.example\r\n")
			case cmd == "STARTTLS" && !overTLS:
				io.WriteString(rw, "220 2.0.0 Ready to start TLS\r\n")
				tc := tls.Server(c, cfg)
				defer tc.Close()
				rw, overTLS = tc, true
			case cmd == "QUIT":
				io.WriteString(rw, "221 2.0.0 Bye\r\n")
				return
			default:
				return
			}
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	return s
}
