package giotls_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testproxy"
)

// A Dialer reaches servers through the proxy its Proxy field chooses; here
// a SOCKS5 proxy on loopback that can reach "dest.test", a name only it
// knows. The certificate is checked against the destination, never the
// proxy. ProxyFromEnvironment, in Proxy's place, reads HTTPS_PROXY,
// ALL_PROXY and NO_PROXY instead.
func ExampleDialer_proxy() {
	pki := newPKI("Example Proxy CA")
	srv := serve(pki.serverConfig("dest.test"), nil)
	defer srv.Close()
	proxy, err := testproxy.ListenSOCKS5("socks5h", testproxy.Options{Route: func(string) string { return srv.addr }})
	if err != nil {
		log.Fatal(err)
	}
	defer proxy.Close()

	d := &giotls.Dialer{
		Database: pki.db,
		Proxy: func(ctx context.Context, network, addr string) (*url.URL, error) {
			return proxy.URL, nil // "socks5h://127.0.0.1:PORT"; nil would dial directly
		},
	}
	conn, err := d.DialContext(context.Background(), "tcp", "dest.test:443")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintln(conn, "hello")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print("echoed: ", line)
	cc := conn.(*giotls.ClientConnection)
	fmt.Println("verified as", cc.ServerIdentity(), "with errors:", cc.PeerCertificateErrors())
	fmt.Println("the proxy was asked for:", proxy.Requests()[0].Destination)

	// A proxy that refuses is a *giotls.ProxyError inside the error.
	refusing, err := testproxy.ListenHTTP(testproxy.Options{Refuse: 403})
	if err != nil {
		log.Fatal(err)
	}
	defer refusing.Close()
	_, err = giotls.DialProxy(context.Background(), refusing.URL, nil, "tcp", "dest.test:443")
	var pe *giotls.ProxyError
	if errors.As(err, &pe) {
		fmt.Println("refused:", pe.StatusCode, pe.Reply)
	}
	// Output:
	// echoed: hello
	// verified as dest.test:443 with errors: none
	// the proxy was asked for: dest.test:443
	// refused: 403 403 Forbidden
}
