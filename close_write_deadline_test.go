package giotls

import (
	"crypto/tls"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// stallWrites is a base connection whose writes, once stalled, block until
// their write deadline passes, as writes to a peer that reads nothing do
// once the socket buffers are full (which loopback reaches only under load).
type stallWrites struct {
	net.Conn
	mu       sync.Mutex
	stalled  bool
	deadline time.Time
}

func (s *stallWrites) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	s.deadline = t
	s.mu.Unlock()
	return s.Conn.SetWriteDeadline(t)
}

func (s *stallWrites) SetDeadline(t time.Time) error {
	s.mu.Lock()
	s.deadline = t
	s.mu.Unlock()
	return s.Conn.SetDeadline(t)
}

func (s *stallWrites) Write(p []byte) (int, error) {
	for stop := time.Now().Add(10 * time.Second); time.Now().Before(stop); time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		stalled, d := s.stalled, s.deadline
		s.mu.Unlock()
		if !stalled {
			return s.Conn.Write(p)
		}
		if !d.IsZero() && !time.Now().Before(d) {
			return 0, os.ErrDeadlineExceeded
		}
	}
	return 0, os.ErrDeadlineExceeded
}

// TestCloseNotifyHonoursWriteDeadline: the write deadline the user set bounds
// the close_notify that CloseWrite and Close send, although crypto/tls gives
// close_notify five seconds of its own (seen failing: CloseWrite returned
// after 5 s against a 200 ms write deadline).
func TestCloseNotifyHonoursWriteDeadline(t *testing.T) {
	ca := newTestCA(t, "Write Deadline Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	release := make(chan struct{})
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), func(c *tls.Conn) {
		c.Write([]byte("x"))
		<-release
	})
	t.Cleanup(func() { close(release) })
	for _, tc := range []struct {
		name string
		set  func(c *ClientConnection, d time.Time) error
		end  func(c *ClientConnection) error
	}{
		{"CloseWrite, SetWriteDeadline", (*ClientConnection).SetWriteDeadline, (*ClientConnection).CloseWrite},
		{"CloseWrite, SetDeadline", (*ClientConnection).SetDeadline, (*ClientConnection).CloseWrite},
		{"Close, SetWriteDeadline", (*ClientConnection).SetWriteDeadline, (*ClientConnection).Close},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var base *stallWrites
			c := dialTest(t, srv.Addr.String(), dialConfig{
				Identity: localhost(srv.Addr.Port()),
				Database: ca.db,
				Wrap:     func(raw net.Conn) net.Conn { base = &stallWrites{Conn: raw}; return base },
			})
			if _, err := c.Read(make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			base.mu.Lock()
			base.stalled = true
			base.mu.Unlock()
			tc.set(c, time.Now().Add(200*time.Millisecond))
			start := time.Now()
			tc.end(c)
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Errorf("returned after %v; want within the 200 ms write deadline (and 1.5 s)", took)
			}
		})
	}
}
