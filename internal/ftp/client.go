// Package ftp is a small FTP-over-TLS client (RFC 959, RFC 4217) built on
// giotls: explicit TLS (AUTH TLS, required, never falling back to plain
// text) or implicit TLS (ftps://), PBSZ 0 and PROT P, passive mode (EPSV,
// then PASV), listings (MLSD, else LIST), streamed RETR and STOR.
//
// Every data connection resumes the control connection's TLS session with
// CopySessionState, which servers such as vsftpd with require_ssl_reuse=YES
// demand: a resumed session shows the server that the data connection comes
// from the client that logged in, not from someone who raced it to the
// passive port.
package ftp

import (
	"bufio"
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

// Config describes a server and how to reach it.
type Config struct {
	// Addr is the host:port to connect to.
	Addr string
	// ServerName is the server identity the certificates are checked
	// against; "" means Addr's host. The data connections use it with
	// their own port.
	ServerName string
	// Implicit selects implicit TLS (ftps://, usually port 990): TLS from
	// the first byte. Otherwise the client asks for TLS with AUTH TLS and
	// stops if the server refuses.
	Implicit bool
	// User and Password log in; an empty User logs in as "anonymous" with
	// the password "ftp@example.com" (as curl does).
	User, Password string
	// TLS wraps a TCP connection to the server in a TLS client connection
	// for identity: the caller sets the database, client certificate,
	// accept-certificate handler and so on. It is called for the control
	// connection and for every data connection.
	TLS func(base net.Conn, identity giotls.Connectable) (*giotls.ClientConnection, error)
	// Timeout bounds each connection, handshake and reply, and how long a
	// transfer may stall; 0 means 30 seconds.
	Timeout time.Duration
	// Trace, if set, receives the control dialogue, the password hidden.
	Trace io.Writer
}

// Error is a negative (4xx or 5xx) or unexpected reply from the server.
type Error struct {
	Command string // the command, "PASS" without its argument
	Code    int
	Message string // the reply's text, lines joined by "\n"
	Err     error  // what failed on the data connection, if anything
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("ftp: %s: server replied %d %s", e.Command, e.Code, e.Message)
	if e.Err != nil {
		msg += " (data connection: " + e.Err.Error() + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// DataInfo describes the last data connection.
type DataInfo struct {
	Addr          string // the passive address connected to
	Passive       string // "EPSV" or "PASV"
	Resumed       bool   // the server accepted the copied session
	Version       giotls.ProtocolVersion
	CopiedSession bool // CopySessionState was called
	Bytes         int64
}

// Client is a logged-in FTP-over-TLS session. It is not safe for concurrent
// use: FTP runs one command at a time.
type Client struct {
	cfg      Config
	host     string // ServerName or Addr's host
	conn     *giotls.ClientConnection
	r        *bufio.Reader
	features map[string]string
	noEPSV   bool
	last     DataInfo

	// noCopySession makes data connections skip CopySessionState, for the
	// test that shows the server refusing them.
	noCopySession bool
}

// maxLine bounds a reply line: a server that sends more is broken.
const maxLine = 64 << 10

// Dial connects, secures the control connection, logs in and prepares
// protected binary transfers (PBSZ 0 and PROT P as RFC 4217 asks, TYPE I).
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.TLS == nil {
		return nil, errors.New("ftp: Config.TLS is nil")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ftp: bad address %q: %w", cfg.Addr, err)
	}
	if cfg.ServerName != "" {
		host = cfg.ServerName
	}
	c := &Client{cfg: cfg, host: host}
	if err := c.connect(ctx); err != nil {
		if c.conn != nil {
			c.conn.Close()
		}
		return nil, err
	}
	return c, nil
}

func (c *Client) connect(ctx context.Context) error {
	d := net.Dialer{Timeout: c.cfg.Timeout}
	base, err := d.DialContext(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ftp: %w", err)
	}
	_, portStr, _ := net.SplitHostPort(c.cfg.Addr)
	port, _ := strconv.ParseUint(portStr, 10, 16)
	identity := giotls.NewNetworkAddress(c.host, uint16(port))
	if !c.cfg.Implicit {
		// RFC 4217: the greeting and AUTH TLS in plain text.
		c.r = bufio.NewReaderSize(base, 4096)
		if _, _, err := c.replyOn(ctx, base, "greeting", 2); err != nil {
			base.Close()
			return err
		}
		if err := c.sendOn(base, "AUTH TLS"); err != nil {
			base.Close()
			return err
		}
		code, msg, err := c.replyOn(ctx, base, "AUTH TLS", 0)
		if err != nil {
			base.Close()
			return err
		}
		if code != 234 {
			base.Close()
			return &Error{Command: "AUTH TLS", Code: code, Message: msg + " (the server does not offer TLS; not continuing in plain text)"}
		}
		if c.r.Buffered() > 0 {
			base.Close()
			return errors.New("ftp: the server sent data after accepting AUTH TLS, before the handshake")
		}
	}
	conn, err := c.cfg.TLS(base, identity)
	if err != nil {
		base.Close()
		return err
	}
	c.conn = conn
	hctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if err := conn.Handshake(hctx); err != nil {
		return err
	}
	c.r = bufio.NewReaderSize(conn, 4096)
	if c.cfg.Implicit {
		if _, _, err := c.reply(ctx, "greeting", 2); err != nil {
			return err
		}
	}
	if err := c.login(ctx); err != nil {
		return err
	}
	for _, cmd := range []string{"PBSZ 0", "PROT P", "TYPE I"} {
		if _, _, err := c.cmd(ctx, 2, cmd); err != nil {
			return err
		}
	}
	c.features = c.feat(ctx)
	return nil
}

func (c *Client) login(ctx context.Context) error {
	user, pass := c.cfg.User, c.cfg.Password
	if user == "" {
		user, pass = "anonymous", "ftp@example.com"
	}
	code, _, err := c.cmd(ctx, 0, "USER "+user)
	if err != nil {
		return err
	}
	switch code {
	case 230:
		return nil
	case 331:
		code, msg, err := c.cmd(ctx, 0, "PASS "+pass)
		if err != nil {
			return err
		}
		if code != 230 && code != 202 {
			return &Error{Command: "PASS", Code: code, Message: msg}
		}
		return nil
	}
	return &Error{Command: "USER", Code: code, Message: "unexpected reply"}
}

// feat returns the server's features (RFC 2389), upper-cased names to their
// parameters; empty if FEAT is not understood.
func (c *Client) feat(ctx context.Context) map[string]string {
	f := map[string]string{}
	code, msg, err := c.cmd(ctx, 0, "FEAT")
	if err != nil || code != 211 {
		return f
	}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] { // the first and last lines are not features
		if !strings.HasPrefix(l, " ") {
			continue
		}
		name, params, _ := strings.Cut(strings.TrimSpace(l), " ")
		f[strings.ToUpper(name)] = params
	}
	return f
}

// Features returns what the server announced in reply to FEAT.
func (c *Client) Features() map[string]string { return c.features }

// Control returns the control connection.
func (c *Client) Control() *giotls.ClientConnection { return c.conn }

// LastData describes the last data connection.
func (c *Client) LastData() DataInfo { return c.last }

// Size returns the size of path in bytes (RFC 3659, section 4), -1 if the
// server does not say.
func (c *Client) Size(ctx context.Context, path string) int64 {
	code, msg, err := c.cmd(ctx, 0, "SIZE "+path)
	if err != nil || code != 213 {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// List writes the listing of the directory path ("" for the current one)
// to w, one entry a line: MLSD's facts (RFC 3659, section 7) when the
// server offers it, else LIST's server-specific text.
func (c *Client) List(ctx context.Context, path string, w io.Writer) error {
	if _, ok := c.features["MLST"]; ok {
		_, err := c.transfer(ctx, withArg("MLSD", path), func(data io.ReadWriter) (int64, error) {
			return io.Copy(w, data)
		})
		var fe *Error
		if !errors.As(err, &fe) || (fe.Code != 500 && fe.Code != 502) || fe.Err != nil {
			return err
		}
	}
	_, err := c.transfer(ctx, withArg("LIST", path), func(data io.ReadWriter) (int64, error) {
		return io.Copy(w, data)
	})
	return err
}

// Retrieve streams the file path to w and returns the number of bytes
// written.
func (c *Client) Retrieve(ctx context.Context, path string, w io.Writer) (int64, error) {
	return c.transfer(ctx, "RETR "+path, func(data io.ReadWriter) (int64, error) {
		return io.Copy(w, data)
	})
}

// Store streams r to the file path on the server and returns the number of
// bytes sent.
func (c *Client) Store(ctx context.Context, path string, r io.Reader) (int64, error) {
	return c.transfer(ctx, "STOR "+path, func(data io.ReadWriter) (int64, error) {
		return io.Copy(data, r)
	})
}

func withArg(cmd, arg string) string {
	if arg == "" {
		return cmd
	}
	return cmd + " " + arg
}

// Quit says goodbye and closes the control connection.
func (c *Client) Quit(ctx context.Context) error {
	_, _, err := c.cmd(ctx, 2, "QUIT")
	if cerr := c.conn.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the control connection without QUIT.
func (c *Client) Close() error { return c.conn.Close() }

// cmd sends a command and reads its reply; want, if not 0, is the first
// digit a reply must have (anything else is an *Error).
func (c *Client) cmd(ctx context.Context, want int, line string) (int, string, error) {
	if err := c.sendOn(c.conn, line); err != nil {
		return 0, "", err
	}
	name, _, _ := strings.Cut(line, " ")
	return c.reply(ctx, name, want)
}

func (c *Client) sendOn(conn net.Conn, line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("ftp: a command may not contain a line break: %q", line)
	}
	if c.cfg.Trace != nil {
		shown := line
		if strings.HasPrefix(line, "PASS ") {
			shown = "PASS ****"
		}
		fmt.Fprintf(c.cfg.Trace, "> %s\n", shown)
	}
	conn.SetWriteDeadline(time.Now().Add(c.cfg.Timeout))
	_, err := io.WriteString(conn, line+"\r\n")
	if err != nil {
		name, _, _ := strings.Cut(line, " ")
		return fmt.Errorf("ftp: sending %s: %w", name, err)
	}
	return nil
}

func (c *Client) reply(ctx context.Context, cmd string, want int) (int, string, error) {
	return c.replyOn(ctx, c.conn, cmd, want)
}

// replyOn reads one reply, multi-line ones included (RFC 959, section 4.2):
// "123-first line" ... "123 last line".
func (c *Client) replyOn(ctx context.Context, conn net.Conn, cmd string, want int) (int, string, error) {
	conn.SetReadDeadline(time.Now().Add(c.cfg.Timeout))
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	first, err := c.line()
	if err != nil {
		return 0, "", c.readError(ctx, cmd, err)
	}
	if len(first) == 3 {
		first += " "
	}
	code, err := replyCode(first)
	if err != nil {
		return 0, "", err
	}
	msg := []string{strings.TrimSpace(first[4:])}
	if first[3] == '-' {
		end := first[:3] + " "
		for {
			l, err := c.line()
			if err != nil {
				return 0, "", c.readError(ctx, cmd, err)
			}
			if strings.HasPrefix(l, end) {
				msg = append(msg, strings.TrimSpace(l[4:]))
				break
			}
			msg = append(msg, l)
			if len(msg) > 10000 {
				return 0, "", fmt.Errorf("ftp: %s: reply of more than 10000 lines", cmd)
			}
		}
	}
	text := strings.Join(msg, "\n")
	if want != 0 && code/100 != want {
		return code, text, &Error{Command: cmd, Code: code, Message: text}
	}
	return code, text, nil
}

func (c *Client) readError(ctx context.Context, cmd string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// giotls.ErrEOF (closed without close_notify) does not match io.EOF.
	if errors.Is(err, io.EOF) || errors.Is(err, giotls.ErrEOF) {
		return fmt.Errorf("ftp: waiting for the reply to %s: the server closed the connection: %w", cmd, err)
	}
	return fmt.Errorf("ftp: waiting for the reply to %s: %w", cmd, err)
}

// line reads a CRLF- (or LF-) terminated line.
func (c *Client) line() (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := c.r.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", fmt.Errorf("ftp: reply line longer than %d bytes", maxLine)
		}
		if !isPrefix {
			break
		}
	}
	if c.cfg.Trace != nil {
		fmt.Fprintf(c.cfg.Trace, "< %s\n", b)
	}
	return string(b), nil
}

func replyCode(line string) (int, error) {
	if len(line) < 4 || (line[3] != ' ' && line[3] != '-') {
		return 0, fmt.Errorf("ftp: malformed reply %.80q", line)
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil || code < 100 || code > 599 {
		return 0, fmt.Errorf("ftp: malformed reply %.80q", line)
	}
	return code, nil
}
