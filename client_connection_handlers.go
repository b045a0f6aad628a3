package giotls

import (
	"slices"
	"sync/atomic"
)

// Several handlers for GIO's signals, as g_signal_connect allows: the
// On... setters keep their meaning (each sets, replacing, its one handler,
// which is asked first); the Connect... methods add handlers after it, in
// the order connected, and return a function that disconnects them.

// connectedHandler is one handler added with a Connect... method.
type connectedHandler[F any] struct {
	f   F
	off atomic.Bool // disconnected: not called by any emission that reaches it later
}

// handlerList is the handlers connected to one signal, in order. It is
// copied on write under the connection's mu, so that an emission walks a
// snapshot without holding mu while handlers run (they may call setters).
type handlerList[F any] []*connectedHandler[F]

// connect adds f to l under c.mu and returns the function that removes it.
func connect[F any](c *ClientConnection, l *handlerList[F], f F) (disconnect func()) {
	h := &connectedHandler[F]{f: f}
	c.mu.Lock()
	*l = append(slices.Clip(*l), h)
	c.mu.Unlock()
	return func() {
		if h.off.Swap(true) {
			return
		}
		c.mu.Lock()
		*l = slices.DeleteFunc(slices.Clone(*l), func(x *connectedHandler[F]) bool { return x == h })
		c.mu.Unlock()
	}
}

// ConnectAcceptCertificate adds a handler to GIO's accept-certificate
// signal and returns the function that disconnects it. When the server's
// certificate has errors that [ClientConnection.ValidationFlags] make
// fatal, the handler set with [ClientConnection.OnAcceptCertificate] is
// asked first, then the connected ones in the order they were connected,
// until one returns true, which accepts the certificate (GIO's
// g_signal_accumulator_true_handled); if none does, the handshake fails
// with [ErrBadCertificate]. Handlers run on the handshake's goroutine.
//
// Disconnecting is final and may be done from a handler: a handler is not
// called by an emission that reaches it after its disconnect (a call
// already under way on another goroutine finishes). A handler connected
// during an emission is first called by the next one. Setting
// OnAcceptCertificate, nil included, leaves the connected handlers alone:
// a permissive connected handler accepts whatever the OnAcceptCertificate
// handler rejects. A nil h connects nothing.
func (c *ClientConnection) ConnectAcceptCertificate(h func(peer *Certificate, errors CertificateFlags) bool) (disconnect func()) {
	if h == nil {
		return func() {}
	}
	return connect(c, &c.acceptHandlers, h)
}

// ConnectNotify adds a handler called with a GIO property name when the
// property changes (GObject's notify signal), after the one set with
// [ClientConnection.OnNotify] and the ones connected earlier, and returns
// the function that disconnects it, as [ClientConnection.ConnectAcceptCertificate].
// A nil h connects nothing.
func (c *ClientConnection) ConnectNotify(h func(property string)) (disconnect func()) {
	if h == nil {
		return func() {}
	}
	return connect(c, &c.notifyHandlers, h)
}

// acceptCertificate emits accept-certificate for peer with flags: on, the
// OnAcceptCertificate handler (nil for none), then the connected handlers,
// until one accepts.
func (c *ClientConnection) acceptCertificate(on func(*Certificate, CertificateFlags) bool, peer *Certificate, flags CertificateFlags) bool {
	c.mu.Lock()
	connected := c.acceptHandlers
	c.mu.Unlock()
	if on == nil && len(connected) == 0 {
		return false
	}
	accepted := false
	c.callback(func() {
		if on != nil && on(peer, flags) {
			accepted = true
			return
		}
		for _, h := range connected {
			if !h.off.Load() && h.f(peer, flags) {
				accepted = true
				return
			}
		}
	})
	return accepted
}

// notifyEmitterLocked returns the function that emits notify to the
// OnNotify handler and the connected ones, nil if there are none. c.mu is
// held; the function is called without it.
func (c *ClientConnection) notifyEmitterLocked() func(property string) {
	on, connected := c.notifyHandler, c.notifyHandlers
	if on == nil && len(connected) == 0 {
		return nil
	}
	return func(p string) {
		if on != nil {
			on(p)
		}
		for _, h := range connected {
			if !h.off.Load() {
				h.f(p)
			}
		}
	}
}
