// Command compare runs giotls, plain crypto/tls and the reference GIO client
// against the same benchmark server, several times, and prints one table of
// ratios (medians over the runs) with the targets of BENCHMARKS.md; it
// writes the table, the raw measurements and a chart of the ratios (SVG) to
// -out. bench/compare builds the GIO client and runs it; see BENCHMARKS.md.
//
// Each run does, in order: the Go benchmarks of package bench (against the
// benchserver process, so that their CPU time and allocations are the
// client's alone; giotls first in odd runs, crypto/tls first in even ones),
// then each process-level scenario (connections one after
// the other; a bulk download) with every client in turn: benchclient as
// giotls (tuned: a file database given at construction), giotls-default
// (the system database) and crypto-tls, and gio_client as GIO default and
// GIO tuned. Ratios are taken between medians of the same runs.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/giotls/giotls/bench"
)

var (
	runs       = flag.Int("runs", 5, "runs; medians are taken over them")
	benchRE    = flag.String("bench", ".", "Go benchmarks to run (-test.bench), empty for none")
	benchtime  = flag.String("benchtime", "1s", "-test.benchtime for the Go benchmarks")
	gioClient  = flag.String("gio-client", "", "gio_client binary (built from bench/gio_client.c); empty: skip GIO")
	outDir     = flag.String("out", "bench/results", "directory for results.md, raw.txt, go-bench.txt and ratios.svg")
	conns      = flag.Int("n", 200, "connections per run of a connect scenario")
	gioDefConn = flag.Int("n-gio-default", 40, "connections per run for GIO's default path (about 60 ms each)")
	bulkBytes  = flag.Int64("bytes", 256<<20, "bytes per run of the bulk scenario")
	inProcess  = flag.Bool("inprocess", false, "Go benchmarks with their in-process server instead of benchserver")
	from       = flag.String("from", "", "run nothing: remake the table and chart from go-bench.txt and raw.txt in this directory")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("compare: ")
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		log.Fatal(err)
	}
	if *from != "" {
		replot(*from)
		return
	}
	tmp, err := os.MkdirTemp("", "giotls-compare-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	bins := map[string]string{}
	for _, b := range []struct{ name, pkg string }{
		{"benchserver", "./bench/cmd/benchserver"}, {"benchclient", "./bench/cmd/benchclient"},
	} {
		bins[b.name] = filepath.Join(tmp, b.name)
		run("go", "build", "-o", bins[b.name], b.pkg)
	}
	bins["bench.test"] = filepath.Join(tmp, "bench.test")
	run("go", "test", "-c", "-o", bins["bench.test"], "./bench")

	srv := exec.Command(bins["benchserver"], "-dir", filepath.Join(tmp, "server"), "-watch-stdin")
	stdin, err := srv.StdinPipe()
	if err != nil {
		log.Fatal(err)
	}
	stdout, err := srv.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { stdin.Close(); srv.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		log.Fatalf("benchserver: %v", err)
	}
	cfgPath := strings.TrimSpace(line)
	cfg, err := bench.LoadConfig(cfgPath)
	if err != nil {
		log.Fatal(err)
	}

	goOut, err := os.Create(filepath.Join(*outDir, "go-bench.txt"))
	if err != nil {
		log.Fatal(err)
	}
	defer goOut.Close()
	raw, err := os.Create(filepath.Join(*outDir, "raw.txt"))
	if err != nil {
		log.Fatal(err)
	}
	defer raw.Close()

	goRes := map[string]map[string][]float64{} // name -> unit -> one value per run
	var goOrder []string
	procRes := map[string][]result{} // scenario key + impl -> one per run
	started := time.Now()
	for r := range *runs {
		log.Printf("run %d/%d (%s elapsed)", r+1, *runs, time.Since(started).Round(time.Second))
		if *benchRE != "" {
			cmd := exec.Command(bins["bench.test"], "-test.run", "^$", "-test.bench", *benchRE,
				"-test.benchtime", *benchtime, "-test.count", "1")
			cmd.Dir = "bench"
			cmd.Env = os.Environ()
			if !*inProcess {
				cmd.Env = append(cmd.Env, "GIOTLS_BENCH_SERVER="+cfgPath)
			}
			if r%2 == 1 {
				cmd.Env = append(cmd.Env, "GIOTLS_BENCH_REVERSE=1") // crypto/tls first
			}
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			goOut.Write(out)
			if err != nil {
				log.Fatalf("go benchmarks: %v\n%s", err, out)
			}
			parseGoBench(out, goRes, &goOrder)
		}
		for i, sc := range scenarios() {
			clients := clientsFor(sc)
			// Rotate the order from run to run, so that none is always
			// first after another's load.
			for j := range clients {
				c := clients[(j+r+i)%len(clients)]
				before := stats(cfg)
				res := runClient(bins["benchclient"], cfgPath, cfg, sc, c)
				after := stats(cfg)
				ep := after[sc.endpoint]
				res.ServerHandshakes = ep.Handshakes - before[sc.endpoint].Handshakes
				res.ServerResumed = ep.Resumed - before[sc.endpoint].Resumed
				fmt.Fprintf(raw, "run=%d scenario=%s endpoint=%s client=%s ops=%d bytes=%d wall_ns=%d cpu_ns=%d server_handshakes=%d server_resumed=%d\n",
					r+1, sc.name, sc.endpoint, c, res.Ops, res.Bytes, res.WallNS, res.CPUNS, res.ServerHandshakes, res.ServerResumed)
				procRes[sc.key()+" "+c] = append(procRes[sc.key()+" "+c], res)
			}
		}
	}

	hdr := fmt.Sprintf("<!-- bench/compare -runs %d -benchtime %s -n %d -n-gio-default %d -bytes %d; %s; %s -->\n\n",
		*runs, *benchtime, *conns, *gioDefConn, *bulkBytes, time.Now().UTC().Format(time.RFC3339), machine())
	write(hdr, goRes, goOrder, procRes)
	log.Printf("wrote %s (results.md, ratios.svg, raw.txt, go-bench.txt) in %s", *outDir, time.Since(started).Round(time.Second))
}

