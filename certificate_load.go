package giotls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"iter"
	"os"
	"strings"

	"github.com/giotls/giotls/internal/verify"
	"software.sslmate.com/src/go-pkcs12"
)

// NewCertificateFromPEM returns the certificate in data, a PEM text
// (g_tls_certificate_new_from_pem). The first CERTIFICATE block is the
// certificate; the blocks after it are its issuers, in order, as long as
// each was issued by the one before it (names and signature); the rest are
// ignored, as GIO ignores certificates that do not form a chain. The first
// private key block, if any, is the certificate's key: "PRIVATE KEY"
// (PKCS#8), "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC 1), which
// must match the certificate.
//
// A key encrypted with a password, as PKCS#8 "ENCRYPTED PRIVATE KEY"
// (PBES2 with PBKDF2 and AES-CBC or 3DES-CBC, RFC 8018, what
// openssl pkcs8 -topk8 and openssl genpkey write) or in OpenSSL's legacy
// form ("Proc-Type: 4,ENCRYPTED" headers), is kept locked: HasPrivateKey
// reports true, and the first handshake that sends the certificate asks the
// connection's Interaction for the password (AskPassword, as
// NewCertificateFromPEMWithInteraction does); without one, or without the
// right password, that handshake fails with ErrBadCertificatePassword. Once
// decrypted, the key stays with the certificate for later connections. To
// ask at load time instead, use NewCertificateFromPEMWithInteraction or
// NewCertificateFromPEMWithPassword.
//
// Input that cannot be parsed gives an *Error with ErrorBadCertificate.
func NewCertificateFromPEM(data []byte) (*Certificate, error) {
	certs, key, encrypted, err := parsePEM(data)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, newError(ErrorBadCertificate, nil, "no PEM-encoded certificate found")
	}
	return newCertificate(linkedPrefix(certs), key, encrypted)
}

// NewCertificateFromPEMWithInteraction is NewCertificateFromPEM for a
// private key encrypted with a password: it asks interaction for the
// password (AskPassword, with ctx) and returns the certificate with its key
// decrypted. After a wrong password it asks again, with PasswordRetry set;
// the third request, the last, also has PasswordManyTries and
// PasswordFinalTry. Three wrong passwords, an interaction that returns
// InteractionUnhandled or InteractionFailed, and a nil interaction give
// ErrBadCertificatePassword (wrapping the interaction's error, if any).
// A key that is not encrypted is returned without asking.
func NewCertificateFromPEMWithInteraction(ctx context.Context, data []byte, interaction Interaction) (*Certificate, error) {
	c, err := NewCertificateFromPEM(data)
	if err != nil || c.locked == nil {
		return c, err
	}
	key, err := c.unlock(ctx, interaction)
	if err != nil {
		return nil, err
	}
	return &Certificate{cert: c.cert, issuer: c.issuer, key: key}, nil
}

// NewCertificateFromPEMWithPassword is NewCertificateFromPEM for a private
// key encrypted with password. GIO has no equivalent: it does not decrypt
// PEM keys (its g_tls_certificate_new_from_file_with_password reads PKCS#12
// files only; see NewCertificateFromFileWithPassword). A wrong password
// gives ErrBadCertificatePassword. A key that is not encrypted is returned
// as it is.
func NewCertificateFromPEMWithPassword(data []byte, password string) (*Certificate, error) {
	c, err := NewCertificateFromPEM(data)
	if err != nil || c.locked == nil {
		return c, err
	}
	key, err := decryptKey(c.locked.block, []byte(password), c.cert)
	if err != nil {
		return nil, err
	}
	return &Certificate{cert: c.cert, issuer: c.issuer, key: key}, nil
}

// NewCertificateFromFile reads a certificate from path
// (g_tls_certificate_new_from_file): a path ending in ".p12" or ".pfx" as a
// PKCS#12 file without a password (NewCertificateFromPKCS12 with "", as GIO
// 2.72 does), any other in PEM (with its issuers and key, as
// NewCertificateFromPEM) or DER. The suffixes are matched as GIO matches
// them, case included.
func NewCertificateFromFile(path string) (*Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if isPKCS12Name(path) {
		return NewCertificateFromPKCS12(data, "")
	}
	return certificateFromPEMOrDER(data, path)
}

// certificateFromPEMOrDER parses the contents of the file path, PEM or DER.
func certificateFromPEMOrDER(data []byte, path string) (*Certificate, error) {
	if isPEM(data) {
		return NewCertificateFromPEM(data)
	}
	cert, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, newError(ErrorBadCertificate, err, "could not parse DER certificate %s", path)
	}
	return &Certificate{cert: cert}, nil
}

