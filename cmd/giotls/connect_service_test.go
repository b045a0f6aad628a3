package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/dnstest"
	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// connect --service NAME[/PROTO] DOMAIN looks up the SRV targets, tries
// them in order, and checks the certificate against DOMAIN.
func TestConnectServiceSRV(t *testing.T) {
	p := newPKI(t, "SRV Root")
	cert, key := p.serverFiles(t, p.ca, "svc", testpki.DNSNames("svc.test"))
	_, up := sServer(t, cert, key)
	upPort := strings.TrimPrefix(up, "localhost:")
	downPort, down2Port := peer.FreePort(t), peer.FreePort(t)
	dns := dnstest.Start(t)
	dns.Add(t, "down.svc.test. 60 IN A 127.0.0.1", "up.svc.test. 60 IN A 127.0.0.1",
		fmt.Sprintf("_imaps._tcp.svc.test. 60 IN SRV 10 0 %d down.svc.test.", downPort),
		fmt.Sprintf("_imaps._tcp.svc.test. 60 IN SRV 20 0 %s up.svc.test.", upPort),
		fmt.Sprintf("_xmpp-client._tcp.svc.test. 60 IN SRV 10 0 %d down.svc.test.", downPort),
		fmt.Sprintf("_xmpp-client._tcp.svc.test. 60 IN SRV 20 0 %d down.svc.test.", down2Port),
		"_submissions._tcp.svc.test. 60 IN SRV 0 0 0 .")
	tests := []struct {
		name     string
		args     []string
		code     int
		address  string // in the JSON report
		identity string
		stderr   string
	}{
		{"SRV targets, the first down", []string{"--service", "imaps", "svc.test"}, 0, "up.svc.test:" + upPort, "_imaps._tcp.svc.test", ""},
		{"explicit protocol", []string{"--service", "imaps/tcp", "svc.test"}, 0, "up.svc.test:" + upPort, "_imaps._tcp.svc.test", ""},
		{"every target down", []string{"--service", "xmpp-client", "svc.test"}, 1, "", "",
			fmt.Sprintf("dial tcp 127.0.0.1:%d: connect: connection refused (tried before: down.svc.test:%d (dial tcp 127.0.0.1:%[2]d: connect: connection refused))", down2Port, downPort)},
		{"not available", []string{"--service", "submissions", "svc.test"}, 1, "", "", `its SRV record's target is "."`},
		{"an explicit port: no lookup", []string{"--service", "imaps", "--servername", "svc.test", "127.0.0.1:" + upPort}, 0, "127.0.0.1:" + upPort, "_imaps._tcp.svc.test", ""},
		{"bad service", []string{"--service", "/tcp", "svc.test"}, 2, "", "", "want NAME or NAME/PROTO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"connect", "--ca", p.caFile, "--json"}, tt.args...)
			r := runCLI(t, &cli{resolver: dns.Resolver("udp")}, "", args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d, want %d; stderr %q, want it to say %q", r.code, tt.code, r.stderr, tt.stderr)
			}
			if tt.code != 0 {
				return
			}
			j := parseJSON(t, r)
			if j.Address != tt.address || j.ServerIdentity != tt.identity || len(j.PeerCertificateErrors) != 0 {
				t.Errorf("address %q, identity %q, errors %v; want %q, %q, none", j.Address, j.ServerIdentity, j.PeerCertificateErrors, tt.address, tt.identity)
			}
		})
	}
}
