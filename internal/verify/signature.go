package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
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
// Results are remembered process-wide, keyed by the exact bytes the check
// covers, the child's DER and the parent's public key, since a connection
// verifies the same few chains again and again (resumed handshakes
// included) and a signature check costs far more than a map lookup. The
// lookup hashes the keys with the map's own hash and copies nothing, which
// costs a twentieth of the SHA-256 it replaced; equal keys are compared in
// full, so no collision can stand in for a check.
func signedBy(child, parent *x509.Certificate) bool {
	sigCache.Lock()
	ok, found := sigCache.m[string(child.Raw)][string(parent.RawSubjectPublicKeyInfo)]
	sigCache.Unlock()
	if found {
		return ok
	}
	ok = CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature, parent.PublicKey) == nil
	sigCache.Lock()
	defer sigCache.Unlock()
	// Every key byte held counts against the bound, a new parent of a
	// known child too: a peer can send one leaf beside ever new issuer keys.
	spki := string(parent.RawSubjectPublicKeyInfo)
	parents := sigCache.m[string(child.Raw)]
	need := len(spki)
	if parents == nil {
		need += len(child.Raw)
	} else if _, dup := parents[spki]; dup {
		need = 0
	}
	if sigCache.bytes+need > sigCacheBytes {
		clear(sigCache.m)
		sigCache.bytes = 0
		parents, need = nil, len(child.Raw)+len(spki)
	}
	if parents == nil {
		parents = map[string]bool{}
		sigCache.m[string(child.Raw)] = parents
	}
	sigCache.bytes += need
	parents[spki] = ok
	return ok
}

// sigCacheBytes bounds the memory of the remembered signature checks, the
// keys they hold: some two thousand certificates. When full, the cache
// starts over.
const sigCacheBytes = 2 << 20

var sigCache = struct {
	sync.Mutex
	m     map[string]map[string]bool // child DER -> parent SPKI -> valid
	bytes int                        // key bytes held
}{m: make(map[string]map[string]bool)}

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
