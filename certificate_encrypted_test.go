package giotls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/peer"
	"github.com/giotls/giotls/internal/testpki"
)

// opensslOutput runs openssl with args and returns what it wrote to stdout.
func opensslOutput(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(peer.Need(t, "openssl"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// writeKeyFile writes key unencrypted in PEM (PKCS#8) for openssl to read.
func writeKeyFile(t *testing.T, dir, name string, key crypto.PrivateKey) string {
	t.Helper()
	b, err := testpki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// passwords is an Interaction answering AskPassword with answers in turn
// (then InteractionUnhandled), recording each request's flags.
type passwords struct {
	mu      sync.Mutex
	answers []string
	flags   []PasswordFlags
	descs   []string
	warns   []string
}

func (p *passwords) AskPassword(ctx context.Context, pw *Password) (InteractionResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flags = append(p.flags, pw.Flags)
	p.descs = append(p.descs, pw.Description)
	p.warns = append(p.warns, pw.Warning)
	if len(p.flags) > len(p.answers) {
		return InteractionUnhandled, nil
	}
	pw.SetValue([]byte(p.answers[len(p.flags)-1]))
	return InteractionHandled, nil
}

func (p *passwords) RequestCertificate(context.Context, *ClientConnection) (InteractionResult, error) {
	return InteractionUnhandled, nil
}

func (p *passwords) asked() []PasswordFlags {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.flags)
}

func samePublicKey(c *Certificate, key crypto.Signer) bool {
	k, ok := c.privateKey().(crypto.Signer)
	return ok && key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public())
}

// TestEncryptedKeysFromOpenSSL decrypts the encrypted keys openssl writes,
// PKCS#8 (PBES2) and legacy PEM, with the right password, and refuses a
// wrong or empty one with ErrBadCertificatePassword.
func TestEncryptedKeysFromOpenSSL(t *testing.T) {
	root := testpki.MustCA(t, "Encrypted Keys Root")
	ecLeaf := root.MustLeaf(t, "ec client")
	rsaLeaf := root.MustLeaf(t, "rsa client", testpki.Key(testpki.RSA2048))
	dir := t.TempDir()
	ecKey := writeKeyFile(t, dir, "ec.key", ecLeaf.Key)
	rsaKey := writeKeyFile(t, dir, "rsa.key", rsaLeaf.Key)
	const pass = "pass:correct horse"
	cases := []struct {
		name string
		leaf *testpki.Leaf
		args []string
		typ  string // the PEM block type openssl writes
	}{
		{"pkcs8 default (AES-256-CBC, HMAC-SHA256)", ecLeaf, []string{"pkcs8", "-topk8", "-in", ecKey, "-passout", pass}, "ENCRYPTED PRIVATE KEY"},
		{"pkcs8 AES-128-CBC, HMAC-SHA1", ecLeaf, []string{"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1", "-in", ecKey, "-passout", pass}, "ENCRYPTED PRIVATE KEY"},
		{"pkcs8 AES-192-CBC, HMAC-SHA512", ecLeaf, []string{"pkcs8", "-topk8", "-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512", "-in", ecKey, "-passout", pass}, "ENCRYPTED PRIVATE KEY"},
		{"pkcs8 3DES, many iterations", rsaLeaf, []string{"pkcs8", "-topk8", "-v2", "des3", "-iter", "20000", "-in", rsaKey, "-passout", pass}, "ENCRYPTED PRIVATE KEY"},
		{"pkey AES-256-CBC", rsaLeaf, []string{"pkey", "-aes-256-cbc", "-in", rsaKey, "-passout", pass}, "ENCRYPTED PRIVATE KEY"},
		{"legacy EC AES-128", ecLeaf, []string{"ec", "-aes128", "-in", ecKey, "-passout", pass}, "EC PRIVATE KEY"},
		{"legacy RSA AES-256", rsaLeaf, []string{"rsa", "-traditional", "-aes256", "-in", rsaKey, "-passout", pass}, "RSA PRIVATE KEY"},
		{"legacy RSA 3DES", rsaLeaf, []string{"rsa", "-traditional", "-des3", "-in", rsaKey, "-passout", pass}, "RSA PRIVATE KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			encrypted := opensslOutput(t, tc.args...)
			if b, _ := pem.Decode(encrypted); b == nil || b.Type != tc.typ {
				t.Fatalf("openssl wrote %.80q, want a %s block", encrypted, tc.typ)
			}
			data := cat(tc.leaf.CertPEM(), encrypted)
			locked, err := NewCertificateFromPEM(data)
			if err != nil {
				t.Fatal(err)
			}
			if !locked.HasPrivateKey() || locked.privateKey() != nil {
				t.Fatalf("HasPrivateKey %v, key %v: want a locked key", locked.HasPrivateKey(), locked.privateKey())
			}
			if _, err := locked.tlsCertificate(); err == nil {
				t.Error("a locked key was usable")
			}
			c, err := NewCertificateFromPEMWithPassword(data, "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			if !samePublicKey(c, tc.leaf.Key) || !c.X509().Equal(tc.leaf.Cert) {
				t.Error("decrypted key is not the leaf's")
			}
			for _, wrong := range []string{"wrong horse", "", "correct horse "} {
				if _, err := NewCertificateFromPEMWithPassword(data, wrong); !errors.Is(err, ErrBadCertificatePassword) {
					t.Errorf("password %q: err = %v, want ErrBadCertificatePassword", wrong, err)
				}
			}
			ask := &passwords{answers: []string{"correct horse"}}
			c, err = NewCertificateFromPEMWithInteraction(context.Background(), data, ask)
			if err != nil {
				t.Fatal(err)
			}
			if !samePublicKey(c, tc.leaf.Key) || !slices.Equal(ask.asked(), []PasswordFlags{PasswordNone}) {
				t.Errorf("asked %v; key ok %v", ask.asked(), samePublicKey(c, tc.leaf.Key))
			}
		})
	}
	t.Run("unsupported", func(t *testing.T) {
		for _, args := range [][]string{
			{"pkcs8", "-topk8", "-scrypt", "-in", ecKey, "-passout", pass},
			{"pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", ecKey, "-passout", pass},
		} {
			data := cat(ecLeaf.CertPEM(), opensslOutput(t, args...))
			if _, err := NewCertificateFromPEM(data); !errors.Is(err, ErrBadCertificate) {
				t.Errorf("%v: err = %v, want ErrBadCertificate", args[2:4], err)
			}
		}
	})
	t.Run("files", func(t *testing.T) {
		certFile := filepath.Join(dir, "ec.crt")
		if err := os.WriteFile(certFile, ecLeaf.CertPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		pemKey := filepath.Join(dir, "ec-enc.key")
		derKey := filepath.Join(dir, "ec-enc.der")
		opensslOutput(t, "pkcs8", "-topk8", "-in", ecKey, "-passout", pass, "-out", pemKey)
		opensslOutput(t, "pkcs8", "-topk8", "-in", ecKey, "-passout", pass, "-outform", "DER", "-out", derKey)
		for _, keyFile := range []string{pemKey, derKey} {
			c, err := NewCertificateFromFiles(certFile, keyFile)
			if err != nil {
				t.Fatal(err)
			}
			if !c.HasPrivateKey() || c.privateKey() != nil {
				t.Fatalf("%s: want a locked key", filepath.Base(keyFile))
			}
			if _, err := c.unlock(context.Background(), &passwords{answers: []string{"correct horse"}}); err != nil || !samePublicKey(c, ecLeaf.Key) {
				t.Errorf("%s: unlock: %v", filepath.Base(keyFile), err)
			}
		}
	})
}

// encryptPKCS8 encrypts key as openssl does, PBES2 with PBKDF2 and AES-CBC,
// with the algorithm identifiers given, for cases openssl will not write.
func encryptPKCS8(t *testing.T, key crypto.PrivateKey, password string, iterations int, prf, cipherOID asn1.ObjectIdentifier, keyLen int) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	salt, iv := make([]byte, 8), make([]byte, aes.BlockSize)
	rand.Read(salt)
	rand.Read(iv)
	derive := iterations
	if derive > maxPBKDF2Iterations {
		derive = 1 // refused before decryption: spare the test the work
	}
	k, err := pbkdf2.Key(sha256.New, password, salt, derive, keyLen)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	n := aes.BlockSize - len(der)%aes.BlockSize
	plain := append(der, bytes.Repeat([]byte{byte(n)}, n)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(plain, plain)
	mustMarshal := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	kdf := pbkdf2Params{Salt: salt, IterationCount: iterations, PRF: pkix.AlgorithmIdentifier{Algorithm: prf, Parameters: asn1.NullRawValue}}
	params := pbes2Params{
		KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: mustMarshal(kdf)},
		EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: cipherOID, Parameters: mustMarshal(iv)},
	}
	info := encryptedPrivateKeyInfo{
		Algorithm:     pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: mustMarshal(params)},
		EncryptedData: plain,
	}
	return pemBlock("ENCRYPTED PRIVATE KEY", mustMarshal(info).FullBytes)
}

