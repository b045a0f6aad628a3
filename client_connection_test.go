package giotls

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// within fails the test if f has not returned after limit: a guard against
// hangs, not a measure of speed.
func within(t *testing.T, limit time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s did not return within %v", what, limit)
	}
}

func TestHandshakeVerified(t *testing.T) {
	ca := newTestCA(t, "Verified Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			cfg := serverConfig(leaf)
			cfg.MinVersion, cfg.MaxVersion = v, v
			srv := startTLSServer(t, "tcp4", cfg, nil)
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			if c.ProtocolVersion() != ProtocolVersionUnknown || c.CiphersuiteName() != "" || c.PeerCertificate() != nil {
				t.Fatalf("before the handshake: version %v, suite %q, peer %v", c.ProtocolVersion(), c.CiphersuiteName(), c.PeerCertificate())
			}
			if err := c.Handshake(context.Background()); err != nil {
				t.Fatalf("Handshake: %v", err)
			}
			if got := c.PeerCertificateErrors(); got != 0 {
				t.Errorf("PeerCertificateErrors = %v, want none", got)
			}
			if !c.PeerCertificate().IsSame(&Certificate{cert: leaf.Cert}) {
				t.Errorf("PeerCertificate is not the server's leaf")
			}
			want := map[uint16]ProtocolVersion{tls.VersionTLS12: ProtocolVersionTLS12, tls.VersionTLS13: ProtocolVersionTLS13}[v]
			if c.ProtocolVersion() != want {
				t.Errorf("ProtocolVersion = %v, want %v", c.ProtocolVersion(), want)
			}
			if got, want := c.CiphersuiteName(), tls.CipherSuiteName(c.ConnectionState().CipherSuite); got != want || got == "" {
				t.Errorf("CiphersuiteName = %q, want %q", got, want)
			}
			msg := []byte("hello over TLS")
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo: %q, %v", got, err)
			}
		})
	}
}

// TestServerIdentity checks what each identity kind sends as SNI and what it
// is verified against.
func TestServerIdentity(t *testing.T) {
	ca := newTestCA(t, "Identity Root")
	leaf := ca.MustLeaf(t, "identity",
		testpki.DNSNames("localhost", "xn--bcher-kva.example", "service.example"),
		testpki.IPAddresses("127.0.0.1", "::1"))
	dnsOnly := ca.MustLeaf(t, "dns only", testpki.DNSNames("localhost"))
	srv4 := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	srv6 := startTLSServer(t, "tcp6", serverConfig(leaf), nil)
	srvDNS := startTLSServer(t, "tcp4", serverConfig(dnsOnly), nil)
	p4, p6 := srv4.Addr.Port(), srv6.Addr.Port()
	tests := []struct {
		name     string
		srv      *tlsServer
		identity Connectable
		wantSNI  string
		wantErrs CertificateFlags
	}{
		{"hostname", srv4, NewNetworkAddress("localhost", p4), "localhost", 0},
		{"hostname upper case", srv4, NewNetworkAddress("LocalHost", p4), "localhost", 0},
		// GIO 2.74 fails this with bad-identity; a trailing dot is not part of the name.
		{"trailing dot", srv4, NewNetworkAddress("localhost.", p4), "localhost", 0},
		{"IDN in punycode", srv4, NewNetworkAddress("bücher.example", p4), "xn--bcher-kva.example", 0},
		// GIO 2.74 sends "127.0.0.1" as SNI; RFC 6066 forbids IP literals.
		{"IPv4 literal as NetworkAddress", srv4, NewNetworkAddress("127.0.0.1", p4), "", 0},
		{"IPv6 literal as NetworkAddress", srv6, NewNetworkAddress("::1", p6), "", 0},
		{"InetSocketAddress v4", srv4, NewInetSocketAddress(netip.MustParseAddrPort("127.0.0.1:1")), "", 0},
		{"InetSocketAddress v6", srv6, NewInetSocketAddress(netip.AddrPortFrom(netip.IPv6Loopback(), 1)), "", 0},
		{"NetworkService domain", srv4, NewNetworkService("xmpp-client", "tcp", "service.example"), "service.example", 0},
		{"no identity", srv4, nil, "", CertificateBadIdentity},
		{"wrong hostname", srv4, NewNetworkAddress("other.example", p4), "other.example", CertificateBadIdentity},
		{"IP identity, DNS-only certificate", srvDNS, NewNetworkAddress("127.0.0.1", srvDNS.Addr.Port()), "", CertificateBadIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.srv.SNIs())
			c := dialTest(t, tt.srv.Addr.String(), dialConfig{Identity: tt.identity})
			c.SetDatabase(ca.db)
			var handlerFlags CertificateFlags
			c.OnAcceptCertificate(func(_ *Certificate, f CertificateFlags) bool { handlerFlags = f; return true })
			if err := c.Handshake(context.Background()); err != nil {
				t.Fatalf("Handshake: %v", err)
			}
			snis := tt.srv.SNIs()
			if len(snis) != before+1 || snis[before] != tt.wantSNI {
				t.Errorf("server saw SNI %q, want %q", snis[before:], tt.wantSNI)
			}
			if got := c.PeerCertificateErrors(); got != tt.wantErrs {
				t.Errorf("PeerCertificateErrors = %v, want %v", got, tt.wantErrs)
			}
			if handlerFlags != tt.wantErrs {
				t.Errorf("accept-certificate got %v, want %v", handlerFlags, tt.wantErrs)
			}
		})
	}
}

