package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// starttlsPorts are the default ports of the protocols --starttls speaks.
var starttlsPorts = map[string]uint16{"smtp": 25, "imap": 143, "pop3": 110, "ftp": 21, "xmpp": 5222, "ldap": 389}

// starttlsNames lists the protocols for messages.
const starttlsNames = "smtp, imap, pop3, ftp, xmpp or ldap"

// maxPreamble bounds what a server may say before TLS starts.
const maxPreamble = 64 << 10

// startTLS speaks the plain-text preamble of proto on conn until the server
// agrees to start TLS: SMTP (RFC 3207), IMAP (RFC 9051, section 6.2.1), POP3
// (RFC 2595, section 4), FTP (AUTH TLS, RFC 4217), XMPP (RFC 6120,
// section 5.4) or LDAP (RFC 4511, section 4.14). domain is the server's name, for XMPP's stream header.
//
// Anything the server sends after its go-ahead and before the handshake is
// an error: it would be read as if protected (the STARTTLS command
// injection of CVE-2011-0411).
func startTLS(conn net.Conn, proto, domain string, timeout time.Duration, trace io.Writer) error {
	conn.SetDeadline(time.Now().Add(timeout))
	defer conn.SetDeadline(time.Time{})
	p := &preamble{conn: conn, r: bufio.NewReader(io.LimitReader(conn, maxPreamble)), trace: trace}
	var err error
	switch proto {
	case "smtp":
		err = p.smtp()
	case "imap":
		err = p.imap()
	case "pop3":
		err = p.pop3()
	case "ftp":
		err = p.ftp()
	case "xmpp":
		err = p.xmpp(domain)
	case "ldap":
		err = p.ldap()
	default:
		return usagef("--starttls %q: want "+starttlsNames, proto)
	}
	if err != nil {
		return fmt.Errorf("STARTTLS (%s): %w", proto, err)
	}
	if p.r.Buffered() > 0 {
		return fmt.Errorf("STARTTLS (%s): the server sent %d bytes after agreeing to start TLS, before the handshake (command injection?)", proto, p.r.Buffered())
	}
	return nil
}

type preamble struct {
	conn  net.Conn
	r     *bufio.Reader
	trace io.Writer
}

func (p *preamble) send(line string) error {
	if p.trace != nil {
		fmt.Fprintf(p.trace, "> %s\n", line)
	}
	_, err := io.WriteString(p.conn, line+"\r\n")
	return err
}

func (p *preamble) line() (string, error) {
	l, err := p.r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return "", errors.New("the server closed the connection")
		}
		return "", err
	}
	l = strings.TrimRight(l, "\r\n")
	if p.trace != nil {
		fmt.Fprintf(p.trace, "< %s\n", l)
	}
	return l, nil
}

// reply reads an SMTP or FTP reply ("250-..." lines, then "250 ...") and
// returns its code and lines.
func (p *preamble) reply() (string, []string, error) {
	var lines []string
	for {
		l, err := p.line()
		if err != nil {
			return "", nil, err
		}
		if len(l) < 3 {
			return "", nil, fmt.Errorf("malformed reply %.80q", l)
		}
		lines = append(lines, l)
		if len(l) == 3 || l[3] != '-' {
			return l[:3], lines, nil
		}
	}
}

func (p *preamble) expect(code string) ([]string, error) {
	got, lines, err := p.reply()
	if err != nil {
		return nil, err
	}
	if got != code {
		return nil, fmt.Errorf("the server replied %q, want %s", strings.Join(lines, " / "), code)
	}
	return lines, nil
}

