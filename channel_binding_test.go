package giotls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// The tests spell the label out rather than use exporterLabel, so that a
// wrong constant cannot pass on both ends.
const testExporterLabel = "EXPORTER-Channel-Binding"

// bindingServer starts a server for cfg that sends the state of each
// connection it accepts, as the server sees it, on the returned channel.
func bindingServer(t *testing.T, cfg *tls.Config) (*tlsServer, <-chan tls.ConnectionState) {
	t.Helper()
	states := make(chan tls.ConnectionState, 8)
	srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) {
		states <- c.ConnectionState()
		io.Copy(io.Discard, c)
	})
	return srv, states
}

// nextState waits for the server's view of the next connection.
func nextState(t *testing.T, states <-chan tls.ConnectionState) tls.ConnectionState {
	t.Helper()
	select {
	case s := <-states:
		return s
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not complete its handshake")
	}
	panic("unreachable")
}

// dialWith connects to srv through backend b (nil: the default backend),
// trusting ca, and completes the handshake.
func dialWith(t *testing.T, b *Backend, srv *tlsServer, ca *testCA) *ClientConnection {
	t.Helper()
	c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Identity: localhost(srv.Addr.Port()), Database: ca.db})
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	return c
}

func privateBackend(opts BackendOptions) *Backend {
	if opts.SessionCache == nil {
		opts.SessionCache = NewSessionCache(SessionCacheOptions{})
	}
	return NewBackend(opts)
}

// TestChannelBindingMatchesServer compares each binding with what crypto/tls
// computes on the server's end of the same connection.
func TestChannelBindingMatchesServer(t *testing.T) {
	ca := newTestCA(t, "Binding Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	if leaf.Cert.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Fatalf("leaf signed with %v, the test expects ECDSA-SHA256", leaf.Cert.SignatureAlgorithm)
	}
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			cfg := serverConfig(leaf)
			cfg.MinVersion, cfg.MaxVersion = v, v
			srv, states := bindingServer(t, cfg)
			c := dialWith(t, privateBackend(BackendOptions{}), srv, ca)
			s := nextState(t, states)

			unique, err := c.ChannelBindingData(ChannelBindingTLSUnique)
			if v == tls.VersionTLS13 {
				if !errors.Is(err, ErrBindingNotSupported) || unique != nil {
					t.Errorf("tls-unique on TLS 1.3 = %x, %v; want ErrBindingNotSupported", unique, err)
				}
			} else if err != nil || len(unique) != 12 || !bytes.Equal(unique, s.TLSUnique) {
				t.Errorf("tls-unique = %x, %v; server has %x", unique, err, s.TLSUnique)
			}

			endPoint, err := c.ChannelBindingData(ChannelBindingTLSServerEndPoint)
			want := sha256.Sum256(leaf.Cert.Raw) // the server's own certificate
			if err != nil || !bytes.Equal(endPoint, want[:]) {
				t.Errorf("tls-server-end-point = %x, %v; want %x", endPoint, err, want)
			}

			exporter, err := c.ChannelBindingData(ChannelBindingTLSExporter)
			wantExp, serr := s.ExportKeyingMaterial(testExporterLabel, []byte{}, 32)
			if serr != nil {
				t.Fatalf("server's ExportKeyingMaterial: %v", serr)
			}
			if err != nil || len(exporter) != 32 || !bytes.Equal(exporter, wantExp) {
				t.Errorf("tls-exporter = %x, %v; server has %x", exporter, err, wantExp)
			}

			// The values are copies: changing one does not change the next.
			if len(unique) > 0 {
				unique[0] ^= 0xff
				if again, _ := c.ChannelBindingData(ChannelBindingTLSUnique); !bytes.Equal(again, s.TLSUnique) {
					t.Errorf("tls-unique changed after the caller modified a returned value")
				}
			}
		})
	}
}

