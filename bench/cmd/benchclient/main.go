// Command benchclient runs the scenarios of gio_client.c (bench/compare
// builds it) with a Go client, so that both are measured the same way: one
// process, the same server, timed from the first measured connection to the
// last, after one untimed warm-up connection.
//
//	benchclient -config server.json -endpoint ecdsa-tls13 -impl giotls -scenario connect -n 200
//	benchclient -config server.json -endpoint ecdsa-tls13 -impl crypto-tls -scenario bulk -bytes 268435456
//
// Implementations: giotls (a file database given to each connection, a
// SessionCache of its own: GIO's tuned path), giotls-default
// (NewClientConnection and the system database, the unknown CA accepted in
// the accept-certificate handler: GIO's default path) and crypto-tls.
// Sessions are kept and resumed as each implementation does by default. It
// prints one JSON line, the same as gio_client's.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/giotls/giotls/bench"
)

// Result is one run's measurement, as gio_client prints it too.
type Result struct {
	Impl     string `json:"impl"`
	Scenario string `json:"scenario"`
	Endpoint string `json:"endpoint"`
	Ops      int64  `json:"ops"`     // connections, or 1 for bulk
	Bytes    int64  `json:"bytes"`   // downloaded, bulk only
	WallNS   int64  `json:"wall_ns"` // for all ops
	CPUNS    int64  `json:"cpu_ns"`  // user and system, for all ops
	Resumed  int64  `json:"resumed"` // connections that resumed; -1 unknown
}

func main() {
	cfgPath := flag.String("config", "", "server.json written by benchserver")
	endpoint := flag.String("endpoint", bench.Endpoint(bench.ECDSA, bench.TLS13), "server endpoint")
	impl := flag.String("impl", bench.ImplGiotls, "giotls, giotls-default or crypto-tls")
	scenario := flag.String("scenario", "connect", "connect or bulk")
	n := flag.Int64("n", 100, "connections (connect)")
	size := flag.Int64("bytes", 256<<20, "bytes to download (bulk)")
	flag.Parse()
	cfg, err := bench.LoadConfig(*cfgPath)
	if err != nil {
		log.Fatal(err)
	}
	addr, ok := cfg.Endpoints[*endpoint]
	if !ok {
		log.Fatalf("no endpoint %s in %s", *endpoint, *cfgPath)
	}
	var c bench.Client
	switch *impl {
	case bench.ImplGiotls, bench.ImplGiotlsDef:
		c, err = bench.NewGiotlsClient(cfg, addr, *impl == bench.ImplGiotlsDef, true)
	case bench.ImplCryptoTLS:
		c, err = bench.NewCryptoTLSClient(cfg, addr, true)
	default:
		err = fmt.Errorf("unknown implementation %q", *impl)
	}
	if err != nil {
		log.Fatal(err)
	}
	res := Result{Impl: *impl, Scenario: *scenario, Endpoint: *endpoint}
	ctx := context.Background()
	warm, err := c.Connect(ctx)
	if err != nil {
		log.Fatal(err)
	}
	switch *scenario {
	case "connect":
		warm.Close()
		start, cpu0 := time.Now(), cpuTime()
		for range *n {
			conn, err := c.Connect(ctx)
			if err != nil {
				log.Fatal(err)
			}
			if conn.Resumed() {
				res.Resumed++
			}
			conn.Close()
		}
		res.Ops, res.WallNS, res.CPUNS = *n, time.Since(start).Nanoseconds(), int64(cpuTime()-cpu0)
	case "bulk":
		buf := make([]byte, 64<<10)
		start, cpu0 := time.Now(), cpuTime()
		if err := bench.Download(warm, *size, buf); err != nil {
			log.Fatal(err)
		}
		res.Ops, res.Bytes, res.WallNS, res.CPUNS = 1, *size, time.Since(start).Nanoseconds(), int64(cpuTime()-cpu0)
		res.Resumed = -1
		warm.Close()
	default:
		log.Fatalf("unknown scenario %q", *scenario)
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

func cpuTime() time.Duration {
	t, _ := bench.CPUTime()
	return t
}
