package sessioncache

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
)

// Real peers for the tests: an in-process crypto/tls server on 127.0.0.1 that
// issues session tickets and logs a hash of every ticket a client presents.

const testServerName = "server.test"

var (
	pkiOnce sync.Once
	pkiCert tls.Certificate
	pkiPool *x509.CertPool
	pkiErr  error
)

// selfSigned returns a throwaway self-signed certificate for name.
func selfSigned(t testing.TB, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// testPKI returns a self-signed server certificate for testServerName and
// 127.0.0.1, and a pool that trusts it.
func testPKI(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	pkiOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			pkiErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: testServerName},
			DNSNames:              []string{testServerName},
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			pkiErr = err
			return
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			pkiErr = err
			return
		}
		pkiCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
		pkiPool = x509.NewCertPool()
		pkiPool.AddCert(leaf)
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiCert, pkiPool
}

type testServer struct {
	config *tls.Config
	addrs  []string // one per listener; all share config, hence ticket keys

	mu        sync.Mutex
	presented map[[32]byte]int // ticket hash -> times presented
	resumed   int              // handshakes the server resumed
	handshake int              // handshakes completed
}

// startServer runs a TLS server with session tickets on listeners
// 127.0.0.1 ports, all sharing one tls.Config (as one server process serving
// several ports would, like an FTP server's control and data ports). Each
// connection gets "hi" after the handshake, which makes the client process
// the TLS 1.3 NewSessionTicket sent before it.
func startServer(t testing.TB, version uint16, listeners int, options ...func(*tls.Config)) *testServer {
	t.Helper()
	cert, _ := testPKI(t)
	s := &testServer{presented: make(map[[32]byte]int)}
	s.config = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   version,
		MaxVersion:   version,
	}
	for _, o := range options {
		o(s.config)
	}
	s.config.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		if len(identity) > 0 { // TLS 1.2 servers are asked even without a ticket
			s.mu.Lock()
			s.presented[sha256.Sum256(identity)]++
			s.mu.Unlock()
		}
		return s.config.DecryptTicket(identity, cs)
	}
	for range listeners {
		ln := loopback.Serve(t, "tcp4", s.serve)
		s.addrs = append(s.addrs, ln.Addr().String())
	}
	return s
}

func (s *testServer) serve(c net.Conn) {
	tc := tls.Server(c, s.config)
	if err := tc.Handshake(); err != nil {
		return
	}
	s.mu.Lock()
	s.handshake++
	if tc.ConnectionState().DidResume {
		s.resumed++
	}
	s.mu.Unlock()
	if _, err := tc.Write([]byte("hi")); err != nil {
		return
	}
	io.Copy(io.Discard, tc) // until the client closes
}

// waitHandshakes waits until the server has completed n handshakes: a TLS 1.3
// client is done before the server has read its Finished.
func (s *testServer) waitHandshakes(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		got := s.handshake
		s.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server completed %d handshakes, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// maxPresented returns how often the most presented ticket was presented.
func (s *testServer) maxPresented() (most, tickets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.presented {
		if n > most {
			most = n
		}
	}
	return most, len(s.presented)
}

// clientConfig returns a client configuration for s's listeners using cache.
func clientConfig(t testing.TB, version uint16, cache tls.ClientSessionCache) *tls.Config {
	_, pool := testPKI(t)
	return &tls.Config{
		ServerName:         testServerName,
		RootCAs:            pool,
		MinVersion:         version,
		MaxVersion:         version,
		ClientSessionCache: cache,
	}
}

// dial does a handshake with addr, reads the server's greeting if read (so a
// TLS 1.3 ticket is received) and closes the connection.
func dial(t testing.TB, addr string, config *tls.Config, read bool) (tls.ConnectionState, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	tc := tls.Client(c, config)
	if err := tc.Handshake(); err != nil {
		return tls.ConnectionState{}, err
	}
	if read {
		buf := make([]byte, 2)
		if _, err := io.ReadFull(tc, buf); err != nil {
			return tls.ConnectionState{}, err
		}
		if string(buf) != "hi" {
			return tls.ConnectionState{}, errors.New("unexpected greeting " + string(buf))
		}
	}
	return tc.ConnectionState(), nil
}

// recorder is a tls.ClientSessionCache that offers nothing and keeps
// everything crypto/tls puts.
type recorder struct {
	mu   sync.Mutex
	puts []*tls.ClientSessionState
}

func (r *recorder) Get(string) (*tls.ClientSessionState, bool) { return nil, false }

func (r *recorder) Put(_ string, cs *tls.ClientSessionState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.puts = append(r.puts, cs)
}

var (
	capturedMu sync.Mutex
	captured   = map[uint16]*tls.ClientSessionState{}
)

// realState returns a session crypto/tls made in a real handshake of the
// given version, with a client clock fixed at clientTime.
func realState(t testing.TB, version uint16) *tls.ClientSessionState {
	t.Helper()
	capturedMu.Lock()
	defer capturedMu.Unlock()
	if s := captured[version]; s != nil {
		return s
	}
	s := captureState(t, version, clientTime)
	captured[version] = s
	return s
}

var clientTime = time.Now().Truncate(time.Second)

func captureState(t testing.TB, version uint16, now time.Time) *tls.ClientSessionState {
	t.Helper()
	srv := startServer(t, version, 1)
	rec := new(recorder)
	cfg := clientConfig(t, version, rec)
	cfg.Time = func() time.Time { return now }
	if _, err := dial(t, srv.addrs[0], cfg, true); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.puts) != 1 || rec.puts[0] == nil {
		t.Fatalf("TLS %x handshake: crypto/tls put %v, want one session", version, rec.puts)
	}
	return rec.puts[0]
}

// realStates returns n distinct sessions derived from a real one of the given
// version: same secrets, distinct ticket labels and pointers.
func realStates(t testing.TB, version uint16, n int) []*tls.ClientSessionState {
	t.Helper()
	orig := realState(t, version)
	ticket, ss, err := orig.ResumptionState()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ss.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*tls.ClientSessionState, n)
	for i := range out {
		ss2, err := tls.ParseSessionState(b)
		if err != nil {
			t.Fatal(err)
		}
		tk := append([]byte(nil), ticket...)
		tk = append(tk, byte(i>>24), byte(i>>16), byte(i>>8), byte(i))
		out[i], err = tls.NewResumptionState(tk, ss2)
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}
