package verify

import (
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestSignatureCacheBound: the remembered signature checks are kept while
// there is room (signature.go:83:36 <=, which started over at every new
// certificate), and a certificate that does not fit makes the cache start
// over rather than grow past sigCacheBytes (signature.go:83:20 bytes -
// len(child.Raw)).
func TestSignatureCacheBound(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	a, b := root.MustLeaf(t, "a"), root.MustLeaf(t, "b")
	held := func(c *testpki.Leaf) bool {
		sigCache.Lock()
		defer sigCache.Unlock()
		_, ok := sigCache.m[string(c.Cert.Raw)]
		return ok
	}

	sigCache.Lock()
	clear(sigCache.m)
	sigCache.bytes = 0
	sigCache.Unlock()
	if !signedBy(a.Cert, root.Cert) || !signedBy(b.Cert, root.Cert) {
		t.Fatal("signedBy = false for a leaf the root issued")
	}
	if !held(a) || !held(b) {
		t.Errorf("with room left, the cache holds a: %v, b: %v; want both", held(a), held(b))
	}

	// One byte of room left: b's check makes the cache start over.
	sigCache.Lock()
	clear(sigCache.m)
	sigCache.bytes = sigCacheBytes - 1
	sigCache.Unlock()
	if !signedBy(b.Cert, root.Cert) {
		t.Fatal("signedBy = false for a leaf the root issued")
	}
	sigCache.Lock()
	n := sigCache.bytes
	sigCache.Unlock()
	if n > sigCacheBytes || !held(b) {
		t.Errorf("after a check that did not fit: %d bytes held (bound %d), b held: %v", n, sigCacheBytes, held(b))
	}
}
