package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// The benchmarks come in pairs whose names differ only in the last element,
// impl=giotls or impl=crypto-tls (benchstat -col /impl compares them): the
// same work against the same server, giotls over
// crypto/tls with a file database given at construction (GIO's tuned path)
// and plain crypto/tls with the same roots. bench/compare divides one by the
// other. Each reports cpu-ns/op, the process's CPU time (user and system)
// per operation, besides the wall time.
//
// The server is started in process on 127.0.0.1, so wall and CPU time and
// allocations include its side of each connection, which is the same for
// both variants. With GIOTLS_BENCH_SERVER naming the JSON file the
// benchserver command writes, the benchmarks use that server instead, and
// the figures are the client's alone; bench/compare runs them that way.
//
// Cache Get/Put under contention is measured in internal/sessioncache
// (BenchmarkCache, BenchmarkConnCachePutGet).

// impls are the variants, in the order they run; GIOTLS_BENCH_REVERSE=1
// runs crypto/tls first, so that bench/compare can alternate the order from
// run to run and neither variant always follows the other.
var impls = []string{ImplGiotls, ImplCryptoTLS}

func init() {
	if os.Getenv("GIOTLS_BENCH_REVERSE") == "1" {
		slices.Reverse(impls)
	}
}

var (
	serverOnce sync.Once
	serverCfg  *Config
	serverErr  error
	inProcess  *Server
	serverDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if inProcess != nil {
		inProcess.Close()
	}
	if serverDir != "" {
		os.RemoveAll(serverDir)
	}
	os.Exit(code)
}

// benchServer returns the server the benchmarks use: the one
// GIOTLS_BENCH_SERVER describes, else one started in process (once).
func benchServer(b *testing.B) *Config {
	b.Helper()
	serverOnce.Do(func() {
		if p := os.Getenv("GIOTLS_BENCH_SERVER"); p != "" {
			serverCfg, serverErr = LoadConfig(p)
			return
		}
		if serverDir, serverErr = os.MkdirTemp("", "giotls-bench-"); serverErr != nil {
			return
		}
		if inProcess, serverErr = StartServer(serverDir, ECDSA, RSA); serverErr == nil {
			serverCfg = &inProcess.Config
		}
	})
	if serverErr != nil {
		b.Fatal(serverErr)
	}
	return serverCfg
}

