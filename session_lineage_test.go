package giotls

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// lineageView is what the server saw of one handshake: the port it came
// to, whether it resumed, the client certificate the server holds for the
// connection (the one sent, or, resumed, the one of the session), and, for a
// resumption, where the session's chain began.
type lineageView struct {
	port    int
	resumed bool
	cert    string // common name of the client certificate, "" for none
	origin  string // resumed: the chain's chainTag; "" for a full handshake
	reused  bool   // the ticket presented had been presented before
}

// chainTag names where a chain began: the server name, port and client
// certificate of its full handshake.
func chainTag(sni string, port int, cert string) string {
	return fmt.Sprintf("%s|%d|%s", sni, port, cert)
}

// lineageEnv is a server on two ports sharing ticket keys (a ticket from one
// is good on the other, as an FTP server's are), valid for a.example and
// b.example, requesting a client certificate and recording, in VerifyConnection
// (which crypto/tls runs on resumed handshakes too, before the client's
// Finished), what each handshake gave it; and in UnwrapSession every ticket
// presented.
type lineageEnv struct {
	ca         *testCA
	alice, bob *Certificate
	ports      [2]*tlsServer

	mu        sync.Mutex
	views     []lineageView
	presented map[[32]byte]int
}

func newLineageEnv(t *testing.T, version uint16) *lineageEnv {
	t.Helper()
	ca := newTestCA(t, "Lineage Root")
	leaf := ca.MustLeaf(t, "server", testpki.DNSNames("a.example", "b.example"))
	certCA := testpki.MustCA(t, "Lineage Client Root")
	e := &lineageEnv{
		ca:        ca,
		alice:     mustClientCertificate(t, certCA.MustLeaf(t, "alice", testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))),
		bob:       mustClientCertificate(t, certCA.MustLeaf(t, "bob", testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))),
		presented: map[[32]byte]int{},
	}
	var key [32]byte
	rand.Read(key[:])
	for port := range e.ports {
		base := serverConfig(leaf)
		base.MinVersion, base.MaxVersion = version, version
		base.ClientAuth = tls.RequestClientCert
		base.SetSessionTicketKeys([][32]byte{key})
		// A configuration per connection, so that what UnwrapSession finds
		// reaches VerifyConnection and WrapSession. Every ticket carries, in
		// its Extra field, the tag of the full handshake that began its
		// chain (crypto/tls does not carry Extra over: WrapSession does).
		base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cfg := base.Clone()
			cfg.GetConfigForClient = nil
			var origin string
			var reused bool
			cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
				if len(identity) == 0 {
					return nil, nil
				}
				h := sha256.Sum256(identity)
				e.mu.Lock()
				reused = e.presented[h] > 0
				e.presented[h]++
				e.mu.Unlock()
				ss, err := cfg.DecryptTicket(identity, cs)
				if ss != nil && len(ss.Extra) == 1 {
					origin = string(ss.Extra[0])
				}
				return ss, err
			}
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				v := lineageView{port: port, resumed: cs.DidResume}
				if len(cs.PeerCertificates) > 0 {
					v.cert = cs.PeerCertificates[0].Subject.CommonName
				}
				if cs.DidResume {
					v.origin, v.reused = origin, reused
				}
				e.mu.Lock()
				e.views = append(e.views, v)
				e.mu.Unlock()
				return nil
			}
			cfg.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
				tag := origin
				if !cs.DidResume {
					cert := ""
					if len(cs.PeerCertificates) > 0 {
						cert = cs.PeerCertificates[0].Subject.CommonName
					}
					tag = chainTag(cs.ServerName, port, cert)
				}
				ss.Extra = [][]byte{[]byte(tag)}
				return cfg.EncryptTicket(cs, ss)
			}
			return cfg, nil
		}
		// One byte, so that the client's Read takes in the TLS 1.3 tickets.
		e.ports[port] = startTLSServer(t, "tcp4", base, func(c *tls.Conn) { c.Write([]byte{'!'}); io.Copy(io.Discard, c) })
	}
	return e
}

// lineageConn describes one connection: its backend, port, server identity
// and client certificate, and the connection it copies (nil: none).
type lineageConn struct {
	backend *Backend
	port    int
	host    string
	cert    *Certificate
	copy    *ClientConnection
	db      Database // nil: one trusting the server's CA
	accept  func(*Certificate, CertificateFlags) bool
	noRead  bool // handshake only: read nothing (an FTP upload)
	// prepare, if set, runs before CopySessionState and the handshake.
	prepare func(*ClientConnection)
}

