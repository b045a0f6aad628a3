package loopback

import (
	"io"
	"net"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServe(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			ln := Serve(t, network, func(c net.Conn) { io.Copy(c, c) })
			if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
				t.Fatalf("listening on %v, not loopback", ip)
			}
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "ping")
			got := make([]byte, 4)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
				t.Fatalf("echo: %q, %v", got, err)
			}
		})
	}
}
