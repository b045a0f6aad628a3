package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/giotls/giotls"
)

// pipe copies stdin to the connection and the connection to stdout, like
// openssl s_client -quiet. At the end of stdin nothing more is sent, not
// even close_notify: TLS allows that half-close (RFC 8446, section 6.1),
// but servers such as dovecot then drop the commands they have not yet
// answered. The server's replies are read until it closes, or until it has
// been silent for idle, and only then is the connection closed. A server
// that ends without close_notify is reported: what was read may be
// truncated.
func (c *cli) pipe(conn *giotls.ClientConnection, base *watchConn, idle time.Duration) error {
	defer conn.Close()
	var inputEnded atomic.Bool
	go func() {
		io.Copy(conn, c.stdin)
		inputEnded.Store(true)
		conn.SetReadDeadline(time.Now().Add(idle))
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if inputEnded.Load() {
				conn.SetReadDeadline(time.Now().Add(idle))
			}
			if _, werr := c.stdout.Write(buf[:n]); werr != nil {
				return &localError{werr}
			}
		}
		var ne net.Error
		switch {
		case err == nil:
			continue
		case err == io.EOF, errors.Is(err, net.ErrClosed):
			return nil
		case errors.Is(err, giotls.ErrEOF):
			fmt.Fprintf(c.stderr, "giotls connect: the server closed the connection without close_notify: what was received may be truncated\n")
			return errReported
		case errors.As(err, &ne) && ne.Timeout() && inputEnded.Load():
			fmt.Fprintf(c.stderr, "giotls connect: nothing from the server for %v after the end of input: closing (see --idle-timeout)\n", idle)
			return nil
		}
		if text, ok := (&watched{conns: []*watchConn{base}}).plainText(err); ok {
			return c.reportPlainText("connect", text)
		}
		return err
	}
}
