package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// Messages giotls refuses: crypto/tls answers them with an alert of its own
// (a "local error"), and the error must still be giotls's, in GIO's terms.

// TestHostileRenegotiation has openssl s_server ask for a TLS 1.2
// renegotiation (its "r" command sends a HelloRequest) in the middle of a
// connection: the client refuses with a no_renegotiation alert, and the read
// fails clearly, as giotls never renegotiates (RFC 5746 makes it safe, but
// nothing giotls serves needs it, and a server that asks is not followed).
func TestHostileRenegotiation(t *testing.T) {
	ca := newTestCA(t, "Renegotiation Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	dir := t.TempDir()
	certFile, keyFile, _, err := leaf.WriteFiles(dir, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	port := peer.FreePort(t)
	addr := peer.Addr(port)
	s := startWithStdin(t, addr, "openssl", "s_server", "-accept", addr, "-cert", certFile, "-key", keyFile,
		"-tls1_2", "-no_ticket", "-msg")
	c, _ := dialClient(t, nil, netip.MustParseAddrPort(addr), localhost(uint16(port)))
	c.SetDatabase(ca.db)
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatal(s.Errorf("Handshake: %v", err))
	}
	// Data first, so that s_server is known to be in its loop reading stdin.
	io.WriteString(s.stdin, "hello\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line := make([]byte, 6)
	if _, err := io.ReadFull(c, line); err != nil || string(line) != "hello\n" {
		t.Fatal(s.Errorf("reading s_server's line: %q, %v", line, err))
	}
	io.WriteString(s.stdin, "r\n")
	_, err = c.Read(make([]byte, 1))
	if !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), "renegotiation") {
		t.Fatal(s.Errorf("Read after HelloRequest = %v, want ErrMisc about renegotiation", err))
	}
	// crypto/tls has sent no_renegotiation and stops writing.
	if _, err2 := c.Write([]byte("x")); err2 == nil {
		t.Errorf("Write after refusing renegotiation succeeded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.Output(), "warning no_renegotiation") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(s.Output(), "warning no_renegotiation") {
		t.Errorf("%s", s.Errorf("s_server did not report the client's no_renegotiation alert"))
	}
}

// stdinPeer is a real peer whose standard input the test writes to.
type stdinPeer struct {
	*peer.Process
	stdin io.WriteCloser
}

// startWithStdin starts program like peer.Start, with its standard input a
// pipe the test holds. The process group is killed, by its ID, when the test
// ends.
func startWithStdin(t *testing.T, addr, program string, args ...string) *stdinPeer {
	t.Helper()
	path := peer.Need(t, program)
	p := &peer.Process{Addr: addr}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = p, p
	peer.OwnProcessGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", program, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close()
		peer.KillProcessGroup(cmd)
		<-exited
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("%s exited: %s", program, p.Output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start within 15s: %s", program, p.Output())
		}
	}
	return &stdinPeer{Process: p, stdin: stdin}
}

// flipConn flips the last byte of the first Write, once armed, whose last
// record is protected: the last byte of that record's authentication tag.
// A protected record is one of type application_data (all of them in
// TLS 1.3), or one after a ChangeCipherSpec (TLS 1.2's Finished).
type flipConn struct {
	net.Conn
	armed atomic.Bool
}

func (c *flipConn) Write(p []byte) (int, error) {
	if c.armed.Load() && endsProtected(p) {
		c.armed.Store(false)
		p = slices.Clone(p)
		p[len(p)-1] ^= 1
	}
	return c.Conn.Write(p)
}

// endsProtected reports whether the records in p end with a protected one.
func endsProtected(p []byte) bool {
	ccs, last := false, byte(0)
	for len(p) >= 5 {
		n := 5 + (int(p[3])<<8 | int(p[4]))
		if len(p) < n {
			return false
		}
		last = p[0]
		ccs = ccs || last == 20
		p = p[n:]
	}
	return len(p) == 0 && (last == recordApplicationData || (ccs && last == recordHandshake))
}

// TestHostileCorruptedRecord corrupts a protected record from the server.
// crypto/tls answers with a bad_record_mac alert of its own; the error is
// giotls's, naming it: ErrHandshake during the handshake, ErrMisc after.
func TestHostileCorruptedRecord(t *testing.T) {
	ca := newTestCA(t, "Corrupt Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	for _, version := range tlsVersions {
		cfg := serverConfig(leaf)
		cfg.MinVersion, cfg.MaxVersion = version, version
		cfg.SessionTicketsDisabled = true
		serve := func(duringHandshake bool) *hostileServer {
			return startHostileServer(t, func(c net.Conn, done <-chan struct{}) {
				fc := &flipConn{Conn: c}
				fc.armed.Store(duringHandshake)
				tc := tls.Server(fc, cfg)
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				if tc.Handshake() != nil {
					return
				}
				fc.armed.Store(true)
				tc.Write([]byte("corrupted"))
				waitOrDone(done)
			})
		}
		t.Run(tls.VersionName(version)+"/handshake", func(t *testing.T) {
			srv := serve(true)
			c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
			c.SetDatabase(ca.db)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			err := c.Handshake(context.Background())
			if !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), "bad record MAC") {
				t.Errorf("Handshake = %v, want ErrHandshake naming bad record MAC", err)
			}
		})
		t.Run(tls.VersionName(version)+"/transfer", func(t *testing.T) {
			srv := serve(false)
			c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
			c.SetDatabase(ca.db)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			_, err := c.Read(make([]byte, 64))
			if !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), "bad record MAC") {
				t.Errorf("Read = %v, want ErrMisc naming bad record MAC", err)
			}
			if _, err2 := c.Read(make([]byte, 64)); !errors.Is(err2, ErrMisc) {
				t.Errorf("second Read = %v, want the same error", err2)
			}
		})
	}
}
