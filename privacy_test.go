package giotls

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/sessioncache"
	"github.com/giotls/giotls/internal/testpki"
)

// ticketOwner is what a session ticket was issued for: the server name the
// client sent, the server port, and the client certificate (a hash of its
// DER; zero for none).
type ticketOwner struct {
	sni  string
	port int
	cert [32]byte
}

func certHash(chain []*x509.Certificate) [32]byte {
	if len(chain) == 0 {
		return [32]byte{}
	}
	return sha256.Sum256(chain[0].Raw)
}

// ticketLedger is the server side of the privacy tests: it records, by a
// hash of the ticket, whom each ticket was issued for (WrapSession) and
// every ticket presented, by the connection that presented it
// (UnwrapSession), before the server decides whether to accept it.
type ticketLedger struct {
	mu        sync.Mutex
	issued    map[[32]byte]ticketOwner
	presented map[[32]byte]int
	byConn    map[net.Conn]*[][32]byte // server-side connection: tickets it presented
	byID      map[uint64]*[][32]byte   // the client's connection ID: the same
}

// ledgerServers starts ports servers of one configuration (the same ticket
// keys: a ticket from one port would be accepted on the other) requesting,
// not requiring, a client certificate. Each connection reads the client's
// 8-byte ID, writes a byte (so that a TLS 1.3 client reads the ticket
// before it), and waits for the client to close.
func ledgerServers(t *testing.T, leaf *testpki.Leaf, version uint16, ports int) (*ticketLedger, []*tlsServer) {
	l := &ticketLedger{
		issued:    map[[32]byte]ticketOwner{},
		presented: map[[32]byte]int{},
		byConn:    map[net.Conn]*[][32]byte{},
		byID:      map[uint64]*[][32]byte{},
	}
	var key [32]byte
	rand.Read(key[:])
	var servers []*tlsServer
	for port := range ports {
		base := serverConfig(leaf)
		base.MinVersion, base.MaxVersion = version, version
		base.ClientAuth = tls.RequestClientCert
		base.SetSessionTicketKeys([][32]byte{key})
		base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			tickets := new([][32]byte)
			l.mu.Lock()
			l.byConn[hello.Conn] = tickets
			l.mu.Unlock()
			cfg := base.Clone()
			cfg.GetConfigForClient = nil
			cfg.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
				label, err := cfg.EncryptTicket(cs, ss)
				if err == nil {
					l.mu.Lock()
					l.issued[sha256.Sum256(label)] = ticketOwner{cs.ServerName, port, certHash(cs.PeerCertificates)}
					l.mu.Unlock()
				}
				return label, err
			}
			cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
				if len(identity) == 0 {
					return nil, nil
				}
				h := sha256.Sum256(identity)
				l.mu.Lock()
				*tickets = append(*tickets, h)
				l.presented[h]++
				l.mu.Unlock()
				return cfg.DecryptTicket(identity, cs)
			}
			return cfg, nil
		}
		servers = append(servers, startTLSServer(t, "tcp4", base, func(c *tls.Conn) {
			var id [8]byte
			if _, err := io.ReadFull(c, id[:]); err != nil {
				return
			}
			l.mu.Lock()
			l.byID[binary.BigEndian.Uint64(id[:])] = l.byConn[c.NetConn()]
			delete(l.byConn, c.NetConn())
			l.mu.Unlock()
			c.Write([]byte{'!'})
			io.Copy(io.Discard, c)
		}))
	}
	return l, servers
}

// privacyClient is one identity a client connects as.
type privacyClient struct {
	host string
	port int // index of the server
	cert *Certificate
}

// privacyRun makes n connections through backend, each as clients[i %
// len(clients)], conc at a time (1: sequential), and checks on the server's
// ledger that no ticket was presented twice (when once is set: TLS 1.3)
// and that every ticket presented was issued for the same server name,
// port and client certificate. It returns how many connections resumed.
func privacyRun(t *testing.T, backend *Backend, db Database, l *ticketLedger, servers []*tlsServer,
	clients []privacyClient, firstID uint64, n, conc int, once bool) int {
	t.Helper()
	want := make([]ticketOwner, n)
	var resumed atomic.Int64
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		cl := clients[i%len(clients)]
		want[i] = ticketOwner{cl.host, cl.port, certHash(cl.cert.chain())}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			srv := servers[cl.port]
			base, err := net.Dial("tcp", srv.Addr.String())
			if err != nil {
				errs <- err
				return
			}
			c, err := backend.NewClientConnection(base, NewNetworkAddress(cl.host, srv.Addr.Port()))
			if err != nil {
				base.Close()
				errs <- err
				return
			}
			defer c.Close()
			c.SetDatabase(db)
			c.SetCertificate(cl.cert)
			c.SetDeadline(time.Now().Add(30 * time.Second))
			var id [8]byte
			binary.BigEndian.PutUint64(id[:], firstID+uint64(i))
			if _, err := c.Write(id[:]); err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
				return
			}
			if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
				return
			}
			if c.SessionResumed() {
				resumed.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The server handlers record the IDs they read before answering, so
	// every one is in by now.
	l.mu.Lock()
	defer l.mu.Unlock()
	twice, foreign, unknown := 0, 0, 0
	for i := range n {
		tickets := l.byID[firstID+uint64(i)]
		if tickets == nil {
			t.Fatalf("connection %d: the server has no record of it", i)
		}
		for _, h := range *tickets {
			owner, ok := l.issued[h]
			switch {
			case !ok:
				unknown++
			case owner != want[i]:
				foreign++
				if foreign <= 5 {
					t.Errorf("connection %d as %v presented a ticket issued to %v", i, want[i], owner)
				}
			}
			if once && l.presented[h] > 1 {
				twice++
			}
		}
	}
	if twice > 0 || foreign > 0 || unknown > 0 {
		t.Errorf("%d connections: %d presentations of tickets presented more than once, %d of tickets issued to another identity or certificate, %d of tickets never issued",
			n, twice, foreign, unknown)
	}
	return int(resumed.Load())
}

