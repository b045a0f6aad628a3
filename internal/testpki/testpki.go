// Package testpki builds throwaway X.509 PKIs for tests: root CAs,
// intermediates, leaves, cross-signed certificates and CRLs, in process and
// fast.
//
// Every certificate is created with crypto/x509 and is well formed, so the
// problems a test wants (an expired intermediate, a SHA-1 signature, an issuer
// that is not a CA, a violated name constraint, ...) are exactly the ones it
// asks for through Options:
//
//	root := testpki.MustCA(t, "Test Root")
//	inter := root.MustIntermediate(t, "Test Intermediate", testpki.Expired())
//	leaf := inter.MustLeaf(t, "server", testpki.DNSNames("example.com"))
//	srv := tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}
//
// Keys are ECDSA P-256 unless KeyType says otherwise. ECDSA and Ed25519 keys
// are generated per certificate; RSA keys, slow to generate (especially under
// -race), come from a small process-wide pool per size handed out round-robin,
// so two certificates created one after the other never share a key, but
// certificates far apart may.
package testpki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// KeyType names the kind of key a certificate is made for.
type KeyType string

const (
	ECDSAP256 KeyType = "ecdsa-p256" // the default
	ECDSAP384 KeyType = "ecdsa-p384"
	RSA1024   KeyType = "rsa-1024" // too weak: verification flags it insecure
	RSA2048   KeyType = "rsa-2048"
	RSA3072   KeyType = "rsa-3072"
	Ed25519   KeyType = "ed25519"
)

// OIDUnhandledCritical is the private extension UnhandledCriticalExtension
// adds: no verifier knows it.
var OIDUnhandledCritical = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1, 1}

// Option changes the certificate being created.
type Option func(*config)

type config struct {
	cn, org          string
	dnsNames         []string
	ips              []net.IP
	ipErr            error
	notBefore        time.Time
	notAfter         time.Time
	sigAlg           x509.SignatureAlgorithm
	keyType          KeyType
	key              crypto.Signer
	extKeyUsage      []x509.ExtKeyUsage
	extKeyUsageSet   bool
	keyUsage         x509.KeyUsage
	keyUsageSet      bool
	isCA             *bool
	noBasic          bool
	maxPathLen       int
	maxPathLenSet    bool
	permittedDNS     []string
	excludedDNS      []string
	permittedIPs     []*net.IPNet
	excludedIPs      []*net.IPNet
	emails           []string
	uris             []*url.URL
	permittedEmails  []string
	excludedEmails   []string
	permittedURIs    []string
	excludedURIs     []string
	policies         []x509.OID
	version1         bool
	extraExtensions  []pkix.Extension
	serial           *big.Int
	subjectKeyID     []byte
	omitAuthorityKey bool
}

// CommonName sets the subject common name (it is never used to match a host).
func CommonName(cn string) Option { return func(c *config) { c.cn = cn } }

// Organization sets the subject organization.
func Organization(o string) Option { return func(c *config) { c.org = o } }

// DNSNames adds subjectAltName DNS names.
func DNSNames(names ...string) Option {
	return func(c *config) { c.dnsNames = append(c.dnsNames, names...) }
}

// IPAddresses adds subjectAltName IP addresses, written as "192.0.2.1" or "::1".
func IPAddresses(ips ...string) Option {
	return func(c *config) {
		for _, s := range ips {
			ip := net.ParseIP(s)
			if ip == nil {
				c.ipErr = fmt.Errorf("testpki: bad IP address %q", s)
				continue
			}
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			c.ips = append(c.ips, ip)
		}
	}
}

// Validity sets notBefore and notAfter. The default is one hour ago to one
// day from now.
func Validity(notBefore, notAfter time.Time) Option {
	return func(c *config) { c.notBefore, c.notAfter = notBefore, notAfter }
}

// Expired makes the certificate valid from two days ago to one day ago.
func Expired() Option {
	return Validity(time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
}

// NotYetValid makes the certificate valid from one day from now to two days
// from now.
func NotYetValid() Option {
	return Validity(time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour))
}

