package main

import (
	"net"
	"sync"
	"time"
)

// tailSize is how much of what the server sent last a watchConn keeps.
const tailSize = 4 << 10

// watchConn is the TCP connection under TLS, watched: when the server last
// sent something, how often it did, and the last bytes it sent, to quote
// plain text a server sends where TLS records belong.
type watchConn struct {
	net.Conn
	rtt time.Duration // how long the TCP handshake took: a round trip

	mu    sync.Mutex
	last  time.Time
	reads int
	tail  []byte
}

func (w *watchConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if n > 0 {
		w.mu.Lock()
		w.last = time.Now()
		w.reads++
		w.tail = append(w.tail, p[:n]...)
		if len(w.tail) > tailSize {
			w.tail = append(w.tail[:0], w.tail[len(w.tail)-tailSize:]...)
		}
		w.mu.Unlock()
	}
	return n, err
}

// lastRead returns when the server last sent something and how many reads
// returned data so far.
func (w *watchConn) lastRead() (time.Time, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, w.reads
}

// received returns a copy of the last bytes read.
func (w *watchConn) received() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]byte(nil), w.tail...)
}
