// Package loopback runs throwaway TCP servers on the loopback interface for
// tests, examples, the demo and the conformance suite: the one accept loop,
// one goroutine a connection, and a clean stop.
package loopback

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

// Deadline bounds every connection Serve accepts, so that a test whose
// client goes quiet ends instead of hanging.
const Deadline = 30 * time.Second

// DialTimeout bounds Dial.
const DialTimeout = 10 * time.Second

// Dial is the one dial of the tests, examples, demo and conformance suite:
// a TCP connection to addr, bounded by ctx and DialTimeout.
func Dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: DialTimeout}
	return d.DialContext(ctx, "tcp", addr)
}

// Server is a listener on loopback with its accept loop.
type Server struct {
	net.Listener
	wg sync.WaitGroup
}

// Listen listens on 127.0.0.1 (network "tcp4" or "tcp") or [::1] ("tcp6") on
// a free port and runs handle on each accepted connection in a goroutine of
// its own, closing the connection when handle returns. deadline, if not
// zero, bounds each connection from its acceptance.
func Listen(network string, deadline time.Duration, handle func(net.Conn)) (*Server, error) {
	host := "127.0.0.1:0"
	if network == "tcp6" {
		host = "[::1]:0"
	}
	ln, err := net.Listen(network, host)
	if err != nil {
		return nil, err
	}
	s := &Server{Listener: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				if deadline != 0 {
					c.SetDeadline(time.Now().Add(deadline))
				}
				handle(c)
			}()
		}
	}()
	return s, nil
}

// Port returns the port the server listens on.
func (s *Server) Port() uint16 { return uint16(s.Addr().(*net.TCPAddr).Port) }

// Close stops accepting and waits for every handler to return.
func (s *Server) Close() error {
	err := s.Listener.Close()
	s.wg.Wait()
	return err
}

// Serve is Listen for a test: each connection is bounded by Deadline, a
// failure to listen fails tb, and the server is closed when the test ends.
func Serve(tb testing.TB, network string, handle func(net.Conn)) net.Listener {
	tb.Helper()
	s, err := Listen(network, Deadline, handle)
	if err != nil {
		tb.Fatalf("listen on %s loopback: %v", network, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s.Listener
}
