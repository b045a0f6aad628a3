package giotls

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

// hostileServer accepts TCP connections on 127.0.0.1 and hands each one, raw,
// to a handler: for servers that misbehave in ways crypto/tls never would.
// When the test ends, done is closed, the listener and every connection are
// closed, and the handlers are waited for.
type hostileServer struct {
	Addr netip.AddrPort
	done chan struct{}

	mu    sync.Mutex
	conns []net.Conn
}

func startHostileServer(t testing.TB, handle func(c net.Conn, done <-chan struct{})) *hostileServer {
	t.Helper()
	s := &hostileServer{done: make(chan struct{})}
	ln := loopback.Serve(t, "tcp4", func(c net.Conn) {
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		handle(c, s.done)
	})
	s.Addr = ln.Addr().(*net.TCPAddr).AddrPort()
	// Registered after Serve's, so run before it: the handlers are told to
	// stop and their connections closed before Serve waits for them.
	t.Cleanup(func() {
		close(s.done)
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	return s
}

// dialClient connects to addr and returns a giotls client connection for
// identity over it, closed when the test ends, and its base connection.
func dialClient(t testing.TB, b *Backend, addr netip.AddrPort, identity Connectable) (*ClientConnection, *countingConn) {
	t.Helper()
	var cc *countingConn
	c := dialTest(t, addr.String(), dialConfig{Backend: b, Identity: identity, Wrap: func(raw net.Conn) net.Conn {
		cc = &countingConn{Conn: raw}
		return cc
	}})
	return c, cc
}

// countingConn counts the Read calls made on a connection and the bytes
// they returned.
type countingConn struct {
	net.Conn
	mu           sync.Mutex
	reads, bytes int
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.reads++
	c.bytes += n
	c.mu.Unlock()
	return n, err
}

func (c *countingConn) counts() (reads, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads, c.bytes
}

// waitOrDone blocks until done is closed: a server that holds its
// connection open without answering.
func waitOrDone(done <-chan struct{}) { <-done }

// recordServer is a TLS 1.3 crypto/tls server that, once its handshake is
// done, hands the connection to a handler that writes records of its own
// making, encrypted with the server's application traffic keys: what a
// broken or hostile server may send and a crypto/tls server never does
// (thousands of session tickets, odd lifetimes, alerts at any time). The
// server sends no ticket itself, so the handler's records are the first
// under those keys. options adjust the server's tls.Config.
func startRecordServer(t testing.TB, leaf *testpki.Leaf, handle func(r *serverRecords, done <-chan struct{}), options ...func(*tls.Config)) *hostileServer {
	t.Helper()
	cfg := serverConfig(leaf)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	cfg.SessionTicketsDisabled = true
	for _, o := range options {
		o(cfg)
	}
	return startHostileServer(t, func(c net.Conn, done <-chan struct{}) {
		var keyLog bytes.Buffer
		cfg := cfg.Clone()
		cfg.KeyLogWriter = &keyLog
		tc := tls.Server(c, cfg)
		tc.SetDeadline(time.Now().Add(30 * time.Second))
		if err := tc.Handshake(); err != nil {
			return
		}
		tc.SetDeadline(time.Time{})
		r, err := newServerRecords(c, tc, keyLog.String())
		if err != nil {
			t.Errorf("record server: %v", err)
			return
		}
		handle(r, done)
	})
}

// serverRecords writes TLS 1.3 records (RFC 8446, section 5.2) as the
// server of tc, around crypto/tls.
type serverRecords struct {
	tc   *tls.Conn // reads what the client sends
	conn net.Conn  // the TCP connection under tc
	aead cipher.AEAD
	iv   []byte
	seq  uint64
}

// newServerRecords derives the server's application traffic keys from the
// SERVER_TRAFFIC_SECRET_0 line crypto/tls logged (RFC 8446, section 7.3).
func newServerRecords(conn net.Conn, tc *tls.Conn, keyLog string) (*serverRecords, error) {
	var secret []byte
	for line := range strings.Lines(keyLog) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "SERVER_TRAFFIC_SECRET_0" {
			s, err := hex.DecodeString(f[2])
			if err != nil {
				return nil, err
			}
			secret = s
		}
	}
	if secret == nil {
		return nil, errors.New("no SERVER_TRAFFIC_SECRET_0 in the key log")
	}
	var h func() hash.Hash
	var keyLen int
	suite := tc.ConnectionState().CipherSuite
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256:
		h, keyLen = sha256.New, 16
	case tls.TLS_AES_256_GCM_SHA384:
		h, keyLen = sha512.New384, 32
	default:
		// crypto/tls prefers AES-GCM on both sides wherever the CPU has
		// AES instructions; ChaCha20-Poly1305 would need golang.org/x/crypto.
		return nil, fmt.Errorf("cipher suite %s negotiated: the record server writes AES-GCM records only", tls.CipherSuiteName(suite))
	}
	key, iv := expandLabel(h, secret, "key", keyLen), expandLabel(h, secret, "iv", 12)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &serverRecords{tc: tc, conn: conn, aead: aead, iv: iv}, nil
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446,
// section 7.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) []byte {
	full := "tls13 " + label
	info := []byte{byte(n >> 8), byte(n), byte(len(full))}
	info = append(info, full...)
	info = append(info, 0)
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		panic(err)
	}
	return out
}

