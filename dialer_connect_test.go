package giotls

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

func TestDialConnectable(t *testing.T) {
	ca := newTestCA(t, "Connectable CA")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"), testpki.IPAddresses("127.0.0.1"))
	s := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	d := &Dialer{Database: ca.db}
	for _, c := range []Connectable{
		NewInetSocketAddress(s.Addr),
		NewNetworkAddress("localhost", s.Addr.Port()),
		NewNetworkAddress("127.0.0.1", s.Addr.Port()),
	} {
		conn, err := d.DialConnectable(context.Background(), "tcp4", c)
		if err != nil {
			t.Errorf("DialConnectable(%v): %v", c, err)
			continue
		}
		if conn.ServerIdentity() != c {
			t.Errorf("DialConnectable(%v): identity %v, want the connectable itself", c, conn.ServerIdentity())
		}
		conn.Close()
	}

	for _, tt := range []struct {
		network string
		c       Connectable
	}{
		{"tcp", nil},
		{"tcp", (*NetworkAddress)(nil)},
		{"tcp", NewNetworkAddress("", 443)},
		{"tcp", NewInetSocketAddress(netip.AddrPort{})},
		{"udp", NewInetSocketAddress(s.Addr)},
		{"unix", NewNetworkAddress("localhost", s.Addr.Port())},
	} {
		conn, err := d.DialConnectable(context.Background(), tt.network, tt.c)
		var e *Error
		if conn != nil || !errors.As(err, &e) {
			t.Errorf("DialConnectable(%q, %v) = %v, %v; want a giotls *Error", tt.network, tt.c, conn, err)
		}
	}
}

// A dial that ctx ends stops there, says so, and tries no further target.
func TestDialConnectableContext(t *testing.T) {
	w := newServiceWorld(t, "udp")
	silent := loopback.Serve(t, "tcp4", func(c net.Conn) { io.Copy(io.Discard, c) }) // never answers the hello
	w.dns.Add(t, "slow.svc.test. 60 IN A 127.0.0.1")
	w.srv(t, "_imaps._tcp.svc.test", 10, 0, uint16(silent.Addr().(*net.TCPAddr).Port), "slow.svc.test")
	w.srv(t, "_imaps._tcp.svc.test", 20, 0, w.server(t, "b.svc.test", "svc.test").Addr.Port(), "b.svc.test")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	conn, err := w.d.DialService(ctx, "imaps", "tcp", "svc.test")
	if err == nil {
		conn.Close()
		t.Fatal("connected after the context's deadline")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not match context.DeadlineExceeded", err)
	}
	if got := attemptsOf(t, err); len(got) != 1 || !strings.HasPrefix(got[0], "slow.svc.test:") {
		t.Errorf("tried %q, want only slow.svc.test", got)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("took %v with a 300ms context", elapsed)
	}

	// A cancelled context ends DialContext too, with the dial's own error.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = (&Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:1")
	var op *net.OpError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &op) {
		t.Errorf("DialContext with a cancelled context: %v (%T), want the dial's *net.OpError matching context.Canceled", err, err)
	}
}
