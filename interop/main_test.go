//go:build linux

package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// giotlsBin is the command built from ./cmd/giotls for this run.
var giotlsBin string

// TestMain builds the command once, runs the tests, fails them if a
// goroutine outlives them, and with INTEROP_README set rewrites the results
// table in README.md.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "giotls-interop-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	giotlsBin = filepath.Join(dir, "giotls")
	if bin := os.Getenv("INTEROP_GIOTLS"); bin != "" {
		// Another build of the command, to try its cases against a branch.
		giotlsBin = bin
	} else {
		build := exec.Command("go", "build", "-o", giotlsBin, "../cmd/giotls")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build ./cmd/giotls: %v\n%s", err, out)
			os.Exit(2)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	if thePKI != nil {
		os.RemoveAll(thePKI.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	if os.Getenv("INTEROP_README") != "" {
		if err := updateReadme("README.md"); err != nil {
			fmt.Fprintln(os.Stderr, "README.md:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// result is one case's line in the README's table.
type result struct {
	server, name, client string
	note                 string // what was seen: resumption, the server's log line, ...
	failed               bool
}

var (
	resultsMu sync.Mutex
	results   []*result
)

// record adds t's case to the table: server, what is done, and by which
// client ("CLI" or "library"). The returned result's note may be filled in
// by the test; whether the case passed is read when t ends.
func record(t *testing.T, server, name, client string) *result {
	r := &result{server: server, name: name, client: client}
	resultsMu.Lock()
	results = append(results, r)
	resultsMu.Unlock()
	t.Cleanup(func() {
		resultsMu.Lock()
		r.failed = t.Failed()
		resultsMu.Unlock()
	})
	return r
}

// notef sets r's note, without what changes from run to run (times, PIDs,
// ports), so that a new table differs from the last only where results do.
func (r *result) notef(format string, args ...any) {
	note := fmt.Sprintf(format, args...)
	for _, v := range volatile {
		note = v.re.ReplaceAllString(note, v.with)
	}
	resultsMu.Lock()
	r.note = note
	resultsMu.Unlock()
}

var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ `), ""}, // proftpd's time
	{regexp.MustCompile(`\[\d+\]`), ""},                             // PIDs
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
}

const (
	beginTable = "<!-- BEGIN TABLE: written by INTEROP_README=1 go test ./interop/ -->"
	endTable   = "<!-- END TABLE -->"
)

// updateReadme replaces README.md's table with this run's results.
func updateReadme(path string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before, rest, ok1 := strings.Cut(string(old), beginTable)
	_, after, ok2 := strings.Cut(rest, endTable)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s has no %q ... %q block", path, beginTable, endTable)
	}
	resultsMu.Lock()
	defer resultsMu.Unlock()
	rs := results // in the order run: the tests run one after another
	failing := 0
	for _, r := range rs {
		if r.failed {
			failing++
		}
	}
	var b strings.Builder
	b.WriteString(beginTable + "\n\n")
	fmt.Fprintf(&b, "Measured with %s, on Debian %s, with %s. %d cases, %d failing.\n\n",
		packageVersions("proftpd-core", "pure-ftpd", "vsftpd", "dovecot-core", "postfix", "prosody", "nginx", "slapd", "tinyproxy", "dante-server", "openssl"),
		debianVersion(), runtime.Version(), len(rs), failing)
	b.WriteString("| server | case | client | result | seen |\n|---|---|---|---|---|\n")
	for _, r := range rs {
		verdict := "pass"
		if r.failed {
			verdict = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.server, r.name, r.client, verdict, cell(r.note))
	}
	b.WriteString("\n" + endTable)
	return os.WriteFile(path, []byte(before+b.String()+after), 0o644)
}

// cell makes s fit in a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

// packageVersions returns "pkg version, ..." for the installed packages, and
// the unpacked ones (proftpd-core, pure-ftpd) from their own files.
func packageVersions(pkgs ...string) string {
	var out []string
	for _, p := range pkgs {
		v, err := exec.Command("dpkg-query", "-W", "-f=${Version}", p).Output()
		if err != nil || len(v) == 0 {
			v = unpackedVersion(p)
		}
		out = append(out, p+" "+string(v))
	}
	return strings.Join(out, ", ")
}

// unpackedVersion reads the version of a package scripts/test unpacked
// (the VERSION file it writes beside the files).
func unpackedVersion(pkg string) []byte {
	if b, err := os.ReadFile(filepath.Join(unpackRoot(), pkg, "VERSION")); err == nil {
		return []byte(strings.TrimSpace(string(b)))
	}
	return []byte("(unpacked)")
}

func debianVersion() string {
	b, err := os.ReadFile("/etc/debian_version")
	if err != nil {
		return "(unknown)"
	}
	return strings.TrimSpace(string(b))
}
