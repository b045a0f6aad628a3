package pkcs11

import (
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

// TestPINFlagsAgainstGIO: GIO's own client (glib-networking, which finds
// SoftHSM2 through p11-kit) and giotls, given the same token and a wrong
// PIN then the right one, ask with the same flags and both authenticate
// to s_server.
func TestPINFlagsAgainstGIO(t *testing.T) {
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Fatalf("GIO reference not installed (apt-get install -y python3-gi glib-networking): %v", err)
	}
	cert, _, leaf := openTokenKey(t, testpki.ECDSAP256, "")
	srv := startSServer(t, "tls1_3", leaf.Issuer)

	out, err := exec.Command(python, "testdata/gio_pin.py", strconv.Itoa(srv.port),
		"pkcs11:token=giotls%20test;object=client;type=cert", "4321", "1234").CombinedOutput()
	if err != nil {
		t.Fatalf("GIO's client: %v\n%s", err, out)
	}
	var gio []giotls.PasswordFlags
	lines := strings.Split(string(out), "\n")
	for _, line := range lines {
		if f, ok := strings.CutPrefix(line, "ask "); ok {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("GIO's client printed %q", line)
			}
			gio = append(gio, giotls.PasswordFlags(n))
		}
	}
	if _, page, ok := strings.Cut(string(out), "\npage\n"); !ok || !authenticated(page, leaf.Cert) {
		t.Fatal(srv.proc.Errorf("GIO's client was not authenticated:\n%s", out))
	}

	// giotls, on the same token (GIO's right PIN reset its count).
	ask := &pins{answers: []string{"4321", "1234"}}
	c := srv.connect(t, cert, ask)
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatal(srv.proc.Errorf("Handshake: %v", err))
	}
	if page := srv.page(t, c); !authenticated(page, leaf.Cert) {
		t.Fatal(srv.proc.Errorf("giotls was not authenticated:\n%s", page))
	}
	if len(gio) != 2 || !slices.Equal(ask.flags, gio) {
		t.Errorf("giotls asked with %v, GIO with %v", ask.flags, gio)
	}
}
