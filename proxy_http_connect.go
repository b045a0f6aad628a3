package giotls

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxProxyResponse bounds an HTTP proxy's answer to CONNECT (status line
// and header fields): a proxy cannot make the client buffer without end.
const maxProxyResponse = 64 << 10

// dialHTTPConnect opens a tunnel to target through the HTTP proxy u:
// CONNECT target (RFC 9110, section 9.3.6), any 2xx answer opening it.
func dialHTTPConnect(ctx context.Context, u *url.URL, forward proxyForward, network, target string) (net.Conn, error) {
	c, err := forward.DialContext(ctx, network, proxyHostPort(u, "80"))
	if err != nil {
		return nil, newError(ErrorMisc, err, "HTTP proxy %s", u.Redacted())
	}
	return tunnelOver(ctx, c, u, target, "HTTP")
}

// tunnelOver speaks CONNECT on c (connectTunnel), closing c if that fails;
// kind names the proxy in the error.
func tunnelOver(ctx context.Context, c net.Conn, u *url.URL, target, kind string) (net.Conn, error) {
	tunnel, err := connectTunnel(ctx, c, u, target)
	if err != nil {
		c.Close()
		if cerr := ctxDone(ctx); cerr != nil {
			return nil, newError(ErrorMisc, cerr, "%s proxy %s: CONNECT %s", kind, u.Redacted(), target)
		}
		return nil, err
	}
	return tunnel, nil
}

// connectTunnel speaks CONNECT on c, bounded by ctx: its deadline is set on
// c and its cancellation moves the deadline to the past, which ends a read
// or write in progress.
func connectTunnel(ctx context.Context, c net.Conn, u *url.URL, target string) (net.Conn, error) {
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	// The request-target is the authority form (RFC 9112, section 3.2.3);
	// proxyTarget has made sure it holds nothing but a name or an IP
	// address and a port.
	var req strings.Builder
	req.WriteString("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n")
	if u.User != nil {
		pass, _ := u.User.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + pass))
		req.WriteString("Proxy-Authorization: Basic " + cred + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(c, req.String()); err != nil {
		return nil, newError(ErrorMisc, err, "HTTP proxy %s: sending CONNECT %s", u.Redacted(), target)
	}

	limited := &io.LimitedReader{R: c, N: maxProxyResponse}
	br := bufio.NewReader(limited)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		if limited.N == 0 {
			return nil, newError(ErrorMisc, nil, "HTTP proxy %s: its answer to CONNECT %s is longer than %d bytes", u.Redacted(), target, maxProxyResponse)
		}
		return nil, newError(ErrorMisc, err, "HTTP proxy %s: reading its answer to CONNECT %s", u.Redacted(), target)
	}
	if resp.StatusCode/100 != 2 {
		reply := resp.Status
		if len(reply) > 200 {
			reply = reply[:200] + "..."
		}
		reply = strings.ToValidUTF8(reply, "?")
		// tinyproxy 1.11 answers a CONNECT with wrong credentials 401,
		// not 407 (RFC 9110, section 15.5.8).
		auth := resp.StatusCode == http.StatusProxyAuthRequired || resp.StatusCode == http.StatusUnauthorized
		switch {
		case auth && u.User == nil:
			reply += " (no credentials were given: put them in the proxy URL, http://user:password@host:port)"
		case auth:
			reply += " (the credentials given were refused)"
		}
		return nil, newError(ErrorMisc, &ProxyError{Proxy: u.Redacted(), Destination: target, StatusCode: resp.StatusCode, Reply: reply}, "HTTP CONNECT")
	}
	if !stop() {
		return nil, newError(ErrorMisc, ctx.Err(), "HTTP proxy %s: CONNECT %s", u.Redacted(), target)
	}
	c.SetDeadline(time.Time{})
	// What the proxy sent after its answer is the destination's: a
	// server that speaks first (SMTP, FTP) may arrive in the same segment.
	if n := br.Buffered(); n > 0 {
		early, _ := br.Peek(n)
		return &earlyDataConn{Conn: c, early: early}, nil
	}
	return c, nil
}

// earlyDataConn is a tunnel whose first bytes were read with the proxy's
// answer: Read returns them before reading the connection again.
type earlyDataConn struct {
	net.Conn
	early []byte
}

// Read returns the early bytes first, then reads the connection.
func (c *earlyDataConn) Read(p []byte) (int, error) {
	if len(c.early) > 0 {
		n := copy(p, c.early)
		c.early = c.early[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
