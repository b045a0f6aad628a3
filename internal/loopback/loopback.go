// Package loopback runs throwaway TCP servers on the loopback interface for
// tests: the accept loop, one goroutine a connection, and a clean stop when
// the test ends.
package loopback

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Deadline bounds every connection Serve accepts, so that a test whose
// client goes quiet ends instead of hanging.
const Deadline = 30 * time.Second

// Serve listens on 127.0.0.1 (network "tcp4" or "tcp") or [::1] ("tcp6") on
// a free port and runs handle on each accepted connection in a goroutine of
// its own, closing the connection when handle returns. When the test ends
// the listener is closed and every handler is waited for.
func Serve(tb testing.TB, network string, handle func(net.Conn)) net.Listener {
	tb.Helper()
	host := "127.0.0.1:0"
	if network == "tcp6" {
		host = "[::1]:0"
	}
	ln, err := net.Listen(network, host)
	if err != nil {
		tb.Fatalf("listen on %s loopback: %v", network, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(Deadline))
				handle(c)
			}()
		}
	}()
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln
}
