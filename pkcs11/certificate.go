package pkcs11

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/giotls/giotls"
	"github.com/miekg/pkcs11"
)

// Options are how NewCertificate loads a module.
type Options struct {
	// Module is the path of the PKCS#11 library to load when the URIs have
	// no module-path, such as "/usr/lib/softhsm/libsofthsm2.so".
	//
	// GIO hands the URIs to its TLS backend, whose GnuTLS finds the token
	// among the modules p11-kit registers (/usr/share/p11-kit/modules).
	// This package does not depend on p11-kit: it loads the URI's
	// module-path, else Module (module-name needs p11-kit's registry and is
	// refused). To use every p11-kit module as GIO does, give p11-kit's
	// proxy, p11-kit-proxy.so, as Module.
	Module string
}

// maxChain bounds the issuers read from the token above the certificate.
const maxChain = 8

// keys are the Keys of the certificates NewCertificate made, for
// CloseCertificate, by weak pointer: the map does not keep a certificate
// alive, and a cleanup closes the key of one that is collected.
var keys sync.Map // weak.Pointer[giotls.Certificate] -> *Key

// keyOf returns the Key of a certificate NewCertificate made.
func keyOf(cert *giotls.Certificate) (*Key, bool) {
	k, ok := keys.Load(weak.Make(cert))
	if !ok {
		return nil, false
	}
	return k.(*Key), true
}

// NewCertificate is GIO's g_tls_certificate_new_from_pkcs11_uris: the
// certificate certURI names on a token (RFC 7512), its issuers if the token
// holds them, and the private key keyURI names ("" for certURI's object
// with type=private, as GIO does) as a *Key, which signs on the token: the
// key never leaves it. Each URI must single out one token and one object.
//
// Nothing is asked here: the PIN is given (pin-value or pin-source in
// keyURI, RFC 7512, section 2.3) or asked through the connection's
// Interaction when a handshake first needs the key (giotls.KeyUnlocker),
// with giotls.PasswordPKCS11User.
//
// The key keeps a session on the token and the module loaded until
// CloseCertificate, or until the certificate is garbage collected (the
// key's lifetime is its certificate's). A bad URI, a missing module, token or object give a
// *giotls.Error (ErrorBadCertificate; ErrorMisc when the module fails).
// ctx is checked between the PKCS#11 calls, which cannot be interrupted.
func NewCertificate(ctx context.Context, certURI, keyURI string, opts *Options) (*giotls.Certificate, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts == nil {
		opts = &Options{}
	}
	cu, err := ParseURI(certURI)
	if err != nil {
		return nil, tokenError(giotls.ErrorBadCertificate, err, "bad certificate URI")
	}
	ku := cu.with("type", "private")
	if keyURI != "" {
		if ku, err = ParseURI(keyURI); err != nil {
			return nil, tokenError(giotls.ErrorBadCertificate, err, "bad private key URI")
		}
	}
	if t, ok := cu.Get("type"); ok && t != "cert" {
		return nil, tokenError(giotls.ErrorBadCertificate, nil, "the certificate URI names objects of type %q", t)
	}
	if t, ok := ku.Get("type"); ok && t != "private" {
		return nil, tokenError(giotls.ErrorBadCertificate, nil, "the private key URI names objects of type %q", t)
	}
	path, err := modulePath(cu, ku, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	chain, err := readChain(ctx, path, cu)
	if err != nil {
		return nil, err
	}
	key, err := openKey(ctx, path, ku, chain[0])
	if err != nil {
		return nil, err
	}
	cert, err := giotls.NewCertificateFromX509(chain, key)
	if err != nil {
		key.Close()
		return nil, err
	}
	wp := weak.Make(cert)
	keys.Store(wp, key)
	runtime.AddCleanup(cert, func(wp weak.Pointer[giotls.Certificate]) { closeKey(wp) }, wp)
	return cert, nil
}

// CloseCertificate closes the token session of the key of cert, made by
// NewCertificate, and releases its module (finalised with its last user).
// A handshake that needs the key afterwards fails. It does nothing for
// other certificates.
func CloseCertificate(cert *giotls.Certificate) error {
	if cert == nil {
		return nil
	}
	return closeKey(weak.Make(cert))
}

func closeKey(wp weak.Pointer[giotls.Certificate]) error {
	k, ok := keys.LoadAndDelete(wp)
	if !ok {
		return nil
	}
	return k.(*Key).Close()
}

// modulePath chooses the module: the URIs' module-path, else
// opts.Module.
func modulePath(cu, ku *URI, opts *Options) (string, error) {
	cp, cok := cu.Get("module-path")
	kp, kok := ku.Get("module-path")
	switch {
	case cok && kok && cp != kp:
		return "", tokenError(giotls.ErrorBadCertificate, nil, "the certificate and key URIs name different modules (%q, %q)", cp, kp)
	case cok:
		return cp, nil
	case kok:
		return kp, nil
	}
	for _, u := range []*URI{cu, ku} {
		if name, ok := u.Get("module-name"); ok {
			return "", tokenError(giotls.ErrorBadCertificate, nil,
				"module-name=%q needs p11-kit's module registry, which this package does not read: give module-path or Options.Module", name)
		}
	}
	if opts.Module == "" {
		return "", tokenError(giotls.ErrorBadCertificate, nil, "no PKCS#11 module: the URI has no module-path and Options.Module is empty")
	}
	return opts.Module, nil
}

// loadModule opens the module at path as a giotls error.
func loadModule(path string) (*module, error) {
	m, err := openModule(path)
	if err != nil {
		return nil, tokenError(giotls.ErrorBadCertificate, err, "no PKCS#11 module at %q", path)
	}
	return m, nil
}

// readChain reads the certificate u names and its issuers on the same
// token, in a session of its own.
func readChain(ctx context.Context, path string, u *URI) (_ []*x509.Certificate, err error) {
	m, err := loadModule(path)
	if err != nil {
		return nil, err
	}
	defer m.release()
	slot, ti, err := findSlot(m, u)
	if err != nil {
		return nil, err
	}
	s, err := m.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, tokenError(giotls.ErrorMisc, err, "opening a session on the token %q", ti.Label)
	}
	defer m.ctx.CloseSession(s)
	objs, err := findObjects(m.ctx, s, pkcs11.CKO_CERTIFICATE, u, pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509))
	switch {
	case err != nil:
		return nil, tokenError(giotls.ErrorMisc, err, "searching the token %q for %s", ti.Label, describe(u))
	case len(objs) == 0:
		return nil, tokenError(giotls.ErrorBadCertificate, nil, "no certificate on the token %q matches %s", ti.Label, describe(u))
	case len(objs) > 1:
		return nil, tokenError(giotls.ErrorBadCertificate, nil, "several certificates on the token %q match %s", ti.Label, describe(u))
	}
	leaf, err := readCertificate(m.ctx, s, objs[0])
	if err != nil {
		return nil, tokenError(giotls.ErrorBadCertificate, err, "reading the certificate %s", describe(u))
	}
	chain := []*x509.Certificate{leaf}
	for c := leaf; len(chain) <= maxChain && !bytes.Equal(c.RawIssuer, c.RawSubject); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		issuer := findIssuer(m.ctx, s, c)
		if issuer == nil {
			break
		}
		chain = append(chain, issuer)
		c = issuer
	}
	return chain, nil
}

