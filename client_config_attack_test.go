package giotls

import (
	"crypto/tls"
	"testing"
)

// TestClientConfigLibraryCertificates: a library (or a careless program)
// that sets Certificates on its clone of a config without a client
// certificate must not make crypto/tls send one: the session would be kept
// under the key of no certificate, and a clone sending none would resume
// it, the server taking that connection for the certificate's owner.
func TestClientConfigLibraryCertificates(t *testing.T) {
	p := newClientAuthPKI(t)
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			srv := startClientAuthServer(t, p, v, tls.RequestClientCert)
			b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
			cfg := mustConfig(t, b, ClientConfigOptions{ServerName: "localhost", Database: p.server.db})
			withCert := cfg.Clone()
			withCert.Certificates = []tls.Certificate{p.leafA.TLSCertificate()}
			for _, c := range []*tls.Config{withCert, cfg, cfg} {
				if err := clientAuthEcho(t, srv.Addr.String(), c); err != nil {
					t.Fatal(err)
				}
			}
			for i, view := range srv.views() {
				if len(view.chain) != 0 {
					t.Errorf("handshake %d (resumed %v): the server holds a client certificate (%s); the config sends none",
						i, view.resumed, view.chain[0].Subject)
				}
			}
		})
	}
}
