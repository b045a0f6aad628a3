package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"testing"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

// pins is an Interaction answering AskPassword with its answers in turn,
// then InteractionUnhandled, and recording the requests' flags.
type pins struct {
	answers []string
	flags   []giotls.PasswordFlags
	descs   []string
}

func (p *pins) AskPassword(_ context.Context, pw *giotls.Password) (giotls.InteractionResult, error) {
	p.flags = append(p.flags, pw.Flags)
	p.descs = append(p.descs, pw.Description)
	if len(p.flags) > len(p.answers) {
		return giotls.InteractionUnhandled, nil
	}
	pw.SetValue([]byte(p.answers[len(p.flags)-1]))
	return giotls.InteractionHandled, nil
}

func (p *pins) RequestCertificate(context.Context, *giotls.ClientConnection) (giotls.InteractionResult, error) {
	return giotls.InteractionUnhandled, nil
}

// openTokenKey puts a client identity of keyType on a new token and loads
// it back with NewCertificate, closed when the test ends.
func openTokenKey(t *testing.T, keyType testpki.KeyType, query string) (*giotls.Certificate, *Key, *testpki.Leaf) {
	t.Helper()
	tok := newToken(t, "giotls test", "1234")
	leaf := tok.clientIdentity(t, testpki.MustCA(t, "Token CA"), keyType, "client")
	cert, err := NewCertificate(context.Background(), "pkcs11:token=giotls%20test;object=client;type=cert"+query, "", &Options{Module: softhsmModule})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := CloseCertificate(cert); err != nil {
			t.Errorf("CloseCertificate: %v", err)
		}
	})
	k, _ := keyOf(cert)
	return cert, k, leaf
}

// TestSignOnToken: the key signs on the token with each scheme TLS uses,
// and the signatures verify with the certificate's public key; the
// certificate comes back with its issuer from the token.
func TestSignOnToken(t *testing.T) {
	for _, tc := range []struct {
		keyType testpki.KeyType
		opts    []crypto.SignerOpts
	}{
		{testpki.RSA2048, []crypto.SignerOpts{crypto.SHA256, crypto.SHA512,
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256},
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA512}}},
		{testpki.ECDSAP256, []crypto.SignerOpts{crypto.SHA256}},
		{testpki.ECDSAP384, []crypto.SignerOpts{crypto.SHA384}},
	} {
		t.Run(string(tc.keyType), func(t *testing.T) {
			cert, key, leaf := openTokenKey(t, tc.keyType, "")
			if !cert.X509().Equal(leaf.Cert) || cert.Issuer() == nil || !cert.Issuer().X509().Equal(leaf.Issuer.Cert) {
				t.Fatalf("the certificate or its issuer did not come back from the token")
			}
			if err := key.Unlock(context.Background(), &pins{answers: []string{"1234"}}); err != nil {
				t.Fatal(err)
			}
			for _, opts := range tc.opts {
				digest := hash(opts.HashFunc(), []byte("signed on the token"))
				sig, err := key.Sign(rand.Reader, digest, opts)
				if err != nil {
					t.Fatalf("Sign(%v): %v", opts, err)
				}
				switch pub := leaf.Cert.PublicKey.(type) {
				case *rsa.PublicKey:
					if pss, ok := opts.(*rsa.PSSOptions); ok {
						err = rsa.VerifyPSS(pub, opts.HashFunc(), digest, sig, pss)
					} else {
						err = rsa.VerifyPKCS1v15(pub, opts.HashFunc(), digest, sig)
					}
				case *ecdsa.PublicKey:
					if !ecdsa.VerifyASN1(pub, digest, sig) {
						err = errBadSignature
					}
				}
				if err != nil {
					t.Errorf("the signature with %v does not verify: %v", opts, err)
				}
			}
		})
	}
}

var errBadSignature = &giotls.Error{Code: giotls.ErrorMisc, Message: "bad signature"}

func hash(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(msg)
		return s[:]
	case crypto.SHA384:
		s := sha512.Sum384(msg)
		return s[:]
	}
	s := sha512.Sum512(msg)
	return s[:]
}