// connect makes the connection, handshakes and reads the server's byte. It
// returns the connection, what the server saw of its handshake (waiting for
// it: a client that rejects the server ends before the server is done), and
// the error of the handshake or the read.
func (e *lineageEnv) connect(t *testing.T, lc lineageConn) (*ClientConnection, lineageView, error) {
	t.Helper()
	e.mu.Lock()
	n := len(e.views)
	e.mu.Unlock()
	db := lc.db
	if db == nil {
		db = e.ca.db
	}
	addr := e.ports[lc.port].Addr
	var id Connectable // none for an empty host
	if lc.host != "" {
		id = NewNetworkAddress(lc.host, addr.Port())
	}
	c := dialTest(t, addr.String(), dialConfig{Backend: lc.backend, Identity: id, Database: db, Deadline: 20 * time.Second})
	c.SetCertificate(lc.cert)
	if lc.accept != nil {
		c.OnAcceptCertificate(lc.accept)
	}
	if lc.prepare != nil {
		lc.prepare(c)
	}
	if lc.copy != nil {
		c.CopySessionState(lc.copy)
	}
	err := c.Handshake(context.Background())
	if err == nil && !lc.noRead {
		_, err = io.ReadFull(c, make([]byte, 1))
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		e.mu.Lock()
		views := e.views
		e.mu.Unlock()
		if len(views) > n {
			if len(views) > n+1 {
				t.Fatalf("the server saw %d handshakes for one connection", len(views)-n)
			}
			v := views[n]
			if own := chainTag(lc.host, lc.port, lc.cert.commonName()); lc.copy == nil && v.resumed && v.origin != own {
				t.Errorf("a connection as %s, copying nothing, resumed a chain begun as %s", own, v.origin)
			}
			return c, v, err
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server saw no handshake (client: %v)", err)
		}
	}
}

// mustConnect is connect for a connection that must work.
func (e *lineageEnv) mustConnect(t *testing.T, lc lineageConn) (*ClientConnection, lineageView) {
	t.Helper()
	c, v, err := e.connect(t, lc)
	if err != nil {
		t.Fatalf("connection to port %d as %s: %v", lc.port, lc.host, err)
	}
	return c, v
}

// reusedTickets returns how many presentations were of a ticket presented
// before.
func (e *lineageEnv) reusedTickets() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, k := range e.presented {
		n += k - 1
	}
	return n
}

func newPrivateBackend() *Backend {
	return NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
}

// TestCopiedSessionStaysWithItsChain is issue 13's scenario: A presents
// alice; B, with no certificate, copies A's session (and the server rightly
// holds alice for B: that is what B asked for); C, with none and no copy,
// connects where B did and must neither be taken for alice nor resume. A second copy from A
// takes the fresh ticket B's resumption brought, so that no TLS 1.3 ticket
// is presented twice, and what the copies received serves A's own next
// connection.
func TestCopiedSessionStaysWithItsChain(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newLineageEnv(t, v)
			b := newPrivateBackend()
			a, va := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example", cert: e.alice})
			if va.resumed || va.cert != "alice" {
				t.Fatalf("A: server saw %+v, want a full handshake as alice", va)
			}
			for i := range 2 {
				bc, vb := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "a.example", copy: a})
				if !bc.SessionResumed() || !vb.resumed || vb.cert != "alice" || vb.origin != chainTag("a.example", 0, "alice") {
					t.Errorf("copy %d: resumed %v, server saw %+v; want A's session resumed", i+1, bc.SessionResumed(), vb)
				}
			}
			// C2 may resume C1's chain (connect checks that it is that one).
			for i := range 2 {
				if _, vc := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "a.example"}); (i == 0 && vc.resumed) || vc.cert != "" {
					t.Errorf("C%d (no certificate, no copy): server saw %+v, want no certificate, and C1 not resumed", i+1, vc)
				}
			}
			if _, va2 := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example", cert: e.alice}); !va2.resumed {
				t.Errorf("A's next connection: server saw %+v, want a resumption of its chain", va2)
			}
			if n := e.reusedTickets(); v == tls.VersionTLS13 && n != 0 {
				t.Errorf("%d TLS 1.3 tickets presented again", n)
			}
		})
	}
}

