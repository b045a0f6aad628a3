package giotls

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// PKCS#12 files built by hand (RFC 7292), for the work bound: what
// openssl and go-pkcs12 will not write.

var oidCertBagTest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// explicit0 wraps der in a [0] EXPLICIT tag.
func explicit0(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

// pbes2Alg is a PBES2 AlgorithmIdentifier: PBKDF2 with HMAC-SHA-256 and
// iterations, AES-256-CBC with iv.
func pbes2Alg(t testing.TB, salt []byte, iterations int, iv []byte) pkix.AlgorithmIdentifier {
	kdf := pbkdf2Params{Salt: salt, IterationCount: iterations,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1.NullRawValue}}
	params := pbes2Params{
		KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, kdf)}},
		EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, iv)}},
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, params)}}
}

// pkcs12PBEAlg is a PKCS#12 PBE AlgorithmIdentifier (RFC 7292, appendix C).
func pkcs12PBEAlg(t testing.TB, oid asn1.ObjectIdentifier, iterations int) pkix.AlgorithmIdentifier {
	return pkix.AlgorithmIdentifier{Algorithm: oid,
		Parameters: asn1.RawValue{FullBytes: mustMarshal(t, p12PBEParams{Salt: []byte("saltsalt"), Iterations: iterations})}}
}

// shroudedBag is a pkcs8ShroudedKeyBag encrypted with alg; its contents
// are random, never to be decrypted.
func shroudedBag(t testing.TB, alg pkix.AlgorithmIdentifier) p12SafeBag {
	info := encryptedPrivateKeyInfo{Algorithm: alg, EncryptedData: make([]byte, 48)}
	rand.Read(info.EncryptedData)
	return p12SafeBag{ID: oidShroudedKeyBag, Value: explicit0(mustMarshal(t, info))}
}

func certBag(t testing.TB, der []byte) p12SafeBag {
	type certBagValue struct {
		ID   asn1.ObjectIdentifier
		Data []byte `asn1:"tag:0,explicit"`
	}
	v := certBagValue{ID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}, Data: der}
	return p12SafeBag{ID: oidCertBagTest, Value: explicit0(mustMarshal(t, v))}
}

// dataSafe is a plain safe holding bags.
func dataSafe(t testing.TB, bags ...p12SafeBag) p12ContentInfo {
	return p12ContentInfo{ContentType: oidData, Content: explicit0(mustMarshal(t, mustMarshal(t, bags)))}
}

// encryptedSafe is a safe holding bags, encrypted with PBES2 (PBKDF2
// HMAC-SHA-256, iterations, AES-256-CBC) under password.
func encryptedSafe(t testing.TB, password string, iterations int, bags ...p12SafeBag) p12ContentInfo {
	salt, iv := []byte("0123456789abcdef"), []byte("fedcba9876543210")
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		t.Fatal(err)
	}
	plain := mustMarshal(t, bags)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(plain, plain)
	return encryptedSafeWith(t, pbes2Alg(t, salt, iterations, iv), plain)
}

// encryptedSafe3DES is a safe holding bags, encrypted with
// pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292, appendix C) under the raw
// password bytes: nil is the empty password some writers use, which
// go-pkcs12 tries after the two zero bytes when the MAC says so.
func encryptedSafe3DES(t testing.TB, password []byte, bags ...p12SafeBag) p12ContentInfo {
	salt, iterations := []byte("saltsalt"), 2048
	block, err := des.NewTripleDESCipher(pkcs12KDF(password, salt, iterations, 1, 24))
	if err != nil {
		t.Fatal(err)
	}
	plain := mustMarshal(t, bags)
	pad := des.BlockSize - len(plain)%des.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, pkcs12KDF(password, salt, iterations, 2, des.BlockSize)).CryptBlocks(plain, plain)
	alg := pkix.AlgorithmIdentifier{Algorithm: oidPBEWithSHA3DES,
		Parameters: asn1.RawValue{FullBytes: mustMarshal(t, p12PBEParams{Salt: salt, Iterations: iterations})}}
	return encryptedSafeWith(t, alg, plain)
}

// encryptedSafeWith is an encrypted safe with alg and content as given.
func encryptedSafeWith(t testing.TB, alg pkix.AlgorithmIdentifier, content []byte) p12ContentInfo {
	var ed p12EncryptedData
	ed.EncryptedContentInfo.ContentType = oidData
	ed.EncryptedContentInfo.ContentEncryptionAlgorithm = alg
	ed.EncryptedContentInfo.EncryptedContent = content
	return p12ContentInfo{ContentType: oidEncryptedData, Content: explicit0(mustMarshal(t, ed))}
}

