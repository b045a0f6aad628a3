package pkcs11

import (
	"context"
	"crypto"
	"errors"
	"testing"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

// answer is an Interaction whose AskPassword returns what it was made with.
type answer struct {
	res   giotls.InteractionResult
	value string
	err   error
}

func (a answer) AskPassword(_ context.Context, p *giotls.Password) (giotls.InteractionResult, error) {
	p.SetValue([]byte(a.value))
	return a.res, a.err
}

func (answer) RequestCertificate(context.Context, *giotls.ClientConnection) (giotls.InteractionResult, error) {
	return giotls.InteractionUnhandled, nil
}

// TestUnlockAnswers: every answer an Interaction may give that is not the
// right PIN (an empty PIN handled, a failure with or without an error, a
// result no Interaction should return) leaves the key locked with a
// *giotls.Error matching ErrBadCertificatePassword, never a panic or a
// login; the right PIN afterwards still unlocks it.
func TestUnlockAnswers(t *testing.T) {
	_, key, _ := openTokenKey(t, testpki.ECDSAP256, "")
	mine := errors.New("the dialog crashed")
	for _, tc := range []struct {
		name string
		a    answer
		is   error
	}{
		{"empty PIN", answer{res: giotls.InteractionHandled}, giotls.ErrBadCertificatePassword},
		{"failed without an error", answer{res: giotls.InteractionFailed}, giotls.ErrBadCertificatePassword},
		{"failed with an error", answer{res: giotls.InteractionFailed, err: mine}, mine},
		{"failed, a PIN set anyway", answer{res: giotls.InteractionFailed, value: "1234"}, giotls.ErrBadCertificatePassword},
		{"unhandled, a PIN set anyway", answer{res: giotls.InteractionUnhandled, value: "1234"}, giotls.ErrBadCertificatePassword},
		{"unknown result", answer{res: giotls.InteractionResult(42), value: "1234"}, giotls.ErrBadCertificatePassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := key.Unlock(context.Background(), tc.a)
			var ge *giotls.Error
			if !errors.As(err, &ge) || !errors.Is(err, giotls.ErrBadCertificatePassword) || !errors.Is(err, tc.is) {
				t.Fatalf("Unlock = %v, want a *giotls.Error matching ErrBadCertificatePassword and %v", err, tc.is)
			}
			if _, err := key.Sign(nil, make([]byte, 32), crypto.SHA256); err == nil {
				t.Fatal("the key signs after a refused unlock")
			}
		})
	}
	if err := key.Unlock(context.Background(), answer{res: giotls.InteractionHandled, value: "1234"}); err != nil {
		t.Fatalf("Unlock with the right PIN: %v", err)
	}
}
