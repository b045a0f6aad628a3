package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"io"
	"math/big"

	"github.com/giotls/giotls"
	"github.com/miekg/pkcs11"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Sign signs digest on the token: RSASSA-PKCS1-v1_5 (CKM_RSA_PKCS over the
// DigestInfo, RFC 8017 section 9.2) or RSASSA-PSS (CKM_RSA_PKCS_PSS, which
// TLS 1.3 requires) for RSA keys as opts says, and ECDSA (CKM_ECDSA) for
// EC keys, whose r||s result is returned as the ASN.1 structure TLS sends
// (RFC 5480, section 2.2; RFC 8446, section 4.2.3). The key must have been
// unlocked (Unlock; the connection calls it).
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.closed:
		return nil, errClosed
	case !k.found:
		return nil, tokenError(giotls.ErrorBadCertificatePassword, nil, "the key %s is locked: Unlock it first", describe(k.uri))
	}
	return k.signLocked(digest, opts)
}

// signLocked signs with k.handle; k.mu is held.
func (k *Key) signLocked(digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	mech, input, err := k.mechanism(digest, opts)
	if err != nil {
		return nil, err
	}
	ctx := k.mod.ctx
	if err := ctx.SignInit(k.session, []*pkcs11.Mechanism{mech}, k.handle); err != nil {
		return nil, k.signError(err)
	}
	sig, err := ctx.Sign(k.session, input)
	if err != nil {
		return nil, k.signError(err)
	}
	if _, ok := k.pub.(*ecdsa.PublicKey); ok {
		return ecdsaASN1(sig)
	}
	return sig, nil
}

// signError reports a failed signature; a token that logged out (it was
// removed, or another program logged out) makes the next Unlock log in
// again.
func (k *Key) signError(err error) error {
	if errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_NOT_LOGGED_IN)) {
		k.found = false
	}
	return tokenError(giotls.ErrorMisc, err, "signing with %s on the token %q", describe(k.uri), k.label)
}

// DigestInfo prefixes of RFC 8017, section 9.2, note 1: the DER of
// DigestInfo up to the digest.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA1:    {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA224:  {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256:  {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384:  {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512:  {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
	crypto.MD5SHA1: {}, // TLS 1.0 and 1.1: no DigestInfo (RFC 4346, section 7.4.8)
}

// PSS parameters: the hash mechanisms and MGF1 functions (PKCS#11 v2.40,
// section 2.1.14).
var pssHashes = map[crypto.Hash][2]uint{
	crypto.SHA256: {pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	crypto.SHA384: {pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	crypto.SHA512: {pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
}

// mechanism returns the mechanism and the input that sign digest as opts
// asks.
func (k *Key) mechanism(digest []byte, opts crypto.SignerOpts) (*pkcs11.Mechanism, []byte, error) {
	h := opts.HashFunc()
	if h != 0 && len(digest) != h.Size() {
		return nil, nil, tokenError(giotls.ErrorMisc, nil, "the digest is %d bytes, %v makes %d", len(digest), h, h.Size())
	}
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			p, ok := pssHashes[h]
			if !ok {
				return nil, nil, tokenError(giotls.ErrorMisc, nil, "RSA-PSS with %v is not supported", h)
			}
			salt := pss.SaltLength
			switch salt {
			case rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto: // Auto: any length verifies
				salt = h.Size()
			}
			if salt < 0 || salt > (pub.N.BitLen()-1+7)/8-h.Size()-2 {
				return nil, nil, tokenError(giotls.ErrorMisc, nil, "RSA-PSS salt length %d does not fit the key", salt)
			}
			return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(p[0], p[1], uint(salt))), digest, nil
		}
		prefix, ok := digestInfoPrefix[h]
		if !ok {
			return nil, nil, tokenError(giotls.ErrorMisc, nil, "RSA PKCS #1 v1.5 with %v is not supported", h)
		}
		return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil), append(append([]byte(nil), prefix...), digest...), nil
	case *ecdsa.PublicKey:
		return pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil), digest, nil
	}
	return nil, nil, tokenError(giotls.ErrorMisc, nil, "unsupported public key type %T", k.pub)
}

// ecdsaASN1 turns PKCS#11's ECDSA signature, r and s big-endian of equal
// length (PKCS#11 v2.40, section 2.3.1), into the DER SEQUENCE of two
// INTEGERs that X.509 and TLS use.
func ecdsaASN1(sig []byte) ([]byte, error) {
	if len(sig) == 0 || len(sig)%2 != 0 {
		return nil, tokenError(giotls.ErrorMisc, nil, "the token returned an ECDSA signature of %d bytes", len(sig))
	}
	r := new(big.Int).SetBytes(sig[:len(sig)/2])
	s := new(big.Int).SetBytes(sig[len(sig)/2:])
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.Bytes()
}