func TestSetServerIdentityBeforeHandshake(t *testing.T) {
	ca := newTestCA(t, "SetIdentity Root")
	leaf := ca.MustLeaf(t, "right", testpki.DNSNames("right.example"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: NewNetworkAddress("wrong.example", srv.Addr.Port())})
	c.SetDatabase(ca.db)
	var notified []string
	c.OnNotify(func(p string) { notified = append(notified, p) })
	c.SetServerIdentity(NewNetworkAddress("right.example", srv.Addr.Port()))
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	if got := srv.SNIs(); len(got) != 1 || got[0] != "right.example" {
		t.Errorf("SNI = %q, want right.example", got)
	}
	if c.ServerIdentity().String() != "right.example:"+itoa(srv.Addr.Port()) {
		t.Errorf("ServerIdentity = %v", c.ServerIdentity())
	}
	if !slices.Contains(notified, "server-identity") {
		t.Errorf("server-identity not notified: %v", notified)
	}
}

func itoa(p uint16) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), p).String()[len("0.0.0.0:"):]
}

// TestCertificateRejection covers accept-certificate: rejection without a
// handler, rejection and acceptance by a handler, masking by
// validation-flags, and the order in which peer-certificate is set.
func TestCertificateRejection(t *testing.T) {
	ca := newTestCA(t, "Reject Root")
	expired := ca.MustLeaf(t, "expired", testpki.DNSNames("localhost"), testpki.Expired())
	srv := startTLSServer(t, "tcp4", serverConfig(expired), nil)
	id := localhost(srv.Addr.Port())

	t.Run("no handler", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: id})
		c.SetDatabase(ca.db)
		err := c.Handshake(context.Background())
		if !errors.Is(err, ErrBadCertificate) {
			t.Fatalf("Handshake = %v, want ErrBadCertificate", err)
		}
		if c.PeerCertificateErrors() != CertificateExpired || c.PeerCertificate() == nil {
			t.Errorf("after rejection: errors %v, peer %v; want expired and the peer set", c.PeerCertificateErrors(), c.PeerCertificate())
		}
		// The error is sticky.
		if _, err2 := c.Read(make([]byte, 1)); !errors.Is(err2, ErrBadCertificate) {
			t.Errorf("Read after failed handshake = %v, want the same error", err2)
		}
		if err3 := c.Handshake(context.Background()); err3 != err {
			t.Errorf("second Handshake = %v, want %v", err3, err)
		}
	})
	t.Run("handler rejects", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: id})
		c.SetDatabase(ca.db)
		calls := 0
		c.OnAcceptCertificate(func(_ *Certificate, _ CertificateFlags) bool { calls++; return false })
		if err := c.Handshake(context.Background()); !errors.Is(err, ErrBadCertificate) {
			t.Fatalf("Handshake = %v, want ErrBadCertificate", err)
		}
		if calls != 1 {
			t.Errorf("handler called %d times", calls)
		}
	})
	t.Run("handler accepts", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: id})
		c.SetDatabase(ca.db)
		var events []string
		c.OnNotify(func(p string) { events = append(events, p) })
		c.OnAcceptCertificate(func(peer *Certificate, f CertificateFlags) bool {
			events = append(events, "accept-certificate")
			if c.PeerCertificate() != nil || c.PeerCertificateErrors() != 0 {
				t.Errorf("peer-certificate set during accept-certificate")
			}
			if !peer.IsSame(&Certificate{cert: expired.Cert}) || f != CertificateExpired {
				t.Errorf("handler got %v, %v", peer.SubjectName(), f)
			}
			return true
		})
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatalf("Handshake: %v", err)
		}
		wantOrder := []string{"accept-certificate", "peer-certificate", "peer-certificate-errors"}
		if len(events) < 3 || !slices.Equal(events[:3], wantOrder) {
			t.Errorf("events %v, want %v first", events, wantOrder)
		}
		if c.PeerCertificateErrors() != CertificateExpired {
			t.Errorf("PeerCertificateErrors = %v", c.PeerCertificateErrors())
		}
	})
	t.Run("validation flags mask", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: id})
		c.SetDatabase(ca.db)
		c.SetValidationFlags(CertificateValidateAll &^ CertificateExpired)
		c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool {
			t.Errorf("handler called for a masked flag")
			return false
		})
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatalf("Handshake: %v", err)
		}
		if c.PeerCertificateErrors() != CertificateExpired {
			t.Errorf("masked flags must still be reported: %v", c.PeerCertificateErrors())
		}
	})
	t.Run("no database", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: id})
		c.SetDatabase(nil)
		var got CertificateFlags
		c.OnAcceptCertificate(func(_ *Certificate, f CertificateFlags) bool { got = f; return true })
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatalf("Handshake: %v", err)
		}
		if got&CertificateUnknownCA == 0 {
			t.Errorf("no database: handler got %v, want unknown-ca in it", got)
		}
	})
}