// write prints the table and writes results.md and ratios.svg.
func write(hdr string, goRes map[string]map[string][]float64, goOrder []string, procRes map[string][]result) {
	rows := goRows(goRes, goOrder)
	rows = append(rows, procRows(procRes)...)
	var table bytes.Buffer
	writeTable(&table, rows)
	os.Stdout.Write(table.Bytes())
	if err := os.WriteFile(filepath.Join(*outDir, "results.md"), append([]byte(hdr), table.Bytes()...), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*outDir, "ratios.svg"), chart(rows), 0o644); err != nil {
		log.Fatal(err)
	}
}

// replot remakes the outputs from the raw files of an earlier run in dir.
func replot(dir string) {
	goOut, err := os.ReadFile(filepath.Join(dir, "go-bench.txt"))
	if err != nil {
		log.Fatal(err)
	}
	goRes := map[string]map[string][]float64{}
	var goOrder []string
	parseGoBench(goOut, goRes, &goOrder)
	raw, err := os.ReadFile(filepath.Join(dir, "raw.txt"))
	if err != nil {
		log.Fatal(err)
	}
	procRes := map[string][]result{}
	for l := range strings.SplitSeq(string(raw), "\n") {
		f := map[string]string{}
		for kv := range strings.FieldsSeq(l) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				f[k] = v
			}
		}
		if f["client"] == "" {
			continue
		}
		num := func(k string) int64 { n, _ := strconv.ParseInt(f[k], 10, 64); return n }
		sc := scenario{f["scenario"], f["endpoint"]}
		procRes[sc.key()+" "+f["client"]] = append(procRes[sc.key()+" "+f["client"]], result{
			Ops: num("ops"), Bytes: num("bytes"), WallNS: num("wall_ns"), CPUNS: num("cpu_ns"),
			ServerHandshakes: num("server_handshakes"), ServerResumed: num("server_resumed"),
		})
	}
	hdr := ""
	if old, err := os.ReadFile(filepath.Join(dir, "results.md")); err == nil {
		if first, _, ok := strings.Cut(string(old), "\n"); ok && strings.HasPrefix(first, "<!--") {
			hdr = first + "\n\n"
		}
	}
	write(hdr, goRes, goOrder, procRes)
}

func run(name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
}

// machine describes where the run took place.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	out, _ := exec.Command("nproc").Output()
	return fmt.Sprintf("%s, %s cores", model, strings.TrimSpace(string(out)))
}

// Process-level scenarios.

type scenario struct {
	name     string // connect or bulk
	endpoint string
}

func (s scenario) key() string { return s.name + " " + s.endpoint }

