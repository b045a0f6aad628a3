// Package dnstest runs an authoritative DNS server on loopback for tests
// and examples: SRV, A and other records a test adds, over UDP and TCP,
// and a net.Resolver that asks only it.
package dnstest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is an authoritative DNS server on 127.0.0.1, over UDP and TCP,
// answering from the records a test adds: the names it knows get their
// records of the type asked (or an empty answer), others NXDOMAIN, and
// names marked so get SERVFAIL or no answer at all.
type Server struct {
	udpAddr, tcpAddr string

	mu       sync.Mutex
	records  map[string][]dns.RR // by lower-case absolute name
	servfail map[string]bool
	silent   map[string]bool
	stops    []func()
}

// Start starts a server, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatalf("DNS server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// New starts a server on 127.0.0.1; Close stops it.
func New() (*Server, error) {
	s := &Server{records: map[string][]dns.RR{}, servfail: map[string]bool{}, silent: map[string]bool{}}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on UDP loopback: %w", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("listen on TCP loopback: %w", err)
	}
	s.udpAddr, s.tcpAddr = pc.LocalAddr().String(), ln.Addr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.ActivateAndServe()
		}()
		<-started
		s.stops = append(s.stops, func() {
			srv.Shutdown()
			<-done
		})
	}
	return s, nil
}

// Close stops the server and waits for it.
func (s *Server) Close() {
	for _, stop := range s.stops {
		stop()
	}
	s.stops = nil
}

// Add adds records in zone-file syntax, such as
// "_imaps._tcp.svc.test. 60 IN SRV 10 5 993 a.svc.test.", failing t on a
// bad one.
func (s *Server) Add(t testing.TB, rrs ...string) {
	t.Helper()
	if err := s.AddRecords(rrs...); err != nil {
		t.Fatal(err)
	}
}

// AddRecords is Add, returning the first bad record's error.
func (s *Server) AddRecords(rrs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, text := range rrs {
		rr, err := dns.NewRR(text)
		if err != nil {
			return fmt.Errorf("DNS record %q: %w", text, err)
		}
		name := strings.ToLower(rr.Header().Name)
		s.records[name] = append(s.records[name], rr)
	}
	return nil
}

// Fail makes name (absolute, lower case) answer SERVFAIL.
func (s *Server) Fail(name string) { s.mu.Lock(); s.servfail[name] = true; s.mu.Unlock() }

// Silence makes name (absolute, lower case) answer nothing.
func (s *Server) Silence(name string) { s.mu.Lock(); s.silent[name] = true; s.mu.Unlock() }

// Resolver is a pure-Go resolver that asks only s, over transport ("udp"
// or "tcp"; Go's resolver frames its queries by the connection's kind).
func (s *Server) Resolver(transport string) *net.Resolver {
	addr := s.udpAddr
	if transport == "tcp" {
		addr = s.tcpAddr
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, transport, addr)
	}}
}

// ServeDNS answers one query (dns.Handler).
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		w.WriteMsg(m.SetRcode(req, dns.RcodeFormatError))
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	silent, servfail := s.silent[name], s.servfail[name]
	rrs, known := s.records[name]
	s.mu.Unlock()
	if silent {
		return
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	switch {
	case servfail:
		m.Rcode = dns.RcodeServerFailure
	case !known:
		m.Rcode = dns.RcodeNameError
	default:
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
	}
	w.WriteMsg(m)
}
