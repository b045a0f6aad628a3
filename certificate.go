package giotls

import (
	"crypto"
	"crypto/x509"
)

// Certificate is GIO's GTlsCertificate: an X.509 certificate, the chain of
// issuers that came with it, and optionally its private key. It is immutable.
type Certificate struct {
	cert   *x509.Certificate
	issuer *Certificate
	key    crypto.PrivateKey
}

// X509 returns the parsed certificate. Callers must not modify it.
func (c *Certificate) X509() *x509.Certificate {
	if c == nil {
		return nil
	}
	return c.cert
}

// Issuer returns the next certificate of the chain, nil at its end.
func (c *Certificate) Issuer() *Certificate {
	if c == nil {
		return nil
	}
	return c.issuer
}

// HasPrivateKey reports whether the certificate carries its private key, as
// a client certificate must.
func (c *Certificate) HasPrivateKey() bool { return c != nil && c.key != nil }

// chain returns the certificate and its issuers, leaf first.
func (c *Certificate) chain() []*x509.Certificate {
	var out []*x509.Certificate
	for ; c != nil; c = c.issuer {
		out = append(out, c.cert)
	}
	return out
}

// certificateFromChain links chain (leaf first) into a Certificate without a
// key; nil for an empty chain.
func certificateFromChain(chain []*x509.Certificate) *Certificate {
	var next *Certificate
	for i := len(chain) - 1; i >= 0; i-- {
		next = &Certificate{cert: chain[i], issuer: next}
	}
	return next
}