// TestTLSExporterZeroLengthContext computes tls-exporter on TLS 1.2 from the
// master secret (through the key log) and the hello randoms, by RFC 5705's
// formula with RFC 9266's zero-length context, independently of crypto/tls's
// exporter: a context of nil and one of []byte{} give different values on
// TLS 1.2, and only the second is what RFC 9266, GnuTLS and GIO's OpenSSL
// backend compute.
func TestTLSExporterZeroLengthContext(t *testing.T) {
	ca := newTestCA(t, "Exporter Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cfg := serverConfig(leaf)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256} // PRF with SHA-256
	srv, states := bindingServer(t, cfg)

	var keyLog bytes.Buffer
	b := privateBackend(BackendOptions{KeyLogWriter: &keyLog})
	var rec *recordingConn
	c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Identity: localhost(srv.Addr.Port()), Database: ca.db, Wrap: func(raw net.Conn) net.Conn {
		rec = &recordingConn{Conn: raw}
		return rec
	}})
	defer c.Close()
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := nextState(t, states)

	// CLIENT_RANDOM <client random> <master secret> (NSS key log format).
	f := strings.Fields(keyLog.String())
	if len(f) != 3 || f[0] != "CLIENT_RANDOM" {
		t.Fatalf("key log = %q, want one CLIENT_RANDOM line", keyLog.String())
	}
	clientRandom, err1 := hex.DecodeString(f[1])
	master, err2 := hex.DecodeString(f[2])
	if err1 != nil || err2 != nil || len(clientRandom) != 32 || len(master) != 48 {
		t.Fatalf("bad key log line %q", keyLog.String())
	}
	// The first record from the server is its ServerHello (RFC 5246,
	// section 7.4.1.3): record header (5), handshake header (4),
	// server_version (2), random (32).
	first := rec.received()
	if len(first) < 43 || first[0] != 22 || first[5] != 2 {
		t.Fatalf("the server's first bytes are not a ServerHello: %x", first[:min(len(first), 16)])
	}
	serverRandom := first[11:43]
	randoms := append(append([]byte(nil), clientRandom...), serverRandom...)

	noContext := prf12(master, testExporterLabel, randoms, 32)
	if want, _ := s.ExportKeyingMaterial(testExporterLabel, nil, 32); !bytes.Equal(noContext, want) {
		t.Fatalf("the test's PRF disagrees with crypto/tls: %x, %x", noContext, want)
	}
	want := prf12(master, testExporterLabel, append(randoms, 0, 0), 32) // context_value_length 0
	got, err := c.ChannelBindingData(ChannelBindingTLSExporter)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("tls-exporter = %x, %v; want %x (RFC 5705 with a zero-length context)", got, err, want)
	}
	if bytes.Equal(got, noContext) {
		t.Errorf("tls-exporter is the value without a context")
	}
}

// prf12 is TLS 1.2's PRF with SHA-256 (RFC 5246, section 5).
func prf12(secret []byte, label string, seed []byte, n int) []byte {
	seed = append([]byte(label), seed...)
	mac := func(parts ...[]byte) []byte {
		h := hmac.New(sha256.New, secret)
		for _, p := range parts {
			h.Write(p)
		}
		return h.Sum(nil)
	}
	var out []byte
	for a := mac(seed); len(out) < n; a = mac(a) {
		out = append(out, mac(a, seed)...)
	}
	return out[:n]
}

// recordingConn keeps the first bytes read from the connection.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	if len(r.buf) < 4096 {
		r.buf = append(r.buf, p[:n]...)
	}
	r.mu.Unlock()
	return n, err
}

func (r *recordingConn) received() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.buf...)
}

