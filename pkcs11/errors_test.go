package pkcs11

import (
	"context"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

// TestNewCertificateErrors: what cannot be found or loaded gives a
// *giotls.Error saying which, never a panic or a certificate.
func TestNewCertificateErrors(t *testing.T) {
	tok := newToken(t, "giotls test", "1234")
	ca := testpki.MustCA(t, "Token CA")
	tok.clientIdentity(t, ca, testpki.ECDSAP256, "client")
	// A key that is not the certificate's, under the certificate's label.
	other, err := testpki.NewKey(testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	tok.importKey(t, other, "other", []byte{9})
	rsaLeaf := ca.MustLeaf(t, "rsa cert", testpki.Key(testpki.RSA2048))
	tok.writeCertificate(t, rsaLeaf.Cert, "rsa cert", []byte{8})
	tok.writeCertificate(t, rsaLeaf.Cert, "twice", []byte{7})
	tok.writeCertificate(t, rsaLeaf.Cert, "twice", []byte{6})
	const cert = "pkcs11:token=giotls%20test;object=client;type=cert"
	for _, tc := range []struct {
		name, certURI, keyURI string
		module                string
		code                  giotls.ErrorCode
		message               string // at unlock, when NewCertificate succeeds
	}{
		{"no module", cert, "", "/nonexistent/libnothing.so", giotls.ErrorBadCertificate, "no PKCS#11 module at"},
		{"no module given", cert, "", "", giotls.ErrorBadCertificate, "Options.Module is empty"},
		{"module-name", cert + "?module-name=softhsm2", "", "", giotls.ErrorBadCertificate, "module-name"},
		{"two modules", cert + "?module-path=/a.so", "pkcs11:object=client?module-path=/b.so", softhsmModule, giotls.ErrorBadCertificate, "different modules"},
		{"bad URI", "pkcs11:token=a b", "", softhsmModule, giotls.ErrorBadCertificate, "bad certificate URI"},
		{"bad key URI", cert, "file:///key.pem", softhsmModule, giotls.ErrorBadCertificate, "bad private key URI"},
		{"no token", "pkcs11:token=absent;object=client", "", softhsmModule, giotls.ErrorBadCertificate, "no token"},
		{"other serial", "pkcs11:token=giotls%20test;serial=0;object=client", "", softhsmModule, giotls.ErrorBadCertificate, "no token"},
		{"unknown attribute", cert + ";x-vendor=1", "", softhsmModule, giotls.ErrorBadCertificate, `"x-vendor" is not supported`},
		{"library version", cert + ";library-version=999", "", softhsmModule, giotls.ErrorBadCertificate, "library attributes"},
		{"no object", "pkcs11:token=giotls%20test;object=absent", "", softhsmModule, giotls.ErrorBadCertificate, "no certificate"},
		{"several objects", "pkcs11:token=giotls%20test;object=twice", "", softhsmModule, giotls.ErrorBadCertificate, "several certificates"},
		{"key type in cert URI", "pkcs11:token=giotls%20test;object=client;type=private", "", softhsmModule, giotls.ErrorBadCertificate, `type "private"`},
		{"cert type in key URI", cert, cert, softhsmModule, giotls.ErrorBadCertificate, `type "cert"`},
		{"no key", "pkcs11:token=giotls%20test;object=rsa%20cert", "", softhsmModule, giotls.ErrorBadCertificate, "no private key"},
		{"several keys", cert, "pkcs11:token=giotls%20test", softhsmModule, giotls.ErrorBadCertificate, "several private keys"},
		{"another key", cert, "pkcs11:token=giotls%20test;object=other", softhsmModule, giotls.ErrorBadCertificate, "does not match the certificate"},
		{"wrong key type", "pkcs11:token=giotls%20test;object=rsa%20cert", "pkcs11:token=giotls%20test;object=client", softhsmModule, giotls.ErrorBadCertificate, "not an RSA key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCertificate(context.Background(), tc.certURI, tc.keyURI, &Options{Module: tc.module})
			if err == nil {
				// Found: what is wrong shows when the key is looked for.
				k, _ := keyOf(c)
				err = k.Unlock(context.Background(), &pins{answers: []string{"1234"}})
				if cerr := CloseCertificate(c); cerr != nil {
					t.Errorf("CloseCertificate: %v", cerr)
				}
			}
			var ge *giotls.Error
			if !errors.As(err, &ge) || ge.Code != tc.code || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error = %v, want a %v *giotls.Error saying %q", err, tc.code, tc.message)
			}
		})
	}
	modules.mu.Lock()
	defer modules.mu.Unlock()
	if len(modules.m) != 0 {
		t.Errorf("%d modules are still loaded after every certificate was closed", len(modules.m))
	}
}

