package main

import (
	"errors"
	"fmt"
	"io"
)

// The LDAP StartTLS extended operation (RFC 4511, section 4.14), in BER
// written out by hand: LDAPMessage ::= SEQUENCE { messageID 1,
// [APPLICATION 23] ExtendedRequest { [0] requestName "1.3.6.1.4.1.1466.20037" } }.
const (
	ldapStartTLSOID = "1.3.6.1.4.1.1466.20037"
	// ldapNoticeOID names the notice of disconnection (RFC 4511, section
	// 4.4.1): an unsolicited ExtendedResponse with message ID 0.
	ldapNoticeOID = "1.3.6.1.4.1.1466.20036"
	// maxLDAPMessage bounds the response: a StartTLS answer holds a result
	// code, a DN and a diagnostic message.
	maxLDAPMessage = 16 << 10
)

var ldapStartTLSRequest = append([]byte{
	0x30, 0x1d, // LDAPMessage, 29 bytes
	0x02, 0x01, 0x01, // messageID 1
	0x77, 0x18, // [APPLICATION 23] ExtendedRequest, 24 bytes
	0x80, 0x16, // [0] requestName, 22 bytes
}, ldapStartTLSOID...)

// ldapResults names the result codes a StartTLS request may meet (RFC
// 4511, appendix A.1; section 4.14.2).
var ldapResults = map[int]string{
	0: "success", 1: "operationsError", 2: "protocolError", 8: "strongerAuthRequired",
	12: "unavailableCriticalExtension", 13: "confidentialityRequired", 50: "insufficientAccessRights",
	51: "busy", 52: "unavailable", 53: "unwillingToPerform", 80: "other",
}

// ldap sends the StartTLS extended request and reads the server's
// ExtendedResponse: TLS starts only on resultCode success (RFC 4511,
// section 4.14.2).
func (p *preamble) ldap() error {
	if p.trace != nil {
		fmt.Fprintf(p.trace, "> StartTLS extended request (message ID 1, %s)\n", ldapStartTLSOID)
	}
	if _, err := p.conn.Write(ldapStartTLSRequest); err != nil {
		return err
	}
	msg, err := p.ldapMessage()
	if err != nil {
		return err
	}
	resp, err := parseExtendedResponse(msg)
	if err != nil {
		return err
	}
	if p.trace != nil {
		fmt.Fprintf(p.trace, "< ExtendedResponse (message ID %d): %s\n", resp.id, resp)
	}
	switch {
	case resp.id == 0 && resp.name == ldapNoticeOID:
		return fmt.Errorf("the server ended the session (notice of disconnection): %s", resp)
	case resp.id != 1:
		return fmt.Errorf("the server answered with message ID %d, want 1", resp.id)
	case resp.code != 0:
		return fmt.Errorf("the server refused StartTLS: %s", resp)
	case resp.name != "" && resp.name != ldapStartTLSOID:
		return fmt.Errorf("the server answered StartTLS with responseName %q", resp.name)
	}
	return nil
}

// ldapMessage reads one LDAPMessage: a SEQUENCE with a definite length
// (RFC 4511, section 5.1), whole.
func (p *preamble) ldapMessage() ([]byte, error) {
	closed := func(err error) error {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("the server closed the connection before its whole answer")
		}
		return err
	}
	tag, err := p.r.ReadByte()
	if err != nil {
		return nil, closed(err)
	}
	if tag != 0x30 {
		rest, _ := p.r.Peek(min(p.r.Buffered(), 40))
		return nil, fmt.Errorf("the server's answer is not an LDAP message: it begins %q", append([]byte{tag}, rest...))
	}
	first, err := p.r.ReadByte()
	if err != nil {
		return nil, closed(err)
	}
	n := int(first)
	switch {
	case first == 0x80:
		return nil, errors.New("the server's answer has an indefinite length, which LDAP forbids (RFC 4511, section 5.1)")
	case first > 0x80:
		if first > 0x84 {
			return nil, fmt.Errorf("the server's answer is too long (a %d-byte length)", first&0x7f)
		}
		n = 0
		for range first & 0x7f {
			b, err := p.r.ReadByte()
			if err != nil {
				return nil, closed(err)
			}
			n = n<<8 | int(b)
		}
	}
	if n > maxLDAPMessage {
		return nil, fmt.Errorf("the server's answer is too long (%d bytes)", n)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(p.r, msg); err != nil {
		return nil, closed(err)
	}
	return msg, nil
}