// SignatureAlgorithm sets the algorithm the issuer signs the certificate
// with; it must suit the issuer's key. x509.SHA1WithRSA, x509.ECDSAWithSHA1
// and x509.MD5WithRSA (which crypto/x509 refuses to create; testpki signs it
// itself) give insecure signatures; x509.SHA256WithRSAPSS gives RSA-PSS. The
// default suits the issuer's key: SHA-256 for RSA and ECDSA P-256.
func SignatureAlgorithm(alg x509.SignatureAlgorithm) Option {
	return func(c *config) { c.sigAlg = alg }
}

// Key sets the type of the certificate's own key.
func Key(t KeyType) Option { return func(c *config) { c.keyType = t } }

// WithSigner makes the certificate for key instead of a generated one, for
// certificates that must share a key.
func WithSigner(key crypto.Signer) Option { return func(c *config) { c.key = key } }

// ExtKeyUsage sets the extended key usages; with none, the certificate has
// no extended key usage extension. Leaves default to serverAuth and
// clientAuth; CAs to none.
func ExtKeyUsage(usages ...x509.ExtKeyUsage) Option {
	return func(c *config) { c.extKeyUsage, c.extKeyUsageSet = usages, true }
}

// KeyUsage sets the key usage bits; 0 omits the extension. CAs default to
// certSign|crlSign, leaves to digitalSignature (plus keyEncipherment for RSA).
func KeyUsage(u x509.KeyUsage) Option {
	return func(c *config) { c.keyUsage, c.keyUsageSet = u, true }
}

// IsCA sets the basic constraints cA flag; IsCA(false) on an intermediate
// makes an "issuer" that is not a CA but can still sign (testpki does not
// care).
func IsCA(isCA bool) Option { return func(c *config) { c.isCA = &isCA } }

// NoBasicConstraints omits the basic constraints extension.
func NoBasicConstraints() Option { return func(c *config) { c.noBasic = true } }

// MaxPathLen sets the basic constraints pathLenConstraint of a CA; 0 means a
// CA that may issue only leaves. The default is no constraint.
func MaxPathLen(n int) Option {
	return func(c *config) { c.maxPathLen, c.maxPathLenSet = n, true }
}

// PermittedDNSDomains adds permitted DNS name constraints (RFC 5280, section
// 4.2.1.10), marked critical.
func PermittedDNSDomains(domains ...string) Option {
	return func(c *config) { c.permittedDNS = append(c.permittedDNS, domains...) }
}

// PermittedIPRanges adds permitted IP address name constraints, written as
// CIDR ("10.0.0.0/8"), marked critical.
func PermittedIPRanges(cidrs ...string) Option {
	return func(c *config) { c.permittedIPs = append(c.permittedIPs, c.parseCIDRs(cidrs)...) }
}

// parseCIDRs parses cidrs, recording the last one that is no CIDR in
// c.ipErr.
func (c *config) parseCIDRs(cidrs []string) []*net.IPNet {
	var out []*net.IPNet
	for _, s := range cidrs {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			c.ipErr = fmt.Errorf("testpki: bad CIDR %q", s)
			continue
		}
		out = append(out, n)
	}
	return out
}

// ExcludedIPRanges adds excluded IP address name constraints, written as
// CIDR ("10.0.0.0/8"), marked critical.
func ExcludedIPRanges(cidrs ...string) Option {
	return func(c *config) { c.excludedIPs = append(c.excludedIPs, c.parseCIDRs(cidrs)...) }
}

// ExcludedDNSDomains adds excluded DNS name constraints.
func ExcludedDNSDomains(domains ...string) Option {
	return func(c *config) { c.excludedDNS = append(c.excludedDNS, domains...) }
}

// EmailAddresses adds subjectAltName rfc822Name addresses.
func EmailAddresses(addrs ...string) Option {
	return func(c *config) { c.emails = append(c.emails, addrs...) }
}

