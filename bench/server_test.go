package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/giotls/giotls"
)

// TestServer checks what the benchmarks rely on, with every client they
// use: each endpoint verifies, answers requests and bulk downloads, and
// resumes when the client keeps sessions (a TLS 1.3 client having read
// Ready), and the server counts it.
func TestServer(t *testing.T) {
	dir := t.TempDir()
	s, err := StartServer(dir, ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfgPath := filepath.Join(dir, "server.json")
	data, err := json.Marshal(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Endpoints) != 2 {
		t.Fatalf("endpoints %v, want ecdsa-tls12 and ecdsa-tls13", cfg.Endpoints)
	}
	var wantHandshakes, wantResumed int64
	for _, v := range []string{TLS12, TLS13} {
		ep := Endpoint(ECDSA, v)
		for _, impl := range []string{ImplGiotls, ImplGiotlsDef, ImplCryptoTLS} {
			t.Run(v+"/"+impl, func(t *testing.T) {
				for _, resume := range []bool{false, true} {
					c := newClient(t, cfg, ep, impl, resume)
					// The default backend shares the process-wide cache, so
					// it resumes whatever resume says, from its second
					// connection on.
					first := impl == ImplGiotlsDef && resume
					conn := connect(t, c, first)
					if first {
						wantResumed++
					}
					buf := make([]byte, 1024)
					for i := range buf {
						buf[i] = 0xff
					}
					if err := RoundTrip(conn, buf); err != nil {
						t.Fatal(err)
					}
					for i, b := range buf {
						if b != 0 {
							t.Fatalf("response byte %d is %#x, want 0", i, b)
						}
					}
					if err := Download(conn, 1<<20+1, make([]byte, 4096)); err != nil {
						t.Fatal(err)
					}
					if gc, ok := conn.(giotlsConn); ok {
						want := giotls.CertificateFlags(0)
						if impl == ImplGiotlsDef {
							want = giotls.CertificateUnknownCA // accepted by the handler
						}
						if got := gc.PeerCertificateErrors(); got != want {
							t.Errorf("peer certificate errors %v, want %v", got, want)
						}
					}
					// As BenchmarkHandshakeDrained ends them: the peer's
					// close_notify seen, for every client.
					if err := EndGracefully(conn); err != nil {
						t.Fatalf("EndGracefully: %v", err)
					}
					wantHandshakes++
					if resume || impl == ImplGiotlsDef {
						for range 3 {
							connect(t, c, true).Close()
							wantHandshakes++
							wantResumed++
						}
					} else {
						connect(t, c, false).Close()
						wantHandshakes++
					}
				}
			})
		}
	}
	s.Close()
	var got Stats
	for _, st := range s.Stats() {
		got.Handshakes += st.Handshakes
		got.Resumed += st.Resumed
		got.Failed += st.Failed
	}
	if got != (Stats{Handshakes: wantHandshakes, Resumed: wantResumed}) {
		t.Errorf("server stats %+v, want %d handshakes, %d resumed, none failed", got, wantHandshakes, wantResumed)
	}
}
