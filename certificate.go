package giotls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/giotls/giotls/internal/verify"
	"software.sslmate.com/src/go-pkcs12"
)

// Certificate is GIO's GTlsCertificate: an X.509 certificate, the chain of
// issuers that came with it, and optionally its private key. It is immutable.
type Certificate struct {
	cert   *x509.Certificate
	issuer *Certificate
	key    crypto.PrivateKey
}

// NewCertificateFromPEM returns the certificate in data, a PEM text
// (g_tls_certificate_new_from_pem). The first CERTIFICATE block is the
// certificate; the blocks after it are its issuers, in order, as long as
// each was issued by the one before it (names and signature); the rest are
// ignored, as GIO ignores certificates that do not form a chain. The first
// private key block, if any, is the certificate's key: "PRIVATE KEY"
// (PKCS#8), "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC 1), which
// must match the certificate. Encrypted keys are not supported yet.
//
// Input that cannot be parsed gives an *Error with ErrorBadCertificate.
func NewCertificateFromPEM(data []byte) (*Certificate, error) {
	certs, key, err := parsePEM(data)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, newError(ErrorBadCertificate, nil, "No PEM-encoded certificate found")
	}
	return newCertificate(linkedPrefix(certs), key)
}

// NewCertificateFromFile reads a certificate from path, in PEM (with its
// issuers and key, as NewCertificateFromPEM) or DER
// (g_tls_certificate_new_from_file).
func NewCertificateFromFile(path string) (*Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if isPEM(data) {
		return NewCertificateFromPEM(data)
	}
	cert, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, newError(ErrorBadCertificate, err, "Could not parse DER certificate %s", path)
	}
	return &Certificate{cert: cert}, nil
}

// NewCertificateFromFiles reads a certificate (and its issuers) from
// certPath and its private key from keyPath, each in PEM or DER
// (g_tls_certificate_new_from_files).
func NewCertificateFromFiles(certPath, keyPath string) (*Certificate, error) {
	c, err := NewCertificateFromFile(certPath)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	var key crypto.PrivateKey
	if isPEM(data) {
		if _, key, err = parsePEM(data); err != nil {
			return nil, err
		}
	} else if key, err = parseDERKey(data); err != nil {
		return nil, newError(ErrorBadCertificate, err, "Could not parse DER private key %s", keyPath)
	}
	if key == nil {
		return nil, newError(ErrorBadCertificate, nil, "No PEM-encoded private key found in %s", keyPath)
	}
	return newCertificate(c.chain(), key)
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
	return newCertificate(append([]*x509.Certificate(nil), chain...), key)
}

// NewCertificateFromPKCS12 returns the certificate, its issuers and its
// private key in the PKCS#12 (RFC 7292) file data, encrypted with password
// ("" for none) with the algorithms OpenSSL writes, modern (PBES2, AES) and
// legacy (RC2, 3DES) (g_tls_certificate_new_from_pkcs12). A wrong or
// missing password gives ErrBadCertificatePassword; anything else that
// cannot be read, ErrBadCertificate, as for a file without a private key
// (as GIO), unless it is a Java trust store, whose certificates are all
// marked trusted: then the first is returned without a key.
func NewCertificateFromPKCS12(data []byte, password string) (*Certificate, error) {
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
			return nil, newError(ErrorBadCertificatePassword, err, "Failed to import PKCS #12: wrong or missing password")
		}
		return nil, newError(ErrorBadCertificate, err, "Failed to import PKCS #12")
	}
	return newCertificate(orderChain(leaf, cas), key)
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
		if certs, _, err = parsePEM(data); err != nil {
			return nil, err
		}
	} else {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, newError(ErrorBadCertificate, err, "Could not parse certificate file %s", path)
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
// first certificate.
func newCertificate(chain []*x509.Certificate, key crypto.PrivateKey) (*Certificate, error) {
	c := certificateFromChain(chain)
	if key != nil {
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, newError(ErrorBadCertificate, nil, "unsupported private key type %T", key)
		}
		pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(c.cert.PublicKey) {
			return nil, newError(ErrorBadCertificate, nil, "the private key does not match the certificate")
		}
		c.key = key
	}
	return c, nil
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

// parsePEM returns the certificates and the first private key in data.
// Blocks of other types (parameters, CRLs) are skipped.
func parsePEM(data []byte) ([]*x509.Certificate, crypto.PrivateKey, error) {
	var certs []*x509.Certificate
	var key crypto.PrivateKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE", "X509 CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, newError(ErrorBadCertificate, err, "Could not parse PEM certificate")
			}
			certs = append(certs, c)
		case "ENCRYPTED PRIVATE KEY":
			if key == nil {
				return nil, nil, newError(ErrorBadCertificate, nil, "Cannot decrypt PEM-encoded private key: encrypted keys are not supported yet")
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if key != nil {
				continue
			}
			if block.Headers["Proc-Type"] != "" || block.Headers["DEK-Info"] != "" {
				return nil, nil, newError(ErrorBadCertificate, nil, "Cannot decrypt PEM-encoded private key: encrypted keys are not supported yet")
			}
			k, err := parseKeyBlock(block)
			if err != nil {
				return nil, nil, newError(ErrorBadCertificate, err, "Could not parse PEM private key")
			}
			key = k
		}
	}
	return certs, key, nil
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

