package ftp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// vsftpdCase is one way of running vsftpd: its TLS version and whether TLS
// is implicit.
type vsftpdCase struct {
	name     string
	opts     peer.VsftpdOptions
	version  giotls.ProtocolVersion
	implicit bool
}

var vsftpdCases = []vsftpdCase{
	{"explicit/default version", peer.VsftpdOptions{}, giotls.ProtocolVersionTLS13, false},
	{"explicit/TLS1.2", peer.VsftpdOptions{MaxTLS12: true}, giotls.ProtocolVersionTLS12, false},
	{"implicit/default version", peer.VsftpdOptions{Implicit: true}, giotls.ProtocolVersionTLS13, true},
}

// ftpServer is a vsftpd with a throwaway CA and files to download.
type ftpServer struct {
	*peer.Vsftpd
	db     giotls.Database
	text   []byte
	binary []byte
}

func startServer(t *testing.T, o peer.VsftpdOptions) *ftpServer {
	t.Helper()
	ca := testpki.MustCA(t, "FTP Test Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	cert, key, _, err := leaf.WriteFiles(t.TempDir(), "leaf")
	if err != nil {
		t.Fatal(err)
	}
	o.CertFile, o.KeyFile = cert, key
	v := peer.StartVsftpd(t, o)
	s := &ftpServer{Vsftpd: v, db: giotls.NewDatabase([]*x509.Certificate{ca.Cert}), text: []byte("hello from vsftpd\r\nsecond line\n")}
	s.binary = make([]byte, 3<<20+17)
	rand.Read(s.binary)
	for name, data := range map[string][]byte{"hello.txt": s.text, "blob.bin": s.binary} {
		if err := os.WriteFile(filepath.Join(v.Root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// dial logs in as anonymous; every connection comes from a fresh backend,
// so that nothing but CopySessionState can make a data connection resume.
func (s *ftpServer) dial(t *testing.T, implicit bool, trace *bytes.Buffer) *Client {
	t.Helper()
	return s.dialWrapped(t, implicit, trace, nil)
}

// dialWrapped is dial with every TLS connection's base connection, control
// and data, passed through wrap first (nil: none).
func (s *ftpServer) dialWrapped(t *testing.T, implicit bool, trace *bytes.Buffer, wrap func(net.Conn) net.Conn) *Client {
	t.Helper()
	backend := giotls.NewBackend(giotls.BackendOptions{SessionCache: giotls.NewSessionCache(giotls.SessionCacheOptions{})})
	cfg := Config{
		Addr:       s.Addr,
		ServerName: "localhost",
		Implicit:   implicit,
		Timeout:    20 * time.Second,
		TLS: func(base net.Conn, id giotls.Connectable) (*giotls.ClientConnection, error) {
			if wrap != nil {
				base = wrap(base)
			}
			c, err := backend.NewClientConnection(base, id)
			if err != nil {
				return nil, err
			}
			c.SetDatabase(s.db)
			return c, nil
		},
	}
	if trace != nil {
		cfg.Trace = trace
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(s.Errorf("Dial: %v", err))
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestVsftpd(t *testing.T) {
	for _, tc := range vsftpdCases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.opts)
			var trace bytes.Buffer
			c := s.dial(t, tc.implicit, &trace)
			ctx := context.Background()
			if v := c.Control().ProtocolVersion(); v != tc.version {
				t.Errorf("control connection: %v, want %v", v, tc.version)
			}

			checkData := func(what string) {
				t.Helper()
				d := c.LastData()
				if !d.CopiedSession || !d.Resumed || d.Version != tc.version {
					t.Errorf("%s: data connection %+v; want the session copied and resumed on %v", what, d, tc.version)
				}
			}

			var list bytes.Buffer
			if err := c.List(ctx, "", &list); err != nil {
				t.Fatalf("List: %v\n%s", err, trace.String())
			}
			for _, name := range []string{"hello.txt", "blob.bin", "upload"} {
				if !strings.Contains(list.String(), name) {
					t.Errorf("listing lacks %s:\n%s", name, list.String())
				}
			}
			checkData("LIST")

			var text bytes.Buffer
			n, err := c.Retrieve(ctx, "hello.txt", &text)
			if err != nil || n != int64(len(s.text)) || !bytes.Equal(text.Bytes(), s.text) {
				t.Fatalf("RETR hello.txt = %d bytes %q, %v; want %q", n, text.Bytes(), err, s.text)
			}
			checkData("RETR hello.txt")

			if size := c.Size(ctx, "blob.bin"); size != int64(len(s.binary)) {
				t.Errorf("SIZE blob.bin = %d, want %d", size, len(s.binary))
			}
			var blob bytes.Buffer
			n, err = c.Retrieve(ctx, "blob.bin", &blob)
			if err != nil || n != int64(len(s.binary)) || !bytes.Equal(blob.Bytes(), s.binary) {
				t.Fatalf("RETR blob.bin = %d bytes (equal: %v), %v; want %d bytes", n, bytes.Equal(blob.Bytes(), s.binary), err, len(s.binary))
			}
			checkData("RETR blob.bin")

			upload := append([]byte("uploaded through giotls\n"), s.binary[:100000]...)
			n, err = c.Store(ctx, "upload/up.bin", bytes.NewReader(upload))
			if err != nil || n != int64(len(upload)) {
				t.Fatalf("STOR = %d, %v; want %d bytes", n, err, len(upload))
			}
			checkData("STOR")
			got, err := os.ReadFile(filepath.Join(s.Upload, "up.bin"))
			if err != nil || !bytes.Equal(got, upload) {
				t.Errorf("the server stored %d bytes (equal: %v), %v; want %d", len(got), bytes.Equal(got, upload), err, len(upload))
			}

			var missing bytes.Buffer
			_, err = c.Retrieve(ctx, "no-such-file", &missing)
			var fe *Error
			if !errors.As(err, &fe) || fe.Code != 550 {
				t.Errorf("RETR no-such-file = %v; want a 550 *Error", err)
			}
			if err := c.Quit(ctx); err != nil {
				t.Errorf("Quit: %v", err)
			}
		})
	}
}

// TestVsftpdRequiresSessionReuse proves that CopySessionState is what makes
// the data connections work: without it, vsftpd (require_ssl_reuse=YES)
// refuses the data connection with 522.
func TestVsftpdRequiresSessionReuse(t *testing.T) {
	for _, tc := range vsftpdCases[:2] {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.opts)
			c := s.dial(t, tc.implicit, nil)
			c.noCopySession = true
			var out bytes.Buffer
			_, err := c.Retrieve(context.Background(), "hello.txt", &out)
			var fe *Error
			if !errors.As(err, &fe) || fe.Code != 522 || !strings.Contains(fe.Message, "session reuse required") {
				t.Fatalf("RETR without CopySessionState = %v; want 522 session reuse required", err)
			}
			var ge *giotls.Error
			if !errors.As(err, &ge) || !strings.Contains(err.Error(), "requires TLS session reuse on data connections") ||
				!strings.Contains(err.Error(), "session copying is off") {
				t.Errorf("RETR without CopySessionState = %v; want a *giotls.Error explaining the refusal", err)
			}
			if d := c.LastData(); d.CopiedSession || d.Resumed {
				t.Errorf("data connection %+v; want neither copied nor resumed", d)
			}
			if out.Len() != 0 {
				t.Errorf("got %q from a refused data connection", out.Bytes())
			}
		})
	}
}

