package verify

import (
	"crypto/x509"
	"testing"
)

// TestBetterPath: the order in which record keeps paths, as its comment
// states it: anchored beats unanchored; among anchored paths, fewer flags,
// then shorter; among unanchored ones, longer, then fewer flags; and a path
// no better than the one kept does not replace it (verify.go:269:16,
// 277:22, 279:17, 280:22 and 282:12, each mutant of better() that lived).
func TestBetterPath(t *testing.T) {
	path := func(n int) []*x509.Certificate { return make([]*x509.Certificate, n) }
	anchored := func(n int, f Flags) Result { return Result{Anchored: true, Path: path(n), Flags: f} }
	unanchored := func(n int, f Flags) Result { return Result{Path: path(n), Flags: f | UnknownCA} }
	cases := []struct {
		name string
		a, c Result
		want bool
	}{
		{"anchored over unanchored", anchored(3, Expired|Insecure), unanchored(3, 0), true},
		{"unanchored under anchored", unanchored(5, 0), anchored(2, Expired), false},
		{"anchored, fewer flags", anchored(4, Expired), anchored(2, Expired|Revoked), true},
		{"anchored, more flags", anchored(2, Expired|Revoked), anchored(4, Expired), false},
		{"anchored, same flags, shorter", anchored(2, Expired), anchored(3, Insecure), true},
		{"anchored, same flags, longer", anchored(3, Expired), anchored(2, Insecure), false},
		{"anchored, equal", anchored(3, Expired), anchored(3, Expired), false},
		{"unanchored, longer", unanchored(3, Expired|Revoked), unanchored(2, 0), true},
		{"unanchored, shorter", unanchored(2, 0), unanchored(3, Expired|Revoked), false},
		{"unanchored, same length, fewer flags", unanchored(2, 0), unanchored(2, Expired), true},
		{"unanchored, same length, more flags", unanchored(2, Expired), unanchored(2, 0), false},
		{"unanchored, equal", unanchored(2, Expired), unanchored(2, Expired), false},
	}
	for _, tc := range cases {
		if got := better(tc.a, tc.c); got != tc.want {
			t.Errorf("%s: better = %v, want %v", tc.name, got, tc.want)
		}
	}
}
