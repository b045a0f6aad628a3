package giotls

import (
	"context"
	"crypto/tls"
	"sync/atomic"
	"time"
)

// Bounds of the graceful close: how long Close may take to send
// close_notify and wait for the peer's end (crypto/tls alone gives sending
// close_notify five seconds too), and how much of what the peer still sends
// Close reads and discards.
const (
	closeDrainTimeout = 5 * time.Second
	closeDrainLimit   = 1 << 20
)

// closeState is what the graceful close needs to know about the
// connection: whether another goroutine is inside Read or Write, and the
// deadlines the user set.
type closeState struct {
	busy          atomic.Int32 // Reads and Writes in progress
	readDeadline  atomic.Int64 // Unix nanoseconds; 0 for none
	writeDeadline atomic.Int64 // Unix nanoseconds; 0 for none
}

// noteDeadline records a deadline the user set in d, which also bounds
// the close. Times past what UnixNano holds count as none.
func noteDeadline(d *atomic.Int64, t time.Time) {
	if t.IsZero() || t.Year() > 2200 {
		d.Store(0)
		return
	}
	d.Store(t.UnixNano())
}

// writeBound returns the user's write deadline if it is still ahead: it
// bounds close_notify as it bounds any write. One already passed does not
// stop close_notify, which crypto/tls gives five seconds of its own, so
// that a connection ended after its deadline is still not taken by the
// peer for a truncation.
func (s *closeState) writeBound() (time.Time, bool) {
	ns := s.writeDeadline.Load()
	if ns == 0 {
		return time.Time{}, false
	}
	t := time.Unix(0, ns)
	return t, time.Now().Before(t)
}

// CloseContext ends the connection gracefully, as Close does, with ctx
// bounding the wait for the peer and the sending of close_notify: its
// deadline replaces Close's five seconds (an earlier read deadline set on
// the connection still applies), and cancelling it stops the wait. A ctx
// already done closes at once, without close_notify. It returns an error
// matching ctx's error when ctx ended before the peer did; the connection
// is closed all the same.
func (c *ClientConnection) CloseContext(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if c.closed.Swap(true) {
		return nil
	}
	c.releaseHandshake()
	tc := c.tlsConn.Load()
	if tc == nil {
		return c.base.Close()
	}
	return c.closeTLS(ctx, tc)
}

// closeTLS ends a connection whose handshake started. Ending after writing
// must not reset the connection: a socket closed with unread data makes the
// kernel send a reset (RFC 1122, section 4.2.2.13), which throws away what
// had not reached the peer yet and fails the peer's next read (vsftpd then
// drops the FTPS upload). So, as
// RFC 8446, section 6.1 has each side do, it sends close_notify, then reads
// and discards what the peer still sends until the peer's close_notify or
// the end of the stream, bounded in time and bytes, and only then closes.
//
// It closes at once (close_notify only, as crypto/tls does) when the
// handshake did not complete, when Read met a fatal alert (RFC 8446,
// section 6.2: close immediately), and when another goroutine is inside
// Read or Write: Close then serves to break that call, and waiting would
// contend with it.
//
// Deadlines bound every step: ctx's (else closeDrainTimeout from now), or
// the user's write deadline if earlier and still ahead, bounds close_notify,
// and the wait for the peer too, unless the user's read deadline is earlier (that one never stops close_notify: a peer
// denied it would take the end for a truncation); ctx's cancellation ends
// both.
func (c *ClientConnection) closeTLS(ctx context.Context, tc *tls.Conn) error {
	c.res.mu.Lock()
	graceful := c.res.complete && c.res.fatal == nil
	c.res.mu.Unlock()
	writeBy, byCtx := ctx.Deadline()
	if !byCtx {
		writeBy = time.Now().Add(closeDrainTimeout)
	}
	if user, ok := c.closing.writeBound(); ok && user.Before(writeBy) {
		writeBy = user
	}
	readBy := writeBy
	if ns := c.closing.readDeadline.Load(); ns != 0 {
		if user := time.Unix(0, ns); user.Before(readBy) {
			readBy, byCtx = user, false
		}
	}
	// The deadlines bound the steps in time (ctx's deadline among them);
	// crypto/tls's own five seconds for close_notify cannot outlast them
	// (Transport.BoundWrites). They are set before the watch of ctx's
	// cancellation starts, so that its expired deadline, once set, stays. A
	// ctx that cannot be cancelled (Close's) needs no watch.
	c.tr.BoundWrites(writeBy)
	if graceful {
		c.base.SetReadDeadline(readBy)
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			c.tr.BoundWrites(time.Unix(1, 0))
			c.base.SetReadDeadline(time.Unix(1, 0))
		})
		defer stop()
	}
	var drainErr error
	if graceful && c.closing.busy.Load() == 0 {
		drainErr = c.closeGracefully(ctx, tc, byCtx, readBy)
	}
	err := tc.Close()
	if drainErr != nil { // ctx ended, or the peer would not stop: that, not close_notify's timeout
		return drainErr
	}
	if err != nil && isClosedError(err) {
		err = nil
	}
	return err
}

