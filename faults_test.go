package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// faultConn injects errors into a connection: once armed, every Read (or
// Write) fails with the error set, as a base stream that broke would.
type faultConn struct {
	net.Conn
	readErr, writeErr atomic.Pointer[error]
}

func (c *faultConn) Read(p []byte) (int, error) {
	if err := c.readErr.Load(); err != nil {
		return 0, *err
	}
	return c.Conn.Read(p)
}

func (c *faultConn) Write(p []byte) (int, error) {
	if err := c.writeErr.Load(); err != nil {
		return 0, *err
	}
	return c.Conn.Write(p)
}

func (c *faultConn) failReads(err error)  { c.readErr.Store(&err) }
func (c *faultConn) failWrites(err error) { c.writeErr.Store(&err) }

// TestBaseStreamFaults injects an error into the base stream's Read or Write
// during the handshake and during transfer. The operation fails with an
// error that holds the injected one (a *net.OpError as the kernel's comes
// back as it is; any other error inside a giotls *Error), and the failure
// is sticky: the handshake's for every later operation, a transfer's for
// later operations in the same direction (crypto/tls keeps reading and
// writing apart).
func TestBaseStreamFaults(t *testing.T) {
	ca := newTestCA(t, "Faults Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	broken := errors.New("injected failure of a base stream of no known kind")
	dial := func(t *testing.T) (*ClientConnection, *faultConn) {
		var fc *faultConn
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port()), Database: ca.db, Wrap: func(raw net.Conn) net.Conn {
			fc = &faultConn{Conn: raw}
			return fc
		}})
		return c, fc
	}
	for _, tc := range []struct {
		name     string
		injected error
		wantCode error // nil: the injected *net.OpError itself
	}{
		{"connection reset", reset, nil},
		{"unknown error", broken, nil},
	} {
		// A *net.OpError is returned as it is; another error is wrapped.
		check := func(t *testing.T, what string, err error, code error) {
			t.Helper()
			if !errors.Is(err, tc.injected) {
				t.Errorf("%s = %v, want an error holding %q", what, err, tc.injected)
			}
			if code != nil && !errors.Is(err, code) {
				t.Errorf("%s = %v, want %v", what, err, code)
			}
		}
		hsCode, ioCode := error(nil), error(nil)
		if tc.injected == broken {
			hsCode, ioCode = ErrHandshake, ErrMisc
		}
		t.Run(tc.name+"/read during handshake", func(t *testing.T) {
			c, fc := dial(t)
			fc.failReads(tc.injected)
			err := c.Handshake(context.Background())
			check(t, "Handshake", err, hsCode)
			if err2 := c.Handshake(context.Background()); err2 != err {
				t.Errorf("second Handshake = %v, want the first error again", err2)
			}
			_, err3 := c.Read(make([]byte, 1))
			_, err4 := c.Write([]byte("x"))
			if err3 != err || err4 != err {
				t.Errorf("Read, Write after the failed handshake = %v, %v; want the handshake's error", err3, err4)
			}
		})
		t.Run(tc.name+"/write during handshake", func(t *testing.T) {
			c, fc := dial(t)
			fc.failWrites(tc.injected)
			err := c.Handshake(context.Background())
			check(t, "Handshake", err, hsCode)
			if _, err2 := c.Read(make([]byte, 1)); err2 != err {
				t.Errorf("Read after the failed handshake = %v, want the handshake's error", err2)
			}
		})
		t.Run(tc.name+"/read during transfer", func(t *testing.T) {
			c, fc := dial(t)
			if err := c.Handshake(context.Background()); err != nil {
				t.Fatal(err)
			}
			fc.failReads(tc.injected)
			_, err := c.Read(make([]byte, 1))
			check(t, "Read", err, ioCode)
			_, err2 := c.Read(make([]byte, 1))
			check(t, "second Read", err2, ioCode)
			if _, err := c.Write([]byte("writing still works")); err != nil {
				t.Errorf("Write after a read failure: %v", err)
			}
		})
		t.Run(tc.name+"/write during transfer", func(t *testing.T) {
			c, fc := dial(t)
			if err := c.Handshake(context.Background()); err != nil {
				t.Fatal(err)
			}
			fc.failWrites(tc.injected)
			_, err := c.Write([]byte("x"))
			check(t, "Write", err, ioCode)
			fc.writeErr.Store(nil) // the base stream recovers; TLS must not
			_, err2 := c.Write([]byte("y"))
			check(t, "second Write", err2, ioCode)
		})
	}
}

