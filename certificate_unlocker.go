package giotls

import (
	"context"
	"crypto"
)

// KeyUnlocker is implemented by a private key that must be unlocked before
// it signs and can ask for what unlocks it, such as a key on a PKCS#11
// token whose PIN is asked through the connection's Interaction (GIO asks
// with the PasswordPKCS11User flag). crypto.Signer.Sign has neither a
// context nor an Interaction, so the connection calls Unlock first.
//
// A handshake calls Unlock when the server asked for a client certificate
// and the certificate's key is a KeyUnlocker, before the certificate is
// sent, with the handshake's context (cancelled by Close and by the
// context given to Handshake) and the connection's Interaction, which may
// be nil; a config from [Backend.ClientConfig] does the same with
// crypto/tls's handshake context and the options' Interaction. It is called once per handshake that sends the certificate, so
// it should return at once when the key is already unlocked. Calls from
// concurrent handshakes may overlap. An error fails the handshake with
// ErrorCertificateRequired (the certificate could not be sent), wrapping
// the error, so that errors.Is(err, ErrBadCertificatePassword) holds for a
// refused or wrong password returned as such.
type KeyUnlocker interface {
	crypto.Signer
	Unlock(ctx context.Context, interaction Interaction) error
}

// unlockKey unlocks cert's key if it is a KeyUnlocker (see there); call
// runs the user code, as for sendableCertificate.
func unlockKey(ctx context.Context, cert *Certificate, interaction Interaction, call func(func())) error {
	u, ok := cert.privateKey().(KeyUnlocker)
	if !ok {
		return nil
	}
	var err error
	call(func() { err = u.Unlock(ctx, interaction) })
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil: // cancelled or closed: handshakeError says which
		return err
	}
	return newError(ErrorCertificateRequired, err, "the private key of the client certificate %q could not be unlocked", cert.SubjectName())
}
