package giotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// contractDatabase is a user Database that follows GIO's documented
// contract to the letter: a nil identity is not checked, so it never sets
// bad-identity. It asks crypto/x509 only, independently of internal/verify.
type contractDatabase struct{ roots *x509.CertPool }

func (d contractDatabase) VerifyChain(_ context.Context, chain *Certificate, _ Purpose, identity Connectable,
	_ Interaction) (CertificateFlags, error) {
	inter := x509.NewCertPool()
	for c := chain.Issuer(); c != nil; c = c.Issuer() {
		inter.AddCert(c.X509())
	}
	var flags CertificateFlags
	if _, err := chain.X509().Verify(x509.VerifyOptions{Roots: d.roots, Intermediates: inter}); err != nil {
		flags |= CertificateUnknownCA
	}
	if na, ok := identity.(*NetworkAddress); ok && na != nil && chain.X509().VerifyHostname(na.Hostname) != nil {
		flags |= CertificateBadIdentity
	}
	return flags, nil
}

func (contractDatabase) LookupCertificateIssuer(context.Context, *Certificate, Interaction) (*Certificate, error) {
	return nil, nil
}

func (contractDatabase) LookupCertificatesIssuedBy(context.Context, []byte, Interaction) ([]*Certificate, error) {
	return nil, nil
}

func rootPool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// TestNoIdentityIsBadIdentity: a connection without a server identity adds
// bad-identity itself, whatever its Database says (glib-networking's fix for
// CVE-2020-13645), on the first handshake and on a resumed one, so a chain
// the database trusts is not accepted for any name.
func TestNoIdentityIsBadIdentity(t *testing.T) {
	ca := newTestCA(t, "No Identity Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	user := contractDatabase{rootPool(ca.Cert)}
	// The user database follows GIO's contract: no identity, no flag.
	if f, err := user.VerifyChain(context.Background(), mustChain(t, leaf.Chain...), PurposeServer, nil, nil); err != nil || f != 0 {
		t.Fatalf("contractDatabase(nil identity) = %v, %v; want none", f, err)
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, db := range []struct {
			name string
			db   Database
		}{{"user database", user}, {"file database", ca.db}} {
			t.Run(tls.VersionName(v)+"/"+db.name, func(t *testing.T) {
				cfg := serverConfig(leaf)
				cfg.MinVersion, cfg.MaxVersion = v, v
				resumed := make(chan bool, 4)
				srv := startTLSServer(t, "tcp4", cfg, func(c *tls.Conn) {
					resumed <- c.ConnectionState().DidResume
					echo(c)
				})
				b := NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})})
				dial := func() *ClientConnection {
					c := dialTest(t, srv.Addr.String(), dialConfig{Backend: b, Database: db.db})
					return c
				}

				// No handler: the handshake fails on bad-identity.
				c := dial()
				err := c.Handshake(context.Background())
				if !errors.Is(err, ErrBadCertificate) || !strings.Contains(err.Error(), "bad-identity") {
					t.Fatalf("Handshake without identity = %v, want ErrBadCertificate for bad-identity", err)
				}

				// With a handler that accepts: it is asked with bad-identity,
				// on the full handshake and on the resumed one.
				for i, wantResumed := range []bool{false, true} {
					c := dial()
					var asked CertificateFlags
					c.OnAcceptCertificate(func(_ *Certificate, f CertificateFlags) bool { asked = f; return true })
					if _, err := c.Write([]byte("x")); err != nil {
						t.Fatalf("connection %d: Write: %v", i, err)
					}
					if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
						t.Fatalf("connection %d: Read: %v", i, err)
					}
					if got := <-resumed; got != wantResumed {
						t.Fatalf("connection %d: server says resumed = %v, want %v", i, got, wantResumed)
					}
					if asked != CertificateBadIdentity || c.PeerCertificateErrors() != CertificateBadIdentity {
						t.Errorf("connection %d (resumed %v): handler asked with %v, PeerCertificateErrors %v; want bad-identity",
							i, wantResumed, asked, c.PeerCertificateErrors())
					}
					c.Close()
				}
			})
		}
	}
}

