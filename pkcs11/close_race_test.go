package pkcs11

import (
	"context"
	"crypto"
	"errors"
	"sync"
	"testing"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

// TestCloseWhileInUse: CloseCertificate while other goroutines unlock and
// sign with the key (run with -race): every call either succeeds or fails
// with a *giotls.Error, none panics or touches the closed session, and the
// module is unloaded once.
func TestCloseWhileInUse(t *testing.T) {
	cert, key, _ := openTokenKey(t, testpki.ECDSAP256, "")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	start := make(chan struct{})
	for range 6 {
		wg.Go(func() {
			<-start
			for range 20 {
				err := key.Unlock(context.Background(), &pins{answers: []string{"1234"}})
				if err == nil {
					_, err = key.Sign(nil, make([]byte, 32), crypto.SHA256)
				}
				var ge *giotls.Error
				if err != nil && !errors.As(err, &ge) {
					errs <- err
					return
				}
			}
		})
	}
	close(start)
	if err := CloseCertificate(cert); err != nil {
		t.Error(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a call racing Close failed with %T %v, want a *giotls.Error", err, err)
	}
	if _, err := key.Sign(nil, make([]byte, 32), crypto.SHA256); !errors.Is(err, errClosed) {
		t.Errorf("Sign after Close = %v", err)
	}
	modules.mu.Lock()
	defer modules.mu.Unlock()
	if len(modules.m) != 0 {
		t.Errorf("%d modules still loaded", len(modules.m))
	}
}
