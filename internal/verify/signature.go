package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
)

// CheckSignature reports whether signature is a valid signature by pub over
// signed with algorithm alg.
//
// Unlike crypto/x509, it accepts SHA-1 and MD5 signatures: a chain signed
// with them must still be built, and then flagged insecure, as GIO does,
// rather than reported as having no path at all. Everything else is left
// to crypto/x509.
func CheckSignature(alg x509.SignatureAlgorithm, signed, signature []byte, pub crypto.PublicKey) error {
	var hash crypto.Hash
	switch alg {
	case x509.MD5WithRSA:
		hash = crypto.MD5
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		hash = crypto.SHA1
	default:
		// crypto/x509 checks that the algorithm suits the key.
		c := &x509.Certificate{PublicKey: pub}
		return c.CheckSignature(alg, signed, signature)
	}
	var digest []byte
	if hash == crypto.MD5 {
		sum := md5.Sum(signed)
		digest = sum[:]
	} else {
		sum := sha1.Sum(signed)
		digest = sum[:]
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg == x509.ECDSAWithSHA1 {
			return errors.New("verify: ECDSA signature algorithm with an RSA key")
		}
		return rsa.VerifyPKCS1v15(k, hash, digest, signature)
	case *ecdsa.PublicKey:
		if alg != x509.ECDSAWithSHA1 {
			return errors.New("verify: RSA signature algorithm with an ECDSA key")
		}
		if !ecdsa.VerifyASN1(k, digest, signature) {
			return errors.New("verify: ECDSA verification failure")
		}
		return nil
	case ed25519.PublicKey:
		return errors.New("verify: Ed25519 key with a hashed signature algorithm")
	}
	return fmt.Errorf("verify: unsupported public key type %T", pub)
}

// signedBy reports whether child's signature was made by parent's key.
// Results are remembered process-wide, keyed by a hash of the child's DER
// and the parent's public key, since a connection verifies the same few
// chains again and again and a signature check costs far more than the
// hash.
func signedBy(child, parent *x509.Certificate) bool {
	h := sha256.New()
	h.Write(child.Raw)
	h.Write(parent.RawSubjectPublicKeyInfo)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	sigCache.Lock()
	ok, found := sigCache.m[k]
	sigCache.Unlock()
	if found {
		return ok
	}
	ok = CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature, parent.PublicKey) == nil
	sigCache.Lock()
	if len(sigCache.m) >= sigCacheSize {
		clear(sigCache.m)
	}
	sigCache.m[k] = ok
	sigCache.Unlock()
	return ok
}

// sigCacheSize bounds the remembered signature checks; when full, the
// cache starts over.
const sigCacheSize = 4096

var sigCache = struct {
	sync.Mutex
	m map[[sha256.Size]byte]bool
}{m: make(map[[sha256.Size]byte]bool)}

// weakSignature reports whether alg relies on a broken hash (MD2, MD5,
// SHA-1).
func weakSignature(alg x509.SignatureAlgorithm) bool {
	switch alg {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}

// weakKey reports whether pub is too small to trust: RSA under 2048 bits
// (NIST SP 800-131A), and DSA at all.
func weakKey(c *x509.Certificate) bool {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen() < 2048
	}
	return c.PublicKeyAlgorithm == x509.DSA
}
