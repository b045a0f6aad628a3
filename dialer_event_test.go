package giotls

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// eventLog records a Dialer's events as "event:conn", conn being "-" for
// none, "tcp" or "tls", and checks each names the connectable dialed.
type eventLog struct {
	t      *testing.T
	events []string
	last   net.Conn
}

func (l *eventLog) record(e SocketClientEvent, c Connectable, conn net.Conn) {
	kind := "-"
	switch conn.(type) {
	case nil:
	case *ClientConnection:
		kind = "tls"
	default:
		kind = "tcp"
	}
	if c == nil {
		l.t.Errorf("event %v without its connectable", e)
	}
	l.events = append(l.events, e.String()+":"+kind)
	l.last = conn
}

func TestDialerEvents(t *testing.T) {
	const (
		resolving   = "resolving:-"
		resolved    = "resolved:-"
		connecting  = "connecting:-"
		connected   = "connected:tcp"
		handshaking = "tls-handshaking:tls"
		handshaked  = "tls-handshaked:tls"
		complete    = "complete:tls"
		failed      = "complete:-"
	)
	tests := []struct {
		name  string
		setup func(t *testing.T, w *serviceWorld) // the SRV records of _imaps._tcp.svc.test
		want  []string
	}{
		{"one target", func(t *testing.T, w *serviceWorld) {
			w.srv(t, "_imaps._tcp.svc.test", 10, 0, w.server(t, "a.svc.test", "svc.test").Addr.Port(), "a.svc.test")
		}, []string{resolving, resolved, connecting, connected, handshaking, handshaked, complete}},
		{"first target down", func(t *testing.T, w *serviceWorld) {
			w.srv(t, "_imaps._tcp.svc.test", 10, 0, w.down(t, "a.svc.test"), "a.svc.test")
			w.srv(t, "_imaps._tcp.svc.test", 20, 0, w.server(t, "b.svc.test", "svc.test").Addr.Port(), "b.svc.test")
		}, []string{resolving, resolved, connecting, connecting, connected, handshaking, handshaked, complete}},
		{"first target's certificate refused", func(t *testing.T, w *serviceWorld) {
			w.srv(t, "_imaps._tcp.svc.test", 10, 0, w.server(t, "a.svc.test", "a.svc.test").Addr.Port(), "a.svc.test")
			w.srv(t, "_imaps._tcp.svc.test", 20, 0, w.server(t, "b.svc.test", "svc.test").Addr.Port(), "b.svc.test")
		}, []string{resolving, resolved, connecting, connected, handshaking, connecting, connected, handshaking, handshaked, complete}},
		{"every target fails", func(t *testing.T, w *serviceWorld) {
			w.srv(t, "_imaps._tcp.svc.test", 10, 0, w.down(t, "a.svc.test"), "a.svc.test")
			w.srv(t, "_imaps._tcp.svc.test", 20, 0, w.server(t, "b.svc.test", "b.svc.test").Addr.Port(), "b.svc.test")
		}, []string{resolving, resolved, connecting, connecting, connected, handshaking, failed}},
		{"SERVFAIL", func(t *testing.T, w *serviceWorld) { w.dns.Fail("_imaps._tcp.svc.test.") }, []string{resolving, resolved, failed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newServiceWorld(t, "udp")
			tt.setup(t, w)
			log := &eventLog{t: t}
			w.d.Event = log.record
			conn, err := w.d.DialService(context.Background(), "imaps", "tcp", "svc.test")
			if err == nil {
				defer conn.Close()
				if log.last != net.Conn(conn) {
					t.Error("complete does not carry the connection returned")
				}
			}
			if got := strings.Join(log.events, " "); got != strings.Join(tt.want, " ") {
				t.Errorf("events (dial error %v):\n got %s\nwant %s", err, got, strings.Join(tt.want, " "))
			}
		})
	}
}

// The events of DialContext and DialHost are those of one target, and
// tls-handshaking hands over the connection to configure, as GIO programs
// do in their event handler: here its database.
func TestDialerEventsConfigure(t *testing.T) {
	ca := newTestCA(t, "Event CA")
	s := startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))), nil)
	for _, dial := range []string{"DialContext", "DialHost"} {
		log := &eventLog{t: t}
		d := &Dialer{Event: func(e SocketClientEvent, c Connectable, conn net.Conn) {
			log.record(e, c, conn)
			if e == SocketClientTLSHandshaking {
				conn.(*ClientConnection).SetDatabase(ca.db)
			}
		}}
		addr := fmt.Sprintf("localhost:%d", s.Addr.Port())
		var conn net.Conn
		var err error
		if dial == "DialContext" {
			conn, err = d.DialContext(context.Background(), "tcp", addr)
		} else {
			conn, err = d.DialHost(context.Background(), addr, 1)
		}
		if err != nil {
			t.Fatalf("%s with the database set in tls-handshaking: %v", dial, err)
		}
		conn.Close()
		want := "resolving:- resolved:- connecting:- connected:tcp tls-handshaking:tls tls-handshaked:tls complete:tls"
		if got := strings.Join(log.events, " "); got != want {
			t.Errorf("%s events:\n got %s\nwant %s", dial, got, want)
		}
	}
}

func TestSocketClientEventString(t *testing.T) {
	// GIO's values and nicks (GSocketClientEvent, gioenums.h).
	want := []string{"resolving", "resolved", "connecting", "connected", "proxy-negotiating",
		"proxy-negotiated", "tls-handshaking", "tls-handshaked", "complete"}
	for i, w := range want {
		if got := SocketClientEvent(i).String(); got != w {
			t.Errorf("SocketClientEvent(%d) = %q, want %q", i, got, w)
		}
	}
	if got := SocketClientComplete; got != 8 {
		t.Errorf("SocketClientComplete = %d, want GIO's 8", got)
	}
	if got := SocketClientEvent(9).String(); got != "SocketClientEvent(9)" {
		t.Errorf("an unknown event prints %q", got)
	}
}
