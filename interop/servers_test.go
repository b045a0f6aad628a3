//go:build linux

package interop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// unpackRoot is where scripts/test unpacks the FTP servers that conflict
// with vsftpd as packages.
func unpackRoot() string {
	if d := os.Getenv("GIOTLS_INTEROP_ROOT"); d != "" {
		return d
	}
	return "/opt/giotls-interop"
}

// need returns path if it is an executable file, and otherwise fails the
// test naming the package that provides it: a server is never skipped.
func need(tb testing.TB, path, pkg string) string {
	tb.Helper()
	st, err := os.Stat(path)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		how := "apt-get install -y " + pkg
		if strings.HasPrefix(path, unpackRoot()) {
			how = "apt-get download " + pkg + " && dpkg-deb -x " + pkg + "_*.deb " + filepath.Join(unpackRoot(), pkg)
		}
		tb.Fatalf("server program %s is missing (%s; scripts/test does it): %v", path, how, err)
	}
	if os.Geteuid() != 0 {
		tb.Fatalf("the interop servers must be started as root (they bind, chroot or change users as root)")
	}
	return path
}

// pki is the run's certificates: a server certificate for localhost,
// 127.0.0.1 and ::1, and a client certificate from a CA of its own, all
// written to files the servers and the CLI read.
type pki struct {
	dir                   string
	caFile                string // the server certificate's root
	certFile, keyFile     string // the server's chain and key
	bundleFile            string // chain then key, for servers that take one file
	clientCAFile          string
	clientCert, clientKey string
	server, client        *testpki.Leaf
}

var (
	pkiOnce sync.Once
	thePKI  *pki
	pkiErr  error
)

// getPKI returns the run's PKI, made on first use in a directory every
// server may read (their workers drop root).
func getPKI(t *testing.T) *pki {
	t.Helper()
	pkiOnce.Do(func() { thePKI, pkiErr = newPKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return thePKI
}

func newPKI() (*pki, error) {
	dir, err := os.MkdirTemp("", "giotls-interop-pki")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	ca, err := testpki.NewCA("giotls interop root")
	if err != nil {
		return nil, err
	}
	server, err := ca.NewLeaf("localhost", testpki.DNSNames("localhost"), testpki.IPAddresses("127.0.0.1", "::1"))
	if err != nil {
		return nil, err
	}
	clientCA, err := testpki.NewCA("giotls interop client CA")
	if err != nil {
		return nil, err
	}
	client, err := clientCA.NewLeaf("interop client")
	if err != nil {
		return nil, err
	}
	p := &pki{dir: dir, server: server, client: client}
	if p.certFile, p.keyFile, p.caFile, err = server.WriteFiles(dir, "server"); err != nil {
		return nil, err
	}
	if p.clientCert, p.clientKey, _, err = client.WriteFiles(dir, "client"); err != nil {
		return nil, err
	}
	p.clientCAFile = filepath.Join(dir, "client-ca.crt")
	if err := os.WriteFile(p.clientCAFile, clientCA.CertPEM(), 0o644); err != nil {
		return nil, err
	}
	p.bundleFile = filepath.Join(dir, "server.pem")
	if err := os.WriteFile(p.bundleFile, append(server.ChainPEM(), server.KeyPEM()...), 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

// serverDir returns a fresh directory for a server's configuration, logs
// and data, open to the users its workers run as.
func serverDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// t.TempDir's directories (the test's and this one) are 0700.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeFile writes a configuration file, failing the test on error.
func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readLog returns a server's log file ("" if it does not exist yet).
func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// start runs a server in the foreground and waits until it accepts TCP
// connections on addr; it is stopped (its process group, by PID) when the
// test ends.
func start(t *testing.T, addr string, env []string, program string, args ...string) *peer.Process {
	t.Helper()
	return peer.StartEnv(t, addr, env, program, args...)
}

// cliResult is one run of the giotls command.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the giotls command with stdin, bounded by a minute.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, giotlsBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String()}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else {
			t.Fatalf("giotls %s: %v", strings.Join(args, " "), err)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("giotls %s: still running after a minute\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	}
	return r
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// mkdirs makes each directory (and its parents), open to every user.
func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// stopPID stops the process whose PID is in pidFile: SIGTERM, then
// SIGKILL if it has not exited within 5 s.
func stopPID(t *testing.T, pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Errorf("cannot stop the server: %v", err)
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Errorf("cannot stop the server: bad PID file %s: %q", pidFile, b)
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil && processAlive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processAlive reports whether pid is running: not gone, not a zombie
// (one whose parent is gone stays until init reaps it).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}