// URIs adds subjectAltName URIs, written as "https://host/path".
func URIs(uris ...string) Option {
	return func(c *config) {
		for _, s := range uris {
			u, err := url.Parse(s)
			if err != nil {
				c.ipErr = fmt.Errorf("testpki: bad URI %q", s)
				continue
			}
			c.uris = append(c.uris, u)
		}
	}
}

// EmailConstraints adds permitted and excluded email name constraints: a
// mailbox, a host or a ".domain" (RFC 5280, section 4.2.1.10).
func EmailConstraints(permitted, excluded []string) Option {
	return func(c *config) {
		c.permittedEmails = append(c.permittedEmails, permitted...)
		c.excludedEmails = append(c.excludedEmails, excluded...)
	}
}

// URIConstraints adds permitted and excluded URI name constraints: a host
// or a ".domain".
func URIConstraints(permitted, excluded []string) Option {
	return func(c *config) {
		c.permittedURIs = append(c.permittedURIs, permitted...)
		c.excludedURIs = append(c.excludedURIs, excluded...)
	}
}

// Policies adds certificate policies, written as dotted OIDs
// ("2.5.29.32.0" is anyPolicy).
func Policies(oids ...string) Option {
	return func(c *config) {
		for _, s := range oids {
			oid, err := x509.ParseOID(s)
			if err != nil {
				c.ipErr = fmt.Errorf("testpki: bad OID %q", s)
				continue
			}
			c.policies = append(c.policies, oid)
		}
	}
}

// UnhandledCriticalExtension adds the critical extension
// OIDUnhandledCritical, which no verifier understands.
func UnhandledCriticalExtension() Option {
	return Extension(pkix.Extension{Id: OIDUnhandledCritical, Critical: true, Value: []byte{0x05, 0x00}})
}

// Extension adds an arbitrary extension.
func Extension(ext pkix.Extension) Option {
	return func(c *config) { c.extraExtensions = append(c.extraExtensions, ext) }
}

// SerialNumber sets the serial number; the default is random.
func SerialNumber(n *big.Int) Option { return func(c *config) { c.serial = n } }

// SubjectKeyID sets the subject key identifier; the default is derived from
// the key.
func SubjectKeyID(id []byte) Option { return func(c *config) { c.subjectKeyID = id } }

// NoAuthorityKeyID omits the authority key identifier, so chains can only be
// built by name.
func NoAuthorityKeyID() Option { return func(c *config) { c.omitAuthorityKey = true } }

// CA is a certificate authority: a self-signed root, or an intermediate (or
// a non-CA "issuer") below another CA.
type CA struct {
	Cert   *x509.Certificate
	Key    crypto.Signer
	Parent *CA // nil for a root
}

// Leaf is an end-entity certificate with its key.
type Leaf struct {
	Cert   *x509.Certificate
	Key    crypto.Signer
	Issuer *CA
	// Chain is what a server sends: the leaf, then its issuers up to but not
	// including the root.
	Chain []*x509.Certificate
}

// NewCA returns a self-signed root CA named name (the subject common name,
// unless CommonName overrides it).
func NewCA(name string, opts ...Option) (*CA, error) {
	cfg := newConfig(name, opts)
	key, err := cfg.signer()
	if err != nil {
		return nil, err
	}
	tmpl, err := cfg.template(true, key.Public())
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, tmpl, key.Public(), key, cfg)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// MustCA is NewCA that fails tb on error.
func MustCA(tb testing.TB, name string, opts ...Option) *CA {
	tb.Helper()
	ca, err := NewCA(name, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return ca
}

// NewIntermediate returns a CA named name issued by ca.
func (ca *CA) NewIntermediate(name string, opts ...Option) (*CA, error) {
	cfg := newConfig(name, opts)
	key, err := cfg.signer()
	if err != nil {
		return nil, err
	}
	tmpl, err := cfg.template(true, key.Public())
	if err != nil {
		return nil, err
	}
	if cfg.omitAuthorityKey {
		tmpl.AuthorityKeyId = nil
	}
	cert, err := sign(tmpl, ca.Cert, key.Public(), ca.Key, cfg)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, Parent: ca}, nil
}

