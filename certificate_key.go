package giotls

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// lockedKey is a private key encrypted with a password. The first
// successful unlock keeps the decrypted key, so that a certificate is asked
// for its password once, not once per connection.
type lockedKey struct {
	block *pem.Block
	turn  chan struct{} // held while a password is being asked for

	mu  sync.Mutex
	key crypto.PrivateKey // once decrypted
}

func (k *lockedKey) unlocked() crypto.PrivateKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.key
}

// privateKey returns the key, nil if there is none or it is still locked.
func (c *Certificate) privateKey() crypto.PrivateKey {
	switch {
	case c == nil:
		return nil
	case c.key != nil:
		return c.key
	case c.locked != nil:
		return c.locked.unlocked()
	}
	return nil
}

// unlock decrypts the certificate's locked key, asking interaction for the
// password (see askPassword), unless an earlier call succeeded. Calls wait
// for each other, so that two handshakes do not ask at once.
func (c *Certificate) unlock(ctx context.Context, interaction Interaction) (crypto.PrivateKey, error) {
	k := c.locked
	select {
	case k.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-k.turn }()
	if key := k.unlocked(); key != nil {
		return key, nil
	}
	var key crypto.PrivateKey
	description := "Password for the private key of the certificate " + c.SubjectName()
	err := askPassword(ctx, interaction, description, func(password []byte) (err error) {
		key, err = decryptKey(k.block, password, c.cert)
		return err
	})
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.key = key
	k.mu.Unlock()
	return key, nil
}

// isEncryptedKeyBlock reports whether block holds a private key encrypted
// with a password: PKCS#8's EncryptedPrivateKeyInfo, or OpenSSL's legacy
// encryption announced by the Proc-Type and DEK-Info headers (RFC 1421).
func isEncryptedKeyBlock(block *pem.Block) bool {
	return block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" || block.Headers["DEK-Info"] != ""
}

// legacyPEMCiphers are the DEK-Info algorithms x509.DecryptPEMBlock knows,
// with their block sizes.
var legacyPEMCiphers = map[string]int{
	"DES-CBC":      des.BlockSize,
	"DES-EDE3-CBC": des.BlockSize,
	"AES-128-CBC":  aes.BlockSize,
	"AES-192-CBC":  aes.BlockSize,
	"AES-256-CBC":  aes.BlockSize,
}

// checkEncryptedKey checks that decryptKey can decrypt block, so that a file
// it cannot read fails when it is loaded rather than at a handshake.
func checkEncryptedKey(block *pem.Block) error {
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		_, err := parsePBES2(block.Bytes)
		return err
	}
	if block.Headers["Proc-Type"] != "4,ENCRYPTED" {
		return fmt.Errorf("unsupported Proc-Type %q", block.Headers["Proc-Type"])
	}
	alg, ivHex, ok := strings.Cut(block.Headers["DEK-Info"], ",")
	size, known := legacyPEMCiphers[alg]
	if !ok || !known {
		return fmt.Errorf("unsupported encryption %q", block.Headers["DEK-Info"])
	}
	if iv, err := hex.DecodeString(ivHex); err != nil || len(iv) != size {
		return errors.New("malformed DEK-Info initialization vector")
	}
	if len(block.Bytes) == 0 || len(block.Bytes)%size != 0 {
		return errors.New("encrypted data is not a whole number of blocks")
	}
	return nil
}

// errWrongPassword is the cause of ErrBadCertificatePassword when the
// decrypted key does not parse: a wrong password gives garbage (CBC padding
// catches most, and the DER the rest).
var errWrongPassword = errors.New("wrong password")

// decryptKey decrypts the private key in block, checked by
// checkEncryptedKey, with password, and checks that it is cert's. A wrong
// password gives ErrBadCertificatePassword; a key that is not cert's,
// ErrBadCertificate.
func decryptKey(block *pem.Block, password []byte, cert *x509.Certificate) (crypto.PrivateKey, error) {
	var key crypto.PrivateKey
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		p, err := parsePBES2(block.Bytes)
		if err != nil {
			return nil, newError(ErrorBadCertificate, err, "cannot decrypt private key")
		}
		der, err := p.decrypt(password)
		if err != nil {
			return nil, newError(ErrorBadCertificatePassword, err, "cannot decrypt private key: wrong password")
		}
		if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
			return nil, newError(ErrorBadCertificatePassword, errWrongPassword, "cannot decrypt private key: wrong password")
		}
	} else {
		// The legacy format is insecure (MD5 key derivation, no
		// integrity) but still what some tools write; Go's deprecated
		// DecryptPEMBlock is the standard library's only reader of it.
		der, err := x509.DecryptPEMBlock(block, password) //nolint:staticcheck // see above
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, newError(ErrorBadCertificatePassword, err, "cannot decrypt private key: wrong password")
		} else if err != nil {
			return nil, newError(ErrorBadCertificate, err, "cannot decrypt private key")
		}
		if key, err = parseKeyBlock(&pem.Block{Type: block.Type, Bytes: der}); err != nil {
			return nil, newError(ErrorBadCertificatePassword, errWrongPassword, "cannot decrypt private key: wrong password")
		}
	}
	if err := checkKey(cert, key); err != nil {
		return nil, err
	}
	return key, nil
}

