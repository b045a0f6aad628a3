// Command benchserver runs the benchmark server (package bench) on
// 127.0.0.1 for clients in other processes: the GIO client, benchclient and
// the Go benchmarks with GIOTLS_BENCH_SERVER set.
//
// It writes the roots to DIR/ca.pem and a description of its endpoints to
// DIR/server.json, prints that path on standard output, and serves until
// interrupted or until its standard input is closed. Per-endpoint counters
// (handshakes, resumed, failed) are served as JSON at http://STATS/ on
// loopback, STATS being the "stats" field of server.json.
//
//	benchserver -dir /tmp/bench -keys ecdsa,rsa
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/giotls/giotls/bench"
)

func main() {
	dir := flag.String("dir", "", "directory for ca.pem and server.json (default: a new temporary one)")
	keys := flag.String("keys", bench.ECDSA+","+bench.RSA, "server key types, comma-separated")
	watch := flag.Bool("watch-stdin", false, "exit when standard input is closed")
	flag.Parse()
	if *dir == "" {
		d, err := os.MkdirTemp("", "giotls-benchserver-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if abs, err := filepath.Abs(*dir); err == nil {
		*dir = abs // GIO's GTlsFileDatabase wants an absolute path
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	s, err := bench.StartServer(*dir, strings.Split(*keys, ",")...)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	s.Config.Stats = ln.Addr().String()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Stats())
	}))

	data, err := json.MarshalIndent(s.Config, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(*dir, "server.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println(path)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if *watch {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			stop <- syscall.SIGTERM
		}()
	}
	<-stop
}
