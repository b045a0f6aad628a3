package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/peer"
)

// TestConnectVersionCap: --tls-max and --tls-min bound what the handshake
// offers, as BackendOptions.MinVersion and MaxVersion do.
func TestConnectVersionCap(t *testing.T) {
	p := newPKI(t, "Version Root")
	cert, key := p.serverFiles(t, p.ca, "server")
	_, both := sServer(t, cert, key)
	_, only13 := sServer(t, cert, key, "-tls1_3")
	_, only12 := sServer(t, cert, key, "-tls1_2")
	for _, tc := range []struct {
		name    string
		flags   []string
		addr    string
		code    int
		version string // want in the JSON when code is 0
		stderr  string // want on stderr when code is not 0
	}{
		{"max 1.2 against both", []string{"--tls-max", "1.2"}, both, 0, "TLS 1.2", ""},
		{"max 1.3 against both", []string{"--tls-max", "1.3"}, both, 0, "TLS 1.3", ""},
		{"min 1.3 against both", []string{"--tls-min", "1.3"}, both, 0, "TLS 1.3", ""},
		{"max 1.2 against 1.3 only", []string{"--tls-max", "1.2"}, only13, 1, "", "protocol version"},
		{"min 1.3 against 1.2 only", []string{"--tls-min", "1.3"}, only12, 1, "", "protocol version"},
		{"min 1.2 max 1.2 against 1.2 only", []string{"--tls-min", "1.2", "--tls-max", "1.2"}, only12, 0, "TLS 1.2", ""},
		{"TLS1.2 spelling", []string{"--tls-max", "TLS1.2"}, both, 0, "TLS 1.2", ""},
		{"1.1 refused (RFC 8996)", []string{"--tls-min", "1.1"}, both, 2, "", "RFC 8996"},
		{"unknown version", []string{"--tls-max", "1.4"}, both, 2, "", `--tls-max "1.4": want 1.2 or 1.3`},
		{"min above max", []string{"--tls-min", "1.3", "--tls-max", "1.2"}, both, 2, "", "--tls-min 1.3 is above --tls-max 1.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"connect", "--ca", p.caFile, "--json"}, tc.flags...), tc.addr)
			r := run(t, "", args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.code == 0 {
				if j := parseJSON(t, r); j.ProtocolVersion != tc.version {
					t.Errorf("protocol_version %q, want %q", j.ProtocolVersion, tc.version)
				}
			} else if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.stderr)
			}
		})
	}
	// ftp takes the same flags, for the control and data connections.
	if r := run(t, "", "ftp", "--tls-max", "1.0", "ftp://localhost/"); r.code != 2 || !strings.Contains(r.stderr, "RFC 8996") {
		t.Errorf("ftp --tls-max 1.0: exit %d, stderr %q; want 2 and RFC 8996", r.code, r.stderr)
	}
	v := peer.StartVsftpd(t, peer.VsftpdOptions{CertFile: cert, KeyFile: key})
	r := run(t, "", "ftp", "--ca", p.caFile, "--tls-max", "1.2", "-v", "ftp://localhost:"+strconv.Itoa(v.Port)+"/")
	for _, want := range []string{"* control connection: TLS 1.2,", "TLS 1.2, session resumed (CopySessionState)"} {
		if r.code != 0 || !strings.Contains(r.stderr, want) {
			t.Error(v.Errorf("ftp --tls-max 1.2: exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr))
		}
	}
}