// TestNilIdentityAndCAAgainstGIO checks GIO's documented contract for a
// NULL identity and a NULL trusted CA, on giotls and on GIO itself (through
// /usr/bin/python3 and gi): Database.VerifyChain with a nil identity never
// sets bad-identity, Certificate.Verify with a nil CA never sets unknown-ca.
func TestNilIdentityAndCAAgainstGIO(t *testing.T) {
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Fatalf("GIO reference not installed (apt-get install -y python3-gi glib-networking): %v", err)
	}
	dns := testpki.DNSNames("server.example.com")
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	other := testpki.MustCA(t, "Other")
	good := root.MustLeaf(t, "s", dns).Chain
	// want: VerifyChain, Verify(identity, nil), Verify(identity, root);
	// gioNoCA is GIO's Verify(identity, NULL) where it differs (same: no).
	const same = CertificateFlags(0xffff)
	cases := []struct {
		name             string
		chain            []*x509.Certificate
		host             string
		db, noCA, withCA CertificateFlags
		gioNoCA          CertificateFlags
	}{
		{"good", good, "server.example.com", 0, 0, 0, same},
		{"good-no-identity", good, "", 0, 0, 0, same},
		{"wrong-host", good, "other.example.com", CertificateBadIdentity, CertificateBadIdentity, CertificateBadIdentity, same},
		{"untrusted-no-identity", other.MustLeaf(t, "s", dns).Chain, "", CertificateUnknownCA, 0, CertificateUnknownCA, same},
		{"untrusted-wrong-host", other.MustLeaf(t, "s", dns).Chain, "x.example.com",
			CertificateUnknownCA | CertificateBadIdentity, CertificateBadIdentity, CertificateUnknownCA | CertificateBadIdentity, same},
		{"expired-no-identity", root.MustLeaf(t, "s", dns, testpki.Expired()).Chain, "",
			// GIO 2.74 checks nothing but the identity without a CA; its
			// docs only say unknown-ca is never set, and we keep the others.
			CertificateExpired, CertificateExpired, CertificateExpired, 0},
		{"intermediate-no-identity", inter.MustLeaf(t, "s", dns).Chain, "", 0, 0, 0, same},
		{"self-signed-no-identity", []*x509.Certificate{other.Cert}, "", CertificateUnknownCA, 0, CertificateUnknownCA, same},
	}
	dir := t.TempDir()
	var manifest strings.Builder
	for _, tc := range cases {
		if err := os.WriteFile(filepath.Join(dir, tc.name+".pem"), testpki.EncodeCertificates(tc.chain...), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&manifest, "%s\t%s\n", tc.name, tc.host)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest"), []byte(manifest.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	anchorsPath := filepath.Join(dir, "anchors.pem")
	if err := os.WriteFile(anchorsPath, root.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, filepath.Join("testdata", "gio", "nil_identity.py"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("GIO: %v\n%s", err, out)
	}
	gio := map[string][3]CertificateFlags{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("GIO printed %q", line)
		}
		var r [3]CertificateFlags
		for i := range r {
			n, err := strconv.ParseUint(f[i+1], 10, 32)
			if err != nil {
				t.Fatalf("GIO printed %q", line)
			}
			r[i] = CertificateFlags(n)
		}
		gio[f[0]] = r
	}
	db, err := NewFileDatabase(anchorsPath)
	if err != nil {
		t.Fatal(err)
	}
	ca := &Certificate{cert: root.Cert}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var id Connectable
			if tc.host != "" {
				id = NewNetworkAddress(tc.host, 443)
			}
			chain := mustChain(t, tc.chain...)
			dbFlags, err := db.VerifyChain(ctx, chain, PurposeServer, id, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := [3]CertificateFlags{tc.db, tc.noCA, tc.withCA}
			got := [3]CertificateFlags{dbFlags, chain.Verify(id, nil), chain.Verify(id, ca)}
			if got != want {
				t.Errorf("giotls: VerifyChain %v, Verify(nil CA) %v, Verify(CA) %v; want %v, %v, %v",
					got[0], got[1], got[2], want[0], want[1], want[2])
			}
			if tc.gioNoCA != same {
				want[1] = tc.gioNoCA
			}
			if g, ok := gio[tc.name]; !ok || g != want {
				t.Errorf("GIO (reported %v): verify_chain %v, verify(NULL CA) %v, verify(CA) %v; want %v, %v, %v",
					ok, g[0], g[1], g[2], want[0], want[1], want[2])
			}
		})
	}
}
