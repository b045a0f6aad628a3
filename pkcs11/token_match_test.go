package pkcs11

import (
	"context"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestURIWithoutToken: a URI that names no token matches the one
// initialised token; SoftHSM2's spare uninitialised slot, which holds
// nothing, does not make it ambiguous.
func TestURIWithoutToken(t *testing.T) {
	tok := newToken(t, "giotls test", "1234")
	tok.clientIdentity(t, testpki.MustCA(t, "Token CA"), testpki.ECDSAP256, "client")
	c, err := NewCertificate(context.Background(), "pkcs11:object=client", "", &Options{Module: softhsmModule})
	if err != nil {
		t.Fatalf("a URI naming only the object: %v", err)
	}
	CloseCertificate(c)
}

// TestURIErrorHidesPINCharacter: a character that should have been
// percent-encoded is not quoted in the error: in pin-value, it is one of
// the PIN's.
func TestURIErrorHidesPINCharacter(t *testing.T) {
	_, err := ParseURI("pkcs11:object=client?pin-value=ab<cd")
	if err == nil {
		t.Fatal("an unencoded '<' was accepted")
	}
	if strings.Contains(err.Error(), "<") {
		t.Fatalf("the error quotes the PIN's character: %v", err)
	}
}
