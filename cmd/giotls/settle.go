package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/giotls/giotls"
)

// Bounds of the wait for a TLS 1.3 session ticket.
const (
	// quietMin is the least time the server may stay quiet after its last
	// record before connect stops waiting for a ticket; the wait is also
	// at least four round trips (the client's Finished must reach the
	// server, which answers with its tickets).
	quietMin = 250 * time.Millisecond
	// settleMax bounds the whole wait, for a server that keeps talking.
	settleMax = 2 * time.Second
)

// settled is what settle saw.
type settled struct {
	data []byte // application data read meanwhile
	err  error  // the error that ended the reading, nil if connect stopped it
	how  string // how the wait ended, for -v
}

// settle gives a TLS 1.3 connection the time to receive what servers send
// after the handshake: session tickets (read with application data; RFC
// 8446, section 4.6.1) and, after a client certificate was requested, the
// server's verdict on it, which comes after the client's handshake has
// completed (certificate_required or bad_certificate alerts; RFC 8446,
// section 4.4.2.4). It reads until the cache holds a new session, an error
// comes, or the server has been quiet for a while since its last record
// (many servers send no tickets); within wait and settleMax in any case.
// TLS 1.2 tickets come in the handshake (RFC 5077, section 3.3), so there
// is nothing to wait for.
func settle(conn *giotls.ClientConnection, w *watchConn, cache *giotls.SessionCache, wait time.Duration) settled {
	if conn.ProtocolVersion() != giotls.ProtocolVersionTLS13 {
		return settled{how: "TLS 1.2 sends it in the handshake: no wait"}
	}
	wait = min(wait, settleMax)
	quiet := min(max(quietMin, 4*w.rtt), wait)
	start := time.Now()
	_, readsBefore := w.lastRead()
	_, before := cache.Len()
	var s settled
	done := make(chan struct{})
	conn.SetReadDeadline(start.Add(wait))
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			s.data = append(s.data, buf[:n]...)
			if err != nil {
				s.err = err
				return
			}
		}
	}()
	stop := func(how string) {
		conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		s.err = nil
		s.how = how
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for s.how == "" {
		select {
		case <-done:
			s.how = "none came; the connection ended"
		case now := <-tick.C:
			last, reads := w.lastRead()
			if _, n := cache.Len(); n > before {
				stop(fmt.Sprintf("received %v after the handshake", now.Sub(start).Round(time.Millisecond)))
			} else if last.Before(start) {
				last = start // the handshake's records: the wait starts now
			}
			if s.how == "" && now.Sub(last) >= quiet {
				stop(fmt.Sprintf("none came; the server has been quiet since its last record (%s after the handshake)", plural(reads-readsBefore, "read")))
			}
		}
	}
	conn.SetReadDeadline(time.Time{})
	var ne net.Error
	if errors.As(s.err, &ne) && ne.Timeout() {
		s.err = nil
		s.how = fmt.Sprintf("none came within %v", wait)
	}
	return s
}

// refused reports whether err is the server refusing the client
// certificate (or its absence) after a TLS 1.3 handshake.
func refused(err error) bool {
	return errors.Is(err, giotls.ErrCertificateRequired) || errors.Is(err, giotls.ErrBadCertificate)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
