// Package peer starts the real TLS peers giotls is tested against (openssl
// s_server, gnutls-serv, vsftpd, the reference GIO client) as processes on
// loopback, waits until they listen, and stops them by PID when the test
// ends. A missing program fails the test with the Debian package to install:
// a real peer is never skipped.
package peer

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Packages names the Debian package that provides each program.
var Packages = map[string]string{
	"openssl":          "openssl",
	"gnutls-serv":      "gnutls-bin",
	"gnutls-cli":       "gnutls-bin",
	"vsftpd":           "vsftpd",
	"/usr/bin/python3": "python3-gi glib-networking",
}

// Need returns the path of program, failing the test if it is not installed.
func Need(tb testing.TB, program string) string {
	tb.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		tb.Fatalf("real peer %q is not installed (apt-get install -y %s; scripts/test installs it): %v",
			program, Packages[program], err)
	}
	return path
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Process is a started peer.
type Process struct {
	Cmd  *exec.Cmd
	Addr string // host:port it listens on

	mu     sync.Mutex
	output bytes.Buffer
	exited chan struct{}
}

// Output returns what the process printed so far (stdout and stderr).
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

func (p *Process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.Write(b)
}

// Start runs program with args, expecting it to listen on addr, and waits
// until a TCP connection to addr succeeds. The process is killed (its whole
// process group) when the test ends.
func Start(tb testing.TB, addr string, program string, args ...string) *Process {
	tb.Helper()
	return StartEnv(tb, addr, nil, program, args...)
}

// StartEnv is Start with extra environment variables ("KEY=value") for the
// program.
func StartEnv(tb testing.TB, addr string, env []string, program string, args ...string) *Process {
	tb.Helper()
	path := Need(tb, program)
	p := &Process{Addr: addr, exited: make(chan struct{})}
	cmd := exec.Command(path, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = p, p
	OwnProcessGroup(cmd)
	p.Cmd = cmd
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %s: %v", program, err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	tb.Cleanup(p.Stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return p
		}
		select {
		case <-p.exited:
			tb.Fatalf("%s exited before listening on %s: %s", program, addr, p.Output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s did not listen on %s within 15s: %s", program, addr, p.Output())
		}
	}
}

// Stop kills the process group and waits for the process to exit.
func (p *Process) Stop() {
	if p.Cmd.Process == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	KillProcessGroup(p.Cmd)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
}

// Addr returns "127.0.0.1:port".
func Addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// Errorf formats a message with the peer's output, for failures.
func (p *Process) Errorf(format string, args ...any) string {
	return fmt.Sprintf(format, args...) + "\npeer output:\n" + p.Output()
}
