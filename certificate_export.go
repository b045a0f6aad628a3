package giotls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
)

// CertificatePEM returns the certificate alone (not its issuers) as a
// "CERTIFICATE" PEM block: GIO's certificate-pem property. nil for a nil
// Certificate.
func (c *Certificate) CertificatePEM() []byte {
	if c == nil || c.cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})
}

// PrivateKeyDER returns the private key as unencrypted PKCS#8 DER (RFC
// 5208), whatever format it was read from, as GIO's private-key property
// (glib-networking exports PKCS#8, plain). It is nil when GIO's is NULL:
// no key, and keys that cannot be exported. Only an in-memory
// *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey is exported: a
// key still encrypted with a password that no handshake has asked for yet
// (see [Interaction]) gives nil, as does any other crypto.Signer, such as
// a key on a PKCS#11 token, whose material never leaves it. The slice is
// the caller's; it holds a secret: clear it when done.
func (c *Certificate) PrivateKeyDER() []byte {
	if c == nil {
		return nil
	}
	return exportKey(c.privateKey())
}

// PrivateKeyPEM returns [Certificate.PrivateKeyDER] as a "PRIVATE KEY" PEM
// block (GIO's private-key-pem property); nil when that is nil.
func (c *Certificate) PrivateKeyPEM() []byte {
	der := c.PrivateKeyDER()
	if der == nil {
		return nil
	}
	defer clear(der)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// exportKey returns key as PKCS#8 DER, nil if it is not a key whose
// material giotls holds.
func exportKey(key crypto.PrivateKey) []byte {
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
	default:
		return nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil
	}
	return der
}