// MustIntermediate is NewIntermediate that fails tb on error.
func (ca *CA) MustIntermediate(tb testing.TB, name string, opts ...Option) *CA {
	tb.Helper()
	c, err := ca.NewIntermediate(name, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// NewLeaf returns an end-entity certificate issued by ca, with subject
// common name cn. Its names come from DNSNames and IPAddresses only: the
// common name is not copied into them.
func (ca *CA) NewLeaf(cn string, opts ...Option) (*Leaf, error) {
	cfg := newConfig(cn, opts)
	key, err := cfg.signer()
	if err != nil {
		return nil, err
	}
	tmpl, err := cfg.template(false, key.Public())
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, ca.Cert, key.Public(), ca.Key, cfg)
	if err != nil {
		return nil, err
	}
	leaf := &Leaf{Cert: cert, Key: key, Issuer: ca, Chain: []*x509.Certificate{cert}}
	leaf.Chain = append(leaf.Chain, ca.Intermediates()...)
	return leaf, nil
}

// MustLeaf is NewLeaf that fails tb on error.
func (ca *CA) MustLeaf(tb testing.TB, cn string, opts ...Option) *Leaf {
	tb.Helper()
	l, err := ca.NewLeaf(cn, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// CrossSign returns a certificate for other's subject and key, issued by ca:
// a cross-certificate (or, issued both ways, a cycle).
func (ca *CA) CrossSign(other *CA, opts ...Option) (*x509.Certificate, error) {
	cfg := newConfig(other.Cert.Subject.CommonName, opts)
	cfg.key = other.Key
	tmpl, err := cfg.template(true, other.Key.Public())
	if err != nil {
		return nil, err
	}
	tmpl.Subject = other.Cert.Subject
	tmpl.SubjectKeyId = other.Cert.SubjectKeyId
	return sign(tmpl, ca.Cert, other.Key.Public(), ca.Key, cfg)
}

// Root returns the root certificate above ca (ca's own for a root).
func (ca *CA) Root() *x509.Certificate {
	for ca.Parent != nil {
		ca = ca.Parent
	}
	return ca.Cert
}

// Intermediates returns ca and its issuers, nearest first, without the root:
// what a server sends after its leaf. Empty for a root.
func (ca *CA) Intermediates() []*x509.Certificate {
	var out []*x509.Certificate
	for ; ca.Parent != nil; ca = ca.Parent {
		out = append(out, ca.Cert)
	}
	return out
}

// Pool returns a pool holding only ca's certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// CertPEM returns ca's certificate in PEM.
func (ca *CA) CertPEM() []byte { return EncodeCertificates(ca.Cert) }

// WriteCertFile writes ca's certificate as PEM to dir/name and returns the path.
func (ca *CA) WriteCertFile(dir, name string) (string, error) {
	return writeFile(dir, name, ca.CertPEM())
}

// CRL returns a PEM CRL issued by ca that revokes the given certificates,
// valid from one hour ago to one day from now (RFC 5280, section 5).
func (ca *CA) CRL(revoked ...*x509.Certificate) ([]byte, error) {
	der, err := ca.CRLDER(time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), revoked...)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}

// CRLDER returns a DER CRL issued by ca with the given validity.
func (ca *CA) CRLDER(thisUpdate, nextUpdate time.Time, revoked ...*x509.Certificate) ([]byte, error) {
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(time.Now().UnixNano()),
		ThisUpdate: thisUpdate,
		NextUpdate: nextUpdate,
	}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber:   c.SerialNumber,
			RevocationTime: time.Now().Add(-time.Minute),
		})
	}
	return x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
}

// TLSCertificate returns the leaf for a crypto/tls server or client: the
// chain as sent and the key.
func (l *Leaf) TLSCertificate() tls.Certificate {
	tc := tls.Certificate{PrivateKey: l.Key, Leaf: l.Cert}
	for _, c := range l.Chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc
}