func scenarios() []scenario {
	return []scenario{
		{"connect", bench.Endpoint(bench.ECDSA, bench.TLS13)},
		{"connect", bench.Endpoint(bench.RSA, bench.TLS13)},
		{"connect", bench.Endpoint(bench.ECDSA, bench.TLS12)},
		{"bulk", bench.Endpoint(bench.ECDSA, bench.TLS13)},
	}
}

const (
	gioDefault = "gio-default"
	gioTuned   = "gio-tuned"
)

func clientsFor(scenario) []string {
	c := []string{bench.ImplGiotls, bench.ImplGiotlsDef, bench.ImplCryptoTLS}
	if *gioClient != "" {
		c = append(c, gioDefault, gioTuned)
	}
	return c
}

type result struct {
	Ops              int64 `json:"ops"`
	Bytes            int64 `json:"bytes"`
	WallNS           int64 `json:"wall_ns"`
	CPUNS            int64 `json:"cpu_ns"`
	ServerHandshakes int64
	ServerResumed    int64
}

func runClient(benchclient, cfgPath string, cfg *bench.Config, sc scenario, client string) result {
	n := *conns
	var cmd *exec.Cmd
	switch client {
	case gioDefault, gioTuned:
		if client == gioDefault {
			n = *gioDefConn
		}
		host, port, _ := strings.Cut(cfg.Endpoints[sc.endpoint], ":")
		cmd = exec.Command(*gioClient, strings.TrimPrefix(client, "gio-"), sc.name, host, port, cfg.CAFile,
			strconv.Itoa(n), strconv.FormatInt(*bulkBytes, 10))
	default:
		cmd = exec.Command(benchclient, "-config", cfgPath, "-endpoint", sc.endpoint, "-impl", client,
			"-scenario", sc.name, "-n", strconv.Itoa(n), "-bytes", strconv.FormatInt(*bulkBytes, 10))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.Bytes())
	}
	var res result
	if err := json.Unmarshal(out, &res); err != nil || res.Ops <= 0 {
		log.Fatalf("%s: bad output %q: %v", strings.Join(cmd.Args, " "), out, err)
	}
	return res
}

func stats(cfg *bench.Config) map[string]bench.Stats {
	resp, err := http.Get("http://" + cfg.Stats + "/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]bench.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		log.Fatal(err)
	}
	return st
}

// Go benchmark output.

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parseGoBench(out []byte, res map[string]map[string][]float64, order *[]string) {
	for l := range strings.SplitSeq(string(out), "\n") {
		m := benchLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		name, fields := m[1], strings.Fields(m[2])
		if res[name] == nil {
			res[name] = map[string][]float64{}
			*order = append(*order, name)
		}
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			res[name][fields[i+1]] = append(res[name][fields[i+1]], v)
		}
	}
}

// Rows of the table.

// A target bounds a ratio giotls/other (or, for memory, a difference).
type target struct {
	max, min float64 // ratio bounds; 0: none
	maxDiff  float64 // giotls - other, for B/conn
	text     string
}

func (t *target) met(giotls, other, r float64) string {
	if t == nil {
		return ""
	}
	ok := (t.max == 0 || r <= t.max) && (t.min == 0 || r >= t.min) && (t.maxDiff == 0 || giotls-other <= t.maxDiff)
	if ok {
		return "yes"
	}
	return "**no**"
}

type row struct {
	scenario, metric, unit string
	giotls, giotlsDef      float64
	others                 [3]float64 // crypto/tls, GIO default, GIO tuned; 0: none
	targets                [3]*target
	// paired is, for a HandshakePaired row, the median over the runs of
	// each run's cpu-ratio: the ratio of CPU times measured side by side,
	// which is what pairing is for (the load of a run weighs on both
	// variants alike); 0 for other rows.
	paired float64
}

const (
	vsCrypto = iota
	vsGIODefault
	vsGIOTuned
)

