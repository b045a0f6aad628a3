package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/peer"
)

func TestFTPCommand(t *testing.T) {
	p := newPKI(t, "FTP Command Root")
	cert, key := p.serverFiles(t, p.ca, "ftp")
	blob := make([]byte, 3<<20)
	rand.Read(blob)
	for _, tc := range []struct {
		name   string
		scheme string
		opts   peer.VsftpdOptions
	}{
		{"explicit", "ftp", peer.VsftpdOptions{CertFile: cert, KeyFile: key}},
		{"implicit", "ftps", peer.VsftpdOptions{CertFile: cert, KeyFile: key, Implicit: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := peer.StartVsftpd(t, tc.opts)
			os.WriteFile(filepath.Join(v.Root, "hello.txt"), []byte("hello over FTPS\n"), 0o644)
			os.WriteFile(filepath.Join(v.Root, "blob.bin"), blob, 0o644)
			base := tc.scheme + "://localhost:" + strconv.Itoa(v.Port) + "/"

			r := run(t, "", "ftp", "--ca", p.caFile, "-v", base)
			if r.code != 0 || !strings.Contains(r.stdout, "hello.txt") || !strings.Contains(r.stdout, "blob.bin") {
				t.Fatal(v.Errorf("list: exit %d\n%s\n%s", r.code, r.stdout, r.stderr))
			}
			for _, want := range []string{"> PBSZ 0", "> PROT P", "> EPSV", "> LIST", "> PASS ****",
				"* data connection (EPSV to 127.0.0.1:", "session resumed (CopySessionState)"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("-v output lacks %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "ftp@example.com") {
				t.Errorf("-v shows the password:\n%s", r.stderr)
			}

			r = run(t, "", "ftp", "--ca", p.caFile, base+"hello.txt")
			if r.code != 0 || r.stdout != "hello over FTPS\n" {
				t.Errorf("download to stdout: exit %d, %q\n%s", r.code, r.stdout, r.stderr)
			}

			out := filepath.Join(t.TempDir(), "blob.bin")
			r = run(t, "", "ftp", "--ca", p.caFile, "-o", out, base+"blob.bin")
			got, err := os.ReadFile(out)
			if r.code != 0 || err != nil || !bytes.Equal(got, blob) {
				t.Errorf("download -o: exit %d, %d bytes (equal %v), %v\n%s", r.code, len(got), bytes.Equal(got, blob), err, r.stderr)
			}
			if _, err := os.Stat(out + ".part"); !os.IsNotExist(err) {
				t.Errorf("%s.part left behind: %v", out, err)
			}
			// On a terminal, progress is shown on stderr.
			r = runTerminal(t, "", "ftp", "--ca", p.caFile, "-o", out, base+"blob.bin")
			if r.code != 0 || !strings.Contains(r.stderr, "\rblob.bin: 3.0 MiB of 3.0 MiB (100%)") {
				t.Errorf("progress: exit %d, stderr %q", r.code, r.stderr)
			}

			up := filepath.Join(t.TempDir(), "report.txt")
			os.WriteFile(up, []byte("uploaded by giotls ftp\n"), 0o644)
			r = run(t, "", "ftp", "--ca", p.caFile, "--upload", up, base+"upload/")
			if got, err := os.ReadFile(filepath.Join(v.Upload, "report.txt")); r.code != 0 || string(got) != "uploaded by giotls ftp\n" {
				t.Errorf("upload: exit %d, stored %q, %v\n%s", r.code, got, err, r.stderr)
			}
			r = run(t, "from stdin\n", "ftp", "--ca", p.caFile, "--upload", "-", base+"upload/stdin.txt")
			if got, err := os.ReadFile(filepath.Join(v.Upload, "stdin.txt")); r.code != 0 || string(got) != "from stdin\n" {
				t.Errorf("upload from stdin: exit %d, stored %q, %v\n%s", r.code, got, err, r.stderr)
			}

			missing := filepath.Join(t.TempDir(), "missing")
			r = run(t, "", "ftp", "--ca", p.caFile, "-o", missing, base+"no-such-file")
			if _, err := os.Stat(missing + ".part"); r.code != 1 || !strings.Contains(r.stderr, "550") || !os.IsNotExist(err) {
				t.Errorf("missing file: exit %d, stderr %q, part file %v; want 1, 550, none", r.code, r.stderr, err)
			}

			if !tc.opts.Implicit {
				// connect speaks FTP's AUTH TLS too.
				r = run(t, "", "connect", "--starttls", "ftp", "--ca", p.caFile, "--json", "localhost:"+strconv.Itoa(v.Port))
				if j := parseJSON(t, r); r.code != 0 || j.ProtocolVersion != "TLS 1.3" || len(j.PeerCertificateErrors) != 0 {
					t.Errorf("connect --starttls ftp: exit %d, %s, %v\n%s", r.code, j.ProtocolVersion, j.PeerCertificateErrors, r.stderr)
				}
			}

			// The system's trust store does not know the throwaway CA.
			r = run(t, "", "ftp", base)
			if r.code != 1 || !strings.Contains(r.stderr, "certificate rejected: unknown-ca (0x01)") {
				t.Errorf("untrusted: exit %d, stderr %q", r.code, r.stderr)
			}
			r = run(t, "", "ftp", "--accept", "unknown-ca", base+"hello.txt")
			if r.code != 0 || r.stdout != "hello over FTPS\n" {
				t.Errorf("--accept unknown-ca: exit %d, %q\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}
