package giotls

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeParityTable checks README.md's GIO parity table: every row
// names giotls identifiers that the package exports (Name, Type.Method or
// Type.Field, outside parentheses) or says "not applicable: why"; rows
// marked "(being added)" name what other branches add and are skipped.
func TestReadmeParityTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := parityRows(t, string(readme))
	if len(rows) < 80 {
		t.Fatalf("the parity table has %d rows; expected every GIO call", len(rows))
	}
	exported := exportedNames(t)
	for _, r := range rows {
		checkParityRow(t, r, exported)
	}
}

// TestReadmeParityCoversGIO checks that README.md's parity table has a row
// for every call, property and signal of GIO's TLS client API, as the
// installed GIO's introspection data lists them (testdata/gio/api.py,
// through /usr/bin/python3 and gi).
func TestReadmeParityCoversGIO(t *testing.T) {
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Fatalf("GIO reference not installed (apt-get install -y python3-gi glib-networking): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, filepath.Join("testdata", "gio", "api.py")).CombinedOutput()
	if err != nil {
		t.Fatalf("GIO: %v\n%s", err, out)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	named := gioNames(parityRows(t, string(readme)))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 150 {
		t.Fatalf("GIO listed %d names:\n%s", len(lines), out)
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if !named[f[len(f)-1]] {
			t.Errorf("the parity table has no row for GIO's %s", line)
		}
	}
}

// gioNames returns the GIO names in the first column of rows: the
// backticked lower-case ones, with the abbreviations expanded: "_x" after
// a call g_type_y is g_type_x (the longest known type prefix), and "_async"
// and "_finish" are that call's.
func gioNames(rows [][2]string) map[string]bool {
	prefixes := []string{"g_tls_client_connection", "g_tls_connection", "g_tls_certificate", "g_tls_file_database",
		"g_tls_database", "g_tls_interaction", "g_tls_password", "g_tls_backend", "g_socket_client",
		"g_network_address", "g_network_service", "g_inet_socket_address", "g_socket_connectable"}
	names := map[string]bool{}
	for _, r := range rows {
		var last, prefix string
		for _, m := range backticked.FindAllStringSubmatch(r[0], -1) {
			tok := m[1]
			switch {
			case strings.ToLower(tok) != tok:
				continue
			case tok == "_async" || tok == "_finish":
				tok = last + tok
			case strings.HasPrefix(tok, "_"):
				tok = prefix + tok
			case strings.HasPrefix(tok, "g_"):
				last, prefix = tok, ""
				for _, p := range prefixes {
					if strings.HasPrefix(tok, p+"_") && len(p) > len(prefix) {
						prefix = p
					}
				}
			}
			names[tok] = true
		}
	}
	return names
}

// TestParityRowCheck makes sure the row check fails what it must.
func TestParityRowCheck(t *testing.T) {
	exported := map[string]bool{"Backend": true, "Backend.SupportsDTLS": true}
	cases := []struct {
		row [2]string
		ok  bool
	}{
		{[2]string{"`g_tls_backend_supports_dtls`", "`Backend.SupportsDTLS`"}, true},
		{[2]string{"`g_x`", "`Backend.SupportsDTLS`, `Backend.Missing`"}, false},
		{[2]string{"`g_x`", "`Missing`"}, false},
		{[2]string{"`g_x`", "`Backend` (its `Whatever`)"}, true},
		{[2]string{"`g_x`", "nothing named"}, false},
		{[2]string{"`g_x`", "not applicable:"}, false},
		{[2]string{"`g_x`", "not applicable: server side"}, true},
		{[2]string{"`g_x`", "not applicable: see `Missing`"}, false},
		{[2]string{"`g_x`", "`Missing` (being added)"}, true},
	}
	for _, tc := range cases {
		ft := &fakeT{}
		checkParityRow(ft, tc.row, exported)
		if ft.failed == tc.ok {
			t.Errorf("row %q: failed %v, want %v", tc.row, ft.failed, !tc.ok)
		}
	}
}

// fakeT records whether a check failed.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }

var (
	backticked  = regexp.MustCompile("`([^`]*)`")
	parenthesis = regexp.MustCompile(`\([^()]*\)`)
	goName      = regexp.MustCompile(`^(pkcs11\.)?[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)?$`)
)

// checkParityRow checks one row: GIO's names, then giotls's.
func checkParityRow(t testing.TB, row [2]string, exported map[string]bool) {
	t.Helper()
	gio, ours := row[0], row[1]
	if strings.Contains(ours, "(being added)") {
		return
	}
	if why, ok := strings.CutPrefix(ours, "not applicable"); ok {
		if !strings.HasPrefix(why, ": ") || len(strings.TrimSpace(why[2:])) == 0 {
			t.Errorf("%s: %q gives no reason", gio, ours)
		}
	}
	var names int
	for _, m := range backticked.FindAllStringSubmatch(parenthesis.ReplaceAllString(ours, ""), -1) {
		if !goName.MatchString(m[1]) {
			t.Errorf("%s: %q is not a giotls name", gio, m[1])
			continue
		}
		names++
		if !exported[m[1]] {
			t.Errorf("%s: giotls has no %s", gio, m[1])
		}
	}
	if names == 0 && !strings.HasPrefix(ours, "not applicable") {
		t.Errorf("%s: %q names nothing in giotls", gio, ours)
	}
}

// parityRows returns the rows of the table under "## GIO parity", section
// rows (a bold GIO type and nothing else) left out.
func parityRows(t *testing.T, readme string) [][2]string {
	_, section, ok := strings.Cut(readme, "\n## GIO parity\n")
	if !ok {
		t.Fatal("README.md has no GIO parity section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var rows [][2]string
	for line := range strings.SplitSeq(section, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| GIO |") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 2 {
			t.Fatalf("row %q has %d cells", line, len(cells))
		}
		gio, ours := strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1])
		if strings.HasPrefix(gio, "**") && ours == "" {
			continue
		}
		rows = append(rows, [2]string{gio, ours})
	}
	return rows
}

// exportedNames returns the package's exported names: Name for types,
// functions, constants and variables, Type.Name for methods, struct fields
// and interface methods.
func exportedNames(t *testing.T) map[string]bool {
	names := map[string]bool{}
	addExportedNames(t, names, ".", "")
	addExportedNames(t, names, "pkcs11", "pkcs11.") // the PKCS#11 module's
	return names
}

// addExportedNames adds the exported names of the package in dir to names,
// each with prefix.
func addExportedNames(t *testing.T, names map[string]bool, dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	add := func(n string) {
		if ast.IsExported(n[strings.LastIndex(n, ".")+1:]) {
			names[prefix+n] = true
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					add(d.Name.Name)
					continue
				}
				recv := d.Recv.List[0].Type
				if s, ok := recv.(*ast.StarExpr); ok {
					recv = s.X
				}
				if id, ok := recv.(*ast.Ident); ok && ast.IsExported(id.Name) {
					add(id.Name + "." + d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							add(n.Name)
						}
					case *ast.TypeSpec:
						add(s.Name.Name)
						var fields *ast.FieldList
						switch ty := s.Type.(type) {
						case *ast.StructType:
							fields = ty.Fields
						case *ast.InterfaceType:
							fields = ty.Methods
						}
						if fields == nil {
							continue
						}
						for _, fl := range fields.List {
							for _, n := range fl.Names {
								add(s.Name.Name + "." + n.Name)
							}
						}
					}
				}
			}
		}
	}
}
