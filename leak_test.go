package giotls

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/giotls/giotls/internal/testpki"
)

// openFiles returns the descriptors the process has open, each with what
// it refers to ("socket:[1234]", a path).
func openFiles(t *testing.T) []string {
	t.Helper()
	dir := "/proc/self/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // the descriptor ReadDir itself used, closed since
		}
		out = append(out, e.Name()+" -> "+target)
	}
	sort.Strings(out)
	return out
}

// openSocketPorts returns the local ports of the TCP sockets the process
// has descriptors for, from /proc/self/fd and /proc/net/tcp{,6}.
func openSocketPorts(t *testing.T) map[int]bool {
	t.Helper()
	inodes := map[string]bool{}
	for _, f := range openFiles(t) {
		if _, target, ok := strings.Cut(f, " -> socket:["); ok {
			inodes[strings.TrimSuffix(target, "]")] = true
		}
	}
	ports := map[int]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(data)) {
			f := strings.Fields(line)
			// sl local_address rem_address st queues timer retrnsmt uid timeout inode
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			_, portHex, _ := strings.Cut(f[1], ":")
			if port, err := strconv.ParseUint(portHex, 16, 16); err == nil {
				ports[int(port)] = true
			}
		}
	}
	return ports
}

// TestNoDescriptorLeft makes connections that end every way a connection
// can (data exchanged, certificate rejected, a server that does not speak
// TLS, a cancelled handshake, Close before the handshake, Close during a
// Read) and closes them. Right after, none of their sockets is open (the
// connections are kept reachable, so that no finalizer closes what Close
// forgot); once the servers are gone too, the process has no more
// descriptors open than before, and no more goroutines.
func TestNoDescriptorLeft(t *testing.T) {
	ca := newTestCA(t, "Descriptor Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	// Warm up what the runtime opens once (the network poller) before counting.
	warm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	before := openFiles(t)
	goroutines := goleak.IgnoreCurrent()

	const rounds = 20
	t.Run("connections", func(t *testing.T) {
		echo := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
		greeting := startHostileServer(t, func(c net.Conn, done <-chan struct{}) {
			io.WriteString(c, "220 not TLS\r\n")
			waitOrDone(done)
		})
		silent := startHostileServer(t, func(c net.Conn, done <-chan struct{}) { waitOrDone(done) })
		var conns []*ClientConnection
		dial := func(addr string) *ClientConnection {
			c := dialTest(t, addr, dialConfig{Identity: localhost(1), Database: ca.db})
			conns = append(conns, c)
			return c
		}
		for range rounds {
			// Data exchanged.
			c := dial(echo.Addr.String())
			if _, err := c.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			c.Close()
			// Certificate rejected: no database trusts it.
			c = dial(echo.Addr.String())
			c.SetDatabase(nil)
			if err := c.Handshake(context.Background()); !errors.Is(err, ErrBadCertificate) {
				t.Fatalf("Handshake = %v, want ErrBadCertificate", err)
			}
			c.Close()
			// Not TLS.
			c = dial(greeting.Addr.String())
			if err := c.Handshake(context.Background()); !errors.Is(err, ErrNotTLS) {
				t.Fatalf("Handshake = %v, want ErrNotTLS", err)
			}
			c.Close()
			// Handshake cancelled.
			c = dial(silent.Addr.String())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			if err := c.Handshake(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Handshake = %v, want context.DeadlineExceeded", err)
			}
			cancel()
			c.Close()
			// Closed before any handshake.
			dial(echo.Addr.String()).Close()
			// Closed during a blocked Read.
			c = dial(echo.Addr.String())
			if err := c.Handshake(context.Background()); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { _, err := c.Read(make([]byte, 1)); errc <- err }()
			time.Sleep(time.Millisecond)
			c.Close()
			if err := <-errc; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Read = %v, want net.ErrClosed", err)
			}
		}
		open := openSocketPorts(t)
		left := 0
		for _, c := range conns {
			if open[c.LocalAddr().(*net.TCPAddr).Port] {
				left++
			}
		}
		if left > 0 {
			t.Errorf("%d of %d closed connections still have their socket open", left, len(conns))
		}
		runtime.KeepAlive(conns)
	})

	// Descriptors close asynchronously on the server side of loopback
	// connections only as their handlers return: wait a little.
	deadline := time.Now().Add(5 * time.Second)
	after := openFiles(t)
	for len(after) > len(before) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		after = openFiles(t)
	}
	if len(after) > len(before) {
		t.Errorf("%d descriptors open before %d rounds of connections, %d after:\nbefore %q\nafter  %q",
			len(before), rounds, len(after), before, after)
	}
	goleak.VerifyNone(t, goroutines)
}
