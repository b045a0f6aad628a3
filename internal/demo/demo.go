// Package demo is `giotls demo`: in-process loopback servers with a
// throwaway CA, and a walk through what giotls promises, each step checked.
package demo

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

// Run runs every step, printing a short report of each to w, and returns an
// error naming the first step that did not behave as promised.
func Run(ctx context.Context, w io.Writer) error {
	e, err := newEnv()
	if err != nil {
		return fmt.Errorf("setting up the demo PKI: %w", err)
	}
	defer e.close()
	steps := []struct {
		name string
		run  func(context.Context, *env, io.Writer) error
	}{
		{"verified handshake", verifiedHandshake},
		{"certificate problems", certificateProblems},
	}
	for i, s := range steps {
		fmt.Fprintf(w, "\n== %d. %s\n", i+1, s.name)
		if err := s.run(ctx, e, w); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.name, err)
		}
		fmt.Fprintf(w, "   ok\n")
	}
	fmt.Fprintf(w, "\nevery step behaved as giotls promises\n")
	return nil
}

// env is the demo's throwaway CA, its database and the servers started.
type env struct {
	ca  *testpki.CA
	db  giotls.Database
	dir string
	lns []net.Listener
}

func newEnv() (*env, error) {
	ca, err := testpki.NewCA("giotls demo root")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "giotls-demo-")
	if err != nil {
		return nil, err
	}
	anchors := filepath.Join(dir, "anchors.pem")
	if err := os.WriteFile(anchors, ca.CertPEM(), 0o600); err != nil {
		return nil, err
	}
	db, err := giotls.NewFileDatabase(anchors)
	if err != nil {
		return nil, err
	}
	return &env{ca: ca, db: db, dir: dir}, nil
}

func (e *env) close() {
	for _, ln := range e.lns {
		ln.Close()
	}
	os.RemoveAll(e.dir)
}

// serve starts a loopback TLS server presenting cert that answers every
// connection with a line.
func (e *env) serve(cert tls.Certificate) (uint16, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	e.lns = append(e.lns, ln)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				tc := tls.Server(c, cfg)
				defer tc.Close()
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				io.WriteString(tc, "hello from the demo server\n")
			}()
		}
	}()
	return uint16(ln.Addr().(*net.TCPAddr).Port), nil
}

// connect dials port and wraps the connection for identity host:port.
func (e *env) connect(ctx context.Context, host string, port uint16) (giotls.ClientConnection, error) {
	var d net.Dialer
	base, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	c, err := giotls.NewClientConnection(base, giotls.NewNetworkAddress(host, port))
	if err != nil {
		base.Close()
		return nil, err
	}
	c.SetDatabase(e.db)
	return c, nil
}

func verifiedHandshake(ctx context.Context, e *env, w io.Writer) error {
	leaf, err := e.ca.NewLeaf("localhost", testpki.DNSNames("localhost"))
	if err != nil {
		return err
	}
	port, err := e.serve(leaf.TLSCertificate())
	if err != nil {
		return err
	}
	c, err := e.connect(ctx, "localhost", port)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Handshake(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "   %s, %s, peer %q, problems: %v\n", c.ProtocolVersion(), c.CiphersuiteName(),
		c.PeerCertificate().SubjectName(), c.PeerCertificateErrors())
	if c.PeerCertificateErrors() != 0 {
		return fmt.Errorf("a good certificate was reported with %v", c.PeerCertificateErrors())
	}
	line, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   server said: %q\n", line)
	return nil
}

func certificateProblems(ctx context.Context, e *env, w io.Writer) error {
	stranger, err := testpki.NewCA("a CA nobody trusts")
	if err != nil {
		return err
	}
	bad, err := stranger.NewLeaf("elsewhere", testpki.DNSNames("elsewhere.example"), testpki.Expired())
	if err != nil {
		return err
	}
	port, err := e.serve(bad.TLSCertificate())
	if err != nil {
		return err
	}
	want := giotls.CertificateUnknownCA | giotls.CertificateBadIdentity | giotls.CertificateExpired

	c, err := e.connect(ctx, "localhost", port)
	if err != nil {
		return err
	}
	err = c.Handshake(ctx)
	c.Close()
	fmt.Fprintf(w, "   expired, wrong host, unknown CA: %v\n", err)
	if !errors.Is(err, giotls.ErrBadCertificate) || c.PeerCertificateErrors() != want {
		return fmt.Errorf("want ErrBadCertificate with %v, got %v with %v", want, err, c.PeerCertificateErrors())
	}

	c, err = e.connect(ctx, "localhost", port)
	if err != nil {
		return err
	}
	defer c.Close()
	c.OnAcceptCertificate(func(peer *giotls.Certificate, errs giotls.CertificateFlags) bool {
		fmt.Fprintf(w, "   accept-certificate asked about %q with %v: accepting\n", peer.SubjectName(), errs)
		return errs == want
	})
	if err := c.Handshake(ctx); err != nil {
		return fmt.Errorf("accepted certificate: %w", err)
	}
	fmt.Fprintf(w, "   accepted by the handler: %s, problems still reported: %v\n", c.ProtocolVersion(), c.PeerCertificateErrors())
	return nil
}
