package giotls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"os"
	"strings"
	"sync"
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
	// locked is the private key while it is encrypted with a password that
	// has not been given yet (see unlock); key is then nil.
	locked *lockedKey
}

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
		return nil, newError(ErrorBadCertificate, nil, "No PEM-encoded certificate found")
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
// key encrypted with password (g_tls_certificate_new_from_file_with_password
// for PEM). A wrong password gives ErrBadCertificatePassword. A key that is
// not encrypted is returned as it is.
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
// (g_tls_certificate_new_from_files). A key encrypted with a password
// (PEM as NewCertificateFromPEM, or a DER PKCS#8 EncryptedPrivateKeyInfo)
// is kept locked until a handshake asks the connection's Interaction.
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
	var encrypted *pem.Block
	if isPEM(data) {
		if _, key, encrypted, err = parsePEM(data); err != nil {
			return nil, err
		}
	} else if key, err = parseDERKey(data); err != nil {
		if _, perr := parsePBES2(data); perr != nil {
			return nil, newError(ErrorBadCertificate, err, "Could not parse DER private key %s", keyPath)
		}
		key, encrypted = nil, &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: data}
	}
	if key == nil && encrypted == nil {
		return nil, newError(ErrorBadCertificate, nil, "No PEM-encoded private key found in %s", keyPath)
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
// marked trusted: then the first is returned without a key.
func NewCertificateFromPKCS12(data []byte, password string) (*Certificate, error) {
	if err := checkPKCS12Work(data); err != nil {
		return nil, newError(ErrorBadCertificate, err, "Failed to import PKCS #12")
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
			return nil, newError(ErrorBadCertificatePassword, err, "Failed to import PKCS #12: wrong or missing password")
		}
		return nil, newError(ErrorBadCertificate, err, "Failed to import PKCS #12")
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
				return nil, nil, nil, newError(ErrorBadCertificate, err, "Could not parse PEM certificate")
			}
			certs = append(certs, c)
		case "ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if key != nil || encrypted != nil {
				continue
			}
			if isEncryptedKeyBlock(block) {
				if err := checkEncryptedKey(block); err != nil {
					return nil, nil, nil, newError(ErrorBadCertificate, err, "Cannot decrypt PEM-encoded private key")
				}
				encrypted = block
				continue
			}
			k, err := parseKeyBlock(block)
			if err != nil {
				return nil, nil, nil, newError(ErrorBadCertificate, err, "Could not parse PEM private key")
			}
			key = k
		}
	}
	return certs, key, encrypted, nil
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

// dnString formats a DER name as GIO does (GnuTLS's
// gnutls_x509_crt_get_dn3 with GNUTLS_X509_DN_FLAG_COMPAT): RFC 4514
// attribute syntax and escaping, but in the order of the DER, as in
// "C=FR,O=Example\, Inc.,CN=example.com", with GnuTLS's attribute names
// ("EMAIL" for emailAddress); unknown attributes as OID=#hex (RFC 4514,
// section 2.4), from their DER as it is, whatever its type. It falls back
// on crypto/x509's form if raw does not parse.
func dnString(raw []byte, parsed pkix.Name) string {
	var rdns pkix.RDNSequence
	var raws []rawRDNSET
	if rest, err := asn1.Unmarshal(raw, &rdns); err != nil || len(rest) != 0 {
		return parsed.String()
	}
	if rest, err := asn1.Unmarshal(raw, &raws); err != nil || len(rest) != 0 || len(raws) != len(rdns) {
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
			if !known || !isString || len(raws[i]) != len(rdn) {
				b.WriteString(atv.Type.String())
				b.WriteString("=#")
				if j < len(raws[i]) {
					b.WriteString(hex.EncodeToString(raws[i][j].Value.FullBytes))
				}
				continue
			}
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(escapeDNValue(s))
		}
	}
	return b.String()
}

// rawRDNSET is a relative distinguished name with the DER of each value
// kept. (encoding/asn1 reads a slice type whose name ends in SET as a SET.)
type rawRDNSET []struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
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
			return nil, newError(ErrorBadCertificate, err, "Cannot decrypt private key")
		}
		der, err := p.decrypt(password)
		if err != nil {
			return nil, newError(ErrorBadCertificatePassword, err, "Cannot decrypt private key: wrong password")
		}
		if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
			return nil, newError(ErrorBadCertificatePassword, errWrongPassword, "Cannot decrypt private key: wrong password")
		}
	} else {
		// The legacy format is insecure (MD5 key derivation, no
		// integrity) but still what some tools write; Go's deprecated
		// DecryptPEMBlock is the standard library's only reader of it.
		der, err := x509.DecryptPEMBlock(block, password) //nolint:staticcheck // see above
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, newError(ErrorBadCertificatePassword, err, "Cannot decrypt private key: wrong password")
		} else if err != nil {
			return nil, newError(ErrorBadCertificate, err, "Cannot decrypt private key")
		}
		if key, err = parseKeyBlock(&pem.Block{Type: block.Type, Bytes: der}); err != nil {
			return nil, newError(ErrorBadCertificatePassword, errWrongPassword, "Cannot decrypt private key: wrong password")
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
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("unsupported key encryption %v (only PBES2 is)", info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, errors.New("malformed PBES2 parameters")
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("unsupported key derivation %v (only PBKDF2 is)", params.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, errors.New("malformed PBKDF2 parameters")
	}
	p := &pbes2{salt: kdf.Salt, iterations: kdf.IterationCount, data: info.EncryptedData}
	if p.iterations < 1 || p.iterations > maxPBKDF2Iterations {
		return nil, fmt.Errorf("PBKDF2 iteration count %d out of range", p.iterations)
	}
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
	if len(p.data) == 0 || len(p.data)%blockSize != 0 {
		return nil, errors.New("encrypted data is not a whole number of blocks")
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