var (
	within5     = &target{max: 1.05, text: "≤ 1.05"}
	within25    = &target{max: 1.25, text: "≤ 1.25"}
	throughput  = &target{min: 0.97, text: "≥ 0.97"}
	memory      = &target{maxDiff: 4096, text: "≤ +4096 B"}
	twentyTimes = &target{max: 0.05, text: "≤ 0.05 (20× faster)"}
	noSlower    = &target{max: 1.0, text: "≤ 1"}
	noSlowerTP  = &target{min: 1.0, text: "≥ 1"}
)

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// goMetric says how a unit of a Go benchmark family is shown and judged.
func goMetric(family, unit string) (label string, tgt *target, ok bool) {
	switch family + " " + unit {
	case "Handshake ns/op", "HandshakeDrained ns/op":
		return "wall per handshake", within5, true
	case "Handshake cpu-ns/op", "HandshakeDrained cpu-ns/op":
		return "CPU per handshake", within5, true
	case "Handshake allocs/op", "HandshakeDrained allocs/op":
		return "allocations per handshake", within25, true
	case "Handshake B/op", "HandshakeDrained B/op":
		return "bytes allocated per handshake", nil, true
	case "Bulk MB/s":
		return "throughput", throughput, true
	case "Bulk cpu-ns/op":
		return "CPU per 64 MiB", nil, true
	case "RoundTrip ns/op":
		return "wall per round trip", within5, true
	case "RoundTrip cpu-ns/op":
		return "CPU per round trip", nil, true
	case "RoundTrip allocs/op":
		return "allocations per round trip", nil, true
	case "IdleMemory B/conn":
		return "heap per idle connection", memory, true
	case "Concurrent ns/conn":
		return "wall per connection", nil, true
	case "Concurrent cpu-ns/conn":
		return "CPU per connection", nil, true
	}
	return "", nil, false
}

var implPart = regexp.MustCompile(`/impl=[^/]+`)

func goRows(res map[string]map[string][]float64, order []string) []row {
	var rows []row
	seen := map[string]bool{}
	for _, name := range order {
		base := implPart.ReplaceAllString(name, "")
		if seen[base] {
			continue
		}
		if !strings.Contains(name, "/impl=") {
			if rw, ok := pairedRow(name, res[name]); ok {
				seen[base] = true
				rows = append(rows, rw)
			}
			continue
		}
		seen[base] = true
		g := res[implName(base, bench.ImplGiotls)]
		c := res[implName(base, bench.ImplCryptoTLS)]
		if g == nil || c == nil {
			continue
		}
		family, params, _ := strings.Cut(strings.TrimPrefix(base, "Benchmark"), "/")
		units := slices.Sorted(func(yield func(string) bool) {
			for u := range g {
				if !yield(u) {
					return
				}
			}
		})
		slices.SortStableFunc(units, func(a, b string) int { return unitRank(a) - unitRank(b) })
		for _, u := range units {
			label, tgt, ok := goMetric(family, u)
			if !ok || len(c[u]) == 0 {
				continue
			}
			rw := row{scenario: family + " " + strings.ReplaceAll(params, "/", " "), metric: label, unit: u,
				giotls: median(g[u])}
			rw.others[vsCrypto], rw.targets[vsCrypto] = median(c[u]), tgt
			rows = append(rows, rw)
		}
	}
	return rows
}

// pairedRow is the row of a HandshakePaired benchmark, whose one result
// holds both variants' CPU time per connection (bench.BenchmarkHandshakePaired).
func pairedRow(name string, m map[string][]float64) (row, bool) {
	family, params, _ := strings.Cut(strings.TrimPrefix(name, "Benchmark"), "/")
	g, c := m["giotls-cpu-ns/op"], m["crypto-tls-cpu-ns/op"]
	if !strings.HasPrefix(family, "HandshakePaired") || len(g) == 0 || len(c) == 0 {
		return row{}, false
	}
	rw := row{scenario: family + " " + strings.ReplaceAll(params, "/", " "), metric: "CPU per handshake, alternating",
		unit: "cpu-ns/op", giotls: median(g), paired: median(m["cpu-ratio"])}
	rw.others[vsCrypto], rw.targets[vsCrypto] = median(c), within5
	return rw, true
}

func unitRank(u string) int {
	return slices.Index([]string{"ns/op", "MB/s", "ns/conn", "cpu-ns/op", "cpu-ns/conn", "allocs/op", "B/op", "B/conn"}, u)
}

// implName puts impl back where implPart was: at the end of the name.
func implName(base, impl string) string { return base + "/impl=" + impl }