func TestEncryptedKeyMalformed(t *testing.T) {
	root := testpki.MustCA(t, "Malformed Keys Root")
	leaf := root.MustLeaf(t, "client")
	other := root.MustLeaf(t, "other")
	good := encryptPKCS8(t, leaf.Key, "pw", 1000, oidHMACWithSHA256, oidAES256CBC, 32)
	if _, err := NewCertificateFromPEMWithPassword(cat(leaf.CertPEM(), good), "pw"); err != nil {
		t.Fatalf("the well-formed key: %v", err)
	}
	cases := []struct {
		name string
		key  []byte
	}{
		{"too many iterations", encryptPKCS8(t, leaf.Key, "pw", maxPBKDF2Iterations+1, oidHMACWithSHA256, oidAES256CBC, 32)},
		{"unknown PRF", encryptPKCS8(t, leaf.Key, "pw", 1000, asn1.ObjectIdentifier{1, 2, 3}, oidAES256CBC, 32)},
		{"unknown cipher", encryptPKCS8(t, leaf.Key, "pw", 1000, oidHMACWithSHA256, asn1.ObjectIdentifier{1, 2, 3}, 32)},
		{"not DER", pemBlock("ENCRYPTED PRIVATE KEY", []byte("not DER at all"))},
		{"trailing data", pemBlock("ENCRYPTED PRIVATE KEY", append(pemBytes(t, good), 0))},
		{"truncated", pemBlock("ENCRYPTED PRIVATE KEY", pemBytes(t, good)[:40])},
		{"legacy, unknown cipher", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "CAMELLIA-128-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: make([]byte, 32)})},
		{"legacy, short IV", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,0011"}, Bytes: make([]byte, 32)})},
		{"legacy, partial block", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: make([]byte, 31)})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := NewCertificateFromPEM(cat(leaf.CertPEM(), tc.key))
			if !errors.Is(err, ErrBadCertificate) {
				t.Errorf("err = %v, want ErrBadCertificate", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	t.Run("key of another certificate", func(t *testing.T) {
		data := cat(leaf.CertPEM(), encryptPKCS8(t, other.Key, "pw", 1000, oidHMACWithSHA256, oidAES128CBC, 16))
		if _, err := NewCertificateFromPEM(data); err != nil {
			t.Fatalf("loading (the key is checked once decrypted): %v", err)
		}
		if _, err := NewCertificateFromPEMWithPassword(data, "pw"); !errors.Is(err, ErrBadCertificate) {
			t.Errorf("err = %v, want ErrBadCertificate", err)
		}
	})
}

func pemBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}

// TestAskPassword: the requests an Interaction gets for an encrypted key
// and what its answers do.
func TestAskPassword(t *testing.T) {
	root := testpki.MustCA(t, "Ask Password Root")
	leaf := root.MustLeaf(t, "password client")
	data := cat(leaf.CertPEM(), encryptPKCS8(t, leaf.Key, "right", 1000, oidHMACWithSHA256, oidAES128CBC, 16))
	errCancelled := errors.New("the user cancelled the dialog")
	final := PasswordRetry | PasswordManyTries | PasswordFinalTry
	cases := []struct {
		name        string
		interaction Interaction
		wantFlags   []PasswordFlags
		wantErr     error // nil: success
		wrapped     error // also matched by the error
	}{
		{"right first", &passwords{answers: []string{"right"}}, []PasswordFlags{PasswordNone}, nil, nil},
		{"right second", &passwords{answers: []string{"wrong", "right"}}, []PasswordFlags{PasswordNone, PasswordRetry}, nil, nil},
		{"right last", &passwords{answers: []string{"wrong", "", "right"}}, []PasswordFlags{PasswordNone, PasswordRetry, final}, nil, nil},
		{"wrong three times", &passwords{answers: []string{"a", "b", "c", "right"}}, []PasswordFlags{PasswordNone, PasswordRetry, final}, ErrBadCertificatePassword, nil},
		{"unhandled", &passwords{}, []PasswordFlags{PasswordNone}, ErrBadCertificatePassword, nil},
		{"unhandled after a wrong one", &passwords{answers: []string{"wrong"}}, []PasswordFlags{PasswordNone, PasswordRetry}, ErrBadCertificatePassword, nil},
		{"failed", &testInteraction{askPassword: func(context.Context, *Password) (InteractionResult, error) {
			return InteractionFailed, errCancelled
		}}, nil, ErrBadCertificatePassword, errCancelled},
		{"no interaction", nil, nil, ErrBadCertificatePassword, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCertificateFromPEMWithInteraction(context.Background(), data, tc.interaction)
			if tc.wantErr == nil {
				if err != nil || !samePublicKey(c, leaf.Key) {
					t.Fatalf("err = %v", err)
				}
			} else if !errors.Is(err, tc.wantErr) || (tc.wrapped != nil && !errors.Is(err, tc.wrapped)) {
				t.Fatalf("err = %v, want %v wrapping %v", err, tc.wantErr, tc.wrapped)
			}
			p, ok := tc.interaction.(*passwords)
			if !ok {
				return
			}
			if got := p.asked(); !slices.Equal(got, tc.wantFlags) {
				t.Errorf("flags asked = %v, want %v", got, tc.wantFlags)
			}
			for i, d := range p.descs {
				if !strings.Contains(d, "CN=password client") {
					t.Errorf("request %d: description %q does not name the certificate", i, d)
				}
				if (p.warns[i] == "") != (p.flags[i] == PasswordNone) {
					t.Errorf("request %d: warning %q with flags %v", i, p.warns[i], p.flags[i])
				}
			}
		})
	}
	t.Run("done context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		p := &passwords{answers: []string{"right"}}
		if _, err := NewCertificateFromPEMWithInteraction(ctx, data, p); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if len(p.asked()) != 0 {
			t.Error("asked despite the done context")
		}
	})
	t.Run("not encrypted", func(t *testing.T) {
		c, err := NewCertificateFromPEMWithInteraction(context.Background(), cat(leaf.CertPEM(), leaf.KeyPEM()), failIfAsked(t))
		if err != nil || !samePublicKey(c, leaf.Key) {
			t.Errorf("err = %v", err)
		}
	})
}

// TestEncryptedKeyAtHandshake: a certificate whose key is still locked is
// unlocked through the connection's Interaction when the server asks for
// it, once for all connections.
func TestEncryptedKeyAtHandshake(t *testing.T) {
	p := newClientAuthPKI(t)
	for _, version := range tlsVersions {
		t.Run(versionName(version), func(t *testing.T) {
			srv := startClientAuthServer(t, p, version, tls.RequireAndVerifyClientCert, p.caA.Cert, p.caB.Cert)
			encrypted := encryptPKCS8(t, p.leafB.Key, "s3cret", 1000, oidHMACWithSHA256, oidAES256CBC, 32)
			load := func() *Certificate {
				c, err := NewCertificateFromPEM(cat(p.leafB.ChainPEM(), encrypted))
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			t.Run("connection's interaction", func(t *testing.T) {
				cert := load()
				ask := &passwords{answers: []string{"nope", "s3cret"}}
				for i := range 2 {
					c := srv.connect(t, p, nil)
					c.SetCertificate(cert)
					c.SetInteraction(ask)
					if err := c.Handshake(context.Background()); err != nil {
						t.Fatalf("connection %d: %v", i, err)
					}
					roundTrip(t, c)
					v := srv.views()
					if !sameChain(v[len(v)-1].chain, p.certB) {
						t.Errorf("connection %d: server did not see B", i)
					}
				}
				if got := ask.asked(); !slices.Equal(got, []PasswordFlags{PasswordNone, PasswordRetry}) {
					t.Errorf("asked %v, want once wrong then right, for both connections", got)
				}
			})
			t.Run("chosen by RequestCertificate", func(t *testing.T) {
				cert := load()
				ask := &passwords{answers: []string{"s3cret"}}
				c := srv.connect(t, p, nil)
				c.SetInteraction(&testInteraction{
					askPassword: ask.AskPassword,
					requestCertificate: func(_ context.Context, conn *ClientConnection) (InteractionResult, error) {
						conn.SetCertificate(cert)
						return InteractionHandled, nil
					},
				})
				if err := c.Handshake(context.Background()); err != nil {
					t.Fatal(err)
				}
				roundTrip(t, c)
				if len(ask.asked()) != 1 {
					t.Errorf("asked %d times", len(ask.asked()))
				}
			})
			for _, tc := range []struct {
				name        string
				interaction Interaction
			}{
				{"no interaction", nil},
				{"wrong passwords", &passwords{answers: []string{"a", "b", "c"}}},
				{"unhandled", &passwords{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := len(srv.views())
					// A cache of its own: the earlier connections' sessions
					// with the same chain would resume without the key.
					c := srv.connect(t, p, NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})}))
					c.SetCertificate(load())
					c.SetInteraction(tc.interaction)
					if err := c.Handshake(context.Background()); !errors.Is(err, ErrBadCertificatePassword) {
						t.Fatalf("Handshake = %v, want ErrBadCertificatePassword", err)
					}
					if len(srv.views()) != before {
						t.Error("the server completed a handshake")
					}
				})
			}
		})
	}
}
