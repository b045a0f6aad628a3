package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/giotls/giotls"
	"github.com/miekg/pkcs11"
)

// maxPINTries is how many PINs Unlock asks for before giving up, as the
// core does for an encrypted key; the token may lock sooner, and says so
// with CKF_USER_PIN_FINAL_TRY.
const maxPINTries = 3

// Key is a private key on a PKCS#11 token: a crypto.Signer whose
// signatures the token makes (the key never leaves it) and a
// giotls.KeyUnlocker that logs in to the token, asking the connection's
// Interaction for the PIN. It holds a session on the token and a
// reference to the loaded module until Close. Its methods are safe for
// concurrent use: signatures are serialised on its session (PKCS#11
// sessions are single-threaded).
type Key struct {
	mod    *module
	slot   uint
	label  string // the token's, for the PIN prompt
	uri    *URI   // the key's URI
	pub    crypto.PublicKey
	pin    string // from pin-value or pin-source
	hasPIN bool

	turn chan struct{} // held by the Unlock that logs in, so two never ask at once

	mu      sync.Mutex // guards what follows and every use of session
	session pkcs11.SessionHandle
	handle  pkcs11.ObjectHandle
	found   bool // handle is the key (found after login)
	closed  bool
}

// Public returns the certificate's public key, which the token's private
// key is checked against when it is found (see Unlock).
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Close closes the key's session and releases the module, finalising it
// with its last user. Signatures after Close fail.
func (k *Key) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	err := k.mod.ctx.CloseSession(k.session)
	if rerr := k.mod.release(); err == nil {
		err = rerr
	}
	return err
}

// Unlock logs in to the token as its user, if it needs a login and the
// application has not logged in yet, and finds the private key (private
// objects are invisible before login). The PIN is the URI's pin-value or
// pin-source (RFC 7512, section 2.3: used without asking); otherwise it is
// asked through interaction, with giotls.PasswordPKCS11User, PasswordRetry
// after a wrong PIN, PasswordManyTries and PasswordFinalTry when the token
// sets CKF_USER_PIN_COUNT_LOW and CKF_USER_PIN_FINAL_TRY, and
// PasswordFinalTry on the last of maxPINTries requests, as GIO does. A refused
// request, a nil interaction, maxPINTries wrong PINs and a locked PIN give
// a *giotls.Error matching giotls.ErrBadCertificatePassword; a done ctx,
// ctx.Err(). A PKCS#11 call itself cannot be interrupted: ctx is checked
// between them and while waiting for another Unlock.
func (k *Key) Unlock(ctx context.Context, interaction giotls.Interaction) error {
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case k.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-k.turn }()
	need, err := k.needsLogin()
	if err != nil {
		return err
	}
	if need {
		if err := k.login(ctx, interaction); err != nil {
			return err
		}
	}
	return k.findKey()
}

// needsLogin reports whether the token wants a login this application has
// not made (the login state is the application's, for all its sessions).
func (k *Key) needsLogin() (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return false, errClosed
	}
	ti, err := k.mod.ctx.GetTokenInfo(k.slot)
	if err != nil {
		return false, tokenError(giotls.ErrorMisc, err, "reading the token %q", k.label)
	}
	if ti.Flags&pkcs11.CKF_LOGIN_REQUIRED == 0 {
		return false, nil
	}
	si, err := k.mod.ctx.GetSessionInfo(k.session)
	if err != nil {
		return false, tokenError(giotls.ErrorMisc, err, "reading the session on the token %q", k.label)
	}
	switch si.State {
	case pkcs11.CKS_RO_USER_FUNCTIONS, pkcs11.CKS_RW_USER_FUNCTIONS:
		return false, nil
	}
	return true, nil
}

var errClosed = &giotls.Error{Code: giotls.ErrorMisc, Message: "pkcs11: the key was closed"}

// login logs in with the URI's PIN, or with PINs asked through
// interaction.
func (k *Key) login(ctx context.Context, interaction giotls.Interaction) error {
	if k.hasPIN {
		switch err := k.tryPIN(k.pin); {
		case errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)):
			return tokenError(giotls.ErrorBadCertificatePassword, nil, "the PIN of the URI is wrong for the token %q", k.label)
		case err != nil:
			return err
		}
		return nil
	}
	if interaction == nil {
		return tokenError(giotls.ErrorBadCertificatePassword, nil, "the token %q needs its PIN and there is no Interaction to ask for it", k.label)
	}
	p := &giotls.Password{Description: fmt.Sprintf("PIN for the token %q", k.label)}
	for try := 1; try <= maxPINTries; try++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		flags, err := k.pinFlags(try)
		if err != nil {
			return err
		}
		p.Flags, p.Warning = flags, pinWarning(flags)
		p.SetValue(nil)
		res, err := interaction.AskPassword(ctx, p)
		switch res {
		case giotls.InteractionHandled:
		case giotls.InteractionFailed:
			if err == nil {
				err = errors.New("the interaction failed")
			}
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return err
			}
			return tokenError(giotls.ErrorBadCertificatePassword, err, "no PIN for the token %q", k.label)
		default:
			return tokenError(giotls.ErrorBadCertificatePassword, nil, "no PIN was given for the token %q", k.label)
		}
		err = k.tryPIN(string(p.Value()))
		if !errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)) {
			return err
		}
	}
	return tokenError(giotls.ErrorBadCertificatePassword, nil, "wrong PIN for the token %q, %d tries", k.label, maxPINTries)
}