// dnString formats a DER name as GIO does (GnuTLS's
// gnutls_x509_crt_get_dn3 with GNUTLS_X509_DN_FLAG_COMPAT): RFC 4514
// attribute syntax and escaping, but in the order of the DER, as in
// "C=FR,O=Example\, Inc.,CN=example.com", with GnuTLS's attribute names
// ("EMAIL" for emailAddress); unknown attributes as OID=#hex (RFC 4514,
// section 2.4). It falls back on crypto/x509's form if raw does not parse.
func dnString(raw []byte, parsed pkix.Name) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &rdns); err != nil || len(rest) != 0 {
		return parsed.String()
	}
	var b strings.Builder
	for i, rdn := range rdns {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, atv := range rdn {
			if j > 0 {
				b.WriteByte('+')
			}
			name, known := dnAttributeNames[atv.Type.String()]
			s, isString := atv.Value.(string)
			if !known || !isString {
				der, err := asn1.Marshal(atv.Value)
				if err != nil {
					return parsed.String()
				}
				b.WriteString(atv.Type.String())
				b.WriteString("=#")
				b.WriteString(hex.EncodeToString(der))
				continue
			}
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(escapeDNValue(s))
		}
	}
	return b.String()
}

// escapeDNValue escapes an attribute value (RFC 4514, section 2.4).
func escapeDNValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';',
			i == 0 && (c == ' ' || c == '#'),
			i == len(s)-1 && c == ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == 0:
			b.WriteString("\\00")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// dnAttributeNames are GnuTLS's names of the attribute types it knows.
var dnAttributeNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "surName",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.13":                   "description",
	"2.5.4.15":                   "businessCategory",
	"2.5.4.17":                   "postalCode",
	"2.5.4.41":                   "name",
	"2.5.4.42":                   "givenName",
	"2.5.4.43":                   "initials",
	"2.5.4.44":                   "generationQualifier",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"2.5.4.97":                   "organizationIdentifier",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "EMAIL",
	"1.3.6.1.4.1.311.60.2.1.1":   "jurisdictionOfIncorporationLocalityName",
	"1.3.6.1.4.1.311.60.2.1.2":   "jurisdictionOfIncorporationStateOrProvinceName",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionOfIncorporationCountryName",
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
// checked, a nil trustedCA trusts nothing (CertificateUnknownCA). Every
// other flag applies as for Database.VerifyChain, but no extended key usage
// is required, since no purpose is given.
func (c *Certificate) Verify(identity Connectable, trustedCA *Certificate) CertificateFlags {
	if c == nil || c.cert == nil {
		return CertificateUnknownCA | CertificateBadIdentity
	}
	var anchors []*x509.Certificate
	if trustedCA != nil && trustedCA.cert != nil {
		anchors = []*x509.Certificate{trustedCA.cert}
	}
	opts := &verify.Options{Chain: c.chain(), Store: verify.NewStore(anchors, nil)}
	if identity != nil && !isNilPointer(identity) {
		opts.CheckIdentity = true
		opts.Identity = verifyIdentity(identity)
	}
	res, _ := verify.Verify(context.Background(), opts)
	return CertificateFlags(res.Flags)
}

// tlsCertificate returns c for crypto/tls: the chain as DER and the key.
func (c *Certificate) tlsCertificate() (tls.Certificate, error) {
	if c == nil || c.cert == nil || c.key == nil {
		return tls.Certificate{}, newError(ErrorBadCertificate, nil, "the certificate has no private key")
	}
	tc := tls.Certificate{PrivateKey: c.key, Leaf: c.cert}
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