// NewCertificateFromFileWithPassword reads the PKCS#12 file path, whose
// name must end in ".p12" or ".pfx", with password ("" for none), as
// NewCertificateFromPKCS12 (g_tls_certificate_new_from_file_with_password).
// Any other name gives an *Error wrapping errors.ErrUnsupported (GIO's
// G_IO_ERROR_NOT_SUPPORTED), before the file is read.
func NewCertificateFromFileWithPassword(path, password string) (*Certificate, error) {
	if !isPKCS12Name(path) {
		return nil, newError(ErrorMisc, errors.ErrUnsupported,
			"the file type of %q is unknown: only .p12 and .pfx files are supported", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return NewCertificateFromPKCS12(data, password)
}

// isPKCS12Name reports whether path names a PKCS#12 file for GIO.
func isPKCS12Name(path string) bool {
	return strings.HasSuffix(path, ".p12") || strings.HasSuffix(path, ".pfx")
}

// NewCertificateFromFiles reads a certificate (and its issuers) from
// certPath and its private key from keyPath, each in PEM or DER
// (g_tls_certificate_new_from_files). A key encrypted with a password
// (PEM as NewCertificateFromPEM, or a DER PKCS#8 EncryptedPrivateKeyInfo)
// is kept locked until a handshake asks the connection's Interaction.
func NewCertificateFromFiles(certPath, keyPath string) (*Certificate, error) {
	data, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	c, err := certificateFromPEMOrDER(data, certPath)
	if err != nil {
		return nil, err
	}
	data, err = os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	var key crypto.PrivateKey
	var encrypted *pem.Block
	if isPEM(data) {
		if _, key, encrypted, err = parsePEM(data); err != nil {
			return nil, err
		}
	} else if key, err = parseDERKey(data); err != nil {
		if _, perr := parsePBES2(data); perr != nil {
			return nil, newError(ErrorBadCertificate, err, "could not parse DER private key %s", keyPath)
		}
		key, encrypted = nil, &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: data}
	}
	if key == nil && encrypted == nil {
		return nil, newError(ErrorBadCertificate, nil, "no PEM-encoded private key found in %s", keyPath)
	}
	return newCertificate(c.chain(), key, encrypted)
}

// NewCertificateFromX509 returns a certificate for chain (the certificate
// first, then its issuers) and key, which may be nil. A key must be a
// crypto.Signer whose public key is the certificate's.
func NewCertificateFromX509(chain []*x509.Certificate, key crypto.PrivateKey) (*Certificate, error) {
	if len(chain) == 0 {
		return nil, newError(ErrorBadCertificate, nil, "empty certificate chain")
	}
	for i, c := range chain {
		if c == nil {
			return nil, newError(ErrorBadCertificate, nil, "certificate %d of the chain is nil", i)
		}
	}
	return newCertificate(append([]*x509.Certificate(nil), chain...), key, nil)
}

// NewCertificateFromPKCS12 returns the certificate, its issuers and its
// private key in the PKCS#12 (RFC 7292) file data, encrypted with password
// ("" for none) with the algorithms OpenSSL writes, modern (PBES2, AES) and
// legacy (RC2, 3DES) (g_tls_certificate_new_from_pkcs12). A wrong or
// missing password gives ErrBadCertificatePassword; anything else that
// cannot be read, ErrBadCertificate, as for a file without a private key
// (as GIO), unless it is a Java trust store, whose certificates are all
// marked trusted: then the first is returned without a key. The file's
// key-derivation work is bounded before any derivation runs, inside
// encrypted safes too (see checkPKCS12Work): a file asking more than 2^21
// iterations for one derivation, or 2^22 in all, gives ErrBadCertificate.
func NewCertificateFromPKCS12(data []byte, password string) (*Certificate, error) {
	if err := checkPKCS12Work(data, password); errors.Is(err, errPKCS12WrongPassword) {
		return nil, newError(ErrorBadCertificatePassword, err, "failed to import PKCS #12: wrong or missing password")
	} else if err != nil {
		return nil, newError(ErrorBadCertificate, err, "failed to import PKCS #12")
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil && !errors.Is(err, pkcs12.ErrIncorrectPassword) {
		// A trust store has certificates only; DecodeChain wants a key.
		if certs, terr := pkcs12.DecodeTrustStore(data, password); terr == nil && len(certs) > 0 {
			key, leaf, cas, err = nil, certs[0], certs[1:], nil
		} else if errors.Is(terr, pkcs12.ErrIncorrectPassword) {
			err = terr
		}
	}
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
			return nil, newError(ErrorBadCertificatePassword, err, "failed to import PKCS #12: wrong or missing password")
		}
		return nil, newError(ErrorBadCertificate, err, "failed to import PKCS #12")
	}
	return newCertificate(orderChain(leaf, cas), key, nil)
}

