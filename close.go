package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/giotls/giotls/internal/sessioncache"
)

// Bounds of the graceful close: how long Close waits for the peer to end
// its side after close_notify, and how much of what it still sends Close
// reads and discards. crypto/tls bounds sending close_notify by the same
// five seconds.
const (
	closeDrainTimeout = 5 * time.Second
	closeDrainLimit   = 1 << 20
)

// closeState is what the graceful close needs to know about the
// connection: whether another goroutine is inside Read or Write, and the
// read deadline the user set.
type closeState struct {
	busy         atomic.Int32 // Reads and Writes in progress
	readDeadline atomic.Int64 // Unix nanoseconds; 0 for none
	draining     atomic.Bool  // Close is reading what the peer still sends
}

// sessionCache wraps the connection's session adapter for crypto/tls so that
// TLS 1.3 tickets crypto/tls meets while Close drains are dropped: the
// session cache keeps its rule that a connection has tickets to give only
// after the user read from it (SEMANTICS.md), and Close changes nothing there.
func (s *closeState) sessionCache(sessions *sessioncache.ConnCache) tls.ClientSessionCache {
	return drainingCache{sessions, &s.draining}
}

type drainingCache struct {
	*sessioncache.ConnCache
	draining *atomic.Bool
}

func (d drainingCache) Put(key string, cs *tls.ClientSessionState) {
	if !d.draining.Load() {
		d.ConnCache.Put(key, cs)
	}
}

// noteReadDeadline records the user's read deadline, which also bounds the
// drain. Times past what UnixNano holds count as none.
func (s *closeState) noteReadDeadline(t time.Time) {
	if t.IsZero() || t.Year() > 2200 {
		s.readDeadline.Store(0)
		return
	}
	s.readDeadline.Store(t.UnixNano())
}

// CloseContext ends the connection gracefully, as Close does, with ctx
// bounding the wait for the peer: its deadline replaces Close's five
// seconds (an earlier read deadline set on the connection still applies),
// and cancelling it stops the wait. It returns an error matching ctx's
// error when ctx ended before the peer did; the connection is closed all
// the same.
func (c *clientConn) CloseContext(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if c.closed.Swap(true) {
		return nil
	}
	tc := c.tlsConn.Load()
	if tc == nil {
		return c.base.Close()
	}
	return c.closeTLS(ctx, tc)
}

// closeTLS ends a connection whose handshake started. Ending after writing
// must not reset the connection: a socket closed with unread data makes the
// kernel send a reset (RFC 1122, section 4.2.2.13), and the peer then loses
// what it had not read yet (vsftpd drops the FTPS upload). So, as
// RFC 8446, section 6.1 has each side do, it sends close_notify, then reads
// and discards what the peer still sends until the peer's close_notify or
// the end of the stream, bounded in time and bytes, and only then closes.
//
// It closes at once (close_notify only, as crypto/tls does) when the
// handshake did not complete, when Read met a fatal alert (RFC 8446,
// section 6.2: close immediately), and when another goroutine is inside
// Read or Write: Close then serves to break that call, and waiting would
// contend with it.
func (c *clientConn) closeTLS(ctx context.Context, tc *tls.Conn) error {
	c.mu.Lock()
	graceful := c.hsComplete && c.fatal == nil
	c.mu.Unlock()
	var drainErr error
	if graceful && c.closing.busy.Load() == 0 {
		c.closing.draining.Store(true)
		if err := tc.CloseWrite(); err == nil {
			drainErr = c.drain(ctx, tc)
		}
	}
	err := tc.Close()
	if err != nil && isClosedError(err) {
		err = nil
	}
	if err == nil {
		err = drainErr
	}
	return err
}

// drain reads and discards what the peer sends after close_notify until
// its close_notify, the end of the stream or an error, at most
// closeDrainLimit bytes, until the earliest of ctx's deadline (else
// closeDrainTimeout from now) and the user's read deadline. TLS 1.3 session
// tickets read here are dropped (see closeState.sessionCache).
func (c *clientConn) drain(ctx context.Context, tc *tls.Conn) error {
	deadline := time.Now().Add(closeDrainTimeout)
	ctxDeadline, byCtx := ctx.Deadline()
	if byCtx {
		deadline = ctxDeadline
	}
	if ns := c.closing.readDeadline.Load(); ns != 0 {
		if user := time.Unix(0, ns); user.Before(deadline) {
			deadline, byCtx = user, false
		}
	}
	c.base.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.base.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 16<<10)
	for total := 0; total < closeDrainLimit; {
		n, err := tc.Read(buf)
		total += n
		if err == nil {
			continue
		}
		// The read deadline set from ctx's may fire before ctx's timer.
		var ne net.Error
		timedOut := errors.As(err, &ne) && ne.Timeout()
		if cerr := ctx.Err(); cerr != nil || (byCtx && timedOut) {
			if cerr == nil {
				cerr = context.DeadlineExceeded
			}
			return newError(ErrorMisc, cerr, "close: the peer had not ended the connection when the context ended; what it still sent was discarded")
		}
		// close_notify, the end of the stream, a reset, or Close's own
		// bound: nothing more to wait for.
		return nil
	}
	return nil
}

// SetDeadline sets the base connection's deadlines; the read deadline also
// bounds Close's wait.
func (c *clientConn) SetDeadline(t time.Time) error {
	c.closing.noteReadDeadline(t)
	return c.base.SetDeadline(t)
}

// SetReadDeadline sets the base connection's read deadline, which also
// bounds Close's wait.
func (c *clientConn) SetReadDeadline(t time.Time) error {
	c.closing.noteReadDeadline(t)
	return c.base.SetReadDeadline(t)
}
