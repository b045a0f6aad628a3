package giotls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
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

// TestClientConfigLibraryLowersVersion: a library that lowers MinVersion
// (or MaxVersion) on its clone, for a legacy server, must not get a
// handshake below the backend's versions (TLS 1.2 at least): the
// verification refuses it with ErrorHandshake.
func TestClientConfigLibraryLowersVersion(t *testing.T) {
	e := newResumptionEnv(t, tls.VersionTLS13, tls.NoClientCert, BackendOptions{})
	leaf := e.ca.MustLeaf(t, "legacy", testpki.DNSNames("a.example"))
	legacy := serverConfig(leaf)
	legacy.MinVersion, legacy.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	srv := startTLSServer(t, "tcp4", legacy, func(c *tls.Conn) { c.Write([]byte{'!'}) })
	cfg := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: e.ca.db})
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			c := cfg.Clone()
			c.MinVersion, c.MaxVersion = v, v
			cs, err := configDial(t, srv.Addr.String(), c)
			var ge *Error
			if !errors.As(err, &ge) || ge.Code != ErrorHandshake {
				t.Fatalf("handshake = %v (version %s), want a giotls ErrorHandshake", err, tls.VersionName(cs.Version))
			}
		})
	}
}

// TestClientConfigZeroValues: zero values a careless program passes (a
// SessionCache not made by NewSessionCache, a Backend not made by
// NewBackend, a nil one) give a giotls *Error from ClientConfig, never a
// panic then or in a handshake.
func TestClientConfigZeroValues(t *testing.T) {
	e := newResumptionEnv(t, tls.VersionTLS13, tls.NoClientCert, BackendOptions{})
	for _, tc := range []struct {
		name    string
		backend *Backend
		opts    ClientConfigOptions
	}{
		{"zero SessionCache", e.backend, ClientConfigOptions{ServerName: "a.example", Database: e.ca.db, SessionCache: &SessionCache{}}},
		{"zero Backend", &Backend{}, ClientConfigOptions{ServerName: "a.example", Database: e.ca.db}},
		{"nil Backend", nil, ClientConfigOptions{ServerName: "a.example", Database: e.ca.db}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg *tls.Config
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("ClientConfig panicked: %v", p)
					}
				}()
				cfg, err = tc.backend.ClientConfig(tc.opts)
			}()
			if err == nil {
				_, err = configDial(t, e.ports[0].Addr.String(), cfg)
				if err == nil {
					return // usable: nothing to refuse
				}
			}
			var ge *Error
			if !errors.As(err, &ge) || ge.Code != ErrorMisc {
				t.Fatalf("error = %v, want a giotls ErrorMisc", err)
			}
		})
	}
}

// TestClientConfigZoneInKey: crypto/tls keys a config's sessions by its
// ServerName, so an IPv6 ServerName's zone must stay in it: fe80::1%eth0 and
// fe80::1%eth1 are different hosts (RFC 4007, section 6), and one's session
// must not be offered to the other, as for a connection (TestZoneInSessionKey).
func TestClientConfigZoneInKey(t *testing.T) {
	b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
	eth0 := mustConfig(t, b, ClientConfigOptions{ServerName: "fe80::1%eth0"})
	eth1 := mustConfig(t, b, ClientConfigOptions{ServerName: "fe80::1%eth1"})
	none := mustConfig(t, b, ClientConfigOptions{ServerName: "fe80::1"})
	eth0.ClientSessionCache.Put(eth0.ServerName, &tls.ClientSessionState{})
	for _, cfg := range []*tls.Config{eth1, none} {
		if _, ok := cfg.ClientSessionCache.Get(cfg.ServerName); ok {
			t.Errorf("a session of fe80::1%%eth0 is offered for ServerName %q", cfg.ServerName)
		}
	}
	if _, ok := eth0.ClientSessionCache.Get(eth0.ServerName); !ok {
		t.Error("the session of fe80::1 (zone eth0) is not offered to it")
	}
}

// TestClientConfigLibraryFields: what a library may set on its clone for
// its own verification (crypto/tls's, with RootCAs trusting the server; a
// VerifyPeerCertificate accepting everything; an IP literal for a config
// made for a name, which crypto/tls then hides) never replaces giotls's:
// the Database that does not trust the chain still refuses it, and a name
// crypto/tls did not send is no identity.
func TestClientConfigLibraryFields(t *testing.T) {
	e := newResumptionEnv(t, tls.VersionTLS13, tls.NoClientCert, BackendOptions{DisableResumption: true})
	other := newTestCA(t, "Other Root")
	pool := x509.NewCertPool()
	pool.AddCert(e.ca.Cert)
	for _, tc := range []struct {
		name  string
		db    Database
		clone func(*tls.Config)
		bad   CertificateFlags
	}{
		{"crypto/tls verifies with RootCAs", other.db, func(c *tls.Config) { c.InsecureSkipVerify, c.RootCAs = false, pool }, CertificateUnknownCA},
		{"VerifyPeerCertificate accepts all", other.db, func(c *tls.Config) {
			c.VerifyPeerCertificate = func([][]byte, [][]*x509.Certificate) error { return nil }
		}, CertificateUnknownCA},
		{"IP literal on the clone", e.ca.db, func(c *tls.Config) { c.ServerName = "127.0.0.1" }, CertificateBadIdentity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: tc.db}).Clone()
			tc.clone(c)
			_, err := configDial(t, e.ports[0].Addr.String(), c)
			badCertificate(t, err, tc.bad)
		})
	}
}
