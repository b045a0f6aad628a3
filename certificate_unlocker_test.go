package giotls

import (
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"io"
	"sync"
	"testing"
)

// unlockerKey is a KeyUnlocker over a software key: it refuses to sign
// until Unlock succeeded, as a token does before its PIN is given.
type unlockerKey struct {
	crypto.Signer
	fail error // what Unlock returns

	mu       sync.Mutex
	unlocked bool
	seen     []Interaction // the interaction of each Unlock call
}

func (k *unlockerKey) Unlock(ctx context.Context, i Interaction) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen = append(k.seen, i)
	if ctx == nil || ctx.Err() != nil {
		return errors.New("Unlock: no live context")
	}
	if k.fail != nil {
		return k.fail
	}
	k.unlocked = true
	return nil
}

func (k *unlockerKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.mu.Lock()
	ok := k.unlocked
	k.mu.Unlock()
	if !ok {
		return nil, errors.New("the key was used before Unlock")
	}
	return k.Signer.Sign(r, digest, opts)
}

func (k *unlockerKey) calls() []Interaction {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Interaction(nil), k.seen...)
}

// TestKeyUnlocker: a key implementing KeyUnlocker is unlocked with the
// handshake's context and the connection's Interaction before the
// certificate is offered; a failed Unlock fails the handshake as a missing
// certificate (ErrCertificateRequired) that keeps Unlock's error as cause.
func TestKeyUnlocker(t *testing.T) {
	p := newClientAuthPKI(t)
	refused := newError(ErrorBadCertificatePassword, nil, "the PIN was not given")
	for _, version := range tlsVersions {
		t.Run(versionName(version), func(t *testing.T) {
			srv := startClientAuthServer(t, p, version, tls.RequireAndVerifyClientCert, p.caA.Cert, p.caB.Cert)
			for _, tc := range []struct {
				name string
				fail error
			}{
				{"unlocked", nil},
				{"refused", refused},
			} {
				t.Run(tc.name, func(t *testing.T) {
					key := &unlockerKey{Signer: p.leafB.Key, fail: tc.fail}
					cert, err := NewCertificateFromX509(p.leafB.Chain, key)
					if err != nil {
						t.Fatal(err)
					}
					ask := &passwords{}
					before := len(srv.views())
					// A cache of its own: a resumed session would not sign.
					c := srv.connect(t, p, NewBackend(BackendOptions{SessionCache: NewSessionCache(SessionCacheOptions{})}))
					c.SetCertificate(cert)
					c.SetInteraction(ask)
					err = c.Handshake(context.Background())
					if calls := key.calls(); len(calls) != 1 || calls[0] != Interaction(ask) {
						t.Errorf("Unlock called %d times with %v, want once with the connection's Interaction", len(calls), calls)
					}
					if tc.fail == nil {
						if err != nil {
							t.Fatalf("Handshake: %v", err)
						}
						roundTrip(t, c)
						if v := srv.views(); len(v) != before+1 || !sameChain(v[len(v)-1].chain, p.certB) {
							t.Error("the server did not see the client certificate")
						}
						return
					}
					var ge *Error
					if !errors.As(err, &ge) || ge.Code != ErrorCertificateRequired || !errors.Is(err, ErrBadCertificatePassword) {
						t.Fatalf("Handshake = %v, want ErrCertificateRequired caused by Unlock's ErrBadCertificatePassword", err)
					}
					if len(srv.views()) != before {
						t.Error("the server completed a handshake")
					}
				})
			}
		})
	}
}
