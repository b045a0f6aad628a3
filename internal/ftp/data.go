package ftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/giotls/giotls"
)

// passive opens a TCP connection to the server's passive port: EPSV
// (RFC 2428, section 3), or PASV (RFC 959) when the server does not know
// EPSV. Only the port of a PASV reply is used: the data connection goes to
// the address the control connection is connected to, as curl does, so a
// server (or someone rewriting its replies) cannot send it elsewhere.
func (c *Client) passive(ctx context.Context) (net.Conn, string, error) {
	ip := c.conn.RemoteAddr().(*net.TCPAddr).IP
	var port int
	method := "EPSV"
	if !c.noEPSV {
		code, msg, err := c.cmd(ctx, 0, "EPSV")
		if err != nil {
			return nil, "", err
		}
		switch {
		case code == 229:
			if port, err = parseEPSV(msg); err != nil {
				return nil, "", err
			}
		case code == 500 || code == 501 || code == 502 || code == 522:
			c.noEPSV = true
		default:
			return nil, "", &Error{Command: "EPSV", Code: code, Message: msg}
		}
	}
	if c.noEPSV {
		method = "PASV"
		_, msg, err := c.cmd(ctx, 2, "PASV")
		if err != nil {
			return nil, "", err
		}
		if port, err = parsePASV(msg); err != nil {
			return nil, "", err
		}
	}
	d := net.Dialer{Timeout: c.cfg.Timeout}
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("ftp: data connection (%s): %w", method, err)
	}
	return conn, method, nil
}

// parseEPSV returns the port of "Entering Extended Passive Mode (|||port|)".
func parseEPSV(msg string) (int, error) {
	start := strings.IndexByte(msg, '(')
	end := strings.LastIndexByte(msg, ')')
	if start < 0 || end < start+5 {
		return 0, fmt.Errorf("ftp: malformed EPSV reply %.80q", msg)
	}
	inner := msg[start+1 : end]
	d := inner[0] // the delimiter, "|" usually (RFC 2428, section 3)
	parts := strings.Split(inner, string(d))
	if len(parts) != 5 || parts[1] != "" || parts[2] != "" || parts[4] != "" {
		return 0, fmt.Errorf("ftp: malformed EPSV reply %.80q", msg)
	}
	port, err := strconv.Atoi(parts[3])
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("ftp: bad port in EPSV reply %.80q", msg)
	}
	return port, nil
}

// parsePASV returns the port of "Entering Passive Mode (h1,h2,h3,h4,p1,p2)".
func parsePASV(msg string) (int, error) {
	start := strings.IndexByte(msg, '(')
	end := strings.LastIndexByte(msg, ')')
	var fields []string
	if start >= 0 && end > start {
		fields = strings.Split(msg[start+1:end], ",")
	} else {
		// Some servers omit the parentheses: take the last six numbers.
		f := strings.FieldsFunc(msg, func(r rune) bool { return (r < '0' || r > '9') && r != ',' })
		if len(f) > 0 {
			fields = strings.Split(f[len(f)-1], ",")
		}
	}
	if len(fields) != 6 {
		return 0, fmt.Errorf("ftp: malformed PASV reply %.80q", msg)
	}
	var n [6]int
	for i, f := range fields {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 || v > 255 {
			return 0, fmt.Errorf("ftp: malformed PASV reply %.80q", msg)
		}
		n[i] = v
	}
	port := n[4]<<8 | n[5]
	if port == 0 {
		return 0, fmt.Errorf("ftp: port 0 in PASV reply %.80q", msg)
	}
	return port, nil
}

// transfer runs a command that uses a data connection: passive open, the
// command, its preliminary reply, the TLS handshake on the data connection
// resuming the control connection's session, fn, and the final reply.
//
// The server's word wins: if the final reply is negative, the error is an
// *Error with that code, wrapping whatever went wrong on the data
// connection; when the reply refuses a data connection that did not resume
// the session (vsftpd's 522, proftpd's 425), a *giotls.Error explaining it
// wraps that *Error (see reuseRefusal).
func (c *Client) transfer(ctx context.Context, line string, fn func(io.ReadWriter) (int64, error)) (int64, error) {
	base, method, err := c.passive(ctx)
	if err != nil {
		return 0, err
	}
	defer base.Close()
	name, _, _ := strings.Cut(line, " ")
	if err := c.sendOn(c.conn, line); err != nil {
		return 0, err
	}
	code, msg, err := c.reply(ctx, name, 0)
	if err != nil {
		return 0, err
	}
	if code/100 != 1 {
		return 0, &Error{Command: name, Code: code, Message: msg}
	}
	n, derr := c.data(ctx, base, method, name == "STOR", fn)
	code, msg, rerr := c.reply(ctx, name, 0)
	switch {
	case rerr != nil && derr != nil:
		return n, fmt.Errorf("ftp: %s: data connection: %w; then %v", name, derr, rerr)
	case rerr != nil:
		return n, rerr
	case code/100 != 2:
		fe := &Error{Command: name, Code: code, Message: msg, Err: derr}
		if refusal := c.reuseRefusal(fe, c.last); refusal != nil {
			return n, refusal
		}
		return n, fe
	case name == "STOR" && code != 226 && code != 250:
		// Only "transfer complete" (RFC 959, section 5.4: 226, or 250
		// "file action completed") says the server has the whole file.
		return n, &Error{Command: name, Code: code, Message: msg + " (not a transfer-complete reply: the upload is not known to be whole)", Err: derr}
	case derr != nil:
		return n, fmt.Errorf("ftp: %s: the server replied %d, but the data connection failed: %w", name, code, derr)
	}
	return n, nil
}

// data secures the data connection and runs fn on it. Uploads end with
// close_notify, which tells the server the file is complete; downloads
// read until the server's, so that a truncated file is an error.
func (c *Client) data(ctx context.Context, base net.Conn, method string, upload bool, fn func(io.ReadWriter) (int64, error)) (int64, error) {
	addr := base.RemoteAddr().(*net.TCPAddr)
	info := DataInfo{Addr: addr.String(), Passive: method}
	defer func() { c.last = info }()
	conn, err := c.cfg.TLS(base, giotls.NewNetworkAddress(c.host, uint16(addr.Port)))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if !c.noCopySession {
		conn.CopySessionState(c.conn)
		info.CopiedSession = true
	}
	hctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	err = conn.Handshake(hctx)
	cancel()
	if err != nil {
		return 0, err
	}
	info.Resumed, info.Version = conn.SessionResumed(), conn.ProtocolVersion()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	n, err := fn(&idleConn{conn: conn, timeout: c.cfg.Timeout})
	info.Bytes = n
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return n, err
	}
	if upload {
		// close_notify tells the server the file is complete; then wait
		// for its end of the connection and read what it still sends (a
		// TLS 1.3 ticket from vsftpd), so that closing does not reset the
		// connection and lose the file's tail (issue 14). The 226 on the
		// control connection is the proof that the file is whole.
		cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		err := conn.CloseContext(cctx)
		cancel()
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return n, fmt.Errorf("ending the upload: %w", err)
		}
	}
	return n, nil
}

// idleConn gives every Read and Write of a transfer the timeout, so that a
// stalled transfer fails and a long one does not.
type idleConn struct {
	conn    *giotls.ClientConnection
	timeout time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.conn.Write(p)
}