// truncatingServer writes msg and then either closes TCP without
// close_notify or closes cleanly.
func truncatingServer(t *testing.T, leaf *testpki.Leaf, msg []byte, clean bool) *tlsServer {
	return startTLSServer(t, "tcp4", serverConfig(leaf), func(c *tls.Conn) {
		c.Write(msg)
		if !clean {
			c.NetConn().Close()
		}
	})
}

func TestTruncation(t *testing.T) {
	ca := newTestCA(t, "Truncation Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	msg := []byte("the last words")
	tests := []struct {
		name          string
		clean         bool
		requireNotify bool
		wantTLSEOF    bool
	}{
		{"close_notify, required", true, true, false},
		{"close_notify, not required", true, false, false},
		{"truncated, required", false, true, true},
		{"truncated, not required", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := truncatingServer(t, leaf, msg, tt.clean)
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			c.SetRequireCloseNotify(tt.requireNotify)
			got, err := io.ReadAll(c)
			if !bytes.Equal(got, msg) {
				t.Errorf("read %q before the end, want %q (no data may be lost)", got, msg)
			}
			if tt.wantTLSEOF {
				if !errors.Is(err, ErrEOF) {
					t.Fatalf("ReadAll error = %v, want ErrEOF", err)
				}
				if _, err2 := c.Read(make([]byte, 1)); !errors.Is(err2, ErrEOF) {
					t.Errorf("second Read = %v, want ErrEOF again", err2)
				}
			} else if err != nil {
				t.Fatalf("ReadAll error = %v, want a plain io.EOF", err)
			}
		})
	}
}

