//go:build linux

package interop

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/jlaffaye/ftp"

	"github.com/giotls/giotls"
)

// bridgeConfig is a Backend.ClientConfig trusting the run's CA, on a
// session cache of its own, with o's other fields.
func bridgeConfig(t *testing.T, o giotls.ClientConfigOptions) *tls.Config {
	t.Helper()
	if o.Database == nil {
		db, err := giotls.NewFileDatabase(getPKI(t).caFile)
		if err != nil {
			t.Fatal(err)
		}
		o.Database = db
	}
	if o.SessionCache == nil {
		o.SessionCache = giotls.NewSessionCache(giotls.SessionCacheOptions{})
	}
	cfg, err := giotls.DefaultBackend().ClientConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// wantRejected checks that err carries the giotls rejection with flag.
func wantRejected(t *testing.T, err error, flag giotls.CertificateFlags) {
	t.Helper()
	var e *giotls.Error
	if !errors.As(err, &e) || e.Code != giotls.ErrorBadCertificate || !strings.Contains(e.Message, flag.String()) {
		t.Fatalf("error = %v, want a giotls *Error ErrorBadCertificate with %s", err, flag)
	}
}

// otherCA is a database of a CA that signed nothing the servers present.
func otherCA(t *testing.T) giotls.Database {
	t.Helper()
	db, err := giotls.NewFileDatabase(getPKI(t).clientCAFile)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestBridgeSMTP: net/smtp's StartTLS against postfix with a ClientConfig.
func TestBridgeSMTP(t *testing.T) {
	pf := startPostfix(t, startDovecot(t))
	accepted := 0
	tests := []struct {
		name string
		o    giotls.ClientConfigOptions
		bad  giotls.CertificateFlags
	}{
		{name: "verified", o: giotls.ClientConfigOptions{ServerName: "localhost"}},
		{name: "wrong name", o: giotls.ClientConfigOptions{ServerName: "mail.example"}, bad: giotls.CertificateBadIdentity},
		{name: "unknown CA", o: giotls.ClientConfigOptions{ServerName: "localhost", Database: otherCA(t)}, bad: giotls.CertificateUnknownCA},
		{name: "handler accepts", o: giotls.ClientConfigOptions{ServerName: "localhost", Database: otherCA(t),
			AcceptCertificate: func(_ *giotls.Certificate, f giotls.CertificateFlags) bool {
				accepted++
				return f == giotls.CertificateUnknownCA
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := smtp.Dial(pf.smtp)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.StartTLS(bridgeConfig(t, tt.o))
			if tt.bad != 0 {
				wantRejected(t, err, tt.bad)
				return
			}
			if err != nil {
				t.Fatalf("StartTLS: %v", err)
			}
			if err := c.Auth(smtp.PlainAuth("", mailUser, mailPass, strings.Split(pf.smtp, ":")[0])); err != nil {
				t.Fatalf("AUTH over TLS: %v", err)
			}
			if err := c.Quit(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if accepted != 1 {
		t.Errorf("handler asked %d times, want 1", accepted)
	}
}

// TestBridgeLDAP: go-ldap against slapd, StartTLS and ldaps:// (DialURL sets
// the ServerName on its clone of the config).
func TestBridgeLDAP(t *testing.T) {
	s := startSlapd(t)
	bind := func(t *testing.T, l *ldap.Conn) {
		t.Helper()
		if err := l.Bind(s.rootDN, s.pass); err != nil {
			t.Fatalf("Bind: %v", err)
		}
		if _, ok := l.TLSConnectionState(); !ok {
			t.Fatal("not over TLS")
		}
	}
	t.Run("StartTLS", func(t *testing.T) {
		l, err := ldap.DialURL("ldap://" + s.ldap)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if err := l.StartTLS(bridgeConfig(t, giotls.ClientConfigOptions{ServerName: "localhost"})); err != nil {
			t.Fatalf("StartTLS: %v", err)
		}
		bind(t, l)
	})
	t.Run("StartTLS wrong name", func(t *testing.T) {
		l, err := ldap.DialURL("ldap://" + s.ldap)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		// go-ldap's StartTLS flattens the handshake error into text
		// (fmt.Errorf with %v): giotls's message is all that reaches the
		// caller.
		err = l.StartTLS(bridgeConfig(t, giotls.ClientConfigOptions{ServerName: "ldap.example"}))
		if err == nil || !strings.Contains(err.Error(), "giotls: unacceptable TLS certificate (bad-identity)") {
			t.Fatalf("StartTLS = %v, want giotls's rejection for bad-identity", err)
		}
	})
	t.Run("ldaps", func(t *testing.T) {
		l, err := ldap.DialURL("ldaps://"+s.ldaps, ldap.DialWithTLSConfig(bridgeConfig(t, giotls.ClientConfigOptions{ServerName: "127.0.0.1"})))
		if err != nil {
			t.Fatalf("DialURL: %v", err)
		}
		defer l.Close()
		bind(t, l)
	})
	for _, tt := range []struct {
		name string
		o    giotls.ClientConfigOptions
		bad  giotls.CertificateFlags
	}{
		{"ldaps unknown CA", giotls.ClientConfigOptions{ServerName: "127.0.0.1", Database: otherCA(t)}, giotls.CertificateUnknownCA},
		// tls.DialWithDialer sets ServerName 127.0.0.1 on its clone; crypto/tls
		// sends no SNI for an address and reports none, so the bridge sees
		// no identity: rejected, never accepted unchecked.
		{"ldaps no ServerName", giotls.ClientConfigOptions{}, giotls.CertificateBadIdentity},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ldap.DialURL("ldaps://"+s.ldaps, ldap.DialWithTLSConfig(bridgeConfig(t, tt.o)))
			wantRejected(t, err, tt.bad)
		})
	}
}

// TestBridgeFTP: jlaffaye/ftp against vsftpd (require_ssl_reuse=YES) with a
// ClientConfig: twenty transfers in a row, every byte checked, and the
// server's log read for which data connections resumed.
//
// TLS 1.2: every data connection resumes (the ticket is reusable). TLS 1.3:
// downloads all resume, each reading the ticket the server sends after
// resuming; an upload's data connection resumes too, but jlaffaye/ftp closes
// it after writing without reading, and crypto/tls's Close does not drain:
// the server's NewSessionTicket is still unread in the socket, so the kernel
// answers the close with a reset, the server loses the end of the upload
// (vsftpd: errno 32, FAIL UPLOAD) and replies 426 (a race: sometimes the
// server has read everything first), and in every case the ticket is lost:
// the config's cache, seen from the client, stores one ticket per TLS 1.3
// download and none per upload.
// Tickets are single use, so once the control connection's two are spent
// by uploads, the next data connection cannot resume and vsftpd refuses it
// (522) and drops the session. The test asserts exactly that sequence, so
// that a change in either direction is seen.
func TestBridgeFTP(t *testing.T) {
	const resumed = "resumed"
	// mixed is n transfers, downloads and uploads in turn, each with suffix.
	mixed := func(n int, suffix string) []string {
		var k []string
		for i := range n {
			k = append(k, [2]string{"download", "upload"}[i%2]+suffix)
		}
		return k
	}
	twenty := func(s string) []string {
		var w []string
		for range 20 {
			w = append(w, s)
		}
		return w
	}
	tests := []struct {
		name     string
		maxTLS12 bool
		kinds    []string
		// kind, the sessions crypto/tls stored during it, and whether the
		// server's log shows it resumed and what it replied when it failed
		want []string
	}{
		// TLS 1.2: the resumed session is reused, no new ticket.
		{"TLS 1.2 mixed", true, mixed(20, ""), mixed(20, " +0")},
		{"TLS 1.3 downloads", false, twenty("download"), twenty("download +1")},
		{"TLS 1.3 mixed", false, mixed(20, ""), []string{"download +1", "upload +0", "download +1", "upload +0", "download not resumed, 522"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startVsftpd(t, tt.maxTLS12)
			cfg := bridgeConfig(t, giotls.ClientConfigOptions{ServerName: "localhost"})
			puts := &countingCache{ClientSessionCache: cfg.ClientSessionCache}
			cfg.ClientSessionCache = puts // what the client received, seen from its side
			c, err := ftp.Dial(s.addr, ftp.DialWithExplicitTLS(cfg), ftp.DialWithTimeout(20*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Quit()
			if err := c.Login("anonymous", "bridge@example.org"); err != nil {
				t.Fatal(err)
			}
			var got []string
			truncated := 0
			for i, kind := range tt.kinds {
				before, received := s.count(), puts.n.Load()
				err := bridgeTransfer(t, c, s, i, kind)
				after := s.count()
				what := fmt.Sprintf("%s +%d", kind, puts.n.Load()-received)
				if after[0]-before[0] != 1 {
					what = kind + " not " + resumed // (the tickets of its full handshake race the refusal)
				}
				var reply *textproto.Error
				if errors.As(err, &reply) && kind == "upload" && reply.Code == 426 {
					// The reset is a race (the server may read all the data
					// before it arrives): either way the upload resumed and
					// lost its ticket, and a failed upload is never silent.
					truncated++
				} else if errors.As(err, &reply) {
					what += fmt.Sprintf(", %d", reply.Code)
				} else if err != nil {
					what += ", " + err.Error()
				}
				got = append(got, what)
				if err != nil && after[1] > before[1] { // refused: vsftpd ends the session
					break
				}
			}
			t.Logf("%d upload(s) cut short by the reset (426)", truncated)
			if !slices.Equal(got, tt.want) {
				t.Errorf("transfers:\n%s\nwant:\n%s\nserver log:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), s.log())
			}
		})
	}
}

// countingCache counts the sessions crypto/tls stores.
type countingCache struct {
	tls.ClientSessionCache
	n atomic.Int32
}

func (c *countingCache) Put(key string, s *tls.ClientSessionState) {
	if s != nil {
		c.n.Add(1)
	}
	c.ClientSessionCache.Put(key, s)
}

// bridgeTransfer moves one file of a few hundred kilobytes and checks it
// byte for byte: a download of a file put in the server's root, or an
// upload read back from its disk.
func bridgeTransfer(t *testing.T, c *ftp.ServerConn, s *ftpServer, i int, kind string) error {
	data := make([]byte, 300<<10+i)
	rand.Read(data)
	name := fmt.Sprintf("bridge-%d.bin", i)
	if kind == "upload" {
		if err := c.Stor(s.upload+name, bytes.NewReader(data)); err != nil {
			return err
		}
		onDisk, err := os.ReadFile(filepath.Join(s.uploadDir, name))
		if err != nil || !bytes.Equal(onDisk, data) {
			t.Fatalf("upload %d: the server kept %d bytes of %d (%v)", i, len(onDisk), len(data), err)
		}
		return nil
	}
	if err := os.WriteFile(filepath.Join(s.root, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := c.Retr(name)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("download %d: %d bytes, not the %d on the server", i, len(got), len(data))
	}
	return nil
}
