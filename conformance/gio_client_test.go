package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/peer"
)

// python is the interpreter with python3-gi; glib-networking's GnuTLS
// backend must be installed for Gio.TlsClientConnection to work.
const python = "/usr/bin/python3"

// gioScenario is the JSON gio_client.py reads.
type gioScenario struct {
	CAFile             string        `json:"ca_file"`
	CertFile           string        `json:"cert_file,omitempty"`
	KeyFile            string        `json:"key_file,omitempty"`
	ALPN               []string      `json:"alpn,omitempty"`
	RequireCloseNotify bool          `json:"require_close_notify"`
	Accept             string        `json:"accept"`
	Interaction        bool          `json:"interaction,omitempty"`
	Bindings           bool          `json:"bindings,omitempty"`
	Priority           string        `json:"priority,omitempty"`
	Connections        []gioConnSpec `json:"connections,omitempty"`
	FTP                *gioFTPSpec   `json:"ftp,omitempty"`
}

type gioConnSpec struct {
	Address  string       `json:"address"`
	Identity IdentitySpec `json:"identity"`
	CopyFrom int          `json:"copy_from"` // 0-based; -1: none
	Send     string       `json:"send,omitempty"`
	Read     string       `json:"read"`
	KeepOpen bool         `json:"keep_open,omitempty"`
	NoCert   bool         `json:"no_cert,omitempty"`
}

type gioFTPSpec struct {
	Address     string       `json:"address"`
	Identity    IdentitySpec `json:"identity"`
	CopySession bool         `json:"copy_session"`
}

// runGIO runs the scenario through GIO, in a process of its own (GIO's
// session cache is process-wide, so each scenario starts with an empty one).
func runGIO(t *testing.T, sc *Scenario, addrs []string) ClientResult {
	t.Helper()
	py := peer.Need(t, python)
	in := gioScenario{
		CAFile:             sc.Client.CAFile,
		CertFile:           sc.Client.CertFile,
		KeyFile:            sc.Client.KeyFile,
		ALPN:               sc.Client.ALPN,
		RequireCloseNotify: sc.Client.RequireCloseNotify,
		Accept:             sc.Client.Accept,
		Interaction:        sc.Client.Interaction,
		Bindings:           sc.Client.Bindings,
		Priority:           gnutlsPriority(sc.Client.MinVersion, sc.Client.MaxVersion),
	}
	if sc.FTP != nil {
		in.FTP = &gioFTPSpec{Address: addrs[0], Identity: resolvePort(sc.FTP.Identity, addrs, 0), CopySession: sc.FTP.CopySession}
	}
	for _, c := range sc.Conns {
		addr := addrs[c.Listener]
		in.Connections = append(in.Connections, gioConnSpec{
			Address:  addr,
			Identity: resolvePort(c.Identity, addrs, c.Listener),
			CopyFrom: c.CopyFrom - 1,
			Send:     c.Send,
			Read:     c.Read,
			KeepOpen: c.KeepOpen,
			NoCert:   c.NoCert,
		})
	}
	input, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "gio_client.py")
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("GIO reference client: %v\ninput: %s\nstdout: %s\nstderr: %s", err, input, stdout.Bytes(), stderr.Bytes())
	}
	if os.Getenv("CONFORMANCE_DUMP") != "" {
		t.Logf("GIO printed: %s", stdout.Bytes())
	}
	var out ClientResult
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("GIO reference client printed %q: %v\nstderr: %s", stdout.Bytes(), err, stderr.Bytes())
	}
	return out
}

// gnutlsPriority is the GnuTLS priority string offering the versions from
// lo to hi (zero: TLS 1.2 and TLS 1.3), or "" for GnuTLS's default.
func gnutlsPriority(lo, hi giotls.ProtocolVersion) string {
	if lo == 0 && hi == 0 {
		return ""
	}
	if lo == 0 {
		lo = giotls.ProtocolVersionTLS12
	}
	if hi == 0 {
		hi = giotls.ProtocolVersionTLS13
	}
	p := "NORMAL:-VERS-ALL"
	for v, name := range map[giotls.ProtocolVersion]string{
		giotls.ProtocolVersionTLS12: "+VERS-TLS1.2", giotls.ProtocolVersionTLS13: "+VERS-TLS1.3",
	} {
		if v >= lo && v <= hi {
			p += ":" + name
		}
	}
	return p
}

// resolvePort fills in the port of the listener connected to (addrs[i])
// when the identity has none, or the first listener's when it says -1.
func resolvePort(id IdentitySpec, addrs []string, i int) IdentitySpec {
	if id.Kind == "service" || id.Kind == "none" {
		return id
	}
	switch id.Port {
	case 0:
		id.Port = portOf(addrs[i])
	case -1:
		id.Port = portOf(addrs[0])
	}
	return id
}

func portOf(addr string) int {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			p, _ := strconv.Atoi(addr[i+1:])
			return p
		}
	}
	return 0
}
