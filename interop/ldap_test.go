//go:build linux

package interop

import (
	"bufio"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/giotls/giotls"
)

// ldapStartTLSOID names the StartTLS extended operation (RFC 4511, section
// 4.14.1).
const ldapStartTLSOID = "1.3.6.1.4.1.1466.20037"

// LDAP protocol operations' tags (RFC 4511, section 4.2 and after):
// [APPLICATION n] (class bits 0x40), constructed (0x20) unless noted.
const (
	tagBindRequest   = cbasn1.Tag(0x40 | 0x20 | 0)
	tagBindResponse  = cbasn1.Tag(0x40 | 0x20 | 1)
	tagUnbindRequest = cbasn1.Tag(0x40 | 2) // primitive NULL
	tagExtRequest    = cbasn1.Tag(0x40 | 0x20 | 23)
	tagExtResponse   = cbasn1.Tag(0x40 | 0x20 | 24)
)

// ldapMessage encodes an LDAPMessage (RFC 4511, section 4.1.1) with id and
// the operation op writes.
func ldapMessage(id int64, tag cbasn1.Tag, op func(*cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(id)
		b.AddASN1(tag, op)
	})
	return b.BytesOrPanic()
}

// startTLSRequest is the ExtendedRequest with StartTLS's requestName
// ([0] LDAPOID) and no value.
func startTLSRequest(id int64) []byte {
	return ldapMessage(id, tagExtRequest, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(ldapStartTLSOID)) })
	})
}

// bindRequest is a simple bind (version 3, dn, [0] password).
func bindRequest(id int64, dn, password string) []byte {
	return ldapMessage(id, tagBindRequest, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(3)
		b.AddASN1OctetString([]byte(dn))
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(password)) })
	})
}

// readLDAPResult reads one LDAPMessage from r and returns its resultCode
// and diagnosticMessage, checking its id and operation tag. Only the
// definite, short or long form lengths slapd sends are read.
func readLDAPResult(r *bufio.Reader, id int64, tag cbasn1.Tag) (int64, string, error) {
	hdr := make([]byte, 2, 6)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return 0, "", err
	}
	if hdr[0] != 0x30 {
		return 0, "", fmt.Errorf("not an LDAPMessage: first byte %#x", hdr[0])
	}
	n := int(hdr[1])
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return 0, "", fmt.Errorf("LDAPMessage length of %d bytes", k)
		}
		ext := make([]byte, k)
		if _, err := io.ReadFull(r, ext); err != nil {
			return 0, "", err
		}
		hdr = append(hdr, ext...)
		n = 0
		for _, c := range ext {
			n = n<<8 | int(c)
		}
	}
	if n > 1<<20 {
		return 0, "", fmt.Errorf("LDAPMessage of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, "", err
	}
	msg := cryptobyte.String(append(hdr, body...))
	var seq, op, matched, diag cryptobyte.String
	var gotID, code int64
	if !msg.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Int64WithTag(&gotID, cbasn1.INTEGER) ||
		!seq.ReadASN1(&op, tag) || !op.ReadASN1Int64WithTag(&code, cbasn1.ENUM) ||
		!op.ReadASN1(&matched, cbasn1.OCTET_STRING) || !op.ReadASN1(&diag, cbasn1.OCTET_STRING) {
		return 0, "", fmt.Errorf("unexpected LDAPMessage % x", []byte(msg))
	}
	if gotID != id {
		return 0, "", fmt.Errorf("reply to message %d, want %d", gotID, id)
	}
	return code, string(diag), nil
}

// ldapBind binds as dn over conn and checks that it succeeds, then unbinds.
func ldapBind(conn net.Conn, dn, password string) error {
	if _, err := conn.Write(bindRequest(2, dn, password)); err != nil {
		return err
	}
	code, diag, err := readLDAPResult(bufio.NewReader(conn), 2, tagBindResponse)
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("bind: resultCode %d %q", code, diag)
	}
	_, err = conn.Write(ldapMessage(3, tagUnbindRequest, func(*cryptobyte.Builder) {}))
	return err
}

