package pkcs11

import (
	"context"
	"crypto"
	"errors"
	"testing"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

// TestTokenRemoved: a token deleted while its key is open (as a card
// pulled out) makes signing fail with a *giotls.Error, never a panic, and
// the certificate still closes (openTokenKey's cleanup checks it).
func TestTokenRemoved(t *testing.T) {
	_, key, _ := openTokenKey(t, testpki.ECDSAP256, "")
	if err := key.Unlock(context.Background(), &pins{answers: []string{"1234"}}); err != nil {
		t.Fatal(err)
	}
	digest := make([]byte, 32)
	if _, err := key.Sign(nil, digest, crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	run(t, "softhsm2-util", "--delete-token", "--token", "giotls test")
	var ge *giotls.Error
	if _, err := key.Sign(nil, digest, crypto.SHA256); !errors.As(err, &ge) {
		t.Errorf("Sign after the token was removed = %v, want a *giotls.Error", err)
	}
	if err := key.Unlock(context.Background(), &pins{answers: []string{"1234"}}); !errors.As(err, &ge) {
		t.Errorf("Unlock after the token was removed = %v, want a *giotls.Error", err)
	}
}
