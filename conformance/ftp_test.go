package conformance

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/giotls/giotls/internal/loopback"
)

// replyReader reads FTP replies (RFC 959, section 4.2) a byte at a time, so
// that nothing after a reply is consumed: after AUTH TLS the next bytes on
// the control connection belong to the TLS handshake.
type replyReader struct{ r io.Reader }

func (rr replyReader) line() (string, error) {
	var b strings.Builder
	one := make([]byte, 1)
	for !strings.HasSuffix(b.String(), "\n") {
		n, err := rr.r.Read(one)
		if n == 1 {
			b.WriteByte(one[0])
			continue
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimRight(b.String(), "\r\n"), nil
}

// reply reads a whole, possibly multi-line, reply and returns its last line.
func (rr replyReader) reply() (string, error) {
	first, err := rr.line()
	if err != nil {
		return "", err
	}
	last := first
	if len(first) > 3 && first[3] == '-' {
		for !(len(last) > 3 && last[:3] == first[:3] && last[3] == ' ') {
			if last, err = rr.line(); err != nil {
				return "", err
			}
		}
	}
	return last, nil
}

// ftp runs gio_client.py's FTPS exchange through giotls: AUTH TLS on the
// control connection, anonymous login, PBSZ 0, PROT P, PASV, then LIST over
// a TLS data connection that copies the control connection's session when
// spec.CopySession is set.
func (c *giotlsClient) ftp(spec *FTPSpec, addr string) ClientResult {
	t := c.t
	t.Helper()
	var out ClientResult
	fail := func(err error) ClientResult {
		t.Fatalf("FTP through giotls: %v (replies so far: %q)", err, out.Replies)
		return out
	}
	control, err := loopback.Dial(context.Background(), addr)
	if err != nil {
		return fail(err)
	}
	defer control.Close()
	control.SetDeadline(time.Now().Add(30 * time.Second))
	plain := replyReader{control}
	for _, step := range []string{"", "AUTH TLS"} {
		if step != "" {
			if _, err := io.WriteString(control, step+"\r\n"); err != nil {
				return fail(err)
			}
		}
		r, err := plain.reply()
		if err != nil {
			return fail(err)
		}
		out.Replies = append(out.Replies, r)
	}
	id := c.identity(resolvePort(spec.Identity, []string{addr}, 0))
	out.Connections = append(out.Connections, ConnResult{Handshake: "ok"})
	tlsConn, calls := c.newTLS(control, id, true)
	defer tlsConn.Close()
	ctl := &out.Connections[0]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tlsConn.Handshake(ctx); err != nil {
		e := errorInfo(err)
		ctl.Handshake, ctl.Error = e.Nick, e
		describe(tlsConn, *calls, ctl, false)
		return out
	}
	describe(tlsConn, *calls, ctl, false)
	secure := replyReader{bufio.NewReader(tlsConn)}
	command := func(line string) string {
		if _, err := io.WriteString(tlsConn, line+"\r\n"); err != nil {
			fail(err)
		}
		r, err := secure.reply()
		if err != nil {
			fail(err)
		}
		out.Replies = append(out.Replies, r)
		return r
	}
	command("USER anonymous")
	command("PASS giotls@example.com")
	command("PBSZ 0")
	command("PROT P")
	pasv := command("PASV")
	open, end := strings.IndexByte(pasv, '('), strings.IndexByte(pasv, ')')
	if open < 0 || end < open {
		return fail(fmt.Errorf("PASV reply %q", pasv))
	}
	numbers := strings.Split(pasv[open+1:end], ",")
	if len(numbers) != 6 {
		return fail(fmt.Errorf("PASV reply %q", pasv))
	}
	hi, _ := strconv.Atoi(numbers[4])
	lo, _ := strconv.Atoi(numbers[5])
	dataAddr := net.JoinHostPort(strings.Join(numbers[:4], "."), strconv.Itoa(hi*256+lo))
	dataBase, err := loopback.Dial(context.Background(), dataAddr)
	if err != nil {
		return fail(err)
	}
	defer dataBase.Close()
	if _, err := io.WriteString(tlsConn, "LIST\r\n"); err != nil {
		return fail(err)
	}
	r, err := secure.reply() // 150 before the data handshake
	if err != nil {
		return fail(err)
	}
	out.Replies = append(out.Replies, r)
	out.Connections = append(out.Connections, ConnResult{Handshake: "ok"})
	dr := &out.Connections[1]
	data, dataCalls := c.newTLS(dataBase, id, true)
	if spec.CopySession {
		data.CopySessionState(tlsConn)
	}
	if err := data.Handshake(ctx); err != nil {
		e := errorInfo(err)
		dr.Handshake, dr.Error = e.Nick, e
		describe(data, *dataCalls, dr, false)
	} else {
		describe(data, *dataCalls, dr, false)
		read(data, all, dr)
	}
	closeConn(data, dr)
	r, err = secure.reply() // 226, or 522 without reuse
	if err != nil {
		return fail(err)
	}
	out.Replies = append(out.Replies, r)
	io.WriteString(tlsConn, "QUIT\r\n")
	if r, err := secure.reply(); err == nil {
		out.Replies = append(out.Replies, r)
	}
	closeConn(tlsConn, ctl)
	return out
}
