package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/giotls/giotls/internal/peer"
)

// TestConformance runs every scenario through GIO and through giotls and
// compares them. With CONFORMANCE_README set it rewrites the results table
// in README.md; with CONFORMANCE_DUMP set it logs every field of both
// clients.
func TestConformance(t *testing.T) {
	peer.Need(t, python)
	p := newPKI(t)
	scenarios := allScenarios(p)
	if len(scenarios) < 30 {
		t.Errorf("%d scenarios, want at least 30", len(scenarios))
	}
	names := map[string]bool{}
	for _, sc := range scenarios {
		if names[sc.Name] {
			t.Fatalf("two scenarios named %q", sc.Name)
		}
		names[sc.Name] = true
	}
	var mu sync.Mutex
	rows := map[string]row{}
	t.Run("scenario", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.Name, func(t *testing.T) {
				t.Parallel()
				gio, ours := runBoth(t, sc)
				if os.Getenv("CONFORMANCE_DUMP") != "" {
					t.Logf("GIO:\n%s\ngiotls:\n%s", dump(gio), dump(ours))
				}
				problems := compare(t, sc, gio, ours)
				mu.Lock()
				rows[sc.Name] = row{summary(sc, gio), summary(sc, ours), problems}
				mu.Unlock()
			})
		}
	})
	if os.Getenv("CONFORMANCE_README") != "" {
		if err := updateReadme("README.md", scenarios, rows); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	beginTable = "<!-- BEGIN TABLE: written by CONFORMANCE_README=1 go test ./conformance/ -->"
	endTable   = "<!-- END TABLE -->"
)

// updateReadme replaces the table in README.md (between beginTable and
// endTable) with this run's, headed by the versions measured.
func updateReadme(path string, scenarios []*Scenario, rows map[string]row) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before, rest, ok1 := strings.Cut(string(old), beginTable)
	_, after, ok2 := strings.Cut(rest, endTable)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s has no %q ... %q block", path, beginTable, endTable)
	}
	failing := 0
	for _, r := range rows {
		if len(r.problems) > 0 {
			failing++
		}
	}
	var b strings.Builder
	b.WriteString(beginTable + "\n\n")
	fmt.Fprintf(&b, "Measured with %s, on Debian %s, with %s. %d scenarios, %d failing.\n\n",
		packageVersions("glib-networking", "libglib2.0-0", "libgnutls30", "python3-gi", "openssl", "gnutls-bin", "vsftpd"),
		debianVersion(), runtime.Version(), len(rows), failing)
	b.WriteString(table(scenarios, rows))
	b.WriteString("\n" + endTable)
	return os.WriteFile(path, []byte(before+b.String()+after), 0o644)
}

// packageVersions names the Debian packages' installed versions.
func packageVersions(pkgs ...string) string {
	out, err := exec.Command("dpkg-query", append([]string{"-W", "-f=${Package} ${Version}\n"}, pkgs...)...).Output()
	if err != nil {
		return "(dpkg-query failed: " + err.Error() + ")"
	}
	return strings.Join(strings.Split(strings.TrimSpace(string(out)), "\n"), ", ")
}

func debianVersion() string {
	b, err := os.ReadFile("/etc/debian_version")
	if err != nil {
		return "(unknown)"
	}
	return strings.TrimSpace(string(b))
}

// row is a scenario's line in the table.
type row struct {
	gio, giotls string
	problems    []string // what failed, if anything
}

// table writes the results as README.md's Markdown table: each scenario with
// the fields it is about for each client (deliberate differences in bold),
// and why they differ; a failing scenario says what failed.
func table(scenarios []*Scenario, rows map[string]row) string {
	var b strings.Builder
	b.WriteString("| # | scenario | GIO 2.74 | giotls | why they differ |\n|---|---|---|---|---|\n")
	for i, sc := range scenarios {
		r, ok := rows[sc.Name]
		if !ok {
			continue
		}
		why := strings.Join(sc.reasons(), ", ")
		if len(r.problems) > 0 {
			why = "**FAILS**: " + strings.Join(r.problems, "; ") + orEmpty(why, " (deliberate: ", ")")
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", i+1, cell(sc.Name), cell(r.gio), cell(r.giotls), cell(why))
	}
	b.WriteString("\nWhy they differ:\n\n")
	names := make([]string, 0, len(reasons))
	for name := range reasons {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "- **%s**: %s.\n", name, reasons[name])
	}
	return b.String()
}

func orEmpty(s, before, after string) string {
	if s == "" {
		return ""
	}
	return before + s + after
}

// runBoth runs sc through GIO and through giotls, each against a server of
// its own, and returns what each client and its server saw.
func runBoth(t *testing.T, sc *Scenario) (gio, ours Fields) {
	t.Helper()
	target := sc.Server.Start(t)
	gioRes := runGIO(t, sc, target.Addrs())
	extract(sc, &gioRes)
	gio = fields(gioRes, target.Conns(t))

	target = sc.Server.Start(t)
	client := newGiotlsClient(t, sc.Client)
	var res ClientResult
	if sc.FTP != nil {
		res = client.ftp(sc.FTP, target.Addrs()[0])
	} else {
		res = client.run(sc, target.Addrs())
	}
	extract(sc, &res)
	ours = fields(res, target.Conns(t))
	return gio, ours
}

// extract applies the connections' Extract expressions to what was read.
func extract(sc *Scenario, r *ClientResult) {
	for i := range r.Connections {
		if i < len(sc.Conns) && sc.Conns[i].Extract != nil {
			r.Connections[i].Data = strings.Join(sc.Conns[i].Extract.FindAllString(r.Connections[i].Data, -1), " ")
		}
	}
}

func dump(f Fields) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s = %s\n", k, f[k])
	}
	return b.String()
}

// cell escapes a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
