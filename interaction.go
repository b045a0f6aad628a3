package giotls

import "context"

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

// PasswordFlags is GIO's GTlsPasswordFlags.
type PasswordFlags uint32

const (
	PasswordNone      PasswordFlags = 0
	PasswordRetry     PasswordFlags = 1 << 1 // an earlier password was wrong
	PasswordManyTries PasswordFlags = 1 << 2 // several wrong passwords were given
	PasswordFinalTry  PasswordFlags = 1 << 3 // a wrong password now locks the key
)

// Password is GIO's GTlsPassword: a request for a password and its answer.
type Password struct {
	Description string
	Warning     string
	Flags       PasswordFlags
	value       []byte
}

// Value returns the password set by SetValue.
func (p *Password) Value() []byte { return p.value }

// SetValue sets the password; the slice is copied.
func (p *Password) SetValue(v []byte) { p.value = append([]byte(nil), v...) }

// Interaction is GIO's GTlsInteraction: how a connection asks the program
// (and so its user) for passwords and client certificates during a handshake.
// Methods are called on the handshake's goroutine with a context that the
// handshake's context cancels.
type Interaction interface {
	AskPassword(ctx context.Context, p *Password) (InteractionResult, error)
	// Called when the server requests a certificate and none is set: call conn.SetCertificate.
	RequestCertificate(ctx context.Context, conn Connection) (InteractionResult, error)
}