// closeGracefully sends close_notify, then reads and discards what the peer
// sends until its close_notify, the end of the stream or an error (the
// deadlines closeTLS set among them), at most closeDrainLimit bytes. TLS 1.3
// session tickets read here are kept, as any other, with the chain of the
// session the connection resumed or began (see SessionCache): a connection
// that never reads (an FTP upload) meets its ticket only here, and without
// it the next CopySessionState of the chain would find no fresh ticket and
// present one again. It returns an error when ctx ended, or its deadline
// passed, before the peer's end, and when the peer was still sending at the
// byte limit.
func (c *ClientConnection) closeGracefully(ctx context.Context, tc *tls.Conn, byCtx bool, deadline time.Time) error {
	if err := tc.CloseWrite(); err != nil {
		return c.closeBoundError(ctx, byCtx, deadline)
	}
	buf := make([]byte, 16<<10)
	for total := 0; total < closeDrainLimit; {
		n, err := tc.Read(buf)
		total += n
		if err != nil {
			// close_notify, the end of the stream, a reset, or a bound.
			return c.closeBoundError(ctx, byCtx, deadline)
		}
	}
	// Closing now, with the peer still sending, resets the connection:
	// what the peer had not read yet of ours is lost (see closeTLS), so
	// this is no success.
	return newError(ErrorMisc, nil, "close: the peer sent more than %d bytes after close_notify without ending the connection; closing it with data unread reset it, so the peer may not have received everything written", closeDrainLimit)
}

// closeBoundError is the error of a graceful close that stopped: ctx's if
// ctx ended (its deadline may pass before its timer fires), nil otherwise.
func (c *ClientConnection) closeBoundError(ctx context.Context, byCtx bool, deadline time.Time) error {
	cerr := ctx.Err()
	if cerr == nil && byCtx && !time.Now().Before(deadline) {
		cerr = context.DeadlineExceeded
	}
	if cerr == nil {
		return nil
	}
	return newError(ErrorMisc, cerr, "close: the peer had not ended the connection when the context ended; what it still sent was discarded")
}

// SetDeadline sets the base connection's deadlines; they also bound
// Close's wait and close_notify.
func (c *ClientConnection) SetDeadline(t time.Time) error {
	noteDeadline(&c.closing.readDeadline, t)
	noteDeadline(&c.closing.writeDeadline, t)
	return c.base.SetDeadline(t)
}

// SetReadDeadline sets the base connection's read deadline, which also
// bounds Close's wait.
func (c *ClientConnection) SetReadDeadline(t time.Time) error {
	noteDeadline(&c.closing.readDeadline, t)
	return c.base.SetReadDeadline(t)
}

// SetWriteDeadline sets the base connection's write deadline, which also
// bounds the close_notify that CloseWrite and Close send (crypto/tls would
// give it five seconds of its own).
func (c *ClientConnection) SetWriteDeadline(t time.Time) error {
	noteDeadline(&c.closing.writeDeadline, t)
	return c.base.SetWriteDeadline(t)
}
