package giotls

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// FuzzProxyConnectResponse feeds an HTTP proxy's answer to CONNECT: any
// bytes give a giotls *Error or a tunnel, never a panic or a hang; a
// tunnel comes only from a 2xx answer, and what it reads is what the proxy
// sent after its answer, nothing lost.
func FuzzProxyConnectResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 Connection established\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\n220 greeting\r\n",
		"HTTP/1.1 204 No Content\r\nX: y\r\n\r\nearly",
		"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"SSH-2.0-OpenSSH\r\n",
		"HTTP/1.1 200 \xff\xfe\r\n\r\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	u := &url.URL{Scheme: "http", Host: "proxy.test:3128"}
	f.Fuzz(func(t *testing.T, answer []byte) {
		client, proxy := net.Pipe()
		defer client.Close()
		go func() {
			defer proxy.Close()
			br := bufio.NewReader(proxy)
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			proxy.Write(answer)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tunnel, err := connectTunnel(ctx, client, u, "dest.test:443")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: error %T %v, want a giotls *Error", answer, err, err)
			}
			return
		}
		src := bytes.NewReader(answer)
		br := bufio.NewReader(src)
		resp, perr := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
		if perr != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("%q gave a tunnel", answer)
		}
		want := answer[len(answer)-br.Buffered()-src.Len():]
		tunnel.SetReadDeadline(time.Now().Add(5 * time.Second))
		rest, err := io.ReadAll(tunnel)
		if err != nil {
			t.Fatalf("%q: reading the tunnel: %v", answer, err)
		}
		if !bytes.Equal(rest, want) {
			t.Fatalf("%q: the tunnel read %q, want %q, what followed the answer", answer, rest, want)
		}
	})
}
