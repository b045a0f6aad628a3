package giotls

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/dnstest"
	"github.com/giotls/giotls/internal/testpki"
)

// serviceWorld is a DNS server and a CA for the domain svc.test, with a
// Dialer that resolves through the one and trusts the other.
type serviceWorld struct {
	dns *dnstest.Server
	ca  *testCA
	d   *Dialer
}

func newServiceWorld(t *testing.T, transport string) *serviceWorld {
	t.Helper()
	w := &serviceWorld{dns: dnstest.Start(t), ca: newTestCA(t, "Service CA")}
	w.d = &Dialer{Database: w.ca.db, Resolver: w.dns.Resolver(transport), NetDialer: &net.Dialer{Timeout: 20 * time.Second}}
	return w
}

// server starts a TLS server whose certificate names dnsNames, and gives
// host an A record for it.
func (w *serviceWorld) server(t *testing.T, host string, dnsNames ...string) *tlsServer {
	t.Helper()
	leaf := w.ca.MustLeaf(t, dnsNames[0], testpki.DNSNames(dnsNames...))
	s := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	w.dns.Add(t, host+". 60 IN A 127.0.0.1")
	return s
}

// down gives host an A record and returns a port nothing listens on.
func (w *serviceWorld) down(t *testing.T, host string) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	w.dns.Add(t, host+". 60 IN A 127.0.0.1")
	return port
}

func (w *serviceWorld) srv(t *testing.T, name string, priority, weight int, port uint16, target string) {
	t.Helper()
	w.dns.Add(t, fmt.Sprintf("%s. 60 IN SRV %d %d %d %s.", name, priority, weight, port, target))
}

// attemptsOf returns the targets a failed dial tried, in order.
func attemptsOf(t *testing.T, err error) []string {
	t.Helper()
	var de *dialError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a dial failure listing its targets", err, err)
	}
	var targets []string
	for _, a := range de.attempts {
		targets = append(targets, displayTarget(a.target))
	}
	return targets
}

func TestDialServiceSRV(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			w := newServiceWorld(t, transport)
			downPort := w.down(t, "down.svc.test")
			up := w.server(t, "up.svc.test", "svc.test")
			w.srv(t, "_imaps._tcp.svc.test", 10, 0, downPort, "down.svc.test")
			w.srv(t, "_imaps._tcp.svc.test", 20, 0, up.Addr.Port(), "up.svc.test")

			conn, err := w.d.DialService(context.Background(), "imaps", "tcp", "svc.test")
			if err != nil {
				t.Fatalf("DialService: %v", err)
			}
			defer conn.Close()
			if got := conn.RemoteAddr().String(); got != up.Addr.String() {
				t.Errorf("connected to %s, want the second target %s", got, up.Addr)
			}
			if id, ok := conn.ServerIdentity().(*NetworkService); !ok || id.Domain != "svc.test" {
				t.Errorf("server identity %v, want the service", conn.ServerIdentity())
			}
			if snis := up.SNIs(); len(snis) != 1 || snis[0] != "svc.test" {
				t.Errorf("SNI sent %q, want the domain svc.test", snis)
			}
			if _, err := conn.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4)
			if _, err := conn.Read(buf); err != nil || string(buf) != "ping" {
				t.Fatalf("echo: %q, %v", buf, err)
			}
		})
	}
}

// GIO checks a service's certificate against its domain, never against the
// SRV target's host name, which forged DNS would choose.
func TestDialServiceIdentityIsTheDomain(t *testing.T) {
	tests := []struct {
		name      string
		firstName string // the name the first target's certificate is for
		wantOK    bool   // the second target, for svc.test, then answers
	}{
		{"target name only, then the domain", "host.svc.test", true},
		{"domain", "svc.test", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newServiceWorld(t, "udp")
			first := w.server(t, "host.svc.test", tt.firstName)
			w.srv(t, "_xmpp-client._tcp.svc.test", 10, 0, first.Addr.Port(), "host.svc.test")
			second := w.server(t, "other.svc.test", "svc.test")
			w.srv(t, "_xmpp-client._tcp.svc.test", 20, 0, second.Addr.Port(), "other.svc.test")

			conn, err := w.d.DialService(context.Background(), "xmpp-client", "tcp", "svc.test")
			if err != nil {
				t.Fatalf("DialService: %v", err)
			}
			defer conn.Close()
			got := conn.RemoteAddr().String()
			want := first.Addr.String()
			if tt.wantOK {
				want = second.Addr.String()
			}
			if got != want {
				t.Fatalf("connected to %s, want %s", got, want)
			}
		})
	}

	t.Run("target name only, after one down", func(t *testing.T) {
		w := newServiceWorld(t, "udp")
		w.srv(t, "_xmpp-client._tcp.svc.test", 5, 0, w.down(t, "down.svc.test"), "down.svc.test")
		s := w.server(t, "host.svc.test", "host.svc.test")
		w.srv(t, "_xmpp-client._tcp.svc.test", 10, 0, s.Addr.Port(), "host.svc.test")
		conn, err := w.d.DialService(context.Background(), "xmpp-client", "tcp", "svc.test")
		if err == nil {
			conn.Close()
		}
		if !errors.Is(err, ErrBadCertificate) {
			t.Fatalf("DialService to a server certified only for the SRV target: %v, want ErrBadCertificate", err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("host.svc.test:%d", s.Addr.Port())) {
			t.Errorf("error %q does not name the target tried", err)
		}
		var op *net.OpError
		if !errors.As(err, &op) || len(attemptsOf(t, err)) != 2 || !strings.HasPrefix(attemptsOf(t, err)[0], "down.svc.test:") {
			t.Errorf("error %q: want both targets, the first with its *net.OpError", err)
		}
	})
}