// TestCopyIntoAnotherCertificate: B, set up to present bob, asks to copy
// alice's session. Resuming would have the server hold alice for a
// connection whose owner chose bob, linking the two identities, so the copy
// is refused and B presents bob in a full handshake; D, presenting bob
// later, is bob to the server, never alice. A connection that sets alice
// herself may copy alice's session.
func TestCopyIntoAnotherCertificate(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newLineageEnv(t, v)
			b := newPrivateBackend()
			a, _ := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example", cert: e.alice})
			bc, vb := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "a.example", cert: e.bob, copy: a})
			if bc.SessionResumed() || vb.resumed || vb.cert != "bob" {
				t.Errorf("B (bob, copying alice's session): resumed %v, server saw %+v; want a full handshake as bob", bc.SessionResumed(), vb)
			}
			for i := range 2 {
				if _, vd := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "a.example", cert: e.bob}); vd.cert != "bob" {
					t.Errorf("D%d (bob): server saw %+v, want bob", i+1, vd)
				}
			}
			ac, va := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "a.example", cert: e.alice, copy: a})
			if !ac.SessionResumed() || !va.resumed || va.cert != "alice" {
				t.Errorf("alice copying alice's session: resumed %v, server saw %+v; want it resumed", ac.SessionResumed(), va)
			}
		})
	}
}

// TestCopyAcrossIdentitiesAndCaches: a copy made by a b.example connection
// of a chain begun as a.example's leaves nothing a later plain b.example
// connection could resume; a copy made through another backend leaves
// nothing in that backend's cache, and what it received goes back to the
// source's.
func TestCopyAcrossIdentitiesAndCaches(t *testing.T) {
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			t.Run("identities", func(t *testing.T) {
				e := newLineageEnv(t, v)
				b := newPrivateBackend()
				a, _ := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example"})
				if bc, vb := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "b.example", copy: a}); !bc.SessionResumed() || vb.origin != chainTag("a.example", 0, "") {
					t.Errorf("b.example copying a.example's session: resumed %v, server saw %+v", bc.SessionResumed(), vb)
				}
				if _, vc := e.mustConnect(t, lineageConn{backend: b, port: 1, host: "b.example"}); vc.resumed {
					t.Errorf("the first plain b.example connection resumed a chain begun as a.example's")
				}
			})
			t.Run("caches", func(t *testing.T) {
				e := newLineageEnv(t, v)
				pCache, qCache := NewSessionCache(SessionCacheOptions{}), NewSessionCache(SessionCacheOptions{})
				p := NewBackend(BackendOptions{SessionCache: pCache})
				q := NewBackend(BackendOptions{SessionCache: qCache})
				a, _ := e.mustConnect(t, lineageConn{backend: p, port: 0, host: "a.example"})
				if bc, vb := e.mustConnect(t, lineageConn{backend: q, port: 0, host: "a.example", copy: a}); !bc.SessionResumed() || !vb.resumed {
					t.Errorf("copy through another backend: resumed %v, server saw %+v", bc.SessionResumed(), vb)
				}
				if keys, sessions := qCache.Len(); keys != 0 || sessions != 0 {
					t.Errorf("the copier's cache holds %d keys, %d sessions; want none", keys, sessions)
				}
				if _, vc := e.mustConnect(t, lineageConn{backend: q, port: 0, host: "a.example"}); vc.resumed {
					t.Errorf("a plain connection of the copier's backend resumed the private cache's chain")
				}
				// TLS 1.3: A's one ticket went to the copy; what A's next
				// connection resumes is what the copy received.
				if _, va := e.mustConnect(t, lineageConn{backend: p, port: 0, host: "a.example"}); !va.resumed {
					t.Errorf("A's next connection did not resume: what the copy received did not go back to A's cache")
				}
			})
		})
	}
}

