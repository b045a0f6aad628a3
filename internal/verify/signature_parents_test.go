package verify

import (
	"bytes"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestSignatureCacheParentsBounded: a peer that sends one leaf again and
// again beside ever new issuer candidates (the same subject, a fresh key
// each time) adds a parent key per check under the same child. Those bytes
// count against the bound as a new child's do: the cache never holds more
// than sigCacheBytes, and what it counts is what it holds.
func TestSignatureCacheParentsBounded(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	leaf := root.MustLeaf(t, "leaf")
	sigCache.Lock()
	clear(sigCache.m)
	sigCache.bytes = 0
	sigCache.Unlock()
	const keySize = 64 << 10
	for i := range 3 * sigCacheBytes / keySize {
		impostor := *root.Cert
		impostor.RawSubjectPublicKeyInfo = bytes.Repeat([]byte{byte(i), byte(i >> 8)}, keySize/2)
		signedBy(leaf.Cert, &impostor)
		sigCache.Lock()
		counted, held := sigCache.bytes, 0
		for child, parents := range sigCache.m {
			held += len(child)
			for key := range parents {
				held += len(key)
			}
		}
		sigCache.Unlock()
		if held > sigCacheBytes || counted != held {
			t.Fatalf("after %d issuer keys: %d bytes held, %d counted; bound %d", i+1, held, counted, sigCacheBytes)
		}
	}
}
