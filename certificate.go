package giotls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"net/netip"
	"time"

	"github.com/giotls/giotls/internal/verify"
)

// Certificate is GIO's GTlsCertificate: an X.509 certificate, the chain of
// issuers that came with it, and optionally its private key. It is immutable.
type Certificate struct {
	cert   *x509.Certificate
	issuer *Certificate
	key    crypto.PrivateKey
	// locked is the private key while it is encrypted with a password that
	// has not been given yet (see unlock); key is then nil.
	locked *lockedKey
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
// a client certificate must. A key still encrypted with a password (see
// NewCertificateFromPEM) counts: it is decrypted when a handshake needs it.
func (c *Certificate) HasPrivateKey() bool { return c != nil && (c.key != nil || c.locked != nil) }

// SubjectName returns the subject distinguished name as GIO writes it:
// RFC 4514 syntax in the certificate's own order, such as
// "C=FR,O=Example\, Inc.,CN=example.com".
func (c *Certificate) SubjectName() string {
	if c == nil || c.cert == nil {
		return ""
	}
	return dnString(c.cert.RawSubject, c.cert.Subject)
}

// IssuerName returns the issuer distinguished name, as SubjectName.
func (c *Certificate) IssuerName() string {
	if c == nil || c.cert == nil {
		return ""
	}
	return dnString(c.cert.RawIssuer, c.cert.Issuer)
}

// NotValidBefore returns the start of the validity period.
func (c *Certificate) NotValidBefore() time.Time {
	if c == nil || c.cert == nil {
		return time.Time{}
	}
	return c.cert.NotBefore
}

// NotValidAfter returns the end of the validity period.
func (c *Certificate) NotValidAfter() time.Time {
	if c == nil || c.cert == nil {
		return time.Time{}
	}
	return c.cert.NotAfter
}

// DNSNames returns the subjectAltName DNS names; the slice is a copy.
func (c *Certificate) DNSNames() []string {
	if c == nil || c.cert == nil {
		return nil
	}
	return append([]string(nil), c.cert.DNSNames...)
}

// IPAddresses returns the subjectAltName IP addresses, IPv4 ones in their
// 4-byte form.
func (c *Certificate) IPAddresses() []netip.Addr {
	if c == nil || c.cert == nil {
		return nil
	}
	var out []netip.Addr
	for _, ip := range c.cert.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// IsSame reports whether c and other are the same certificate (the same
// DER), whatever their issuers and keys (g_tls_certificate_is_same).
func (c *Certificate) IsSame(other *Certificate) bool {
	if c == nil || other == nil || c.cert == nil || other.cert == nil {
		return c == other
	}
	return bytes.Equal(c.cert.Raw, other.cert.Raw)
}

// Verify checks c and its issuers against identity and the single anchor
// trustedCA, as g_tls_certificate_verify does: a nil identity is not
// checked (no CertificateBadIdentity), and with a nil trustedCA the chain is
// not checked against any anchor (CertificateUnknownCA is never set, as
// GIO documents). Every other flag applies as for Database.VerifyChain, but
// no extended key usage is required, since no purpose is given. With a
// trustedCA, a chain our checks accept must also be accepted by
// crypto/x509 with trustedCA as its root; its refusal becomes a flag as for
// the databases giotls makes (see SECURITY.md).
func (c *Certificate) Verify(identity Connectable, trustedCA *Certificate) CertificateFlags {
	if c == nil || c.cert == nil {
		return CertificateUnknownCA | CertificateBadIdentity
	}
	var anchors []*x509.Certificate
	if trustedCA != nil && trustedCA.cert != nil {
		anchors = []*x509.Certificate{trustedCA.cert}
	}
	opts := &verify.Options{Chain: c.chain(), Store: verify.NewStore(anchors, nil)}
	if id := identityOf(identity); id.check {
		opts.CheckIdentity, opts.Identity = true, id.Identity
	}
	res, _ := verify.Verify(context.Background(), opts)
	flags := CertificateFlags(res.Flags)
	if trustedCA == nil {
		return flags &^ CertificateUnknownCA
	}
	if flags == 0 {
		// Never more lenient than crypto/x509 (SECURITY.md): what our
		// checks accept, it must accept too, with trustedCA as the root.
		// It needs one, so a nil trustedCA is ours alone.
		o := newX509Opinion(anchors, false)
		flags, _ = o.secondOpinion(context.Background(), 0, c.chain(), opts.Identity, "", time.Now())
	}
	return flags
}

// tlsCertificate returns c for crypto/tls: the chain as DER and the key,
// which must have been decrypted if it was encrypted.
func (c *Certificate) tlsCertificate() (tls.Certificate, error) {
	key := c.privateKey()
	if key == nil || c.cert == nil {
		return tls.Certificate{}, newError(ErrorBadCertificate, nil, "the certificate has no private key")
	}
	tc := tls.Certificate{PrivateKey: key, Leaf: c.cert}
	for _, x := range c.chain() {
		tc.Certificate = append(tc.Certificate, x.Raw)
	}
	return tc, nil
}

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