func procRows(res map[string][]result) []row {
	var rows []row
	for _, sc := range scenarios() {
		get := func(client string, f func(result) float64) float64 {
			var v []float64
			for _, r := range res[sc.key()+" "+client] {
				v = append(v, f(r))
			}
			if len(v) == 0 {
				return 0
			}
			return median(v)
		}
		type metric struct {
			label, unit string
			f           func(result) float64
			tDef, tTun  *target
		}
		var ms []metric
		if sc.name == "connect" {
			ms = []metric{
				{"wall per connection", "ns/conn", func(r result) float64 { return float64(r.WallNS) / float64(r.Ops) }, twentyTimes, noSlower},
				{"CPU per connection", "cpu-ns/conn", func(r result) float64 { return float64(r.CPUNS) / float64(r.Ops) }, nil, nil},
				// As the server counts them, the warm-up connection aside.
				{"connections resumed", "resumed", func(r result) float64 {
					return float64(min(r.ServerResumed, r.Ops)) / float64(r.Ops)
				}, nil, nil},
			}
		} else {
			ms = []metric{
				{"throughput", "MB/s", func(r result) float64 { return float64(r.Bytes) / 1e6 / (float64(r.WallNS) / 1e9) }, nil, noSlowerTP},
				{"CPU per MiB", "cpu-ns/MiB", func(r result) float64 { return float64(r.CPUNS) / (float64(r.Bytes) / (1 << 20)) }, nil, nil},
			}
		}
		for _, m := range ms {
			rw := row{scenario: "process " + sc.name + " " + sc.endpoint, metric: m.label, unit: m.unit,
				giotls: get(bench.ImplGiotls, m.f), giotlsDef: get(bench.ImplGiotlsDef, m.f)}
			rw.others[vsCrypto] = get(bench.ImplCryptoTLS, m.f)
			rw.others[vsGIODefault], rw.targets[vsGIODefault] = get(gioDefault, m.f), m.tDef
			rw.others[vsGIOTuned], rw.targets[vsGIOTuned] = get(gioTuned, m.f), m.tTun
			if rw.giotls == 0 {
				continue
			}
			rows = append(rows, rw)
		}
	}
	return rows
}

// ratio returns giotls/other for column i: against GIO's default path it is
// giotls's default path that is compared.
func (r row) ratio(i int) float64 {
	if r.others[i] == 0 || r.unit == "resumed" {
		return math.NaN()
	}
	if i == vsCrypto && r.paired != 0 {
		return r.paired
	}
	g := r.giotls
	if i == vsGIODefault {
		g = r.giotlsDef
	}
	return g / r.others[i]
}

func format(v float64, unit string) string {
	if (v == 0 && unit != "resumed") || math.IsNaN(v) {
		return ""
	}
	switch unit {
	case "ns/op", "ns/conn", "cpu-ns/op", "cpu-ns/conn", "cpu-ns/MiB":
		d := time.Duration(v)
		switch {
		case d >= time.Second:
			return fmt.Sprintf("%.3g s", d.Seconds())
		case d >= time.Millisecond:
			return fmt.Sprintf("%.3g ms", float64(d)/1e6)
		case d >= time.Microsecond:
			return fmt.Sprintf("%.3g µs", float64(d)/1e3)
		}
		return fmt.Sprintf("%.3g ns", v)
	case "MB/s":
		return fmt.Sprintf("%.0f MB/s", v)
	case "resumed":
		return fmt.Sprintf("%.0f%%", 100*v)
	case "B/op", "B/conn":
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.4g", v)
}

func writeTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| scenario | metric | giotls | crypto/tls | giotls ÷ crypto/tls | giotls default | GIO default | giotls default ÷ GIO default | GIO tuned | giotls ÷ GIO tuned | target | met |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|")
	for _, r := range rows {
		var ratios [3]string
		var targets, met []string
		for i := range ratios {
			x := r.ratio(i)
			if math.IsNaN(x) {
				continue
			}
			ratios[i] = fmt.Sprintf("%.3f", x)
			if r.unit == "B/conn" {
				ratios[i] += fmt.Sprintf(" (%+.0f B)", r.giotls-r.others[i])
			}
			if t := r.targets[i]; t != nil {
				g := r.giotls
				if i == vsGIODefault {
					g = r.giotlsDef
				}
				targets = append(targets, []string{"vs crypto/tls ", "vs GIO default ", "vs GIO tuned "}[i]+t.text)
				met = append(met, t.met(g, r.others[i], x))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.scenario, r.metric, format(r.giotls, r.unit), format(r.others[vsCrypto], r.unit), ratios[vsCrypto],
			format(r.giotlsDef, r.unit), format(r.others[vsGIODefault], r.unit), ratios[vsGIODefault],
			format(r.others[vsGIOTuned], r.unit), ratios[vsGIOTuned], strings.Join(targets, "; "), strings.Join(met, "; "))
	}
}
