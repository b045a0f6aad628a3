package main

import (
	"bufio"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// ber encodes one BER element with a definite length (X.690, section
// 8.1.3), in the long form when long is set even where the short would do.
func ber(tag byte, long bool, content ...[]byte) []byte {
	var body []byte
	for _, c := range content {
		body = append(body, c...)
	}
	out := []byte{tag}
	if n := len(body); n < 0x80 && !long {
		out = append(out, byte(n))
	} else {
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, body...)
}

// ldapResponse is an LDAPMessage holding an ExtendedResponse (RFC
// 4511, section 4.12): messageID, resultCode, matchedDN, diagnosticMessage
// and, when name is set, responseName.
func ldapResponse(id, code byte, diag, name string, long bool) []byte {
	op := [][]byte{ber(0x0a, false, []byte{code}), ber(0x04, false), ber(0x04, false, []byte(diag))}
	if name != "" {
		op = append(op, ber(0x8a, false, []byte(name)))
	}
	return ber(0x30, long, ber(0x02, false, []byte{id}), ber(0x78, long, op...))
}

// The StartTLS extended request (RFC 4511, section 4.14.1) with message ID 1.
const startTLSRequest = "301d02010177188016312e332e362e312e342e312e313436362e3230303337"

// TestStartTLSLDAP: connect --starttls ldap sends the StartTLS extended
// operation and starts TLS only on a success resultCode; everything else a
// server (or an attacker) answers is an error naming what came, never a
// panic or a hang.
func TestStartTLSLDAP(t *testing.T) {
	p := newPKI(t, "LDAP Root")
	leaf := p.ca.MustLeaf(t, "ldap", testpki.DNSNames("localhost"))
	greet := func(tc *tls.Conn) { io.WriteString(tc, "hello over TLS\r\n") }
	const oid = "1.3.6.1.4.1.1466.20037"
	for _, tc := range []struct {
		name   string
		answer []byte
		ok     bool
		stderr string
	}{
		{"success as slapd answers", ldapResponse(1, 0, "", oid, false), true, ""},
		{"success without responseName", ldapResponse(1, 0, "", "", false), true, ""},
		{"success in long-form lengths", ldapResponse(1, 0, "", oid, true), true, ""},
		{"unwilling", ldapResponse(1, 53, "TLS not configured", oid, false), false, `the server refused StartTLS: unwillingToPerform (53): "TLS not configured"`},
		{"protocol error", ldapResponse(1, 2, "", "", false), false, "the server refused StartTLS: protocolError (2)"},
		{"unknown result", ldapResponse(1, 99, "", "", false), false, "the server refused StartTLS: resultCode 99"},
		{"wrong message ID", ldapResponse(7, 0, "", oid, false), false, "message ID 7, want 1"},
		{"notice of disconnection", ldapResponse(0, 52, "shutting down", "1.3.6.1.4.1.1466.20036", false), false,
			`the server ended the session (notice of disconnection): unavailable (52): "shutting down"`},
		{"not an extended response", ber(0x30, false, ber(0x02, false, []byte{1}), ber(0x65, false, ber(0x0a, false, []byte{0}), ber(0x04, false), ber(0x04, false))),
			false, "not an ExtendedResponse"},
		{"not LDAP", []byte("220 mail.example ESMTP\r\n"), false, "not an LDAP message"},
		{"truncated", ldapResponse(1, 0, "", oid, false)[:10], false, "the server closed the connection"},
		{"oversized", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, false, "too long"},
		{"indefinite length", []byte{0x30, 0x80, 0, 0}, false, "indefinite"},
		{"length beyond the message", ber(0x30, false, ber(0x02, false, []byte{1}), []byte{0x78, 0x40, 0x0a}), false, "malformed"},
		{"injected after success", append(ldapResponse(1, 0, "", oid, false), "* injected"...), false, "after agreeing to start TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startPlainServer(t, leaf, func(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
				req := make([]byte, len(startTLSRequest)/2)
				if _, err := io.ReadFull(r, req); err != nil {
					return false
				}
				seen <- hex.EncodeToString(req)
				c.Write(tc.answer)
				return tc.ok
			}, greet)
			r := run(t, "", "connect", "--starttls", "ldap", "--ca", p.caFile, "--timeout", "5s", s.addr)
			if tc.ok {
				if r.code != 0 || !strings.HasSuffix(r.stdout, "---\nhello over TLS\r\n") {
					t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
				}
			} else if r.code != 1 || !strings.Contains(r.stderr, "STARTTLS (ldap): ") || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tc.stderr)
			}
			if seen := drain(s.seen); len(seen) != 1 || seen[0] != startTLSRequest {
				t.Errorf("the server read %q, want the StartTLS request %s", seen, startTLSRequest)
			}
		})
	}
}

// FuzzLDAPResponse: whatever the server answers, parsing it ends with a
// response or an error, never a panic.
func FuzzLDAPResponse(f *testing.F) {
	f.Add(ldapResponse(1, 0, "", "1.3.6.1.4.1.1466.20037", false)[2:])
	f.Add(ldapResponse(0, 52, "bye", "1.3.6.1.4.1.1466.20036", true)[4:])
	f.Add([]byte{0x02, 0x01, 0x01, 0x78, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := parseExtendedResponse(msg)
		if err == nil && (r.id < 0 || r.code < 0) {
			t.Errorf("parsed %+v", r)
		}
	})
}