// Root returns the root certificate the leaf chains to.
func (l *Leaf) Root() *x509.Certificate { return l.Issuer.Root() }

// CertPEM returns the leaf certificate alone in PEM.
func (l *Leaf) CertPEM() []byte { return EncodeCertificates(l.Cert) }

// ChainPEM returns the chain as sent (leaf first) in PEM.
func (l *Leaf) ChainPEM() []byte { return EncodeCertificates(l.Chain...) }

// KeyPEM returns the private key as a PKCS#8 "PRIVATE KEY" PEM block.
func (l *Leaf) KeyPEM() []byte {
	b, err := EncodeKey(l.Key)
	if err != nil { // every key testpki makes is marshalable
		panic(err)
	}
	return b
}

// WriteFiles writes dir/name.crt (the chain as sent), dir/name.key (PKCS#8)
// and dir/name-ca.crt (the root), for servers such as openssl s_server and
// gnutls-serv and for clients outside Go, and returns their paths.
func (l *Leaf) WriteFiles(dir, name string) (certFile, keyFile, caFile string, err error) {
	if certFile, err = writeFile(dir, name+".crt", l.ChainPEM()); err != nil {
		return
	}
	if keyFile, err = writeFile(dir, name+".key", l.KeyPEM()); err != nil {
		return
	}
	caFile, err = writeFile(dir, name+"-ca.crt", EncodeCertificates(l.Root()))
	return
}

// EncodeCertificates returns certs as concatenated "CERTIFICATE" PEM blocks.
func EncodeCertificates(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// EncodeKey returns key as a PKCS#8 "PRIVATE KEY" PEM block.
func EncodeKey(key crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func writeFile(dir, name string, data []byte) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, data, 0o600)
}

func newConfig(name string, opts []Option) *config {
	cfg := &config{cn: name, keyType: ECDSAP256}
	for _, o := range opts {
		o(cfg)
	}
	return cfg
}

func (cfg *config) signer() (crypto.Signer, error) {
	if cfg.key != nil {
		return cfg.key, nil
	}
	return NewKey(cfg.keyType)
}

func (cfg *config) template(ca bool, pub crypto.PublicKey) (*x509.Certificate, error) {
	if cfg.ipErr != nil {
		return nil, cfg.ipErr
	}
	serial := cfg.serial
	if serial == nil {
		var err error
		serial, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, err
		}
		serial.Add(serial, big.NewInt(1))
	}
	nb, na := cfg.notBefore, cfg.notAfter
	if nb.IsZero() && na.IsZero() {
		nb, na = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	}
	t := &x509.Certificate{
		SerialNumber:            serial,
		Subject:                 pkix.Name{CommonName: cfg.cn},
		NotBefore:               nb,
		NotAfter:                na,
		DNSNames:                cfg.dnsNames,
		IPAddresses:             cfg.ips,
		BasicConstraintsValid:   !cfg.noBasic,
		IsCA:                    ca,
		PermittedDNSDomains:     cfg.permittedDNS,
		ExcludedDNSDomains:      cfg.excludedDNS,
		PermittedIPRanges:       cfg.permittedIPs,
		ExcludedIPRanges:        cfg.excludedIPs,
		EmailAddresses:          cfg.emails,
		URIs:                    cfg.uris,
		PermittedEmailAddresses: cfg.permittedEmails,
		ExcludedEmailAddresses:  cfg.excludedEmails,
		PermittedURIDomains:     cfg.permittedURIs,
		ExcludedURIDomains:      cfg.excludedURIs,
		Policies:                cfg.policies,
		ExtraExtensions:         cfg.extraExtensions,
	}
	if len(cfg.permittedDNS)+len(cfg.excludedDNS)+len(cfg.permittedIPs)+len(cfg.excludedIPs)+
		len(cfg.permittedEmails)+len(cfg.excludedEmails)+len(cfg.permittedURIs)+len(cfg.excludedURIs) > 0 {
		t.PermittedDNSDomainsCritical = true
	}
	if cfg.org != "" {
		t.Subject.Organization = []string{cfg.org}
	}
	if cfg.isCA != nil {
		t.IsCA = *cfg.isCA
	}
	if cfg.noBasic {
		t.IsCA = false
	}
	if ca && t.IsCA {
		if cfg.maxPathLenSet {
			t.MaxPathLen = cfg.maxPathLen
			t.MaxPathLenZero = cfg.maxPathLen == 0
		} else {
			t.MaxPathLen = -1
		}
	}
	switch {
	case cfg.keyUsageSet:
		t.KeyUsage = cfg.keyUsage
	case ca:
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	default:
		t.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := pub.(*rsa.PublicKey); ok {
			t.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
	}
	switch {
	case cfg.extKeyUsageSet:
		t.ExtKeyUsage = cfg.extKeyUsage
	case !ca:
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	if cfg.subjectKeyID != nil {
		t.SubjectKeyId = cfg.subjectKeyID
	} else {
		spki, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, err
		}
		sum := sha1.Sum(spki)
		t.SubjectKeyId = sum[:]
	}
	return t, nil
}

