package testpki

import (
	"fmt"
	"testing"
)

// ConstraintBomb returns what a hostile server needs no trusted CA to send
// (issue 12): a leaf with names DNS names, the last being host, issued by
// an intermediate with constraints excluded DNS subtrees that match none of
// them, issued in turn by roots look-alike self-signed roots sharing one
// name and key. Every root completes a path, and on each path a naive
// verifier compares every name with every constraint. The leaf's Chain is
// the leaf, the intermediate and the roots.
func ConstraintBomb(tb testing.TB, names, constraints, roots int, host string) *Leaf {
	tb.Helper()
	root := MustCA(tb, "Bomb Root")
	excluded := make([]string, constraints)
	for i := range excluded {
		excluded[i] = fmt.Sprintf("x%d.t", i)
	}
	inter := root.MustIntermediate(tb, "Bomb Inter", ExcludedDNSDomains(excluded...))
	dns := make([]string, names)
	for i := range dns {
		dns[i] = fmt.Sprintf("n%d.t", i)
	}
	dns[len(dns)-1] = host
	leaf := inter.MustLeaf(tb, "bomb", DNSNames(dns...))
	for i := 1; i < roots; i++ {
		leaf.Chain = append(leaf.Chain, MustCA(tb, "Bomb Root", WithSigner(root.Key)).Cert)
	}
	leaf.Chain = append(leaf.Chain, root.Cert)
	return leaf
}