func (p *preamble) smtp() error {
	if _, err := p.expect("220"); err != nil {
		return err
	}
	// RFC 5321, section 4.1.4: EHLO names the client; an address literal
	// of the local address says no more than the connection does.
	local := "[127.0.0.1]"
	if a, ok := p.conn.LocalAddr().(*net.TCPAddr); ok {
		if a.IP.To4() != nil {
			local = "[" + a.IP.String() + "]"
		} else {
			local = "[IPv6:" + a.IP.String() + "]"
		}
	}
	if err := p.send("EHLO " + local); err != nil {
		return err
	}
	lines, err := p.expect("250")
	if err != nil {
		return err
	}
	offered := false
	for _, l := range lines[1:] {
		if len(l) > 4 && strings.EqualFold(strings.TrimSpace(l[4:]), "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		return errors.New("the server does not offer STARTTLS")
	}
	if err := p.send("STARTTLS"); err != nil {
		return err
	}
	_, err = p.expect("220")
	return err
}

func (p *preamble) imap() error {
	greeting, err := p.line()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(strings.ToUpper(greeting), "* OK") {
		return fmt.Errorf("greeting %.80q, want * OK", greeting)
	}
	if err := p.send("a001 STARTTLS"); err != nil {
		return err
	}
	for {
		l, err := p.line()
		if err != nil {
			return err
		}
		if strings.HasPrefix(l, "* ") {
			continue // untagged data, such as CAPABILITY
		}
		if !strings.HasPrefix(strings.ToUpper(l), "A001 OK") {
			return fmt.Errorf("the server replied %.80q", l)
		}
		return nil
	}
}

func (p *preamble) pop3() error {
	greeting, err := p.line()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(greeting, "+OK") {
		return fmt.Errorf("greeting %.80q, want +OK", greeting)
	}
	if err := p.send("STLS"); err != nil {
		return err
	}
	l, err := p.line()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(l, "+OK") {
		return fmt.Errorf("the server replied %.80q", l)
	}
	return nil
}

func (p *preamble) ftp() error {
	if _, err := p.expect("220"); err != nil {
		return err
	}
	if err := p.send("AUTH TLS"); err != nil {
		return err
	}
	_, err := p.expect("234")
	return err
}

// xmpp opens a client stream, checks that the features offer STARTTLS and
// asks for it. It is not an XML parser: it looks for the elements it needs
// in what the server sends, which is all a STARTTLS preamble needs.
func (p *preamble) xmpp(domain string) error {
	header := fmt.Sprintf("<?xml version='1.0'?><stream:stream to='%s' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>", xmlEscape(domain))
	if p.trace != nil {
		fmt.Fprintf(p.trace, "> %s\n", header)
	}
	if _, err := io.WriteString(p.conn, header); err != nil {
		return err
	}
	features, err := p.until("</stream:features>", "<stream:features/>", "</stream:error>")
	if err != nil {
		return err
	}
	if err := streamError(features); err != nil {
		return err
	}
	if !strings.Contains(features, "urn:ietf:params:xml:ns:xmpp-tls") {
		return errors.New("the server does not offer STARTTLS")
	}
	const starttls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	if p.trace != nil {
		fmt.Fprintf(p.trace, "> %s\n", starttls)
	}
	if _, err := io.WriteString(p.conn, starttls); err != nil {
		return err
	}
	answer, err := p.until("/>", "</proceed>", "</failure>", "</stream:error>")
	if err != nil {
		return err
	}
	if err := streamError(answer); err != nil {
		return err
	}
	if !strings.Contains(answer, "<proceed") {
		return fmt.Errorf("the server refused STARTTLS: %s", quoteTail(answer))
	}
	return nil
}

// streamError returns the stream error (RFC 6120, section 4.9) in what an
// XMPP server sent, nil if there is none: its defined condition, the
// first element inside <stream:error>, and its text, if any.
func streamError(s string) error {
	_, body, ok := strings.Cut(s, "<stream:error>")
	if !ok {
		return nil
	}
	condition := "(no condition)"
	if _, el, ok := strings.Cut(body, "<"); ok {
		if end := strings.IndexAny(el, " \t\r\n/>"); end > 0 {
			condition = el[:end]
		}
	}
	if _, t, ok := strings.Cut(body, "<text"); ok {
		if _, t, ok = strings.Cut(t, ">"); ok {
			if text, _, ok := strings.Cut(t, "</text>"); ok {
				return fmt.Errorf("the server ended the stream: %s: %q", condition, text)
			}
		}
	}
	return fmt.Errorf("the server ended the stream: %s", condition)
}

// maxQuote bounds what an error quotes of a server's text: its end, where
// the reason is. -v shows it all.
const maxQuote = 2000

func quoteTail(s string) string {
	if len(s) > maxQuote {
		return fmt.Sprintf("...%q", s[len(s)-maxQuote:])
	}
	return fmt.Sprintf("%q", s)
}

// until reads until what was read ends with one of ends, and traces what
// it read, also when the server closed the connection first.
func (p *preamble) until(ends ...string) (string, error) {
	var b strings.Builder
	defer func() {
		if p.trace != nil && b.Len() > 0 {
			fmt.Fprintf(p.trace, "< %s\n", b.String())
		}
	}()
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if err := streamError(b.String()); err != nil {
					return "", err
				}
				return "", fmt.Errorf("the server closed the connection after %s", quoteTail(b.String()))
			}
			return "", err
		}
		b.WriteByte(c)
		for _, e := range ends {
			if strings.HasSuffix(b.String(), e) {
				return b.String(), nil
			}
		}
	}
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;").Replace(s)
}