// RFC 2782: lower priorities first; within one, a weighted random order.
func TestDialServiceOrder(t *testing.T) {
	w := newServiceWorld(t, "udp")
	names := map[uint16]string{}
	for _, h := range []string{"a", "b", "c", "d"} {
		names[w.down(t, h+".svc.test")] = h
	}
	port := func(h string) uint16 {
		for p, n := range names {
			if n == h {
				return p
			}
		}
		panic(h)
	}
	w.srv(t, "_ldap._tcp.svc.test", 30, 0, port("d"), "d.svc.test")
	w.srv(t, "_ldap._tcp.svc.test", 10, 20, port("b"), "b.svc.test")
	w.srv(t, "_ldap._tcp.svc.test", 20, 5, port("c"), "c.svc.test")
	w.srv(t, "_ldap._tcp.svc.test", 10, 80, port("a"), "a.svc.test")

	const trials = 200
	aFirst := 0
	for range trials {
		_, err := w.d.DialService(context.Background(), "ldap", "tcp", "svc.test")
		var order []string
		for _, target := range attemptsOf(t, err) {
			_, p, _ := net.SplitHostPort(target)
			var n uint16
			fmt.Sscan(p, &n)
			order = append(order, names[n])
			if !strings.HasPrefix(target, names[n]+".svc.test:") {
				t.Fatalf("target %s is not the SRV target for its port", target)
			}
		}
		if got := strings.Join(order, ""); got != "abcd" && got != "bacd" {
			t.Fatalf("tried %q, want a and b (priority 10) in either order, then c (20), then d (30)", got)
		}
		if order[0] == "a" {
			aFirst++
		}
	}
	// a has weight 80 of 100: first with probability 0.8 (sd 5.7 in 200).
	if aFirst < 130 || aFirst > 190 {
		t.Errorf("a (weight 80) first in %d of %d, want about 160: the weights are not honoured", aFirst, trials)
	}
}

