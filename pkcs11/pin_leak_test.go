package pkcs11

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

// TestPINNeverInErrors: a PIN put where it does not belong (behind "&" in
// the path, where RFC 7512 lets "&" be part of a value; in pin-source;
// unencoded with an "&" of its own in the query) never shows in an error,
// though describe quotes the path and ParseURI names what it refuses.
func TestPINNeverInErrors(t *testing.T) {
	tok := newToken(t, "giotls test", "1234")
	tok.clientIdentity(t, testpki.MustCA(t, "Token CA"), testpki.ECDSAP256, "client")
	const secret = "s3cretPIN"
	for _, tc := range []struct{ name, certURI, keyURI string }{
		{"pin-value after & in the object", "pkcs11:token=giotls%20test;object=client&pin-value=" + secret, ""},
		{"pin-value after & in the token", "pkcs11:token=giotls%20test&pin-value=" + secret + ";object=client", ""},
		{"pin-value after & in the key URI", "pkcs11:token=giotls%20test;object=client", "pkcs11:object=client&pin-value=" + secret},
		{"pin-source holding the PIN", "pkcs11:token=giotls%20test;object=client", "pkcs11:object=client?pin-source=" + secret},
		{"an & in an unencoded PIN", "pkcs11:token=giotls%20test;object=client?pin-value=ab&" + secret + ".x=1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCertificate(context.Background(), tc.certURI, tc.keyURI, &Options{Module: softhsmModule})
			if err == nil {
				k, _ := keyOf(c)
				err = k.Unlock(context.Background(), &pins{answers: []string{"1234"}})
				CloseCertificate(c)
			}
			var ge *giotls.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error = %v, want a *giotls.Error", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error shows the PIN: %v", err)
			}
		})
	}
}