// extendedResponse is what ldap needs of an ExtendedResponse.
type extendedResponse struct {
	id, code int
	diag     string
	name     string // responseName, "" when absent
}

func (r extendedResponse) String() string {
	s, ok := ldapResults[r.code]
	if ok {
		s = fmt.Sprintf("%s (%d)", s, r.code)
	} else {
		s = fmt.Sprintf("resultCode %d", r.code)
	}
	if r.diag != "" {
		s += fmt.Sprintf(": %q", r.diag)
	}
	return s
}

// parseExtendedResponse parses the content of an LDAPMessage that should
// hold an ExtendedResponse (RFC 4511, section 4.12):
//
//	messageID INTEGER, [APPLICATION 24] SEQUENCE { resultCode ENUMERATED,
//	matchedDN OCTET STRING, diagnosticMessage OCTET STRING, referral [3]
//	OPTIONAL, responseName [10] OPTIONAL, responseValue [11] OPTIONAL },
//	controls [0] OPTIONAL
func parseExtendedResponse(msg []byte) (extendedResponse, error) {
	var r extendedResponse
	malformed := errors.New("the server's answer is a malformed LDAP message")
	in := berSeq(msg)
	tag, id, ok := in.next()
	if !ok || tag != 0x02 {
		return r, malformed
	}
	if r.id, ok = berInt(id); !ok {
		return r, malformed
	}
	tag, op, ok := in.next()
	if !ok {
		return r, malformed
	}
	if tag != 0x78 {
		return r, fmt.Errorf("the server's answer is not an ExtendedResponse (protocolOp tag 0x%02x)", tag)
	}
	fields := berSeq(op)
	tag, code, ok := fields.next()
	if !ok || tag != 0x0a {
		return r, malformed
	}
	if r.code, ok = berInt(code); !ok {
		return r, malformed
	}
	if tag, _, ok = fields.next(); !ok || tag != 0x04 { // matchedDN
		return r, malformed
	}
	tag, diag, ok := fields.next()
	if !ok || tag != 0x04 {
		return r, malformed
	}
	r.diag = string(diag)
	for len(fields) > 0 {
		tag, v, ok := fields.next()
		if !ok {
			return r, malformed
		}
		if tag == 0x8a {
			r.name = string(v)
		}
	}
	return r, nil
}

// berSeq is the content of a constructed BER element, read element by
// element.
type berSeq []byte

// next returns the next element's tag and content; ok is false when what
// is left is not a whole element with a definite length of at most four
// bytes. Tags are single bytes: LDAP uses no others (RFC 4511, section 5.1).
func (s *berSeq) next() (tag byte, content []byte, ok bool) {
	b := *s
	if len(b) < 2 || b[0]&0x1f == 0x1f {
		return 0, nil, false
	}
	tag, n, b := b[0], int(b[1]), b[2:]
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < k {
			return 0, nil, false
		}
		n = 0
		for _, c := range b[:k] {
			n = n<<8 | int(c)
		}
		b = b[k:]
	}
	if n > len(b) {
		return 0, nil, false
	}
	*s = b[n:]
	return tag, b[:n], true
}

// berInt decodes a non-negative INTEGER or ENUMERATED of at most four bytes.
func berInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 4 || b[0]&0x80 != 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		n = n<<8 | int(c)
	}
	return n, true
}