// TestCopiedSessionReverified: a resumed handshake of a copied session is
// verified again against the copier's own identity and database, and its
// accept-certificate handler asked again, as a full one is; the server did
// resume, so only that verification stands between the copier and a peer
// it would not trust.
func TestCopiedSessionReverified(t *testing.T) {
	stranger := newTestCA(t, "Stranger Root")
	tests := []struct {
		name      string
		host      string
		stranger  bool // the copier's database trusts another CA
		accept    bool // the handler accepts (nil handler when false)
		wantFlags CertificateFlags
	}{
		{"same identity and database", "a.example", false, false, 0},
		{"other identity, in the certificate", "b.example", false, false, 0},
		{"identity not in the certificate", "c.example", false, false, CertificateBadIdentity},
		{"database trusting another CA", "a.example", true, false, CertificateUnknownCA},
		{"database trusting another CA, handler accepts", "a.example", true, true, CertificateUnknownCA},
	}
	for _, v := range tlsVersions {
		for _, tt := range tests {
			t.Run(tls.VersionName(v)+"/"+tt.name, func(t *testing.T) {
				e := newLineageEnv(t, v)
				b := newPrivateBackend()
				a, _ := e.mustConnect(t, lineageConn{backend: b, port: 0, host: "a.example"})
				lc := lineageConn{backend: b, port: 1, host: tt.host, copy: a}
				if tt.stranger {
					lc.db = stranger.db
				}
				var asked []CertificateFlags
				if tt.accept {
					lc.accept = func(_ *Certificate, f CertificateFlags) bool { asked = append(asked, f); return true }
				}
				c, view, err := e.connect(t, lc)
				if !view.resumed {
					t.Fatalf("the server did not resume the copied session (client: %v)", err)
				}
				switch {
				case tt.wantFlags == 0 || tt.accept:
					if err != nil || !c.SessionResumed() || c.PeerCertificateErrors() != tt.wantFlags || c.PeerCertificate() == nil {
						t.Errorf("%v, resumed %v, errors %v; want resumed with errors %v", err, c.SessionResumed(), c.PeerCertificateErrors(), tt.wantFlags)
					}
					if tt.accept && (len(asked) != 1 || asked[0] != tt.wantFlags) {
						t.Errorf("handler asked with %v; want once with %v", asked, tt.wantFlags)
					}
				default:
					if !errors.Is(err, ErrBadCertificate) || c.PeerCertificateErrors() != tt.wantFlags {
						t.Errorf("%v, errors %v; want ErrBadCertificate with %v", err, c.PeerCertificateErrors(), tt.wantFlags)
					}
				}
			})
		}
	}
}

// commonName is the certificate's subject common name, "" for none.
func (c *Certificate) commonName() string {
	if c == nil || c.cert == nil {
		return ""
	}
	return c.cert.Subject.CommonName
}

// TestLineageAtScale mixes, at random (a fixed seed), connections as two
// names, two ports, and no certificate, alice or bob, a third of them
// copying an earlier connection's session. The server tags every ticket with
// the full handshake that began its chain. A connection that copies nothing
// resumes only chains of its own name, port and certificate (connect checks
// that); a copy with no certificate, or its source chain's, resumes exactly
// its source's chain; one with another certificate resumes none but its own;
// a TLS 1.3 ticket presented before is presented again only by a copy.
func TestLineageAtScale(t *testing.T) {
	n := 300
	if raceEnabled {
		n = 120
	}
	for _, v := range tlsVersions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			e := newLineageEnv(t, v)
			b := newPrivateBackend()
			hosts := []string{"a.example", "b.example"}
			certs := []*Certificate{nil, e.alice, e.bob}
			type opened struct {
				c     *ClientConnection
				chain string // the tag of the chain its session belongs to
				cert  string // the certificate the server holds for it
			}
			var conns []opened
			rng := mrand.New(mrand.NewPCG(13, uint64(v)))
			resumed, copies, reusedByCopies := 0, 0, 0
			for i := range n {
				lc := lineageConn{backend: b, port: rng.IntN(2), host: hosts[rng.IntN(2)], cert: certs[rng.IntN(3)]}
				var src *opened
				if len(conns) > 0 && rng.IntN(3) == 0 {
					src = &conns[rng.IntN(len(conns))]
					lc.copy = src.c
				}
				c, view := e.mustConnect(t, lc)
				own := chainTag(lc.host, lc.port, lc.cert.commonName())
				chain := own
				if view.resumed {
					chain = view.origin
					resumed++
				}
				if src != nil {
					copies++
					if view.reused {
						reusedByCopies++
					}
					mine := lc.cert.commonName()
					switch allowed := mine == "" || mine == src.cert; {
					case allowed && (!view.resumed || view.origin != src.chain):
						t.Errorf("connection %d (%s) copying a session of %s: server saw %+v", i, own, src.chain, view)
					case !allowed && view.resumed && view.origin != own:
						t.Errorf("connection %d (%s) copying a session of %s with another certificate: resumed %s", i, own, src.chain, view.origin)
					}
				} else if view.reused {
					t.Errorf("connection %d (%s), copying nothing, presented a ticket presented before", i, own)
				}
				conns = append(conns, opened{c: c, chain: chain, cert: view.cert})
			}
			t.Logf("%d connections, %d resumed, %d copies, %d of them presenting a ticket again", n, resumed, copies, reusedByCopies)
			if resumed < n/2 || copies < n/5 {
				t.Errorf("%d of %d connections resumed, %d copied: too few to test anything", resumed, n, copies)
			}
		})
	}
}