// TestChannelBindingServerEndPoint checks tls-server-end-point for
// certificates signed with each kind of algorithm against the server's own
// certificate hashed with the hash RFC 5929, section 4.1 names.
func TestChannelBindingServerEndPoint(t *testing.T) {
	tests := []struct {
		name     string
		caKey    testpki.KeyType
		leafOpts []testpki.Option
		wantAlg  x509.SignatureAlgorithm
		want     crypto.Hash // 0: ErrBindingNotSupported
	}{
		{"ECDSA P-256 with SHA-256", testpki.ECDSAP256, nil, x509.ECDSAWithSHA256, crypto.SHA256},
		{"ECDSA P-384 with SHA-384", testpki.ECDSAP384, []testpki.Option{testpki.SignatureAlgorithm(x509.ECDSAWithSHA384)}, x509.ECDSAWithSHA384, crypto.SHA384},
		{"ECDSA P-384 with SHA-512", testpki.ECDSAP384, []testpki.Option{testpki.SignatureAlgorithm(x509.ECDSAWithSHA512)}, x509.ECDSAWithSHA512, crypto.SHA512},
		{"ECDSA with SHA-1, upgraded", testpki.ECDSAP256, []testpki.Option{testpki.SignatureAlgorithm(x509.ECDSAWithSHA1)}, x509.ECDSAWithSHA1, crypto.SHA256},
		{"RSA PKCS#1 with SHA-256", testpki.RSA2048, []testpki.Option{testpki.SignatureAlgorithm(x509.SHA256WithRSA)}, x509.SHA256WithRSA, crypto.SHA256},
		{"RSA PKCS#1 with SHA-384", testpki.RSA2048, []testpki.Option{testpki.SignatureAlgorithm(x509.SHA384WithRSA)}, x509.SHA384WithRSA, crypto.SHA384},
		{"RSA PKCS#1 with SHA-1, upgraded", testpki.RSA2048, []testpki.Option{testpki.SignatureAlgorithm(x509.SHA1WithRSA)}, x509.SHA1WithRSA, crypto.SHA256},
		{"RSA PKCS#1 with MD5, upgraded", testpki.RSA2048, []testpki.Option{testpki.SignatureAlgorithm(x509.MD5WithRSA)}, x509.MD5WithRSA, crypto.SHA256},
		{"RSA-PSS with SHA-256", testpki.RSA2048, []testpki.Option{testpki.SignatureAlgorithm(x509.SHA256WithRSAPSS)}, x509.SHA256WithRSAPSS, crypto.SHA256},
		{"RSA-PSS with SHA-512", testpki.RSA2048, []testpki.Option{testpki.SignatureAlgorithm(x509.SHA512WithRSAPSS)}, x509.SHA512WithRSAPSS, crypto.SHA512},
		// The hash comes from the certificate's signature, not its key.
		{"Ed25519 key signed with ECDSA-SHA256", testpki.ECDSAP256, []testpki.Option{testpki.Key(testpki.Ed25519)}, x509.ECDSAWithSHA256, crypto.SHA256},
		{"signed with Ed25519", testpki.Ed25519, nil, x509.PureEd25519, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := newTestCAKey(t, tt.caKey)
			leaf := ca.MustLeaf(t, "localhost", append([]testpki.Option{testpki.DNSNames("localhost")}, tt.leafOpts...)...)
			if leaf.Cert.SignatureAlgorithm != tt.wantAlg {
				t.Fatalf("leaf signed with %v, want %v", leaf.Cert.SignatureAlgorithm, tt.wantAlg)
			}
			for _, v := range tlsVersions {
				cfg := serverConfig(leaf)
				cfg.MinVersion, cfg.MaxVersion = v, v
				srv, _ := bindingServer(t, cfg)
				c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port()), Database: ca.db})
				defer c.Close()
				c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool { return true }) // SHA-1, MD5: insecure
				if err := c.Handshake(context.Background()); err != nil {
					t.Fatalf("%s: Handshake: %v", tls.VersionName(v), err)
				}
				got, err := c.ChannelBindingData(ChannelBindingTLSServerEndPoint)
				if tt.want == 0 {
					if !errors.Is(err, ErrBindingNotSupported) || got != nil {
						t.Errorf("%s: tls-server-end-point = %x, %v; want ErrBindingNotSupported", tls.VersionName(v), got, err)
					}
					continue
				}
				h := tt.want.New()
				h.Write(leaf.Cert.Raw)
				if want := h.Sum(nil); err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: tls-server-end-point = %x, %v; want %v of the certificate, %x", tls.VersionName(v), got, err, tt.want, want)
				}
			}
		})
	}
}