// newClient returns impl's client for an endpoint of cfg.
func newClient(tb testing.TB, cfg *Config, endpoint, impl string, resume bool) Client {
	tb.Helper()
	addr, ok := cfg.Endpoints[endpoint]
	if !ok {
		tb.Fatalf("the server has no endpoint %s", endpoint)
	}
	var c Client
	var err error
	switch impl {
	case ImplGiotls:
		c, err = NewGiotlsClient(cfg, addr, false, resume)
	case ImplGiotlsDef:
		c, err = NewGiotlsClient(cfg, addr, true, resume)
	case ImplCryptoTLS:
		c, err = NewCryptoTLSClient(cfg, addr, resume)
	default:
		err = fmt.Errorf("unknown implementation %q", impl)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// connect opens a connection and checks that it resumed, or not, as told.
func connect(tb testing.TB, c Client, resumed bool) Conn {
	conn, err := c.Connect(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if conn.Resumed() != resumed {
		conn.Close()
		tb.Fatalf("connection resumed: %v, want %v", !resumed, resumed)
	}
	return conn
}

// cpuMeter reports the process's CPU time per operation.
type cpuMeter time.Duration

func startCPU() cpuMeter {
	t, _ := CPUTime()
	return cpuMeter(t)
}

func (m cpuMeter) report(b *testing.B) { m.reportPer(b, 1, "cpu-ns/op") }

// reportPer reports CPU time per unit, n units per operation.
func (m cpuMeter) reportPer(b *testing.B, n int, unit string) {
	t, ok := CPUTime()
	if !ok || b.N == 0 {
		return
	}
	b.ReportMetric(float64(t-time.Duration(m))/float64(b.N*n), unit)
}

// BenchmarkHandshake opens a connection (dial, handshake, read the Ready
// byte, which carries a TLS 1.3 ticket) and closes it. Full handshakes keep
// no sessions (giotls: resumption disabled; crypto/tls: no cache). Resumed
// ones use a cache of their own (giotls: a SessionCache; crypto/tls:
// tls.NewLRUClientSessionCache) primed before the timer starts, and fail
// if a connection does not resume. giotls presents each TLS 1.3 ticket once
// and so needs the one each connection receives; crypto/tls presents its
// one ticket again and again, but reads the new ticket all the same, since
// every connection reads Ready: the work is equal.
func BenchmarkHandshake(b *testing.B) {
	benchHandshakes(b, func(_ testing.TB, c Conn) { c.Close() })
}

// BenchmarkHandshakeDrained is BenchmarkHandshake with both variants ending
// each connection the way giotls's Close does (EndGracefully: close_notify,
// then wait for the peer's, then close): giotls's Close waits a round trip
// for the server, crypto/tls's Close does not, so BenchmarkHandshake counts
// that wait on giotls's side only. Here the same work is on both sides.
func BenchmarkHandshakeDrained(b *testing.B) {
	benchHandshakes(b, func(tb testing.TB, c Conn) {
		if err := EndGracefully(c); err != nil {
			tb.Fatalf("ending the connection: %v", err)
		}
	})
}

func benchHandshakes(b *testing.B, end func(testing.TB, Conn)) {
	cfg := benchServer(b)
	for _, key := range []string{ECDSA, RSA} {
		for _, v := range []string{TLS13, TLS12} {
			for _, mode := range []string{"full", "resumed"} {
				for _, impl := range impls {
					b.Run("key="+key+"/v="+v+"/mode="+mode+"/impl="+impl, func(b *testing.B) {
						resume := mode == "resumed"
						c := newClient(b, cfg, Endpoint(key, v), impl, resume)
						if resume {
							end(b, connect(b, c, false))
						}
						b.ReportAllocs()
						cpu := startCPU()
						for b.Loop() {
							end(b, connect(b, c, resume))
						}
						cpu.report(b)
					})
				}
			}
		}
	}
}

// BenchmarkBulk downloads 64 MiB over an established connection, through a
// 64 KiB buffer.
func BenchmarkBulk(b *testing.B) {
	const size = 64 << 20
	cfg := benchServer(b)
	for _, v := range []string{TLS13, TLS12} {
		for _, impl := range impls {
			b.Run("key="+ECDSA+"/v="+v+"/impl="+impl, func(b *testing.B) {
				conn := connect(b, newClient(b, cfg, Endpoint(ECDSA, v), impl, false), false)
				defer conn.Close()
				buf := make([]byte, 64<<10)
				b.SetBytes(size)
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					if err := Download(conn, size, buf); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// BenchmarkRoundTrip sends a 1 KiB request and reads a 1 KiB response on one
// connection.
func BenchmarkRoundTrip(b *testing.B) {
	cfg := benchServer(b)
	for _, v := range []string{TLS13, TLS12} {
		for _, impl := range impls {
			b.Run("key="+ECDSA+"/v="+v+"/impl="+impl, func(b *testing.B) {
				conn := connect(b, newClient(b, cfg, Endpoint(ECDSA, v), impl, false), false)
				defer conn.Close()
				buf := make([]byte, 1024)
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					if err := RoundTrip(conn, buf); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// heapBytes returns the bytes of live heap objects after a full collection.
func heapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkIdleMemory opens 256 connections that then sit idle, and reports
// the heap growth per connection (B/conn): with an in-process server, its
// side is included, the same for both variants, so the difference between
// them is the client's.
func BenchmarkIdleMemory(b *testing.B) {
	const n = 256
	cfg := benchServer(b)
	for _, v := range []string{TLS13, TLS12} {
		for _, mode := range []string{"full", "resumed"} {
			for _, impl := range impls {
				b.Run("key="+ECDSA+"/v="+v+"/mode="+mode+"/impl="+impl, func(b *testing.B) {
					resume := mode == "resumed"
					c := newClient(b, cfg, Endpoint(ECDSA, v), impl, resume)
					if resume {
						connect(b, c, false).Close()
					}
					conns := make([]Conn, 0, n)
					var grown float64
					for b.Loop() {
						before := heapBytes()
						for range n {
							conns = append(conns, connect(b, c, resume))
						}
						grown += float64(heapBytes()) - float64(before)
						for i, conn := range conns {
							conn.Close()
							conns[i] = nil
						}
						conns = conns[:0]
					}
					b.ReportMetric(grown/float64(b.N*n), "B/conn")
				})
			}
		}
	}
}

// BenchmarkConcurrent opens 1,000 connections at once (at most 100
// handshakes in flight, to stay within the listen backlog), makes one 1 KiB
// round trip on each while all are open, and closes them; it reports ns/conn
// and cpu-ns/conn.
func BenchmarkConcurrent(b *testing.B) {
	const n, inFlight = 1000, 100
	cfg := benchServer(b)
	for _, impl := range impls {
		b.Run("key="+ECDSA+"/v="+TLS13+"/impl="+impl, func(b *testing.B) {
			c := newClient(b, cfg, Endpoint(ECDSA, TLS13), impl, false)
			conns := make([]Conn, n)
			errs := make([]error, n)
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				var wg sync.WaitGroup
				sem := make(chan struct{}, inFlight)
				for i := range conns {
					wg.Go(func() {
						sem <- struct{}{}
						conns[i], errs[i] = c.Connect(context.Background())
						<-sem
					})
				}
				wg.Wait()
				for i := range conns {
					if errs[i] != nil {
						break
					}
					wg.Go(func() { errs[i] = RoundTrip(conns[i], make([]byte, 1024)) })
				}
				wg.Wait()
				for i, conn := range conns {
					if conn != nil {
						conn.Close()
					}
					conns[i] = nil
				}
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/conn")
			cpu.reportPer(b, n, "cpu-ns/conn")
		})
	}
}