// TestSlapd speaks LDAP to slapd through the library: StartTLS written by
// hand and the handshake on giotls.PrefixConn, then a bind over TLS; and
// ldaps:// through the Dialer. slapd's log must show each TLS session and
// the bind.
func TestSlapd(t *testing.T) {
	s := startSlapd(t)
	p := getPKI(t)
	db := giotls.NewDatabase([]*x509.Certificate{p.server.Root()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("StartTLS, bind", func(t *testing.T) {
		r := record(t, "slapd", "StartTLS (PrefixConn), simple bind", "library")
		raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.ldap)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		raw.SetDeadline(time.Now().Add(15 * time.Second))
		if _, err := raw.Write(startTLSRequest(1)); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(raw)
		code, diag, err := readLDAPResult(br, 1, tagExtResponse)
		if err != nil || code != 0 {
			t.Fatalf("StartTLS: resultCode %d %q, %v", code, diag, err)
		}
		rest, _ := br.Peek(br.Buffered())
		_, port, _ := net.SplitHostPort(s.ldap)
		conn, err := giotls.NewClientConnection(giotls.PrefixConn(raw, rest), giotls.NewNetworkAddress("localhost", uint16(atoi(t, port))))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDatabase(db)
		if err := conn.Handshake(ctx); err != nil {
			t.Fatalf("handshake after StartTLS: %v", err)
		}
		if err := ldapBind(conn, s.rootDN, s.pass); err != nil {
			t.Fatalf("%v\nslapd: %s", err, s.log.Output())
		}
		r.notef("%s; slapd: %s", conn.ProtocolVersion(), slapdSaw(t, s, "STARTTLS", 1, 1))
	})

	t.Run("ldaps, bind", func(t *testing.T) {
		r := record(t, "slapd", "ldaps (Dialer), simple bind", "library")
		d := &giotls.Dialer{Database: db, SessionCache: giotls.NewSessionCache(giotls.SessionCacheOptions{})}
		_, port, _ := net.SplitHostPort(s.ldaps)
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("localhost", port))
		if err != nil {
			t.Fatalf("ldaps: %v", err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(15 * time.Second))
		if err := ldapBind(conn, s.rootDN, s.pass); err != nil {
			t.Fatalf("%v\nslapd: %s", err, s.log.Output())
		}
		r.notef("%s; slapd: %s", conn.(*giotls.ClientConnection).ProtocolVersion(), slapdSaw(t, s, "BIND dn", 2, 2))
	})

	// Issue 14: connect gains LDAP's StartTLS preamble.
	t.Run("CLI StartTLS", func(t *testing.T) {
		r := record(t, "slapd", "connect --starttls ldap", "CLI")
		_, port, _ := net.SplitHostPort(s.ldap)
		res := runCLI(t, "", "connect", "--starttls", "ldap", "--ca", p.caFile, "--no-pipe", "localhost:"+port)
		r.notef("exit %d: %s", res.code, firstLine(res.stdout+res.stderr))
		if res.code != 0 || !strings.Contains(res.stdout, "protocol:          TLS 1.3") {
			t.Fatalf("want a TLS 1.3 connection after StartTLS; %s", res)
		}
		r.notef("%s; slapd: %s", lineWith(res.stdout, "protocol:"), slapdSaw(t, s, "STARTTLS", 3, 2))
	})

	// slapd on TLS 1.3 sends no ticket after a StartTLS handshake the
	// client ends at once: --resume must not wait seconds for one (issue
	// 14, point 5). A handshake on loopback takes milliseconds; 1.5 s
	// leaves room for a loaded machine and none for a fixed 2 s wait.
	t.Run("CLI resume", func(t *testing.T) {
		r := record(t, "slapd", "connect --resume 2 on ldaps, time taken", "CLI")
		_, port, _ := net.SplitHostPort(s.ldaps)
		begin := time.Now()
		res := runCLI(t, "", "connect", "--resume", "2", "--ca", p.caFile, "--no-pipe", "localhost:"+port)
		took := time.Since(begin)
		r.notef("exit %d in %.1f s", res.code, took.Seconds())
		if res.code != 0 {
			t.Fatalf("want exit 0; %s", res)
		}
		if took > 1500*time.Millisecond {
			t.Errorf("three connections took %v, want under 1.5 s", took)
		}
	})
}

// slapdSaw waits for slapd's log to show op, tls TLS sessions and binds
// successful binds in all, and returns the last TLS line.
func slapdSaw(t *testing.T, s *slapd, op string, tls, binds int) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := s.log.Output()
		tlsLine := lineWith(out, "TLS established")
		if strings.Contains(out, op) && strings.Count(out, "TLS established") >= tls && strings.Count(out, "RESULT tag=97 err=0") >= binds {
			return tlsLine[strings.Index(tlsLine, "TLS established"):]
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd's log shows no %s, or fewer than %d TLS sessions and %d successful binds:\n%s", op, tls, binds, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lineWith returns the last line of s containing sub, or "".
func lineWith(s, sub string) string {
	found := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			found = l
		}
	}
	return strings.TrimSpace(found)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
