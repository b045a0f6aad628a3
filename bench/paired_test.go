package bench

import (
	"testing"
	"time"
)

// BenchmarkHandshakePaired measures the two variants of BenchmarkHandshake
// side by side: each operation is one connection of each (dial, handshake,
// Ready, end), giotls first in even operations and crypto/tls first in odd
// ones, and the process's CPU time around each connection is added to its
// variant. A machine whose load changes during a run (other processes, CPU
// frequency) then weighs on both variants alike, where BenchmarkHandshake's
// variants run one after the other, seconds apart; its ratio, cpu-ratio
// (giotls ÷ crypto/tls), is what the targets in BENCHMARKS.md are checked
// on. Work the runtime does in the background (the garbage collector, a
// thread waking) is counted in whichever connection it overlaps, which the
// alternation shares out between the variants.
//
// Reported per operation: giotls-cpu-ns and crypto-tls-cpu-ns (per
// connection of each), cpu-ratio, and the wall time of both connections
// (ns/op). Against the in-process server the CPU includes the server's side
// of each connection, the same for both, which pulls the ratio towards 1:
// compare the client alone with GIOTLS_BENCH_SERVER (bench/compare does).
func BenchmarkHandshakePaired(b *testing.B) {
	benchPaired(b, func(_ testing.TB, c Conn) { c.Close() })
}

// BenchmarkHandshakePairedDrained is BenchmarkHandshakePaired with both
// variants ending as giotls's Close does (see BenchmarkHandshakeDrained).
func BenchmarkHandshakePairedDrained(b *testing.B) {
	benchPaired(b, func(tb testing.TB, c Conn) {
		if err := EndGracefully(c); err != nil {
			tb.Fatalf("ending the connection: %v", err)
		}
	})
}

func benchPaired(b *testing.B, end func(testing.TB, Conn)) {
	cfg := benchServer(b)
	for _, key := range []string{ECDSA, RSA} {
		for _, v := range []string{TLS13, TLS12} {
			for _, mode := range []string{"full", "resumed"} {
				b.Run("key="+key+"/v="+v+"/mode="+mode, func(b *testing.B) {
					resume := mode == "resumed"
					clients := [2]Client{
						newClient(b, cfg, Endpoint(key, v), ImplGiotls, resume),
						newClient(b, cfg, Endpoint(key, v), ImplCryptoTLS, resume),
					}
					if resume {
						for _, c := range clients {
							end(b, connect(b, c, false))
						}
					}
					var cpu [2]time.Duration
					one := func(i int) {
						start, ok := CPUTime()
						if !ok {
							b.Fatal("no CPU time on this platform")
						}
						end(b, connect(b, clients[i], resume))
						t, _ := CPUTime()
						cpu[i] += t - start
					}
					n := 0
					for b.Loop() {
						first := n % 2
						one(first)
						one(1 - first)
						n++
					}
					if n == 0 || cpu[1] == 0 {
						return
					}
					b.ReportMetric(float64(cpu[0])/float64(n), "giotls-cpu-ns/op")
					b.ReportMetric(float64(cpu[1])/float64(n), "crypto-tls-cpu-ns/op")
					b.ReportMetric(float64(cpu[0])/float64(cpu[1]), "cpu-ratio")
				})
			}
		}
	}
}
