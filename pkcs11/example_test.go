package pkcs11_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
	"github.com/giotls/giotls/pkcs11"
)

// pinDialog is an Interaction that answers a token's PIN request, as a
// program would by asking its user.
type pinDialog struct{}

func (pinDialog) AskPassword(_ context.Context, p *giotls.Password) (giotls.InteractionResult, error) {
	if p.Flags&giotls.PasswordPKCS11User == 0 {
		return giotls.InteractionUnhandled, nil
	}
	fmt.Printf("asked: %s\n", p.Description)
	p.SetValue([]byte("1234"))
	return giotls.InteractionHandled, nil
}

func (pinDialog) RequestCertificate(context.Context, *giotls.ClientConnection) (giotls.InteractionResult, error) {
	return giotls.InteractionUnhandled, nil
}

// A client certificate whose key stays on a smart card or HSM: the
// certificate is read from the token, the PIN is asked through the
// connection's Interaction when the server asks for the certificate, and
// the handshake's signature is made on the token.
func ExampleNewCertificate() {
	module, serverCfg, done := exampleToken() // a SoftHSM2 token and a server requiring a client certificate
	defer done()

	cert, err := pkcs11.NewCertificate(context.Background(),
		"pkcs11:token=example;object=me;type=cert", "", // the key: the same object, type=private
		&pkcs11.Options{Module: module})
	if err != nil {
		log.Fatal(err)
	}
	defer pkcs11.CloseCertificate(cert)
	fmt.Println("certificate:", cert.SubjectName())

	ln, err := loopback.Listen("tcp", 0, func(c net.Conn) {
		s := tls.Server(c, serverCfg)
		if s.Handshake() == nil {
			fmt.Println("server authenticated:", s.ConnectionState().PeerCertificates[0].Subject.CommonName)
			s.Write([]byte("hello"))
		}
		s.Close()
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()

	raw, err := loopback.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	conn, err := giotls.DefaultBackend().NewClientConnection(raw, giotls.NewNetworkAddress("localhost", ln.Port()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	conn.SetDatabase(exampleServerCA)
	conn.SetCertificate(cert)
	conn.SetInteraction(pinDialog{})
	if _, err := io.ReadAll(conn); err != nil {
		log.Fatal(err)
	}
	// Output:
	// certificate: CN=me
	// asked: PIN for the token "example"
	// server authenticated: me
}

// exampleServerCA trusts the example server's certificate.
var exampleServerCA giotls.Database

// exampleToken initialises a SoftHSM2 token labelled "example" (user PIN
// 1234) holding a client key and certificate labelled "me", and returns
// the module, a server configuration requiring that certificate, and a
// function removing the token.
func exampleToken() (module string, server *tls.Config, done func()) {
	dir, err := os.MkdirTemp("", "pkcs11-example")
	if err != nil {
		log.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	os.Mkdir(filepath.Join(dir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	old, had := os.LookupEnv("SOFTHSM2_CONF")
	os.Setenv("SOFTHSM2_CONF", conf)
	done = func() {
		if had {
			os.Setenv("SOFTHSM2_CONF", old)
		} else {
			os.Unsetenv("SOFTHSM2_CONF")
		}
		os.RemoveAll(dir)
	}
	module = "/usr/lib/softhsm/libsofthsm2.so"
	ca, err := testpki.NewCA("Example Client CA")
	if err != nil {
		log.Fatal(err)
	}
	key, err := testpki.NewKey(testpki.ECDSAP256)
	if err != nil {
		log.Fatal(err)
	}
	leaf, err := ca.NewLeaf("me", testpki.WithSigner(key), testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))
	if err != nil {
		log.Fatal(err)
	}
	keyPEM, _ := testpki.EncodeKey(key)
	os.WriteFile(filepath.Join(dir, "me.key"), keyPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "me.der"), leaf.Cert.Raw, 0o600)
	id := hex.EncodeToString([]byte{1})
	for _, cmd := range [][]string{
		{"softhsm2-util", "--init-token", "--free", "--label", "example", "--so-pin", "0000", "--pin", "1234"},
		{"softhsm2-util", "--import", filepath.Join(dir, "me.key"), "--token", "example", "--label", "me", "--id", id, "--pin", "1234"},
		{"pkcs11-tool", "--module", module, "--token-label", "example", "--login", "--pin", "1234",
			"--write-object", filepath.Join(dir, "me.der"), "--type", "cert", "--label", "me", "--id", id},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			log.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}
	serverCA, err := testpki.NewCA("Example Server CA")
	if err != nil {
		log.Fatal(err)
	}
	if exampleServerCA, err = giotls.NewDatabaseFromPEM(serverCA.CertPEM()); err != nil {
		log.Fatal(err)
	}
	serverLeaf, err := serverCA.NewLeaf("localhost", testpki.DNSNames("localhost"))
	if err != nil {
		log.Fatal(err)
	}
	server = &tls.Config{
		Certificates: []tls.Certificate{serverLeaf.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
	}
	return module, server, done
}

// A PKCS#11 URI (RFC 7512) names a token and an object on it; its query
// says which module to load and, optionally, the PIN.
func ExampleParseURI() {
	u, err := pkcs11.ParseURI("pkcs11:token=My%20Card;object=sign%20key;type=private?module-path=/usr/lib/opensc-pkcs11.so")
	if err != nil {
		log.Fatal(err)
	}
	token, _ := u.Get("token")
	module, _ := u.Get("module-path")
	fmt.Println(token)
	fmt.Println(module)
	// Output:
	// My Card
	// /usr/lib/opensc-pkcs11.so
}