// TestResumptionPrivacyAtScale makes 10,000 TLS 1.3 connections (2,000
// under the race detector) through the process-wide session cache, half one
// after the other and half 50 at a time, as 12 identities interleaved: two server names, two ports, and no
// client certificate or one of two. The server records whom it issued each
// ticket to, and every ticket presented: none may be presented twice, and
// none by a connection of another name, port or certificate. Most
// connections must resume, or the test would prove nothing.
func TestResumptionPrivacyAtScale(t *testing.T) {
	ca := newTestCA(t, "Privacy Root")
	leaf := ca.MustLeaf(t, "server", testpki.DNSNames("a.example", "b.example"))
	certCA := testpki.MustCA(t, "Privacy Client Root")
	alice := mustClientCertificate(t, certCA.MustLeaf(t, "alice", testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth)))
	bob := mustClientCertificate(t, certCA.MustLeaf(t, "bob", testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth)))
	var clients []privacyClient
	for _, cert := range []*Certificate{nil, alice, bob} {
		for _, host := range []string{"a.example", "b.example"} {
			for port := range 2 {
				clients = append(clients, privacyClient{host, port, cert})
			}
		}
	}
	l, servers := ledgerServers(t, leaf, tls.VersionTLS13, 2)
	// Under the race detector a handshake costs ten times as much:
	// scripts/test runs this test again without it, at full size.
	n := 5000
	if raceEnabled {
		n = 1000
	}
	start := time.Now()
	seq := privacyRun(t, DefaultBackend(), ca.db, l, servers, clients, 0, n, 1, true)
	t.Logf("sequential: %d of %d resumed in %v", seq, n, time.Since(start))
	start = time.Now()
	conc := privacyRun(t, DefaultBackend(), ca.db, l, servers, clients, uint64(n), n, 50, true)
	t.Logf("concurrent: %d of %d resumed in %v", conc, n, time.Since(start))
	if seq < n*9/10 || conc < n/2 {
		t.Errorf("resumed %d sequential and %d concurrent connections of %d each: too few to test anything", seq, conc, n)
	}
	if keys, sessions := DefaultSessionCache().Len(); keys > sessioncache.DefaultMaxKeys || sessions > keys*sessioncache.DefaultMaxTicketsPerKey {
		t.Errorf("the process-wide cache holds %d keys and %d sessions", keys, sessions)
	}
}

// TestResumptionPrivacyTLS12 is TestResumptionPrivacyAtScale over TLS 1.2,
// whose sessions may be presented again (RFC 5077 tickets are reusable):
// none may be presented by another name, port or certificate.
func TestResumptionPrivacyTLS12(t *testing.T) {
	ca := newTestCA(t, "Privacy 1.2 Root")
	leaf := ca.MustLeaf(t, "server", testpki.DNSNames("a.example", "b.example"))
	certCA := testpki.MustCA(t, "Privacy 1.2 Client Root")
	alice := mustClientCertificate(t, certCA.MustLeaf(t, "alice", testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth)))
	var clients []privacyClient
	for _, cert := range []*Certificate{nil, alice} {
		for _, host := range []string{"a.example", "b.example"} {
			for port := range 2 {
				clients = append(clients, privacyClient{host, port, cert})
			}
		}
	}
	l, servers := ledgerServers(t, leaf, tls.VersionTLS12, 2)
	b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
	const n = 500
	resumed := privacyRun(t, b, ca.db, l, servers, clients, 0, n, 1, false)
	resumed += privacyRun(t, b, ca.db, l, servers, clients, n, n, 20, false)
	if resumed < n {
		t.Errorf("%d of %d connections resumed: too few to test anything", resumed, 2*n)
	}
}