// orderChain returns leaf followed by as many of others as chain up from
// it, each issued by the one before (by name and signature), in that order:
// PKCS#12 files keep their certificates in no particular order.
func orderChain(leaf *x509.Certificate, others []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	used := make([]bool, len(others))
	for c := leaf; len(chain) <= len(others); {
		next := -1
		for i, o := range others {
			if !used[i] && !bytes.Equal(c.Raw, o.Raw) && bytes.Equal(c.RawIssuer, o.RawSubject) &&
				verify.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature, o.PublicKey) == nil {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		c = others[next]
		chain = append(chain, c)
	}
	return chain
}

// CertificateListFromFile returns every certificate in the PEM file path,
// each on its own, without issuers or keys (g_tls_certificate_list_new_from_file).
// A file without certificates gives an empty list; a DER file, its one
// certificate.
func CertificateListFromFile(path string) ([]*Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	if isPEM(data) || len(bytes.TrimSpace(data)) == 0 {
		if certs, _, _, err = parsePEM(data); err != nil {
			return nil, err
		}
	} else {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, newError(ErrorBadCertificate, err, "could not parse certificate file %s", path)
		}
		certs = append(certs, c)
	}
	list := make([]*Certificate, 0, len(certs))
	for _, c := range certs {
		list = append(list, &Certificate{cert: c})
	}
	return list, nil
}

// newCertificate links chain and checks that key, if any, belongs to its
// first certificate. An encrypted key block is kept locked, to be checked
// when it is decrypted.
func newCertificate(chain []*x509.Certificate, key crypto.PrivateKey, encrypted *pem.Block) (*Certificate, error) {
	c := certificateFromChain(chain)
	switch {
	case key != nil:
		if err := checkKey(c.cert, key); err != nil {
			return nil, err
		}
		c.key = key
	case encrypted != nil:
		c.locked = &lockedKey{block: encrypted, turn: make(chan struct{}, 1)}
	}
	return c, nil
}

// checkKey checks that key is a signer for cert.
func checkKey(cert *x509.Certificate, key crypto.PrivateKey) error {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return newError(ErrorBadCertificate, nil, "unsupported private key type %T", key)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return newError(ErrorBadCertificate, nil, "the private key does not match the certificate")
	}
	return nil
}

// linkedPrefix returns the longest prefix of certs in which each
// certificate is issued by the next.
func linkedPrefix(certs []*x509.Certificate) []*x509.Certificate {
	for i := 1; i < len(certs); i++ {
		child, parent := certs[i-1], certs[i]
		if !bytes.Equal(child.RawIssuer, parent.RawSubject) ||
			verify.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature, parent.PublicKey) != nil {
			return certs[:i]
		}
	}
	return certs
}

func isPEM(data []byte) bool { return bytes.Contains(data, []byte("-----BEGIN ")) }

// parsePEM returns the certificates and the first private key in data:
// either parsed (key) or, if it is encrypted, its block, checked to be one
// that decryptKey can decrypt. Blocks of other types (parameters, CRLs) are
// skipped.
func parsePEM(data []byte) (certs []*x509.Certificate, key crypto.PrivateKey, encrypted *pem.Block, err error) {
	for block := range pemBlocks(data) {
		if isCertificateBlock(block) {
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, nil, newError(ErrorBadCertificate, err, "could not parse PEM certificate")
			}
			certs = append(certs, c)
			continue
		}
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if key != nil || encrypted != nil {
				continue
			}
			if isEncryptedKeyBlock(block) {
				if err := checkEncryptedKey(block); err != nil {
					return nil, nil, nil, newError(ErrorBadCertificate, err, "cannot decrypt PEM-encoded private key")
				}
				encrypted = block
				continue
			}
			k, err := parseKeyBlock(block)
			if err != nil {
				return nil, nil, nil, newError(ErrorBadCertificate, err, "could not parse PEM private key")
			}
			key = k
		}
	}
	return certs, key, encrypted, nil
}

// pemBlocks yields the PEM blocks of data, in order.
func pemBlocks(data []byte) iter.Seq[*pem.Block] {
	return func(yield func(*pem.Block) bool) {
		for rest := data; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil || !yield(block) {
				return
			}
		}
	}
}

// isCertificateBlock reports whether block holds a certificate ("X509
// CERTIFICATE" is OpenSSL's old name for it).
func isCertificateBlock(block *pem.Block) bool {
	return block.Type == "CERTIFICATE" || block.Type == "X509 CERTIFICATE"
}

func parseKeyBlock(block *pem.Block) (crypto.PrivateKey, error) {
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	}
	return x509.ParsePKCS8PrivateKey(block.Bytes)
}

// parseDERKey parses a DER private key in any of PKCS#8, PKCS#1 and SEC 1.
func parseDERKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return x509.ParseECPrivateKey(der)
}
