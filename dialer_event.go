package giotls

import (
	"fmt"
	"net"
)

// SocketClientEvent is a step of a dial, as GIO's GSocketClientEvent, with
// the same values. [Dialer.Event] receives them in GIO's order (that of
// g_socket_client_connect): Resolving and Resolved once, then for each
// address tried Connecting, Connected (if the TCP connection was made),
// TLSHandshaking and TLSHandshaked (if the handshake succeeded), and
// Complete once at the end, whether or not a connection was made.
type SocketClientEvent int

const (
	// SocketClientResolving: the connectable is about to be turned into
	// addresses (for a NetworkService, its SRV lookup).
	SocketClientResolving SocketClientEvent = iota
	// SocketClientResolved: the addresses are known (or the lookup failed).
	SocketClientResolved
	// SocketClientConnecting: a TCP connection to one address is about to
	// be made. The connection is nil: unlike GIO's GSocket, a Go
	// connection does not exist before it is connected.
	SocketClientConnecting
	// SocketClientConnected: the TCP connection is made; the event carries it.
	SocketClientConnected
	// SocketClientProxyNegotiating: a proxy is about to be asked for the
	// destination. Reserved for the proxy step; not emitted yet.
	SocketClientProxyNegotiating
	// SocketClientProxyNegotiated: the proxy has connected the destination.
	// Reserved for the proxy step; not emitted yet.
	SocketClientProxyNegotiated
	// SocketClientTLSHandshaking: the handshake is about to start; the
	// event carries the *ClientConnection, which may still be configured
	// here, as GIO programs do in this event.
	SocketClientTLSHandshaking
	// SocketClientTLSHandshaked: the handshake succeeded.
	SocketClientTLSHandshaked
	// SocketClientComplete: the dial is over; the event carries the
	// connection returned, or nil if the dial failed.
	SocketClientComplete
)

var socketClientEventNames = [...]string{
	SocketClientResolving:        "resolving",
	SocketClientResolved:         "resolved",
	SocketClientConnecting:       "connecting",
	SocketClientConnected:        "connected",
	SocketClientProxyNegotiating: "proxy-negotiating",
	SocketClientProxyNegotiated:  "proxy-negotiated",
	SocketClientTLSHandshaking:   "tls-handshaking",
	SocketClientTLSHandshaked:    "tls-handshaked",
	SocketClientComplete:         "complete",
}

// String returns GIO's nick for e, such as "tls-handshaking".
func (e SocketClientEvent) String() string {
	if e >= 0 && int(e) < len(socketClientEventNames) {
		return socketClientEventNames[e]
	}
	return fmt.Sprintf("SocketClientEvent(%d)", int(e))
}

// emit reports one step to d.Event, if set. A nil *ClientConnection is
// passed as a nil net.Conn, never as a non-nil interface holding nil.
func (d *Dialer) emit(e SocketClientEvent, c Connectable, conn net.Conn) {
	if d.Event == nil {
		return
	}
	if cc, ok := conn.(*ClientConnection); ok && cc == nil {
		conn = nil
	}
	d.Event(e, c, conn)
}