// findIssuer returns a certificate on the token whose subject is c's issuer
// and whose key signed c, nil if none.
func findIssuer(ctx *pkcs11.Ctx, s pkcs11.SessionHandle, c *x509.Certificate) *x509.Certificate {
	objs, err := findObjects(ctx, s, pkcs11.CKO_CERTIFICATE, &URI{},
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509), pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, c.RawIssuer))
	if err != nil {
		return nil
	}
	for _, o := range objs {
		if issuer, err := readCertificate(ctx, s, o); err == nil && c.CheckSignatureFrom(issuer) == nil {
			return issuer
		}
	}
	return nil
}

func readCertificate(ctx *pkcs11.Ctx, s pkcs11.SessionHandle, o pkcs11.ObjectHandle) (*x509.Certificate, error) {
	der, err := attribute(ctx, s, o, pkcs11.CKA_VALUE)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// openKey makes the Key u names for leaf's public key, with a session of
// its own on u's token. The key itself is found by Unlock: a private key
// is invisible before login.
func openKey(ctx context.Context, path string, u *URI, leaf *x509.Certificate) (*Key, error) {
	pin, hasPIN, err := uriPIN(u)
	if err != nil {
		return nil, err
	}
	m, err := loadModule(path)
	if err != nil {
		return nil, err
	}
	slot, ti, err := findSlot(m, u)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		m.release()
		return nil, err
	}
	s, err := m.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		m.release()
		return nil, tokenError(giotls.ErrorMisc, err, "opening a session on the token %q", ti.Label)
	}
	return &Key{
		mod: m, slot: slot, label: ti.Label, uri: u, pub: leaf.PublicKey, pin: pin, hasPIN: hasPIN,
		turn: make(chan struct{}, 1), session: s,
	}, nil
}

// uriPIN returns the PIN u gives: pin-value, or the content of the file
// pin-source names ("file:" URI or path; RFC 7512, section 2.3), without
// one trailing newline.
func uriPIN(u *URI) (string, bool, error) {
	if v, ok := u.Get("pin-value"); ok {
		return v, true, nil
	}
	src, ok := u.Get("pin-source")
	if !ok {
		return "", false, nil
	}
	path := strings.TrimPrefix(src, "file://")
	path = strings.TrimPrefix(path, "file:")
	if !strings.HasPrefix(path, "/") {
		// Not quoted: it may be a PIN given as pin-source by mistake.
		return "", false, tokenError(giotls.ErrorBadCertificatePassword, nil, "pin-source is not a file path or file: URI")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, tokenError(giotls.ErrorBadCertificatePassword, err, "reading the PIN from pin-source")
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), true, nil
}