// sign creates the certificate tmpl issued by parent with the issuer key
// priv. crypto/x509 refuses to create MD5 signatures, so for MD5WithRSA it
// signs with SHA-256 and then rewrites the algorithm and signature; it
// creates only version 3 certificates, which Version1 rewrites likewise.
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer, cfg *config) (*x509.Certificate, error) {
	alg := cfg.sigAlg
	md5 := alg == x509.MD5WithRSA
	if md5 {
		alg = x509.SHA256WithRSA
	}
	tmpl.SignatureAlgorithm = alg
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		return nil, err
	}
	if md5 {
		if der, err = resignMD5(der, priv); err != nil {
			return nil, err
		}
	}
	if cfg.version1 {
		if der, err = toVersion1(der, priv); err != nil {
			return nil, err
		}
	}
	return x509.ParseCertificate(der)
}

var (
	algSHA256WithRSA = []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}
	algMD5WithRSA    = []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04, 0x05, 0x00}
)

func resignMD5(der []byte, priv crypto.Signer) ([]byte, error) {
	rsaKey, ok := priv.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("testpki: MD5WithRSA needs an RSA issuer key")
	}
	var outer struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, err
	}
	tbs := bytes.Replace(outer.TBS.FullBytes, algSHA256WithRSA, algMD5WithRSA, 1)
	sum := md5.Sum(tbs)
	sig, err := rsa.SignPKCS1v15(nil, rsaKey, crypto.MD5, sum[:])
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, asn1.RawValue{FullBytes: algMD5WithRSA}, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
}

var rsaPool struct {
	sync.Mutex
	keys map[int][]*rsa.PrivateKey
	next map[int]int
}

const rsaPoolSize = 6

// NewKey returns a key of type t: a fresh one for ECDSA and Ed25519, one
// from the round-robin pool for RSA.
func NewKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case "", ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case RSA1024:
		return rsaKey(1024)
	case RSA2048:
		return rsaKey(2048)
	case RSA3072:
		return rsaKey(3072)
	}
	return nil, fmt.Errorf("testpki: unknown key type %q", t)
}

func rsaKey(bits int) (*rsa.PrivateKey, error) {
	rsaPool.Lock()
	defer rsaPool.Unlock()
	if rsaPool.keys == nil {
		rsaPool.keys, rsaPool.next = map[int][]*rsa.PrivateKey{}, map[int]int{}
	}
	i := rsaPool.next[bits] % rsaPoolSize
	rsaPool.next[bits]++
	if i < len(rsaPool.keys[bits]) {
		return rsaPool.keys[bits][i], nil
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	rsaPool.keys[bits] = append(rsaPool.keys[bits], k)
	return k, nil
}

// Fingerprint returns the SHA-256 of a certificate's DER, for messages.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return fmt.Sprintf("%x", sum[:8])
}
