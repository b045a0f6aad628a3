package giotls_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/loopback"
)

// The examples of the calls a GIO program porter looks for (README's
// parity table).

// A backend's default database verifies every connection of it that sets
// none (g_tls_backend_set_default_database); nil goes back to the system's.
func ExampleBackend_SetDefaultDatabase() {
	pki := newPKI("Backend Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()

	backend := giotls.NewBackend(giotls.BackendOptions{})
	backend.SetDefaultDatabase(pki.db) // or BackendOptions{DefaultDatabase: pki.db}

	base, err := loopback.Dial(context.Background(), srv.addr)
	if err != nil {
		log.Fatal(err)
	}
	conn, err := backend.NewClientConnection(base, giotls.NewNetworkAddress("localhost", srv.port))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("certificate errors:", conn.PeerCertificateErrors())
	// Output:
	// certificate errors: none
}

// A certificate reads back as GIO's certificate-pem, private-key-pem and
// private-key: the leaf in PEM, the key as unencrypted PKCS#8 whatever
// format it came in; nil for a key that cannot be exported.
func ExampleCertificate_PrivateKeyPEM() {
	pki := newPKI("Read Back Root")
	leaf, err := pki.ca.NewLeaf("client")
	if err != nil {
		log.Fatal(err)
	}
	cert, err := giotls.NewCertificateFromX509(leaf.Chain, leaf.Key)
	if err != nil {
		log.Fatal(err)
	}
	certBlock, _ := pem.Decode(cert.CertificatePEM())
	keyBlock, _ := pem.Decode(cert.PrivateKeyPEM())
	fmt.Println(certBlock.Type, keyBlock.Type)
	_, err = x509.ParsePKCS8PrivateKey(cert.PrivateKeyDER())
	fmt.Println("PKCS#8:", err == nil)

	// A key giotls cannot see inside (a PKCS#11 token's) is not exported.
	opaque, err := giotls.NewCertificateFromX509(leaf.Chain, struct{ crypto.Signer }{leaf.Key})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(opaque.HasPrivateKey(), opaque.PrivateKeyPEM() == nil)
	// Output:
	// CERTIFICATE PRIVATE KEY
	// PKCS#8: true
	// true true
}

// Several accept-certificate handlers, as GIO's signal has: each is asked in
// turn until one accepts; each can be disconnected.
func ExampleClientConnection_ConnectAcceptCertificate() {
	pki := newPKI("Handlers Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()
	other := newPKI("Another Root") // does not trust the server

	conn := connect(srv, giotls.NewNetworkAddress("localhost", srv.port), other.db)
	defer conn.Close()
	logged := conn.ConnectAcceptCertificate(func(peer *giotls.Certificate, errs giotls.CertificateFlags) bool {
		fmt.Println("logged:", peer.SubjectName(), errs)
		return false // no opinion: the next handler decides
	})
	defer logged()
	pinned := pki.ca.Cert // e.g. a CA the user accepted once
	conn.ConnectAcceptCertificate(func(peer *giotls.Certificate, errs giotls.CertificateFlags) bool {
		return errs == giotls.CertificateUnknownCA && peer.X509().CheckSignatureFrom(pinned) == nil
	})
	unwatch := conn.ConnectNotify(func(property string) {
		if property == "peer-certificate-errors" {
			fmt.Println("notified:", property)
		}
	})
	defer unwatch()
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("accepted:", conn.PeerCertificateErrors())
	// Output:
	// logged: CN=localhost unknown-ca
	// notified: peer-certificate-errors
	// accepted: unknown-ca
}

// A file database tells its anchors file (GIO's anchors property) and names
// the certificates it holds by handles a program can store and look up
// later, as g_tls_database_create_certificate_handle does.
func ExampleCertificateHandles() {
	pki := newPKI("Handles Root")
	dir, err := os.MkdirTemp("", "handles")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "anchors.pem")
	if err := os.WriteFile(path, pki.ca.CertPEM(), 0o600); err != nil {
		log.Fatal(err)
	}
	db, err := giotls.NewFileDatabase(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(db.(giotls.FileDatabase).Anchors() == path)

	root, err := giotls.NewCertificateFromPEM(pki.ca.CertPEM())
	if err != nil {
		log.Fatal(err)
	}
	handles, ok := db.(giotls.CertificateHandles) // a user's Database may not implement it
	if !ok {
		return
	}
	handle := handles.CreateCertificateHandle(root) // "file:///.../anchors.pem#<SHA-256>"
	fmt.Println(strings.HasPrefix(handle, "file://"))
	found, err := handles.LookupCertificateForHandle(context.Background(), handle, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found.SubjectName())
	// Output:
	// true
	// true
	// CN=Handles Root
}

// pinEntry answers only password requests; UnhandledInteraction answers
// the rest (a certificate request goes on without one).
type pinEntry struct {
	giotls.UnhandledInteraction
	pin string
}

func (e pinEntry) AskPassword(_ context.Context, p *giotls.Password) (giotls.InteractionResult, error) {
	p.SetValue([]byte(e.pin))
	return giotls.InteractionHandled, nil
}

func ExampleUnhandledInteraction() {
	var i giotls.Interaction = pinEntry{pin: "1234"}
	p := &giotls.Password{Description: "key"}
	res, _ := i.AskPassword(context.Background(), p)
	fmt.Println(res == giotls.InteractionHandled, string(p.Value()))
	res, _ = i.RequestCertificate(context.Background(), nil)
	fmt.Println(res == giotls.InteractionUnhandled)
	// Output:
	// true 1234
	// true
}

// Channel-binding errors carry GIO's GTlsChannelBindingError code.
func ExampleChannelBindingErrorCodeOf() {
	pki := newPKI("Binding Root")
	srv := serve(pki.serverConfig("localhost"), nil)
	defer srv.Close()
	conn := connect(srv, giotls.NewNetworkAddress("localhost", srv.port), pki.db)
	defer conn.Close()

	_, err := conn.ChannelBindingData(giotls.ChannelBindingTLSUnique)
	code, _ := giotls.ChannelBindingErrorCodeOf(err)
	fmt.Println("before the handshake:", code.String())
	if err := conn.Handshake(context.Background()); err != nil {
		log.Fatal(err)
	}
	_, err = conn.ChannelBindingData(giotls.ChannelBindingTLSUnique)
	code, _ = giotls.ChannelBindingErrorCodeOf(err)
	fmt.Println("on TLS 1.3:", code.String(), errors.Is(err, giotls.ErrBindingNotSupported))
	// Output:
	// before the handshake: invalid-state
	// on TLS 1.3: not-supported true
}

// GIO's small constants and queries.
func ExampleBackend_SupportsDTLS() {
	b := giotls.DefaultBackend()
	fmt.Println(b.SupportsTLS(), b.SupportsDTLS(), giotls.CertificateNoFlags)
	// Output:
	// true false none
}
