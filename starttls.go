package giotls

import (
	"net"
	"slices"
	"sync"
)

// PrefixConn returns a connection that reads prefix first and then base, and
// otherwise is base: writes, deadlines, addresses and Close go to base. It is
// how a STARTTLS client (SMTP RFC 3207, IMAP and POP3 RFC 2595, XMPP RFC
// 6120, LDAP, FTP RFC 4217, ...) hands over the bytes its buffered reader
// took from base beyond the server's reply to STARTTLS: they belong to the
// TLS layer, not to the plain-text protocol.
//
//	// fmt.Fprintf(raw, "STARTTLS\r\n"); reply, err := br.ReadString('\n') ...
//	rest, _ := br.Peek(br.Buffered())
//	conn, err := giotls.NewClientConnection(giotls.PrefixConn(raw, rest), identity)
//
// The bytes are then part of the handshake: TLS records from a client that
// pipelined its ClientHello behind STARTTLS, or, if a server or an attacker
// sent plain text after the reply, the handshake fails with ErrNotTLS. They
// are never taken as replies to commands sent after TLS starts: the
// response injection that Poddebniak et al. found in many mail clients ("Why
// TLS is better without STARTTLS", USENIX Security 2021). So pass them even
// when there should be none, and drop the buffered reader afterwards.
//
// prefix is copied. With an empty prefix PrefixConn returns base itself;
// otherwise the connection has a NetConn method returning base.
func PrefixConn(base net.Conn, prefix []byte) net.Conn {
	if len(prefix) == 0 {
		return base
	}
	return &prefixConn{Conn: base, prefix: slices.Clone(prefix)}
}

type prefixConn struct {
	net.Conn
	mu     sync.Mutex
	prefix []byte
}

// Read returns what is left of the prefix, then reads base.
func (c *prefixConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// NetConn returns the wrapped connection.
func (c *prefixConn) NetConn() net.Conn { return c.Conn }
