package pkcs11

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// softhsmModule is Debian softhsm2's PKCS#11 library.
const softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

// token is a SoftHSM2 token the test initialised, in a directory of its
// own: SOFTHSM2_CONF points there while the test runs (so tests using it
// cannot be parallel), and the module reads it when NewCertificate loads it.
type token struct {
	label, pin string
	dir        string
}

// newToken initialises an empty SoftHSM2 token labelled label, user PIN
// pin.
func newToken(t *testing.T, label, pin string) *token {
	t.Helper()
	if _, err := os.Stat(softhsmModule); err != nil {
		t.Fatalf("SoftHSM2 is not installed (apt-get install -y softhsm2 opensc; scripts/test installs it): %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	tok := &token{label: label, pin: pin, dir: dir}
	run(t, "softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "so-"+pin, "--pin", pin)
	return tok
}

// run runs a program, failing the test with its output if it fails.
func run(t *testing.T, program string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("%s is not installed (apt-get install -y softhsm2 opensc; scripts/test installs them): %v", program, err)
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", program, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// importKey stores key on the token, private, as label with id (softhsm2-util
// imports a PKCS#8 file).
func (tok *token) importKey(t *testing.T, key crypto.Signer, label string, id []byte) {
	t.Helper()
	pemKey, err := testpki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tok.dir, label+".key")
	if err := os.WriteFile(file, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "softhsm2-util", "--import", file, "--token", tok.label, "--label", label, "--id", hex.EncodeToString(id), "--pin", tok.pin)
	os.Remove(file)
}

// writeCertificate stores cert on the token as label with id (pkcs11-tool,
// from opensc).
func (tok *token) writeCertificate(t *testing.T, cert *x509.Certificate, label string, id []byte) {
	t.Helper()
	file := filepath.Join(tok.dir, label+".der")
	if err := os.WriteFile(file, cert.Raw, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "pkcs11-tool", "--module", softhsmModule, "--token-label", tok.label, "--login", "--pin", tok.pin,
		"--write-object", file, "--type", "cert", "--label", label, "--id", hex.EncodeToString(id))
}

// clientIdentity is a client certificate issued by ca, for key, with its
// key and certificate (and ca's certificate, as its issuer) on tok under
// label and id 01.
func (tok *token) clientIdentity(t *testing.T, ca *testpki.CA, keyType testpki.KeyType, label string) *testpki.Leaf {
	t.Helper()
	key, err := testpki.NewKey(keyType)
	if err != nil {
		t.Fatal(err)
	}
	leaf := ca.MustLeaf(t, label, testpki.WithSigner(key), testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))
	tok.importKey(t, key, label, []byte{1})
	tok.writeCertificate(t, leaf.Cert, label, []byte{1})
	tok.writeCertificate(t, ca.Cert, label+"-ca", []byte{2})
	return leaf
}