// pipeServer runs a crypto/tls server over one end of a net.Pipe, whose
// writes block until the other end reads: what a server that stops reading
// does to a client's writes. After its handshake (if handshake is set) the
// server reads nothing until resume is called, or the test ends; then it
// reads and discards everything, so that a close_notify goes through.
func pipeServer(t *testing.T, leaf *testpki.Leaf, handshake bool) (c net.Conn, resume func()) {
	c, s := net.Pipe()
	stop := make(chan struct{})
	resume = sync.OnceFunc(func() { close(stop) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.Close()
		if handshake {
			tc := tls.Server(s, serverConfig(leaf))
			if tc.Handshake() != nil {
				return
			}
		}
		<-stop
		io.Copy(io.Discard, s)
	}()
	t.Cleanup(func() {
		resume()
		c.Close()
		<-done
	})
	return c, resume
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

// TestDeadlines checks SetDeadline, SetReadDeadline and SetWriteDeadline
// during the handshake and during transfer: each ends the blocked operation
// with an error that is a timeout and os.ErrDeadlineExceeded, as on any
// net.Conn. A read that timed out leaves the connection usable; a write that
// timed out may have sent part of a record, so writing stays broken, as in
// crypto/tls.
func TestDeadlines(t *testing.T) {
	ca := newTestCA(t, "Deadline Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	const limit = 200 * time.Millisecond
	// timed runs f, which must block until deadline and then time out.
	timed := func(t *testing.T, deadline time.Time, what string, f func() error) {
		t.Helper()
		var err error
		within(t, limit+5*time.Second, what, func() { err = f() })
		if early := time.Until(deadline); early > 0 {
			t.Errorf("%s returned %v before the deadline", what, early)
		}
		if !isTimeout(err) {
			t.Errorf("%s = %v, want a timeout (os.ErrDeadlineExceeded)", what, err)
		}
	}

	t.Run("handshake/read deadline", func(t *testing.T) {
		// A server that reads the ClientHello and never answers.
		srv := startHostileServer(t, func(c net.Conn, done <-chan struct{}) { io.Copy(io.Discard, c) })
		c, _ := dialClient(t, nil, srv.Addr, localhost(srv.Addr.Port()))
		deadline := time.Now().Add(limit)
		c.SetReadDeadline(deadline)
		timed(t, deadline, "Handshake", func() error { return c.Handshake(context.Background()) })
	})
	t.Run("handshake/write deadline", func(t *testing.T) {
		base, _ := pipeServer(t, leaf, false) // never reads the ClientHello
		c, err := NewClientConnection(base, localhost(1))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		deadline := time.Now().Add(limit)
		c.SetWriteDeadline(deadline)
		timed(t, deadline, "Handshake", func() error { return c.Handshake(context.Background()) })
	})
	t.Run("handshake/deadline", func(t *testing.T) {
		base, _ := pipeServer(t, leaf, false)
		c, _ := NewClientConnection(base, localhost(1))
		defer c.Close()
		deadline := time.Now().Add(limit)
		c.SetDeadline(deadline)
		timed(t, deadline, "Read", func() error { _, err := c.Read(make([]byte, 1)); return err })
	})

	handshaken := func(t *testing.T) *ClientConnection {
		base, resume := pipeServer(t, leaf, true)
		c, err := NewClientConnection(base, localhost(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resume(); c.Close() })
		c.SetDatabase(ca.db)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Time{})
		return c
	}
	t.Run("transfer/read deadline", func(t *testing.T) {
		c := handshaken(t)
		deadline := time.Now().Add(limit)
		c.SetReadDeadline(deadline)
		timed(t, deadline, "Read", func() error { _, err := c.Read(make([]byte, 1)); return err })
		// Not sticky: a later deadline gives a later timeout, not the old error.
		deadline = time.Now().Add(limit)
		c.SetReadDeadline(deadline)
		timed(t, deadline, "second Read", func() error { _, err := c.Read(make([]byte, 1)); return err })
	})
	t.Run("transfer/write deadline", func(t *testing.T) {
		c := handshaken(t)
		deadline := time.Now().Add(limit)
		c.SetWriteDeadline(deadline)
		timed(t, deadline, "Write", func() error { _, err := c.Write(make([]byte, 1<<16)); return err })
		c.SetWriteDeadline(time.Time{})
		if _, err := c.Write([]byte("x")); !isTimeout(err) {
			t.Errorf("Write after a write timeout = %v, want the timeout again", err)
		}
	})
	t.Run("transfer/deadline", func(t *testing.T) {
		c := handshaken(t)
		deadline := time.Now().Add(limit)
		c.SetDeadline(deadline)
		timed(t, deadline, "Write", func() error { _, err := c.Write(make([]byte, 1<<16)); return err })
		if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
			t.Errorf("Read after the deadline = %v, want a timeout", err)
		}
	})
	t.Run("deadline in the past", func(t *testing.T) {
		c := handshaken(t)
		c.SetReadDeadline(time.Now().Add(-time.Second))
		if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
			t.Errorf("Read = %v, want an immediate timeout", err)
		}
	})
}

// TestCloseUnblocksWrite completes TestCloseUnblocks: Close from another
// goroutine also ends a Write blocked on a server that reads nothing, and a
// handshake blocked writing its ClientHello.
func TestCloseUnblocksWrite(t *testing.T) {
	ca := newTestCA(t, "Unblock Write Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	for _, tc := range []struct {
		name      string
		handshake bool
		op        func(c *ClientConnection) error
	}{
		{"Handshake writing", false, func(c *ClientConnection) error { return c.Handshake(context.Background()) }},
		{"Write", true, func(c *ClientConnection) error { _, err := c.Write(make([]byte, 1<<16)); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, _ := pipeServer(t, leaf, tc.handshake)
			c, _ := NewClientConnection(base, localhost(1))
			c.SetDatabase(ca.db)
			if tc.handshake {
				if err := c.Handshake(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			errc := make(chan error, 1)
			go func() { errc <- tc.op(c) }()
			time.Sleep(50 * time.Millisecond)
			within(t, 10*time.Second, "Close", func() { c.Close() })
			within(t, 10*time.Second, tc.name+" after Close", func() {
				if err := <-errc; !errors.Is(err, net.ErrClosed) {
					t.Errorf("%s = %v, want net.ErrClosed", tc.name, err)
				}
			})
		})
	}
}