func TestClose(t *testing.T) {
	ca := newTestCA(t, "Close Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	serverSaw := make(chan error, 4)
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), func(c *tls.Conn) {
		_, err := io.ReadAll(c) // nil error means close_notify arrived
		serverSaw <- err
	})

	t.Run("close sends close_notify", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
		c.SetDatabase(ca.db)
		if err := c.Handshake(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-serverSaw; err != nil {
			t.Errorf("server read %v, want a clean close_notify", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close = %v, want net.ErrClosed", err)
		}
		if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Close = %v, want net.ErrClosed", err)
		}
		if err := c.Handshake(context.Background()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Handshake after Close = %v, want net.ErrClosed", err)
		}
	})

	t.Run("close before handshake", func(t *testing.T) {
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
		within(t, 10*time.Second, "Close before the handshake", func() {
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		if err := c.Handshake(context.Background()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Handshake after Close = %v, want net.ErrClosed", err)
		}
	})

	t.Run("close write keeps reading", func(t *testing.T) {
		reply := []byte("after your close_notify")
		srv := startTLSServer(t, "tcp4", serverConfig(leaf), func(c *tls.Conn) {
			if _, err := io.ReadAll(c); err == nil {
				c.Write(reply)
			}
		})
		c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
		c.SetDatabase(ca.db)
		if err := c.CloseWrite(); err != nil {
			t.Fatalf("CloseWrite: %v", err)
		}
		if err := c.CloseWrite(); err != nil {
			t.Errorf("second CloseWrite: %v", err)
		}
		if _, err := c.Write([]byte("x")); err == nil {
			t.Errorf("Write after CloseWrite succeeded")
		}
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, reply) {
			t.Errorf("read after CloseWrite: %q, %v", got, err)
		}
	})
}

// TestCloseUnblocks checks that Close from another goroutine ends a blocked
// handshake and a blocked Read.
func TestCloseUnblocks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts and never answers
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c := dialTest(t, ln.Addr().String(), dialConfig{Identity: localhost(1)})
	errc := make(chan error, 1)
	go func() { errc <- c.Handshake(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	within(t, 10*time.Second, "Handshake after Close", func() {
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Handshake = %v, want net.ErrClosed", err)
		}
	})

	ca := newTestCA(t, "Unblock Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), func(c *tls.Conn) { io.ReadAll(c) })
	c2 := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
	c2.SetDatabase(ca.db)
	if err := c2.Handshake(context.Background()); err != nil {
		t.Fatal(err)
	}
	go func() { _, err := c2.Read(make([]byte, 1)); errc <- err }()
	time.Sleep(50 * time.Millisecond)
	c2.Close()
	within(t, 10*time.Second, "Read after Close", func() {
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read = %v, want net.ErrClosed", err)
		}
	})
}

func TestHandshakeCancellation(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	dial := func() *ClientConnection {
		c := dialTest(t, ln.Addr().String(), dialConfig{Identity: localhost(1)})
		return c
	}
	t.Run("deadline", func(t *testing.T) {
		c := dial()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		within(t, 10*time.Second, "Handshake with a deadline", func() {
			if err := c.Handshake(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Handshake = %v, want context.DeadlineExceeded", err)
			}
		})
	})
	t.Run("cancel", func(t *testing.T) {
		c := dial()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		within(t, 10*time.Second, "Handshake cancelled", func() {
			if err := c.Handshake(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Handshake = %v, want context.Canceled", err)
			}
		})
	})
	t.Run("conn deadline on implicit handshake", func(t *testing.T) {
		c := dial()
		c.SetDeadline(time.Now().Add(100 * time.Millisecond))
		within(t, 10*time.Second, "Read with a deadline", func() {
			_, err := c.Read(make([]byte, 1))
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("Read = %v, want a timeout", err)
			}
		})
	})
}

func TestNotTLS(t *testing.T) {
	for _, greeting := range []string{"220 mail.example ESMTP ready\r\n", "OK\n", ""} {
		t.Run(greeting, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			done, served := make(chan struct{}), make(chan struct{})
			defer func() { close(done); <-served }()
			go func() {
				defer close(served)
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				if greeting == "" {
					// Closes before saying anything, cleanly: a FIN, then
					// reading until the client closes. Closing with the
					// ClientHello unread would send a RST instead (RFC 2525,
					// section 2.17), a reset rather than the end of stream
					// this case is about.
					c.(*net.TCPConn).CloseWrite()
					io.Copy(io.Discard, c)
					return
				}
				c.Write([]byte(greeting))
				<-done // keeps the connection open until the test ends
			}()
			c := dialTest(t, ln.Addr().String(), dialConfig{Identity: localhost(25)})
			defer c.Close()
			within(t, 10*time.Second, "Handshake with a non-TLS server", func() {
				if err := c.Handshake(context.Background()); !errors.Is(err, ErrNotTLS) {
					t.Errorf("Handshake = %v, want ErrNotTLS", err)
				}
			})
		})
	}
}

