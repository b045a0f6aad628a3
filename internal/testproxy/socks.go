package testproxy

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/giotls/giotls/internal/loopback"
)

// StartSOCKS5 starts a SOCKS5 proxy on 127.0.0.1 whose URL has scheme
// ("socks5" or "socks5h"), stopped when the test ends.
func StartSOCKS5(tb testing.TB, scheme string, opts Options) *Proxy {
	tb.Helper()
	return start(tb, scheme, opts, (*Proxy).serveSOCKS5)
}

// ListenSOCKS5 starts a SOCKS5 proxy on 127.0.0.1 outside a test (for
// examples); Close stops it.
func ListenSOCKS5(scheme string, opts Options) (*Proxy, error) {
	return listen(scheme, opts, (*Proxy).serveSOCKS5)
}

func (p *Proxy) serveSOCKS5(c net.Conn) {
	// Method selection (RFC 1928, section 3).
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return
	}
	want := byte(0)
	if p.opts.User != "" {
		want = 2
	}
	if !slices.Contains(methods, want) {
		c.Write([]byte{5, 0xff})
		return
	}
	if _, err := c.Write([]byte{5, want}); err != nil {
		return
	}
	var auth string
	if want == 2 {
		// Username/password (RFC 1929, section 2).
		user, pass, ok := readUserPass(c)
		if !ok {
			return
		}
		auth = user + ":" + pass
		if user != p.opts.User || pass != p.opts.Password {
			c.Write([]byte{1, 1})
			return
		}
		if _, err := c.Write([]byte{1, 0}); err != nil {
			return
		}
	}
	// The request (RFC 1928, sections 4 and 5).
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || req[0] != 5 || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1, 4:
		b := make([]byte, 4)
		if req[3] == 4 {
			b = make([]byte, 16)
		}
		if _, err := io.ReadFull(c, b); err != nil {
			return
		}
		ip, _ := netip.AddrFromSlice(b)
		host = ip.String()
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		b := make([]byte, n[0])
		if _, err := io.ReadFull(c, b); err != nil {
			return
		}
		host = string(b)
	default:
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(c, port[:]); err != nil {
		return
	}
	dest := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:]))))
	p.record(Request{Destination: dest, AddressType: req[3], Authorization: auth})
	if p.opts.Stall {
		stall(c)
		return
	}
	if p.opts.Refuse != 0 {
		c.Write(reply(byte(p.opts.Refuse)))
		return
	}
	d, err := loopback.Dial(context.Background(), p.route(dest))
	if err != nil {
		c.Write(reply(5)) // connection refused
		return
	}
	defer d.Close()
	if _, err := c.Write(reply(0)); err != nil {
		return
	}
	relay(c, d)
}

// reply is a SOCKS5 reply with code rep and a zero IPv4 bound address.
func reply(rep byte) []byte { return []byte{5, rep, 0, 1, 0, 0, 0, 0, 0, 0} }

func readUserPass(c net.Conn) (user, pass string, ok bool) {
	var b [2]byte
	if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 1 {
		return "", "", false
	}
	u := make([]byte, b[1])
	if _, err := io.ReadFull(c, u); err != nil {
		return "", "", false
	}
	if _, err := io.ReadFull(c, b[:1]); err != nil {
		return "", "", false
	}
	pw := make([]byte, b[0])
	if _, err := io.ReadFull(c, pw); err != nil {
		return "", "", false
	}
	return string(u), string(pw), true
}