// TestVsftpdUploads is issue 14's data loss: after a resumed TLS 1.3
// handshake vsftpd sends a session ticket on the data connection, which an
// upload never reads; closing the socket with it unread sent a reset, and
// vsftpd kept a partial file ("426 Failure reading network stream"). Every
// upload must reach the server's disk whole, each one proved by the 226.
func TestVsftpdUploads(t *testing.T) {
	const uploads, size = 10, 3 << 20
	for _, tc := range vsftpdCases[:2] {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.opts)
			c := s.dial(t, tc.implicit, nil)
			ctx := context.Background()
			for i := range uploads {
				data := make([]byte, size+i)
				rand.Read(data)
				name := fmt.Sprintf("upload/big-%d.bin", i)
				n, err := c.Store(ctx, name, bytes.NewReader(data))
				if err != nil || n != int64(len(data)) {
					t.Errorf("upload %d: STOR = %d, %v; want %d bytes", i, n, err, len(data))
					continue
				}
				if d := c.LastData(); !d.Resumed || d.Version != tc.version {
					t.Errorf("upload %d: data connection %+v; want it resumed on %v", i, d, tc.version)
				}
				got, err := os.ReadFile(filepath.Join(s.Root, name))
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("upload %d: the server stored %d of %d bytes (equal: %v), %v", i, len(got), len(data), bytes.Equal(got, data), err)
				}
			}
			if err := c.Quit(ctx); err != nil {
				t.Errorf("Quit: %v", err)
			}
		})
	}
}

// TestVsftpdSessionIDOnly: vsftpd on TLS 1.2 issuing no session tickets
// resumes by session ID only, which crypto/tls cannot do, so it refuses
// every data connection (522). The error says why and what the server's
// operator can change.
func TestVsftpdSessionIDOnly(t *testing.T) {
	s := startServer(t, peer.VsftpdOptions{MaxTLS12: true, NoSessionTickets: true})
	c := s.dial(t, false, nil)
	var out bytes.Buffer
	_, err := c.Retrieve(context.Background(), "hello.txt", &out)
	var fe *Error
	var ge *giotls.Error
	if !errors.As(err, &fe) || fe.Code != 522 || !errors.As(err, &ge) {
		t.Fatalf("RETR = %v; want vsftpd's 522 inside a *giotls.Error", err)
	}
	for _, w := range []string{"requires TLS session reuse on data connections", "did not resume the control connection's TLS 1.2 session",
		"resumes TLS 1.2 only with session tickets", "TLSSessionTickets on", "or TLS 1.3"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\nlacks %q", err, w)
		}
	}
	if d := c.LastData(); d.Resumed || !d.CopiedSession || d.Version != giotls.ProtocolVersionTLS12 {
		t.Errorf("data connection %+v; want TLS 1.2, the session copied, not resumed", d)
	}
	if out.Len() != 0 {
		t.Errorf("got %q from a refused data connection", out.Bytes())
	}
}
