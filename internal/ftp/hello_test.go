package ftp

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
)

// helloLog records, from the wire, the session each ClientHello offered: the
// TLS 1.3 pre_shared_key identities (RFC 8446, Section 4.2.11) and the
// TLS 1.2 SessionTicket (RFC 5077, Section 3.2), as SHA-256 hashes. It sees
// what the server sees, whatever the client believes it sent.
type helloLog struct {
	mu     sync.Mutex
	hellos []offer // one per connection, in the order they were written
}

// offer is what one ClientHello presented.
type offer struct {
	psk    [][32]byte // TLS 1.3 ticket identities
	ticket [32]byte   // TLS 1.2 ticket; zero when none
	err    error      // the ClientHello could not be parsed
}

// wrap returns c recording its first TLS record, the ClientHello.
func (l *helloLog) wrap(c net.Conn) net.Conn { return &helloConn{Conn: c, log: l} }

// presentedTwice returns how many presentations, TLS 1.3 identities and
// TLS 1.2 tickets alike, were of one presented before, and how many there
// were in all.
func (l *helloLog) presentedTwice() (again, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[[32]byte]bool{}
	count := func(h [32]byte) {
		total++
		if seen[h] {
			again++
		}
		seen[h] = true
	}
	for _, o := range l.hellos {
		for _, h := range o.psk {
			count(h)
		}
		if o.ticket != ([32]byte{}) {
			count(o.ticket)
		}
	}
	return again, total
}

type helloConn struct {
	net.Conn
	log  *helloLog
	buf  []byte
	done bool
}

func (c *helloConn) Write(p []byte) (int, error) {
	if !c.done {
		c.buf = append(c.buf, p...)
		if len(c.buf) >= 5 && len(c.buf) >= 5+int(binary.BigEndian.Uint16(c.buf[3:5])) {
			c.done = true
			o := parseHello(c.buf[5 : 5+int(binary.BigEndian.Uint16(c.buf[3:5]))])
			c.log.mu.Lock()
			c.log.hellos = append(c.log.hellos, o)
			c.log.mu.Unlock()
			c.buf = nil
		}
	}
	return c.Conn.Write(p)
}

// parseHello reads a ClientHello handshake message that fits one record
// (crypto/tls's always does): RFC 8446, Section 4.1.2.
func parseHello(b []byte) (o offer) {
	r := hreader(b)
	typ, ok := r.num(1)
	if !ok || typ != 1 {
		return offer{err: fmt.Errorf("not a ClientHello (type %d)", typ)}
	}
	body, ok := r.vec(3)
	if !ok {
		return offer{err: fmt.Errorf("ClientHello split over records")}
	}
	_, ok1 := body.num(2)    // legacy_version
	_, ok2 := body.bytes(32) // random
	_, ok3 := body.vec(1)    // legacy_session_id
	_, ok4 := body.vec(2)    // cipher_suites
	_, ok5 := body.vec(1)    // legacy_compression_methods
	exts, ok6 := body.vec(2) // extensions
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return offer{err: fmt.Errorf("malformed ClientHello")}
	}
	for len(exts) > 0 {
		typ, ok1 := exts.num(2)
		data, ok2 := exts.vec(2)
		if !ok1 || !ok2 {
			return offer{err: fmt.Errorf("malformed extension")}
		}
		switch typ {
		case 35: // session_ticket
			if len(data) > 0 {
				o.ticket = sha256.Sum256(data)
			}
		case 41: // pre_shared_key: identities<7..2^16-1>, binders
			ids, ok := data.vec(2)
			for ok && len(ids) > 0 {
				var id hreader
				if id, ok = ids.vec(2); ok {
					_, ok = ids.bytes(4) // obfuscated_ticket_age
					o.psk = append(o.psk, sha256.Sum256(id))
				}
			}
			if !ok {
				return offer{err: fmt.Errorf("malformed pre_shared_key")}
			}
		}
	}
	return o
}

// hreader reads big-endian numbers and length-prefixed vectors (RFC 8446,
// Section 3), consuming itself.
type hreader []byte

func (r *hreader) bytes(n int) (hreader, bool) {
	if len(*r) < n {
		return nil, false
	}
	b := (*r)[:n]
	*r = (*r)[n:]
	return b, true
}

func (r *hreader) num(n int) (int, bool) {
	b, ok := r.bytes(n)
	v := 0
	for _, x := range b {
		v = v<<8 | int(x)
	}
	return v, ok
}

func (r *hreader) vec(n int) (hreader, bool) {
	l, ok := r.num(n)
	if !ok {
		return nil, false
	}
	return r.bytes(l)
}
