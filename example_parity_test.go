package giotls_test

import (
	"context"
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
