package giotls

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// TestDatabaseHandles: the databases giotls makes implement
// CertificateHandles, with GIO's handle formats (the anchors file's URI
// and the certificate's SHA-256 for a file database); a handle is made only
// for a certificate the database holds, and looks up only in the database
// that made it, giving that certificate.
func TestDatabaseHandles(t *testing.T) {
	root := testpki.MustCA(t, "Handles Root")
	other := testpki.MustCA(t, "Handles Other")
	leaf := root.MustLeaf(t, "leaf")
	path := filepath.Join(t.TempDir(), "my anchors.pem")
	if err := os.WriteFile(path, root.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	fileDB, err := NewFileDatabase(path)
	if err != nil {
		t.Fatal(err)
	}
	memDB := NewDatabase([]*x509.Certificate{root.Cert})
	sum := sha256.Sum256(root.Cert.Raw)
	fileHandle := (&url.URL{Scheme: "file", Path: path}).String() + "#" + hex.EncodeToString(sum[:])
	cases := []struct {
		name   string
		db     Database
		handle string // for root
	}{
		{"file", fileDB, fileHandle},
		{"memory", memDB, "giotls-memory:#" + hex.EncodeToString(sum[:])},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := tc.db.(CertificateHandles)
			if !ok {
				t.Fatalf("%T does not implement CertificateHandles", tc.db)
			}
			if got := h.CreateCertificateHandle(&Certificate{cert: root.Cert}); got != tc.handle {
				t.Fatalf("CreateCertificateHandle(root) = %q, want %q", got, tc.handle)
			}
			for _, notHeld := range []*Certificate{{cert: other.Cert}, {cert: leaf.Cert}, nil, {}} {
				if got := h.CreateCertificateHandle(notHeld); got != "" {
					t.Fatalf("CreateCertificateHandle(%v) = %q, want none: not in the database", notHeld.SubjectName(), got)
				}
			}
			got, err := h.LookupCertificateForHandle(ctx, tc.handle, nil)
			if err != nil || got == nil || !got.X509().Equal(root.Cert) {
				t.Fatalf("LookupCertificateForHandle(%q) = %v, %v; want the root", tc.handle, got, err)
			}
			otherSum := sha256.Sum256(other.Cert.Raw)
			for _, bad := range []string{"", "#", tc.handle + "0", strings.ToUpper(tc.handle),
				strings.TrimSuffix(tc.handle, hex.EncodeToString(sum[:])) + hex.EncodeToString(otherSum[:]),
				"system-trust:#" + hex.EncodeToString(sum[:])} {
				if got, err := h.LookupCertificateForHandle(ctx, bad, nil); got != nil || err != nil {
					t.Fatalf("LookupCertificateForHandle(%q) = %v, %v; want nothing", bad, got, err)
				}
			}
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := h.LookupCertificateForHandle(cancelled, tc.handle, nil); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled: %v", err)
			}
		})
	}
	// The other database's handle does not look up here.
	if got, _ := memDB.(CertificateHandles).LookupCertificateForHandle(ctx, fileHandle, nil); got != nil {
		t.Fatal("the memory database looked up the file database's handle")
	}
	if fdb, ok := fileDB.(FileDatabase); !ok || fdb.Anchors() != path {
		t.Fatalf("NewFileDatabase's result: FileDatabase %v, anchors %q; want %q", ok, fdb.Anchors(), path)
	}
	if _, ok := memDB.(FileDatabase); ok {
		t.Fatal("NewDatabase's result is a FileDatabase")
	}
	for _, typedNil := range []CertificateHandles{(*storeDatabase)(nil), (*fileDatabase)(nil), &fileDatabase{}} {
		if h := typedNil.CreateCertificateHandle(&Certificate{cert: root.Cert}); h != "" {
			t.Fatalf("%T: handle %q", typedNil, h)
		}
		if c, err := typedNil.LookupCertificateForHandle(ctx, fileHandle, nil); c != nil || err != nil {
			t.Fatalf("%T: %v, %v", typedNil, c, err)
		}
	}
	if a := (*fileDatabase)(nil).Anchors(); a != "" {
		t.Fatalf("a nil file database's anchors: %q", a)
	}
	if sys, err := SystemDatabase(); err != nil {
		t.Fatal(err)
	} else if _, ok := sys.(FileDatabase); ok {
		t.Fatal("SystemDatabase is a FileDatabase")
	}
}

// TestDatabaseHandlesAgainstGIO makes handles with GIO (through
// /usr/bin/python3 and gi) and giotls for the same certificates: the file
// database's and the system database's are the same strings, a certificate
// the database does not hold has none, and GIO's handle looks up in
// giotls's database.
func TestDatabaseHandlesAgainstGIO(t *testing.T) {
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Fatalf("GIO reference not installed (apt-get install -y python3-gi glib-networking): %v", err)
	}
	sys, err := SystemDatabase()
	if err != nil {
		t.Fatal(err)
	}
	anchors := sys.(*storeDatabase).store.Anchors()
	if len(anchors) == 0 {
		t.Fatal("the system has no trust anchors (apt-get install -y ca-certificates)")
	}
	root := testpki.MustCA(t, "GIO Handles Root")
	dir := t.TempDir()
	anchorsPath := filepath.Join(dir, "anchors.pem")
	certPath := filepath.Join(dir, "cert.pem")
	systemPath := filepath.Join(dir, "system.pem")
	for p, data := range map[string][]byte{anchorsPath: root.CertPEM(), certPath: root.CertPEM(),
		systemPath: testpki.EncodeCertificates(anchors[0])} {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, filepath.Join("testdata", "gio", "handles.py"), anchorsPath, certPath, systemPath).CombinedOutput()
	if err != nil {
		t.Fatalf("GIO: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("GIO printed %q", out)
	}
	fileDB, err := NewFileDatabase(anchorsPath)
	if err != nil {
		t.Fatal(err)
	}
	none := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	fh := fileDB.(CertificateHandles)
	if got := fh.CreateCertificateHandle(&Certificate{cert: root.Cert}); got != lines[0] {
		t.Errorf("file database handle: giotls %q, GIO %q", got, lines[0])
	}
	if got := sys.(CertificateHandles).CreateCertificateHandle(&Certificate{cert: anchors[0]}); got != lines[1] {
		t.Errorf("system database handle: giotls %q, GIO %q", got, lines[1])
	}
	if got := none(fh.CreateCertificateHandle(&Certificate{cert: anchors[0]})); got != lines[2] {
		t.Errorf("handle for a certificate not held: giotls %q, GIO %q", got, lines[2])
	}
	got, err := fh.LookupCertificateForHandle(ctx, lines[0], nil)
	if err != nil || got == nil || strings.ReplaceAll(string(got.CertificatePEM()), "\n", `\n`) != lines[3] {
		t.Errorf("looking GIO's handle up: %v, %v; GIO found %q", got, err, lines[3])
	}
}