// pfxFile is a PFX of safes with no MAC, or a MAC (SHA-256, whose digest
// is not checked before the bound) asking macIterations.
func pfxFile(t testing.TB, macIterations int, safes ...p12ContentInfo) []byte {
	pfx := p12PFX{Version: 3, AuthSafe: p12ContentInfo{ContentType: oidData,
		Content: explicit0(mustMarshal(t, mustMarshal(t, safes)))}}
	if macIterations > 0 {
		pfx.MacData.Mac.Algorithm = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}}
		pfx.MacData.Mac.Digest = make([]byte, 32)
		pfx.MacData.MacSalt = []byte("macsalt!")
		pfx.MacData.Iterations = macIterations
	}
	return mustMarshal(t, pfx)
}

// pfxWrapped is a PFX without a MAC whose authenticated safe is held in an
// element of the given universal tag instead of an OCTET STRING.
func pfxWrapped(t testing.TB, tag int, safes ...p12ContentInfo) []byte {
	inner := asn1.RawValue{Tag: tag, IsCompound: tag == asn1.TagSequence, Bytes: mustMarshal(t, safes)}
	return mustMarshal(t, p12PFX{Version: 3, AuthSafe: p12ContentInfo{ContentType: oidData,
		Content: explicit0(mustMarshal(t, inner))}})
}

// hiddenKeyBagFile is the file of issue 13: no MAC, an empty password, an
// encrypted safe asking 1 iteration that holds a certificate and a
// shrouded key bag asking iterations.
func hiddenKeyBagFile(t testing.TB, bagAlg pkix.AlgorithmIdentifier) []byte {
	leaf := testpki.MustCA(t, "P12").MustLeaf(t, "p12")
	return pfxFile(t, 0, encryptedSafe(t, "", 1, certBag(t, leaf.Cert.Raw), shroudedBag(t, bagAlg)))
}

// TestPKCS12WorkBound: the key-derivation work of a whole PKCS#12 file is
// bounded before any expensive derivation, including derivations hidden
// inside encrypted safes, each refused with a *Error saying which bound.
func TestPKCS12WorkBound(t *testing.T) {
	iv := []byte("fedcba9876543210")
	openssl, err := os.ReadFile(filepath.Join("testdata", "pkcs12", "iter-4000000-nomaciter.p12"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		data     []byte
		password string
		want     string // in the error
	}{
		// One derivation just over the bound, out of sight: caught only
		// by the inner check, and only at 2^21.
		{"hidden PBES2 key bag, 2^21+1 iterations",
			hiddenKeyBagFile(t, pbes2Alg(t, []byte("salt"), 1<<21+1, iv)), "", "asks for 2097153 iterations, more than 2097152"},
		// Each derivation within the bound, the file's total over it.
		{"hidden 3DES key bag, 2^21 iterations",
			hiddenKeyBagFile(t, pkcs12PBEAlg(t, oidPBEWithSHA3DES, 1<<21)), "", "more than 4194304 iterations in all"},
		{"many hidden key bags", pfxFile(t, 0, encryptedSafe(t, "", 1,
			shroudedBag(t, pbes2Alg(t, []byte("s"), 1<<20, iv)), shroudedBag(t, pbes2Alg(t, []byte("s"), 1<<20, iv)),
			shroudedBag(t, pbes2Alg(t, []byte("s"), 1<<20, iv)), shroudedBag(t, pbes2Alg(t, []byte("s"), 1<<20, iv)),
			shroudedBag(t, pbes2Alg(t, []byte("s"), 1<<20, iv)))), "", "in all"},
		// Hidden in a 3DES safe under the empty-empty password, which
		// only the second password tried opens.
		{"hidden key bag, empty-empty password", pfxFile(t, 1,
			encryptedSafe3DES(t, nil, shroudedBag(t, pbes2Alg(t, []byte("salt"), 1<<21+1, iv)))), "", "asks for 2097153 iterations"},
		// The authenticated safe in a SEQUENCE where an OCTET STRING
		// belongs: go-pkcs12 reads its content all the same.
		{"authenticated safe in a SEQUENCE", pfxWrapped(t, asn1.TagSequence,
			encryptedSafe(t, "", 1, shroudedBag(t, pbes2Alg(t, []byte("salt"), 1<<21+1, iv)))), "", "asks for 2097153 iterations"},
		// Visible: the MAC, tried twice for an empty password by each of
		// DecodeChain and DecodeTrustStore.
		{"MAC 2^21 iterations, empty password", pfxFile(t, 1<<21, dataSafe(t)), "", "in all"},
		{"MAC 2^21+1 iterations", pfxFile(t, 1<<21+1, dataSafe(t)), "pw", "asks for 2097153 iterations"},
		{"visible safes", pfxFile(t, 1,
			encryptedSafeWith(t, pbes2Alg(t, []byte("s"), 1<<20, iv), make([]byte, 32)),
			encryptedSafeWith(t, pbes2Alg(t, []byte("s"), 1<<20, iv), make([]byte, 32))), "pw", "in all"},
		// openssl pkcs12 -export -iter 4000000 -nomaciter (issue 18).
		{"openssl -iter 4000000 -nomaciter", openssl, "secret", "asks for 4000000 iterations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := NewCertificateFromPKCS12(tc.data, tc.password)
			elapsed := time.Since(start)
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrorBadCertificate || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewCertificateFromPKCS12 = %v (after %v), want ErrBadCertificate saying %q", err, elapsed, tc.want)
			}
			// A guard, not a benchmark: refused before deriving, it takes
			// microseconds; the derivations take seconds.
			if elapsed > 500*time.Millisecond {
				t.Errorf("refused after %v", elapsed)
			}
		})
	}
}

