package giotls

import (
	"context"
	"errors"
)

// InteractionResult is GIO's GTlsInteractionResult.
type InteractionResult int

const (
	// InteractionUnhandled: the interaction did not handle the request; the
	// operation goes on as if it had not been asked.
	InteractionUnhandled InteractionResult = iota
	// InteractionHandled: the request was answered.
	InteractionHandled
	// InteractionFailed: the request failed; the error says why.
	InteractionFailed
)

// PasswordFlags is GIO's GTlsPasswordFlags: hints about a password request.
type PasswordFlags uint32

const (
	PasswordNone      PasswordFlags = 0
	PasswordRetry     PasswordFlags = 1 << 1 // an earlier password was wrong
	PasswordManyTries PasswordFlags = 1 << 2 // several wrong passwords were given
	PasswordFinalTry  PasswordFlags = 1 << 3 // a wrong password now ends the attempt

	// The PKCS#11 flags (GIO 2.70) say which PIN of a token is asked for.
	PasswordPKCS11User            PasswordFlags = 1 << 4 // the user PIN (CKU_USER)
	PasswordPKCS11SecurityOfficer PasswordFlags = 1 << 5 // the security officer PIN (CKU_SO)
	PasswordPKCS11ContextSpecific PasswordFlags = 1 << 6 // a PIN for one operation (CKU_CONTEXT_SPECIFIC)
)

// Password is GIO's GTlsPassword: a request for a password and its answer.
type Password struct {
	Description string // what the password is for
	Warning     string // why it is asked again, when Flags say so
	Flags       PasswordFlags
	value       []byte
}

// Value returns the password set by SetValue.
func (p *Password) Value() []byte { return p.value }

// SetValue sets the password; the slice is copied.
func (p *Password) SetValue(v []byte) { p.value = append([]byte(nil), v...) }

// Interaction is GIO's GTlsInteraction: how a connection asks the program
// (and so its user) for passwords and client certificates during a handshake.
//
// Methods are called on the handshake's goroutine, with a context that the
// handshake's context cancels: a method that waits for a person should give
// up when it is done. While they run the handshake is in progress, so they
// may call the connection's property methods (AcceptedCAs, SetCertificate,
// ServerIdentity, PeerCertificate, ...) but not Handshake, Read, Write or
// ConnectionState, which wait for the handshake to end.
type Interaction interface {
	// AskPassword asks for the password p describes and sets it with
	// p.SetValue, returning InteractionHandled. It is asked to unlock a
	// private key encrypted with a password: up to three times, with
	// PasswordRetry after a wrong password and PasswordManyTries and
	// PasswordFinalTry on the last request. InteractionUnhandled and
	// InteractionFailed give up (ErrBadCertificatePassword).
	AskPassword(ctx context.Context, p *Password) (InteractionResult, error)
	// Called when the server requests a certificate and none is set: call conn.SetCertificate.
	//
	// It is called at most once a handshake, after the server's
	// CertificateRequest: conn.AcceptedCAs() already returns the
	// authorities the server named. InteractionHandled sends the
	// certificate set (none if none was set); InteractionUnhandled goes
	// on without one; InteractionFailed fails the handshake with the
	// error returned.
	RequestCertificate(ctx context.Context, conn *ClientConnection) (InteractionResult, error)
}

// maxPasswordTries is how many times askPassword asks before giving up.
const maxPasswordTries = 3

// passwordFlags returns the flags of the try-th request (1-based).
func passwordFlags(try int) PasswordFlags {
	var f PasswordFlags
	if try > 1 {
		f |= PasswordRetry
	}
	if try > 2 {
		f |= PasswordManyTries
	}
	if try >= maxPasswordTries {
		f |= PasswordFinalTry
	}
	return f
}

// passwordWarning explains flags to a person.
func passwordWarning(f PasswordFlags) string {
	switch {
	case f&PasswordFinalTry != 0:
		return "The password was wrong. This is the last try."
	case f&PasswordManyTries != 0:
		return "Several wrong passwords were given."
	case f&PasswordRetry != 0:
		return "The password was wrong."
	}
	return ""
}

// askPassword asks interaction for the password described by description
// until try accepts it: try returns an error matching
// ErrBadCertificatePassword for a wrong password (and is asked again, up to
// maxPasswordTries times), any other error to stop. Giving up, a nil
// interaction, InteractionUnhandled and InteractionFailed give
// ErrBadCertificatePassword; a done ctx gives ctx.Err().
func askPassword(ctx context.Context, interaction Interaction, description string, try func(password []byte) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if interaction == nil {
		return newError(ErrorBadCertificatePassword, nil, "%s: the key is encrypted and there is no Interaction to ask for its password", description)
	}
	p := &Password{Description: description}
	var last error
	for i := 1; i <= maxPasswordTries; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.Flags = passwordFlags(i)
		p.Warning = passwordWarning(p.Flags)
		res, err := interaction.AskPassword(ctx, p)
		switch res {
		case InteractionHandled:
		case InteractionFailed:
			if err == nil {
				err = errors.New("the interaction failed")
			}
			return newError(ErrorBadCertificatePassword, err, "%s: no password", description)
		default:
			return newError(ErrorBadCertificatePassword, nil, "%s: no password was given", description)
		}
		last = try(p.Value())
		if !errors.Is(last, ErrBadCertificatePassword) {
			return last
		}
	}
	return newError(ErrorBadCertificatePassword, errors.Unwrap(last), "%s: wrong password, %d tries", description, maxPasswordTries)
}