// Content types (RFC 8446, section 5.1).
const (
	recordAlert           = 21
	recordHandshake       = 22
	recordApplicationData = 23
)

// write sends payload as one protected record of content type typ.
func (r *serverRecords) write(typ byte, payload []byte) error {
	inner := append(slices.Clone(payload), typ)
	nonce := slices.Clone(r.iv)
	for i := range 8 {
		nonce[len(nonce)-1-i] ^= byte(r.seq >> (8 * i))
	}
	n := len(inner) + r.aead.Overhead()
	hdr := []byte{recordApplicationData, 3, 3, byte(n >> 8), byte(n)}
	rec := r.aead.Seal(slices.Clip(slices.Clone(hdr)), nonce, inner, hdr)
	r.seq++
	_, err := r.conn.Write(rec)
	return err
}

// handshakeMessage frames body as a handshake message of type typ
// (RFC 8446, section 4).
func handshakeMessage(typ byte, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

// newSessionTicket is a NewSessionTicket message (RFC 8446, section 4.6.1)
// whose ticket is label.
func newSessionTicket(lifetime uint32, nonce, label []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, lifetime)
	b = binary.BigEndian.AppendUint32(b, 0x5eed5eed) // ticket_age_add
	b = append(b, byte(len(nonce)))
	b = append(b, nonce...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(label)))
	b = append(b, label...)
	b = append(b, 0, 0) // no extensions
	return handshakeMessage(4, b)
}

// An edit changes the byte stream at an offset: for mutatingConn.
type edit struct {
	off int
	op  byte // see editOps
	val byte
}

// The kinds of edit, as parseEdits reads them.
const (
	editXOR      = iota // flip the bits of val (0xff if val is 0)
	editSet             // replace the byte with val
	editInsert          // insert val before the byte
	editDelete          // drop the byte
	editTruncate        // close the connection before the byte
	editOps
)

// parseEdits reads edits from data, four bytes each: a big-endian offset
// (modulo 4096: a server's first flight is shorter), the kind of edit, and
// its value. Edits are applied in offset order.
func parseEdits(data []byte) []edit {
	var edits []edit
	for ; len(data) >= 4; data = data[4:] {
		off := (int(data[0])<<8 | int(data[1])) % 4096
		edits = append(edits, edit{off: off, op: data[2] % editOps, val: data[3]})
	}
	slices.SortStableFunc(edits, func(a, b edit) int { return a.off - b.off })
	return edits
}

// mutatingConn applies edits to the bytes written through it, by their
// offset in the whole stream, and forwards the result.
type mutatingConn struct {
	net.Conn
	mu      sync.Mutex
	edits   []edit
	written int // offset of the next byte of the unedited stream
	cut     bool
}

func (c *mutatingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.cut {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	out := make([]byte, 0, len(p)+len(c.edits))
	for _, b := range p {
		keep := true
		for len(c.edits) > 0 && c.edits[0].off == c.written {
			e := c.edits[0]
			c.edits = c.edits[1:]
			switch e.op {
			case editXOR:
				if e.val == 0 {
					e.val = 0xff
				}
				b ^= e.val
			case editSet:
				b = e.val
			case editInsert:
				out = append(out, e.val)
			case editDelete:
				keep = false
			case editTruncate:
				c.cut = true
			}
		}
		if c.cut {
			break
		}
		if keep {
			out = append(out, b)
		}
		c.written++
	}
	cut := c.cut
	c.mu.Unlock()
	if len(out) > 0 {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
	}
	if cut {
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	return len(p), nil
}