// PKCS#5 (RFC 8018) object identifiers.
var (
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC     = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// maxPBKDF2Iterations bounds the work a key file can ask for: OpenSSL
// writes 2048 iterations; ten million take seconds.
const maxPBKDF2Iterations = 10_000_000

// encryptedPrivateKeyInfo is PKCS#8's EncryptedPrivateKeyInfo (RFC 5958,
// section 3).
type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

// pbes2Params is PBES2-params (RFC 8018, appendix A.4).
type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

// pbkdf2Params is PBKDF2-params (RFC 8018, appendix A.2), with a specified
// salt (the other choice is reserved).
type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"` // default hmacWithSHA1
}

// pbes2 is a parsed PBES2 encrypted key, ready to decrypt.
type pbes2 struct {
	salt       []byte
	iterations int
	prfOID     asn1.ObjectIdentifier // nil for the default, hmacWithSHA1
	prf        func() hash.Hash
	keyLen     int
	newCipher  func(key []byte) (cipher.Block, error)
	iv         []byte
	data       []byte
}

// parsePBES2 parses a PKCS#8 EncryptedPrivateKeyInfo encrypted with PBES2:
// PBKDF2 with HMAC-SHA-1 or SHA-2, and AES-CBC or DES-EDE3-CBC (RFC 8018,
// appendix B.2). PBES1, scrypt and other schemes are reported unsupported.
func parsePBES2(der []byte) (*pbes2, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, errors.New("malformed EncryptedPrivateKeyInfo")
	}
	p, err := parsePBES2Algorithm(info.Algorithm)
	if err != nil {
		return nil, err
	}
	if p.iterations < 1 || p.iterations > maxPBKDF2Iterations {
		return nil, fmt.Errorf("PBKDF2 iteration count %d out of range", p.iterations)
	}
	p.data = info.EncryptedData
	if len(p.data) == 0 || len(p.data)%len(p.iv) != 0 {
		return nil, errors.New("encrypted data is not a whole number of blocks")
	}
	return p, nil
}

// parsePBES2Algorithm parses the PBES2 parameters of alg, without bounding
// the iteration count: callers do (parsePBES2, checkPKCS12Work).
func parsePBES2Algorithm(alg pkix.AlgorithmIdentifier) (*pbes2, error) {
	if !alg.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("unsupported key encryption %v (only PBES2 is)", alg.Algorithm)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, errors.New("malformed PBES2 parameters")
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("unsupported key derivation %v (only PBKDF2 is)", params.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, errors.New("malformed PBKDF2 parameters")
	}
	p := &pbes2{salt: kdf.Salt, iterations: kdf.IterationCount, prfOID: kdf.PRF.Algorithm}
	switch prf := kdf.PRF.Algorithm; {
	case len(prf) == 0, prf.Equal(oidHMACWithSHA1):
		p.prf = sha1.New
	case prf.Equal(oidHMACWithSHA224):
		p.prf = sha256.New224
	case prf.Equal(oidHMACWithSHA256):
		p.prf = sha256.New
	case prf.Equal(oidHMACWithSHA384):
		p.prf = sha512.New384
	case prf.Equal(oidHMACWithSHA512):
		p.prf = sha512.New
	default:
		return nil, fmt.Errorf("unsupported PBKDF2 pseudorandom function %v", prf)
	}
	blockSize := aes.BlockSize
	switch alg := params.EncryptionScheme.Algorithm; {
	case alg.Equal(oidAES128CBC):
		p.keyLen, p.newCipher = 16, aes.NewCipher
	case alg.Equal(oidAES192CBC):
		p.keyLen, p.newCipher = 24, aes.NewCipher
	case alg.Equal(oidAES256CBC):
		p.keyLen, p.newCipher = 32, aes.NewCipher
	case alg.Equal(oidDESEDE3CBC):
		p.keyLen, p.newCipher, blockSize = 24, des.NewTripleDESCipher, des.BlockSize
	default:
		return nil, fmt.Errorf("unsupported key cipher %v", alg)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != p.keyLen {
		return nil, fmt.Errorf("PBKDF2 key length %d does not fit the cipher", kdf.KeyLength)
	}
	if rest, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &p.iv); err != nil || len(rest) != 0 || len(p.iv) != blockSize {
		return nil, errors.New("malformed cipher initialization vector")
	}
	return p, nil
}

// decrypt derives the key from password and decrypts the PKCS#8 DER. A
// wrong password shows as bad padding (RFC 8018, section 6.2.2) nearly
// always; the caller's DER parsing catches the rest.
func (p *pbes2) decrypt(password []byte) ([]byte, error) {
	key, err := pbkdf2.Key(p.prf, string(password), p.salt, p.iterations, p.keyLen)
	if err != nil {
		return nil, err
	}
	block, err := p.newCipher(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(p.data))
	cipher.NewCBCDecrypter(block, p.iv).CryptBlocks(out, p.data)
	n := int(out[len(out)-1])
	if n == 0 || n > block.BlockSize() {
		return nil, errWrongPassword
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errWrongPassword
		}
	}
	return out[:len(out)-n], nil
}
