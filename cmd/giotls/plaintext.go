package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/giotls/giotls"
)

// watched are the TCP connections under a command's TLS connections, the
// latest last.
type watched struct {
	mu    sync.Mutex
	conns []*watchConn
}

func (w *watched) add(c *watchConn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conns = append(w.conns, c)
}

// plainText returns what a server sent in plain text where a TLS record
// belonged, after the handshake, and whether err is that: a server giving
// up on TLS, such as vsftpd writing "500 OOPS: ..." on the socket. crypto/tls
// reports only the first five bytes, as a record header with a version
// such as 3030 ("00"); the rest is in what the watched connections read.
// A handshake meeting plain text is the library's ErrNotTLS, which quotes
// it already.
func (w *watched) plainText(err error) (string, bool) {
	var rhe tls.RecordHeaderError
	if !errors.As(err, &rhe) || errors.Is(err, giotls.ErrNotTLS) {
		return "", false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.conns) - 1; i >= 0; i-- {
		tail := w.conns[i].received()
		if at := bytes.LastIndex(tail, rhe.RecordHeader[:]); at >= 0 {
			return string(tail[at:]), true
		}
	}
	return string(rhe.RecordHeader[:]), true
}

// reportPlainText explains a server's plain text after the handshake and
// shows it, line by line.
func (c *cli) reportPlainText(cmd, text string) error {
	fmt.Fprintf(c.stderr, "giotls %s: the server sent plain text after the TLS handshake, where TLS records belong: it seems to have given up on TLS, saying:\n", cmd)
	for _, line := range strings.Split(strings.TrimRight(text, "\r\n"), "\n") {
		fmt.Fprintf(c.stderr, "  %s\n", printable(strings.TrimRight(line, "\r")))
	}
	return errReported
}

// printable escapes what a terminal should not be sent: control
// characters and bytes that are not UTF-8.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := fmt.Sprintf("%+q", string(r))
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}
