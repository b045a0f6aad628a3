package main

import (
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/giotls/giotls/internal/loopback"
	"github.com/giotls/giotls/internal/testpki"
)

// tlsServer serves crypto/tls with cfg on loopback and runs handle on each
// connection after its handshake; it returns localhost:PORT.
func tlsServer(t *testing.T, cfg *tls.Config, handle func(*tls.Conn)) string {
	t.Helper()
	ln := loopback.Serve(t, "tcp4", func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil {
			return
		}
		handle(tc)
		tc.Close()
	})
	return "localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// waitForClose reads until the client closes.
func waitForClose(tc *tls.Conn) { io.Copy(io.Discard, tc) }

// TestConnectJSONResume: with --json --resume N the first connection's
// report stays whole (a resumed TLS 1.3 handshake has no CertificateRequest,
// RFC 8446, section 4.3.2, so the last connection alone would say no
// certificate was requested) and each reconnection has a report of its own.
func TestConnectJSONResume(t *testing.T) {
	p := newPKI(t, "Resume Root")
	leaf := p.ca.MustLeaf(t, "server", testpki.DNSNames("localhost"))
	clients := testpki.MustCA(t, "Client Root")
	alice := clients.MustLeaf(t, "alice")
	aliceCert, aliceKey, _, err := alice.WriteFiles(p.dir, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		name := map[uint16]string{tls.VersionTLS12: "TLS 1.2", tls.VersionTLS13: "TLS 1.3"}[version]
		t.Run(name, func(t *testing.T) {
			addr := tlsServer(t, &tls.Config{
				Certificates: []tls.Certificate{leaf.TLSCertificate()},
				ClientAuth:   tls.VerifyClientCertIfGiven, ClientCAs: clients.Pool(),
				MinVersion: version, MaxVersion: version,
			}, waitForClose)
			r := run(t, "", "connect", "--ca", p.caFile, "--cert", aliceCert, "--key", aliceKey, "--json", "--resume", "2", addr)
			j := parseJSON(t, r)
			if r.code != 0 || j.ProtocolVersion != name || !j.CertificateRequested || strings.Join(j.AcceptedCAs, "|") != "CN=Client Root" ||
				j.ClientCertificate != "CN=alice" || j.SessionResumed || j.PeerCertificate == nil || j.PeerCertificate.Subject != "CN=server" {
				t.Errorf("first connection: exit %d, %s, requested %v, accepted_cas %q, client_certificate %q, resumed %v, peer %+v; want 0, %s, true, [CN=Client Root], CN=alice, false, CN=server\n%s",
					r.code, j.ProtocolVersion, j.CertificateRequested, j.AcceptedCAs, j.ClientCertificate, j.SessionResumed, j.PeerCertificate, name, r.stderr)
			}
			if len(j.Resumptions) != 3 || j.Resumptions[0] || !j.Resumptions[1] || !j.Resumptions[2] {
				t.Errorf("resumptions %v, want [false true true]", j.Resumptions)
			}
			if len(j.Reconnections) != 2 {
				t.Fatalf("%d reconnections reported, want 2:\n%s", len(j.Reconnections), r.stdout)
			}
			for i, rc := range j.Reconnections {
				if !rc.SessionResumed || rc.ProtocolVersion != name || rc.PeerCertificate == nil || rc.PeerCertificate.Subject != "CN=server" ||
					len(rc.PeerCertificateErrors) != 0 || rc.Error != "" || len(rc.Reconnections) != 0 {
					t.Errorf("reconnection %d: %+v; want resumed, %s, peer CN=server, no errors, no nested reconnections", i+1, rc, name)
				}
			}
		})
	}
}

// TestConnectJSONReconnectionFails: a failed reconnection is reported in
// its own report, and the first connection's stays whole.
func TestConnectJSONReconnectionFails(t *testing.T) {
	p := newPKI(t, "Refusing Root")
	leaf := p.ca.MustLeaf(t, "server", testpki.DNSNames("localhost"))
	cfg := &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}
	var n atomic.Int32
	ln := loopback.Serve(t, "tcp4", func(c net.Conn) {
		if n.Add(1) > 1 {
			return // the reconnection: closed before the handshake
		}
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			waitForClose(tc)
		}
	})
	addr := "localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	r := run(t, "", "connect", "--ca", p.caFile, "--json", "--resume", "1", addr)
	j := parseJSON(t, r)
	if r.code != 1 || j.ProtocolVersion != "TLS 1.3" || j.PeerCertificate == nil || !strings.HasPrefix(j.Error, "reconnection 1: ") {
		t.Errorf("exit %d, first connection %s, peer %v, error %q; want 1, TLS 1.3, a peer, reconnection 1: ...", r.code, j.ProtocolVersion, j.PeerCertificate, j.Error)
	}
	if len(j.Reconnections) != 1 || j.Reconnections[0].Error == "" || j.Reconnections[0].PeerCertificate != nil {
		t.Errorf("reconnections %+v; want one, failed, without a peer certificate", j.Reconnections)
	}
}