// TestKeyConcurrentAndClosed: many goroutines sign at once on one session
// (serialised by the Key); after CloseCertificate the key refuses to sign
// and the module is unloaded.
func TestKeyConcurrentAndClosed(t *testing.T) {
	cert, key, _ := openTokenKey(t, testpki.ECDSAP256, "")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			if err := key.Unlock(context.Background(), &pins{answers: []string{"1234"}}); err != nil {
				errs <- err
				return
			}
			for range 10 {
				if _, err := key.Sign(nil, hash(0, nil)[:32], noHash{32}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := CloseCertificate(cert); err != nil {
		t.Fatal(err)
	}
	if _, err := key.Sign(nil, make([]byte, 32), noHash{32}); !errors.Is(err, errClosed) {
		t.Errorf("Sign after Close = %v, want the closed error", err)
	}
	if err := key.Unlock(context.Background(), nil); !errors.Is(err, errClosed) {
		t.Errorf("Unlock after Close = %v, want the closed error", err)
	}
	modules.mu.Lock()
	defer modules.mu.Unlock()
	if len(modules.m) != 0 {
		t.Errorf("the module is still loaded after its last key was closed")
	}
}

// noHash signs a raw 32-byte digest (crypto.Hash 0: the ECDSA input as it is).
type noHash struct{ size int }

func (noHash) HashFunc() crypto.Hash { return 0 }

// TestKeyClosedWithCertificate: a certificate dropped without
// CloseCertificate has its key closed and its module unloaded when it is
// collected.
func TestKeyClosedWithCertificate(t *testing.T) {
	tok := newToken(t, "giotls test", "1234")
	tok.clientIdentity(t, testpki.MustCA(t, "Token CA"), testpki.ECDSAP256, "client")
	func() {
		if _, err := NewCertificate(context.Background(), "pkcs11:token=giotls%20test;object=client", "", &Options{Module: softhsmModule}); err != nil {
			t.Fatal(err)
		}
	}()
	for range 100 {
		runtime.GC()
		modules.mu.Lock()
		n := len(modules.m)
		modules.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the module is still loaded after its only certificate was collected")
}

// TestURIMatchesToken: every path attribute that describes the library,
// slot and token selects it when it has the token's value (RFC 7512,
// section 2.3), and a pin-source given as a file:// URI is read.
func TestURIMatchesToken(t *testing.T) {
	tok := newToken(t, "giotls test", "1234")
	tok.clientIdentity(t, testpki.MustCA(t, "Token CA"), testpki.ECDSAP256, "client")
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte("1234"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The library's version is the package's major.minor ("2.6.1": 2.6).
	version := strings.Join(strings.SplitN(strings.TrimSpace(run(t, "softhsm2-util", "--version")), ".", 3)[:2], ".")
	for _, path := range []string{
		"library-manufacturer=SoftHSM;library-version=" + version,
		"library-description=Implementation%20of%20PKCS11",
		"manufacturer=SoftHSM%20project;model=SoftHSM%20v2",
		"slot-manufacturer=SoftHSM%20project",
	} {
		t.Run(path, func(t *testing.T) {
			c, err := NewCertificate(context.Background(), "pkcs11:token=giotls%20test;object=client;"+path+"?pin-source=file://"+pinFile, "", &Options{Module: softhsmModule})
			if err != nil {
				t.Fatal(err)
			}
			defer CloseCertificate(c)
			k, _ := keyOf(c)
			if err := k.Unlock(context.Background(), nil); err != nil {
				t.Fatalf("Unlock with the pin-source: %v", err)
			}
		})
	}
}