func TestALPN(t *testing.T) {
	ca := newTestCA(t, "ALPN Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	tests := []struct {
		name         string
		client, srv  []string
		want         string
		wantHSFailed bool
	}{
		{"match", []string{"h2", "http/1.1"}, []string{"http/1.1"}, "http/1.1", false},
		{"no match", []string{"imap"}, []string{"http/1.1"}, "", true},
		{"client only", []string{"http/1.1"}, nil, "", false},
		{"server only", nil, []string{"http/1.1"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serverConfig(leaf)
			cfg.NextProtos = tt.srv
			srv := startTLSServer(t, "tcp4", cfg, nil)
			c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
			c.SetDatabase(ca.db)
			c.SetAdvertisedProtocols(tt.client)
			if got := c.AdvertisedProtocols(); !slices.Equal(got, tt.client) {
				t.Errorf("AdvertisedProtocols = %q", got)
			}
			err := c.Handshake(context.Background())
			if tt.wantHSFailed {
				// The server's no_application_protocol alert, as GIO reports it.
				if !errors.Is(err, ErrMisc) || !strings.Contains(err.Error(), "no application protocol") {
					t.Fatalf("Handshake = %v, want ErrMisc naming the alert", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.NegotiatedProtocol(); got != tt.want {
				t.Errorf("NegotiatedProtocol = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestConcurrentReadWrite reads and writes from two goroutines at once, and
// checks that a read timeout leaves the connection usable.
func TestConcurrentReadWrite(t *testing.T) {
	ca := newTestCA(t, "Concurrent Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
	c.SetDatabase(ca.db)

	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read = %v, want a timeout", err)
	}
	c.SetReadDeadline(time.Time{})

	const total = 1 << 20
	payload := bytes.Repeat([]byte("0123456789abcdef"), total/16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := c.Write(payload); err != nil {
			t.Errorf("Write: %v", err)
		}
	}()
	got := make([]byte, total)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("ReadFull: %v", err)
	}
	wg.Wait()
	if !bytes.Equal(got, payload) {
		t.Errorf("echoed data differs")
	}
}

func TestNewClientConnectionNilBase(t *testing.T) {
	if _, err := NewClientConnection(nil, localhost(1)); !errors.Is(err, ErrMisc) {
		t.Errorf("NewClientConnection(nil) = %v, want an ErrMisc error", err)
	}
	var nilConn *net.TCPConn
	if _, err := NewClientConnection(nilConn, localhost(1)); err == nil {
		t.Errorf("NewClientConnection(typed nil) succeeded")
	}
}

func TestDeprecatedProperties(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c, err := NewClientConnection(a, localhost(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.UseSSL3() {
		t.Errorf("UseSSL3 defaults to true")
	}
	c.SetUseSSL3(true)
	if c.ValidationFlags() != CertificateValidateAll {
		t.Errorf("ValidationFlags default = %v", c.ValidationFlags())
	}
	if !c.RequireCloseNotify() {
		t.Errorf("RequireCloseNotify defaults to false")
	}
	if c.BaseIOStream() != a {
		t.Errorf("BaseIOStream is not the base connection")
	}
	if _, err := c.ChannelBindingData(ChannelBindingTLSExporter); !errors.Is(err, ErrBindingInvalidState) {
		t.Errorf("ChannelBindingData before the handshake = %v", err)
	}
}

// TestOperationFromCallback checks that I/O started from inside
// accept-certificate or a notify handler fails instead of deadlocking (GIO's
// tests ask the same).
func TestOperationFromCallback(t *testing.T) {
	ca := newTestCA(t, "Callback Root")
	stranger := testpki.MustCA(t, "Callback Stranger")
	leaf := stranger.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
	c.SetDatabase(ca.db)
	var readErr, hsErr error
	var stateDuring tls.ConnectionState
	c.OnAcceptCertificate(func(*Certificate, CertificateFlags) bool {
		stateDuring = c.ConnectionState() // must not wait for the handshake
		_, readErr = c.Read(make([]byte, 1))
		hsErr = c.Handshake(context.Background())
		return true
	})
	var notifyErr error
	c.OnNotify(func(p string) {
		if p == "peer-certificate" {
			_, notifyErr = c.Write([]byte("x"))
		}
	})
	within(t, 10*time.Second, "Handshake whose callbacks do I/O", func() {
		if err := c.Handshake(context.Background()); err != nil {
			t.Errorf("Handshake: %v", err)
		}
	})
	for name, err := range map[string]error{"Read": readErr, "Handshake": hsErr, "Write from notify": notifyErr} {
		if !errors.Is(err, ErrMisc) {
			t.Errorf("%s from a callback = %v, want an ErrMisc error", name, err)
		}
	}
	if stateDuring.HandshakeComplete || !c.ConnectionState().HandshakeComplete {
		t.Errorf("ConnectionState: complete %v during the handshake, %v after", stateDuring.HandshakeComplete, c.ConnectionState().HandshakeComplete)
	}
	if _, err := c.Write([]byte("after")); err != nil {
		t.Errorf("Write after the handshake: %v", err)
	}
}

func TestBackendVersions(t *testing.T) {
	ca := newTestCA(t, "Versions Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	srv := startTLSServer(t, "tcp4", serverConfig(leaf), nil)
	tests := []struct {
		min, max ProtocolVersion
		want     ProtocolVersion
		wantErr  bool
	}{
		{0, 0, ProtocolVersionTLS13, false},
		{0, ProtocolVersionTLS12, ProtocolVersionTLS12, false},
		{ProtocolVersionTLS13, 0, ProtocolVersionTLS13, false},
		{ProtocolVersionTLS10, 0, 0, true},
		{ProtocolVersionTLS13, ProtocolVersionTLS12, 0, true},
		{0, ProtocolVersionDTLS12, 0, true},
	}
	for _, tt := range tests {
		b := NewBackend(BackendOptions{MinVersion: tt.min, MaxVersion: tt.max})
		c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Identity: localhost(srv.Addr.Port()), Database: ca.db})
		err := c.Handshake(context.Background())
		c.Close()
		if tt.wantErr {
			if !errors.Is(err, ErrMisc) {
				t.Errorf("%v..%v: %v, want ErrMisc", tt.min, tt.max, err)
			}
			continue
		}
		if err != nil || c.ProtocolVersion() != tt.want {
			t.Errorf("%v..%v: %v, version %v; want %v", tt.min, tt.max, err, c.ProtocolVersion(), tt.want)
		}
	}
}

// TestWriteAfterFatalAlert checks that once Read has met the server's fatal
// alert (here TLS 1.3's certificate_required, which arrives after the
// client's handshake), Write refuses to send more (RFC 8446, section 6.2).
func TestWriteAfterFatalAlert(t *testing.T) {
	ca := newTestCA(t, "Fatal Alert Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cfg := serverConfig(leaf)
	cfg.MinVersion, cfg.ClientAuth = tls.VersionTLS13, tls.RequireAnyClientCert
	srv := startTLSServer(t, "tcp4", cfg, nil)
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port())})
	c.SetDatabase(ca.db)
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatalf("Handshake: %v (TLS 1.3 reports the refusal on the first Read)", err)
	}
	_, readErr := c.Read(make([]byte, 1))
	if !errors.Is(readErr, ErrCertificateRequired) {
		t.Fatalf("Read = %v, want ErrCertificateRequired", readErr)
	}
	if _, err := c.Write([]byte("more")); !errors.Is(err, ErrCertificateRequired) {
		t.Errorf("Write after the fatal alert = %v, want the alert's error", err)
	}
}
