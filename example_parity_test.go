package giotls_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log"

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
