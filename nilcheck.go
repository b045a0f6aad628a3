package giotls

import (
	"crypto/tls"
	"net"
)

// Interfaces holding a nil pointer would panic when a method is called on
// them. giotls recognises those of its own types and of the standard
// library's connections, by type, without reflection; a nil pointer of the
// caller's own type is the caller's value, as everywhere in Go.

// noIdentity reports whether id names no server: nil, or a nil pointer of
// one of the (sealed) identity types.
func noIdentity(id Connectable) bool {
	switch v := id.(type) {
	case nil:
		return true
	case *NetworkAddress:
		return v == nil
	case *NetworkService:
		return v == nil
	case *InetSocketAddress:
		return v == nil
	}
	return false
}

// noDatabase reports whether db is nil or a nil database of giotls's own.
func noDatabase(db Database) bool {
	if db == nil {
		return true
	}
	_, ours := asStoreDatabase(db)
	switch db.(type) {
	case *storeDatabase, *fileDatabase:
		return !ours
	}
	return false
}

// noConn reports whether c is nil or a nil pointer of a connection type of
// the standard library or giotls.
func noConn(c net.Conn) bool {
	switch v := c.(type) {
	case nil:
		return true
	case *net.TCPConn:
		return v == nil
	case *net.UnixConn:
		return v == nil
	case *net.UDPConn:
		return v == nil
	case *net.IPConn:
		return v == nil
	case *tls.Conn:
		return v == nil
	case *ClientConnection:
		return v == nil
	}
	return false
}