// pinFlags returns the flags of the try-th PIN request (1-based), from the
// token's own count where it keeps one (PKCS#11 v2.40, CK_TOKEN_INFO), and
// PasswordFinalTry on the last request Unlock makes. A locked PIN is an
// error: asking would be pointless.
func (k *Key) pinFlags(try int) (giotls.PasswordFlags, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return 0, errClosed
	}
	ti, err := k.mod.ctx.GetTokenInfo(k.slot)
	if err != nil {
		return 0, tokenError(giotls.ErrorMisc, err, "reading the token %q", k.label)
	}
	if ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
		return 0, tokenError(giotls.ErrorBadCertificatePassword, nil, "the PIN of the token %q is locked", k.label)
	}
	f := giotls.PasswordPKCS11User
	if try > 1 {
		f |= giotls.PasswordRetry
	}
	if ti.Flags&pkcs11.CKF_USER_PIN_COUNT_LOW != 0 {
		f |= giotls.PasswordManyTries
	}
	// GIO (glib-networking's PIN callback) also marks its own last
	// request final.
	if ti.Flags&pkcs11.CKF_USER_PIN_FINAL_TRY != 0 || try == maxPINTries {
		f |= giotls.PasswordFinalTry
	}
	return f, nil
}

func pinWarning(f giotls.PasswordFlags) string {
	switch {
	case f&giotls.PasswordFinalTry != 0:
		return "This is the last chance to enter the PIN correctly before the token is locked."
	case f&giotls.PasswordManyTries != 0:
		return "Several PINs were wrong: the token will be locked after further failures."
	case f&giotls.PasswordRetry != 0:
		return "The PIN was wrong."
	}
	return ""
}

// tryPIN logs in with pin. It returns the PKCS#11 error CKR_PIN_INCORRECT
// as it is, for the caller to ask again.
func (k *Key) tryPIN(pin string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return errClosed
	}
	err := k.mod.ctx.Login(k.session, pkcs11.CKU_USER, pin)
	switch {
	case err == nil, errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)):
		return nil
	case errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)):
		return err
	case errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_LOCKED)):
		return tokenError(giotls.ErrorBadCertificatePassword, err, "the PIN of the token %q is locked", k.label)
	}
	return tokenError(giotls.ErrorBadCertificatePassword, err, "logging in to the token %q", k.label)
}

// findKey finds the one private key the URI names, once, and checks it
// is the certificate's.
func (k *Key) findKey() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return errClosed
	}
	if k.found {
		return nil
	}
	ctx := k.mod.ctx
	objs, err := findObjects(ctx, k.session, pkcs11.CKO_PRIVATE_KEY, k.uri)
	if err != nil {
		return tokenError(giotls.ErrorMisc, err, "searching the token %q for %s", k.label, describe(k.uri))
	}
	switch {
	case len(objs) == 0:
		return tokenError(giotls.ErrorBadCertificate, nil, "no private key on the token %q matches %s", k.label, describe(k.uri))
	case len(objs) > 1:
		return tokenError(giotls.ErrorBadCertificate, nil, "several private keys on the token %q match %s", k.label, describe(k.uri))
	}
	typ, err := attribute(ctx, k.session, objs[0], pkcs11.CKA_KEY_TYPE)
	if err != nil {
		return tokenError(giotls.ErrorMisc, err, "reading the key type of %s", describe(k.uri))
	}
	kt := ulong(typ)
	switch k.pub.(type) {
	case *rsa.PublicKey:
		if kt != pkcs11.CKK_RSA {
			return tokenError(giotls.ErrorBadCertificate, nil, "the key %s is not an RSA key, as the certificate's is", describe(k.uri))
		}
	case *ecdsa.PublicKey:
		if kt != pkcs11.CKK_EC {
			return tokenError(giotls.ErrorBadCertificate, nil, "the key %s is not an EC key, as the certificate's is", describe(k.uri))
		}
	}
	// The key must be the certificate's, or every handshake would fail at
	// the server: one signature, checked with the certificate's key, says
	// so here (a private key object need not hold its public half).
	digest := sha256.Sum256([]byte("giotls pkcs11 key check"))
	k.handle = objs[0]
	sig, err := k.signLocked(digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	var ok bool
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, digest[:], sig)
	}
	if !ok {
		return tokenError(giotls.ErrorBadCertificate, nil, "the key %s does not match the certificate", describe(k.uri))
	}
	k.found = true
	return nil
}

// ulong reads a CK_ULONG attribute value, in the platform's byte order.
func ulong(b []byte) uint {
	switch len(b) {
	case 8:
		return uint(binary.NativeEndian.Uint64(b))
	case 4:
		return uint(binary.NativeEndian.Uint32(b))
	}
	return ^uint(0) // no key type has this value
}
