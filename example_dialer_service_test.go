package giotls_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/dnstest"
)

// closedPort is a port on 127.0.0.1 that nothing listens on.
func closedPort() uint16 {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// A DNS server on loopback stands in for example.org's: its SRV records
// send IMAPS clients to mail1.example.org first, which is down, then to
// mail2.example.org. The certificate is for example.org, the domain asked
// for, whichever target answers.
func ExampleDialer_DialService() {
	p := newPKI("Service CA")
	s := serve(p.serverConfig("example.org"), nil)
	defer s.Close()
	dns, err := dnstest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer dns.Close()
	err = dns.AddRecords(
		fmt.Sprintf("_imaps._tcp.example.org. 60 IN SRV 10 0 %d mail1.example.org.", closedPort()),
		fmt.Sprintf("_imaps._tcp.example.org. 60 IN SRV 20 0 %d mail2.example.org.", s.port),
		"mail1.example.org. 60 IN A 127.0.0.1",
		"mail2.example.org. 60 IN A 127.0.0.1",
	)
	if err != nil {
		log.Fatal(err)
	}

	d := &giotls.Dialer{Database: p.db, Resolver: dns.Resolver("udp")}
	conn, err := d.DialService(context.Background(), "imaps", "tcp", "example.org")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println("identity:", conn.ServerIdentity())
	fmt.Println("certificate problems:", conn.PeerCertificateErrors())
	// Output:
	// identity: _imaps._tcp.example.org
	// certificate problems: none
}

// DialURI takes the host and port from a URI, and the default port when it
// has none, as GIO's g_socket_client_connect_to_uri.
func ExampleDialer_DialURI() {
	p := newPKI("URI CA")
	s := serve(p.serverConfig("localhost"), nil)
	defer s.Close()

	d := &giotls.Dialer{Database: p.db}
	conn, err := d.DialURI(context.Background(), "https://localhost/index.html", s.port)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println("connected:", conn.ServerIdentity().(*giotls.NetworkAddress).Hostname, conn.PeerCertificateErrors())

	_, err = d.DialURI(context.Background(), "localhost:443", 443)
	fmt.Println(err)
	// Output:
	// connected: localhost none
	// giotls: invalid URI "localhost:443": want scheme://host[:port]
}

// Event reports each step of a dial, as GIO's GSocketClient::event signal.
// At tls-handshaking the connection can still be configured, as GIO
// programs do in their handler.
func ExampleDialer_events() {
	p := newPKI("Event CA")
	s := serve(p.serverConfig("localhost"), nil)
	defer s.Close()

	d := &giotls.Dialer{Event: func(e giotls.SocketClientEvent, c giotls.Connectable, conn net.Conn) {
		fmt.Println(e, c.(*giotls.NetworkAddress).Hostname)
		if e == giotls.SocketClientTLSHandshaking {
			conn.(*giotls.ClientConnection).SetDatabase(p.db)
		}
	}}
	conn, err := d.DialHost(context.Background(), "localhost", s.port)
	if err != nil {
		log.Fatal(err)
	}
	conn.Close()
	// Output:
	// resolving localhost
	// resolved localhost
	// connecting localhost
	// connected localhost
	// tls-handshaking localhost
	// tls-handshaked localhost
	// complete localhost
}
