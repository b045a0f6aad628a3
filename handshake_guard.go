package giotls

import (
	"context"
	"net"
)

// lockHandshake takes the handshake lock for the caller, waiting for a
// handshake in progress on another goroutine, and fails instead of waiting
// when that cannot end: while the handshake runs a user handler
// (accept-certificate, notify, an Interaction's method), the handler may be
// the caller, and would wait for itself forever. Go cannot tell the
// handler's goroutine from another, so any call arriving while a handler
// runs fails with ErrMisc; a call arriving outside handlers waits, until
// the handshake ends, Close, or ctx is done.
func (c *ClientConnection) lockHandshake(ctx context.Context) error {
	select {
	case c.hsLock <- struct{}{}:
		return nil
	default:
	}
	if run := c.hs.Load(); run != nil && run.depth.Load() > 0 {
		return newError(ErrorMisc, nil, "connection used from inside a handler of its own handshake")
	}
	select {
	case c.hsLock <- struct{}{}:
		return nil
	case <-c.closedCh:
		return closedError("handshake")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unlockHandshake ends the handshake Handshake published, if any
// (cancelling its context), and releases the handshake lock.
func (c *ClientConnection) unlockHandshake() {
	if run := c.hs.Swap(nil); run != nil {
		run.cancel(nil)
	}
	<-c.hsLock
}

// releaseHandshake is Close's part here: it cancels the handshake in
// progress, if any, and ends every wait for the handshake lock.
func (c *ClientConnection) releaseHandshake() {
	close(c.closedCh)
	if run := c.hs.Load(); run != nil {
		run.cancel(net.ErrClosed)
	}
}

// callback runs a user handler the handshake calls (accept-certificate,
// notify, an Interaction's method): while it runs, and whatever it calls
// runs (setters and their notifications included), the handshake counts as
// inside a handler (see lockHandshake).
func (c *ClientConnection) callback(f func()) {
	if run := c.hs.Load(); run != nil {
		run.depth.Add(1)
		defer run.depth.Add(-1)
	}
	f()
}