// TestPKCS12HiddenIterationBomb loads the file of issue 13 (no MAC, an
// empty password, an encrypted safe asking 1 iteration that hides a key bag
// asking 2^31-1: about twenty minutes of PBKDF2) in a child process,
// killed if it has not refused the file within the bound.
func TestPKCS12HiddenIterationBomb(t *testing.T) {
	if path := os.Getenv("GIOTLS_PKCS12_HIDDEN_BOMB"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewCertificateFromPKCS12(data, "")
		var e *Error
		if !errors.As(err, &e) || e.Code != ErrorBadCertificate || !strings.Contains(err.Error(), "iterations") {
			t.Fatalf("NewCertificateFromPKCS12 = %v, want ErrBadCertificate about iterations", err)
		}
		return
	}
	bomb := hiddenKeyBagFile(t, pbes2Alg(t, []byte("salt"), 1<<31-1, []byte("fedcba9876543210")))
	t.Logf("the file is %d bytes", len(bomb))
	path := filepath.Join(t.TempDir(), "hidden-bomb.p12")
	if err := os.WriteFile(path, bomb, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPKCS12HiddenIterationBomb$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GIOTLS_PKCS12_HIDDEN_BOMB="+path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	const bound = 10 * time.Second // the child's start-up included
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("loading the file: %v\n%s", err, out.Bytes())
		}
	case <-time.After(bound):
		cmd.Process.Kill()
		<-exited
		t.Errorf("NewCertificateFromPKCS12 still deriving keys after %v for a key bag hidden in an encrypted safe", bound)
	}
}

// TestPKCS12HiddenKeyBagLoads: a valid file whose encrypted safe holds the
// certificate and key loads, the safe looked into with the right password
// and refused with a wrong one, as go-pkcs12 would.
func TestPKCS12HiddenKeyBagLoads(t *testing.T) {
	leaf := testpki.MustCA(t, "P12").MustLeaf(t, "p12")
	key, err := x509.MarshalPKCS8PrivateKey(leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	// A plain keyBag (no derivation) inside an encrypted safe.
	keyBag := p12SafeBag{ID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}, Value: explicit0(key)}
	data := pfxFile(t, 0, encryptedSafe(t, "", 2048, certBag(t, leaf.Cert.Raw), keyBag))
	c, err := NewCertificateFromPKCS12(data, "")
	if err != nil || !c.HasPrivateKey() || !c.X509().Equal(leaf.Cert) {
		t.Fatalf("NewCertificateFromPKCS12 = %v", err)
	}
	if err := checkPKCS12Work(pfxFile(t, 0, encryptedSafe(t, "other", 1, keyBag)), ""); !errors.Is(err, errPKCS12WrongPassword) {
		t.Errorf("checkPKCS12Work with the wrong password = %v, want errPKCS12WrongPassword", err)
	}
	// openssl's files: the legacy one has an RC2-40 safe and a 3DES key
	// bag (RFC 7292, appendix C), the other PBES2 with AES-256 (RFC 8018).
	for _, name := range []string{"legacy-secret.p12", "aes-secret.p12"} {
		data, err := os.ReadFile(filepath.Join("testdata", "pkcs12", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := checkPKCS12Work(data, "secret"); err != nil {
			t.Errorf("%s: checkPKCS12Work = %v", name, err)
		}
		if err := checkPKCS12Work(data, "wrong"); !errors.Is(err, errPKCS12WrongPassword) {
			t.Errorf("%s, wrong password: checkPKCS12Work = %v, want errPKCS12WrongPassword", name, err)
		}
	}
}