// newTestCAKey is newTestCA with a root key of type k.
func newTestCAKey(t *testing.T, k testpki.KeyType) *testCA {
	t.Helper()
	ca := testpki.MustCA(t, "End Point Root", testpki.Key(k))
	db, err := NewDatabaseFromPEM(ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{CA: ca, db: db}
}

func TestEndPointHash(t *testing.T) {
	tests := []struct {
		alg  x509.SignatureAlgorithm
		want crypto.Hash
	}{
		{x509.MD5WithRSA, crypto.SHA256},
		{x509.SHA1WithRSA, crypto.SHA256},
		{x509.DSAWithSHA1, crypto.SHA256},
		{x509.ECDSAWithSHA1, crypto.SHA256},
		{x509.SHA256WithRSA, crypto.SHA256},
		{x509.DSAWithSHA256, crypto.SHA256},
		{x509.ECDSAWithSHA256, crypto.SHA256},
		{x509.SHA256WithRSAPSS, crypto.SHA256},
		{x509.SHA384WithRSA, crypto.SHA384},
		{x509.ECDSAWithSHA384, crypto.SHA384},
		{x509.SHA384WithRSAPSS, crypto.SHA384},
		{x509.SHA512WithRSA, crypto.SHA512},
		{x509.ECDSAWithSHA512, crypto.SHA512},
		{x509.SHA512WithRSAPSS, crypto.SHA512},
		// MD2 is the signature's single hash, so RFC 5929 would use it.
		{x509.MD2WithRSA, 0},
		{x509.PureEd25519, 0},
		{x509.UnknownSignatureAlgorithm, 0},
		{x509.SignatureAlgorithm(999), 0},
	}
	for _, tt := range tests {
		if got := endPointHash(tt.alg); got != tt.want {
			t.Errorf("endPointHash(%v) = %v, want %v", tt.alg, got, tt.want)
		}
	}
}

// TestChannelBindingTLS12Resumption checks tls-unique after a TLS 1.2
// resumption with the extended master secret: the server's Finished, which
// comes first in an abbreviated handshake, on both ends.
func TestChannelBindingTLS12Resumption(t *testing.T) {
	ca := newTestCA(t, "Resumed Binding Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cfg := serverConfig(leaf)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	srv, states := bindingServer(t, cfg)
	b := privateBackend(BackendOptions{})

	first := dialWith(t, b, srv, ca)
	s1 := nextState(t, states)
	u1, err := first.ChannelBindingData(ChannelBindingTLSUnique)
	if err != nil || first.SessionResumed() || !bytes.Equal(u1, s1.TLSUnique) {
		t.Fatalf("full handshake: tls-unique %x, %v, resumed %v; server has %x", u1, err, first.SessionResumed(), s1.TLSUnique)
	}
	first.Close()

	second := dialWith(t, b, srv, ca)
	s2 := nextState(t, states)
	if !second.SessionResumed() || !s2.DidResume {
		t.Fatalf("second connection: resumed %v (server: %v), want a resumption", second.SessionResumed(), s2.DidResume)
	}
	if !hasExtendedMasterSecret(second.ConnectionState()) {
		t.Errorf("hasExtendedMasterSecret = false between two crypto/tls peers")
	}
	u2, err := second.ChannelBindingData(ChannelBindingTLSUnique)
	if err != nil || len(u2) != 12 || !bytes.Equal(u2, s2.TLSUnique) {
		t.Errorf("resumed: tls-unique = %x, %v; server has %x", u2, err, s2.TLSUnique)
	}
	if bytes.Equal(u1, u2) {
		t.Errorf("tls-unique is the same on two connections")
	}
	exp, err := second.ChannelBindingData(ChannelBindingTLSExporter)
	want, _ := s2.ExportKeyingMaterial(testExporterLabel, []byte{}, 32)
	if err != nil || !bytes.Equal(exp, want) {
		t.Errorf("resumed: tls-exporter = %x, %v; server has %x", exp, err, want)
	}
}

// noEMSConfig is an OpenSSL configuration that turns the extended master
// secret off (SSL_OP_NO_EXTENDED_MASTER_SECRET): crypto/tls always
// negotiates it when both ends offer it and has no setting to refuse it, and
// OpenSSL 3.0's s_server has no command-line option for it.
const noEMSConfig = `openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -ExtendedMasterSecret
`

// TestChannelBindingWithoutEMS talks to a TLS 1.2 server without the
// extended master secret: tls-exporter is not supported (RFC 9266, section
// 3), also when GODEBUG=tlsunsafeekm=1 makes crypto/tls export anyway, and
// tls-unique is unavailable after a resumption (RFC 7627, section 5.4).
func TestChannelBindingWithoutEMS(t *testing.T) {
	ca := newTestCA(t, "No EMS Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	dir := t.TempDir()
	cert, key, _, err := leaf.WriteFiles(dir, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	cnf := filepath.Join(dir, "no-ems.cnf")
	if err := os.WriteFile(cnf, []byte(noEMSConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	openssl := peer.Need(t, "openssl")
	port := peer.FreePort(t)
	p := peer.Start(t, peer.Addr(port), "env", "OPENSSL_CONF="+cnf,
		openssl, "s_server", "-accept", peer.Addr(port), "-cert", cert, "-key", key, "-tls1_2", "-www")
	b := privateBackend(BackendOptions{})
	connect := func() *ClientConnection {
		t.Helper()
		c := dialTest(t, p.Addr, dialConfig{Backend: b, Identity: localhost(uint16(port)), Database: ca.db, Deadline: 20 * time.Second})
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatal(p.Errorf("Handshake: %v", err))
		}
		return c
	}

	c := connect()
	cs := c.ConnectionState()
	if cs.Version != tls.VersionTLS12 || c.SessionResumed() {
		t.Fatalf("version %x, resumed %v; want a full TLS 1.2 handshake", cs.Version, c.SessionResumed())
	}
	if _, err := cs.ExportKeyingMaterial("probe", nil, 1); err == nil {
		t.Fatalf("crypto/tls exports without the extended master secret: the server negotiated it")
	}
	if hasExtendedMasterSecret(cs) {
		t.Errorf("hasExtendedMasterSecret = true without the extended master secret")
	}
	if got, err := c.ChannelBindingData(ChannelBindingTLSExporter); !errors.Is(err, ErrBindingNotSupported) || got != nil {
		t.Errorf("tls-exporter without EMS = %x, %v; want ErrBindingNotSupported", got, err)
	}
	// A full handshake's tls-unique is sound without EMS.
	if got, err := c.ChannelBindingData(ChannelBindingTLSUnique); err != nil || len(got) != 12 || !bytes.Equal(got, cs.TLSUnique) {
		t.Errorf("tls-unique after a full handshake = %x, %v", got, err)
	}

	t.Run("GODEBUG=tlsunsafeekm=1", func(t *testing.T) {
		t.Setenv("GODEBUG", "tlsunsafeekm=1")
		if _, err := cs.ExportKeyingMaterial("probe", nil, 1); err != nil {
			t.Fatalf("GODEBUG=tlsunsafeekm=1 did not reach crypto/tls: %v", err)
		}
		if got, err := c.ChannelBindingData(ChannelBindingTLSExporter); !errors.Is(err, ErrBindingNotSupported) || got != nil {
			t.Errorf("tls-exporter without EMS, tlsunsafeekm=1 = %x, %v; want ErrBindingNotSupported", got, err)
		}
	})

	c.Close()
	resumed := connect()
	if !resumed.SessionResumed() {
		t.Fatal(p.Errorf("second connection did not resume"))
	}
	if got, err := resumed.ChannelBindingData(ChannelBindingTLSUnique); !errors.Is(err, ErrBindingNotAvailable) || got != nil {
		t.Errorf("tls-unique after a resumption without EMS = %x, %v; want ErrBindingNotAvailable", got, err)
	}
	if got, err := resumed.ChannelBindingData(ChannelBindingTLSExporter); !errors.Is(err, ErrBindingNotSupported) || got != nil {
		t.Errorf("tls-exporter after a resumption without EMS = %x, %v; want ErrBindingNotSupported", got, err)
	}
}

func TestChannelBindingState(t *testing.T) {
	ca := newTestCA(t, "Binding State Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv, _ := bindingServer(t, serverConfig(leaf))
	all := []ChannelBindingType{ChannelBindingTLSUnique, ChannelBindingTLSServerEndPoint, ChannelBindingTLSExporter}
	expect := func(t *testing.T, c *ClientConnection, when string, want error) {
		t.Helper()
		for _, typ := range all {
			if got, err := c.ChannelBindingData(typ); !errors.Is(err, want) || got != nil {
				t.Errorf("%s: %v = %x, %v; want %v", when, typ, got, err, want)
			}
		}
	}

	t.Run("before the handshake", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
		expect(t, c, "before the handshake", ErrBindingInvalidState)
	})
	t.Run("failed handshake", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
		c.SetDatabase(nil) // unknown CA, no handler: rejected
		if err := c.Handshake(context.Background()); !errors.Is(err, ErrBadCertificate) {
			t.Fatalf("Handshake = %v, want ErrBadCertificate", err)
		}
		expect(t, c, "after a failed handshake", ErrBindingInvalidState)
	})
	t.Run("closed", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
		c.SetDatabase(ca.db)
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ChannelBindingData(ChannelBindingTLSExporter); err != nil {
			t.Fatalf("tls-exporter while open: %v", err)
		}
		if got, err := c.ChannelBindingData(ChannelBindingType(7)); !errors.Is(err, ErrBindingNotImplemented) || got != nil {
			t.Errorf("unknown type = %x, %v; want ErrBindingNotImplemented", got, err)
		}
		c.Close()
		expect(t, c, "after Close", ErrBindingInvalidState)
	})
}

func TestGodebugValue(t *testing.T) {
	tests := []struct {
		list, want string
		found      bool
	}{
		{"", "", false},
		{"tlsunsafeekm=1", "1", true},
		{"x509sha1=1,tlsunsafeekm=1", "1", true},
		{"tlsunsafeekm=1,tlsunsafeekm=0", "0", true}, // the last one wins
		{"tlsunsafeekm=0, tlsunsafeekm=1", "1", true},
		{"tlsunsafeekmx=1,xtlsunsafeekm=1", "", false},
		{"tlsunsafeekm", "", false},
	}
	for _, tt := range tests {
		if got, found := godebugValue(tt.list, "tlsunsafeekm"); got != tt.want || found != tt.found {
			t.Errorf("godebugValue(%q) = %q, %v; want %q, %v", tt.list, got, found, tt.want, tt.found)
		}
	}
}