func TestDialServiceFallback(t *testing.T) {
	// GIO falls back to the domain on the service's well-known TCP port:
	// gopher is 70, in Go's own table and /etc/services alike.
	t.Run("connects", func(t *testing.T) {
		w := newServiceWorld(t, "udp")
		w.dns.Add(t, "fallback.test. 60 IN A 127.0.0.1")
		leaf := w.ca.MustLeaf(t, "fallback.test", testpki.DNSNames("fallback.test"))
		ln, err := net.Listen("tcp4", "127.0.0.1:70")
		if err != nil {
			t.Fatalf("the fallback test needs 127.0.0.1:70 (as root): %v", err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			tc := tls.Server(c, serverConfig(leaf))
			tc.SetDeadline(time.Now().Add(20 * time.Second))
			if tc.Handshake() == nil {
				tc.Close()
			}
		}()
		conn, err := w.d.DialService(context.Background(), "gopher", "tcp", "fallback.test")
		if err != nil {
			t.Fatalf("DialService with no SRV record: %v", err)
		}
		defer conn.Close()
		if got := conn.RemoteAddr().String(); got != "127.0.0.1:70" {
			t.Errorf("connected to %s, want fallback.test's port 70", got)
		}
	})
	t.Run("tried", func(t *testing.T) {
		w := newServiceWorld(t, "tcp")
		w.dns.Add(t, "nobody.test. 60 IN A 127.0.0.1")
		_, err := w.d.DialService(context.Background(), "gopher", "tcp", "nobody.test")
		if got := attemptsOf(t, err); len(got) != 1 || got[0] != "nobody.test:70" {
			t.Fatalf("with no SRV record tried %q, want nobody.test:70", got)
		}
		if want := "could not connect to _gopher._tcp.nobody.test (no SRV record: the domain on the service's port): tried nobody.test:70 ("; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	})
}

func TestDialServiceFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, w *serviceWorld)
		service string
		timeout time.Duration
		want    string // in the error
		check   func(error) bool
	}{
		{"NXDOMAIN and no well-known port", func(t *testing.T, w *serviceWorld) {}, "no-such-service", 0,
			"no SRV record for _no-such-service._tcp.svc.test, and no well-known port",
			func(err error) bool { var e *net.DNSError; return errors.As(err, &e) && e.IsNotFound }},
		{"no SRV record at an existing name, no port", func(t *testing.T, w *serviceWorld) {
			w.dns.Add(t, "_no-such-service._tcp.svc.test. 60 IN TXT \"not SRV\"")
		}, "no-such-service", 0, "no SRV record",
			func(err error) bool { var e *net.DNSError; return errors.As(err, &e) && e.IsNotFound }},
		{"SERVFAIL", func(t *testing.T, w *serviceWorld) { w.dns.Fail("_imaps._tcp.svc.test.") }, "imaps", 0,
			"SRV lookup of _imaps._tcp.svc.test failed",
			func(err error) bool { var e *net.DNSError; return errors.As(err, &e) && !e.IsNotFound }},
		{"no answer", func(t *testing.T, w *serviceWorld) { w.dns.Silence("_imaps._tcp.svc.test.") }, "imaps", 300 * time.Millisecond,
			"SRV lookup of _imaps._tcp.svc.test failed",
			func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{"target \".\"", func(t *testing.T, w *serviceWorld) { w.srv(t, "_imaps._tcp.svc.test", 0, 0, 0, "") }, "imaps", 0,
			`service _imaps._tcp.svc.test is not available: its SRV record's target is "."`,
			func(err error) bool { var e *Error; return errors.As(err, &e) && e.Code == ErrorMisc }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, transport := range []string{"udp", "tcp"} {
				w := newServiceWorld(t, transport)
				tt.setup(t, w)
				var events []SocketClientEvent
				w.d.Event = func(e SocketClientEvent, _ Connectable, _ net.Conn) { events = append(events, e) }
				ctx := context.Background()
				if tt.timeout != 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				start := time.Now()
				conn, err := w.d.DialService(ctx, tt.service, "tcp", "svc.test")
				if err == nil {
					conn.Close()
					t.Fatalf("%s: DialService succeeded", transport)
				}
				if !strings.Contains(err.Error(), tt.want) || !tt.check(err) {
					t.Errorf("%s: error %q (%T), want one saying %q", transport, err, err, tt.want)
				}
				if tt.timeout != 0 && time.Since(start) > tt.timeout+2*time.Second {
					t.Errorf("%s: took %v with a %v context", transport, time.Since(start), tt.timeout)
				}
				want := []SocketClientEvent{SocketClientResolving, SocketClientResolved, SocketClientComplete}
				if fmt.Sprint(events) != fmt.Sprint(want) {
					t.Errorf("%s: events %v, want %v: nothing dialed", transport, events, want)
				}
			}
		})
	}
}

func TestDialServiceBadArguments(t *testing.T) {
	d := &Dialer{Resolver: &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		t.Error("the resolver was asked about an invalid service")
		return nil, errors.New("no")
	}}}
	for _, args := range [][3]string{{"", "tcp", "svc.test"}, {"imaps", "", "svc.test"}, {"imaps", "tcp", ""}, {"imaps", "tcp", "192.0.2.1"}} {
		_, err := d.DialService(context.Background(), args[0], args[1], args[2])
		var e *Error
		if !errors.As(err, &e) || e.Code != ErrorMisc {
			t.Errorf("DialService%q: %v, want a giotls *Error", args, err)
		}
	}
}

func TestLookupService(t *testing.T) {
	w := newServiceWorld(t, "tcp")
	w.srv(t, "_imaps._tcp.svc.test", 20, 0, 994, "second.svc.test")
	w.srv(t, "_imaps._tcp.svc.test", 10, 0, 993, "first.svc.test")
	w.srv(t, "_submissions._tcp.svc.test", 0, 0, 0, "")
	tests := []struct {
		service string
		want    string
	}{
		{"imaps", "[first.svc.test:993 second.svc.test:994]"},
		{"gopher", "[svc.test:70]"}, // no SRV record: GIO's fallback
		{"submissions", "error"},    // "." : not available
	}
	for _, tt := range tests {
		addrs, err := w.d.LookupService(context.Background(), tt.service, "tcp", "svc.test")
		got := fmt.Sprint(addrs)
		if err != nil {
			got = "error"
		}
		if got != tt.want {
			t.Errorf("LookupService(%s) = %s (%v), want %s", tt.service, got, err, tt.want)
		}
	}
}

// An SRV answer is attacker-controlled: at most maxServiceTargets targets,
// the first in RFC 2782 order, are tried.
func TestDialServiceTargetBudget(t *testing.T) {
	w := newServiceWorld(t, "tcp") // the answer is too big for UDP
	for i := range 200 {
		w.srv(t, "_imaps._tcp.svc.test", 10+i, 0, uint16(1000+i), fmt.Sprintf("t%d.svc.test", i))
	}
	addrs, err := w.d.LookupService(context.Background(), "imaps", "tcp", "svc.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != maxServiceTargets || addrs[0].Hostname != "t0.svc.test" || addrs[len(addrs)-1].Port != uint16(1000+maxServiceTargets-1) {
		t.Fatalf("%d targets, from %v to %v; want the first %d", len(addrs), addrs[0], addrs[len(addrs)-1], maxServiceTargets)
	}
}
