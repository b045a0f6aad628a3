package verify

import (
	"context"
	"crypto/x509"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// TestVerifyConstraintBomb verifies the chain of issue 12 that a hostile
// server can send without any trusted CA: 6,000 names under 6,000 excluded
// constraints that match none of them, above 8 look-alike roots. Compared
// name by constraint on every path, that is 288 million comparisons (21.7 s
// in a handshake); with a 1 s context, Verify must end within 1.5 s, with
// little memory, and flag the chain.
func TestVerifyConstraintBomb(t *testing.T) {
	leaf := testpki.ConstraintBomb(t, 6000, 6000, 8, "localhost")
	trusted := testpki.MustCA(t, "Trusted")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := Verify(ctx, &Options{
		Chain: leaf.Chain, Store: NewStore(certs(trusted.Cert), nil),
		Identity: Identity{Host: "localhost"}, CheckIdentity: true, Purpose: serverAuth,
	})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if elapsed > 1500*time.Millisecond {
		t.Errorf("Verify took %v with a 1 s context", elapsed)
	}
	if err != nil {
		t.Fatalf("Verify = %v after %v, want flags: the comparison budget ends it first", err, elapsed)
	}
	if want := UnknownCA | GenericError; res.Flags != want {
		t.Errorf("flags = %#x, want %#x (unknown-ca, and generic-error for the constraints not checked)", res.Flags, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("Verify allocated %d bytes", alloc)
	}
	t.Logf("ended in %v, %d bytes allocated", elapsed, after.TotalAlloc-before.TotalAlloc)
}

// TestVerifyConstraintBombCancelled lifts the comparison budget to show that
// the context alone also ends the comparisons: checked inside their loops,
// not only between paths.
func TestVerifyConstraintBombCancelled(t *testing.T) {
	leaf := testpki.ConstraintBomb(t, 6000, 6000, 8, "localhost")
	defer func(n int) { constraintBudget = n }(constraintBudget)
	constraintBudget = math.MaxInt
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Verify(ctx, &Options{Chain: leaf.Chain, Identity: Identity{Host: "localhost"}, CheckIdentity: true})
	if elapsed := time.Since(start); elapsed > 700*time.Millisecond {
		t.Errorf("Verify took %v with a 200 ms context", elapsed)
	}
	if err != context.DeadlineExceeded {
		t.Errorf("Verify = %v, want context.DeadlineExceeded", err)
	}
}

// TestVerifyBudgets shows each bound of path building at work, alone: a
// test that fails when only that bound is removed. The certificates
// considered (maxCertificates): an issuer sent after 64 others is never
// seen. The depth (MaxDepth): 16 certificates, anchor included, and no
// more. The paths examined (maxPaths): a valid intermediate offered after
// 40 expired copies of itself is not reached. The issuer candidates tried
// (maxExpansions): a web of 8 CAs of one name, cross-signed every way,
// ends on that budget before the path budget.
func TestVerifyBudgets(t *testing.T) {
	dns := testpki.DNSNames("example.com")
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	leaf := inter.MustLeaf(t, "leaf", dns)
	var others []*x509.Certificate
	for range maxCertificates {
		others = append(others, testpki.MustCA(t, "Other").Cert)
	}
	deep := func(intermediates int) []*x509.Certificate {
		ca := root
		for range intermediates {
			ca = ca.MustIntermediate(t, "Deep")
		}
		return ca.MustLeaf(t, "leaf", dns).Chain
	}
	copies := func(n int) []*x509.Certificate {
		chain := certs(leaf.Cert)
		for range n {
			c, err := root.CrossSign(inter, testpki.Expired())
			if err != nil {
				t.Fatal(err)
			}
			chain = append(chain, c)
		}
		return append(chain, inter.Cert)
	}
	web := func(n int) []*x509.Certificate {
		cas := make([]*testpki.CA, n)
		for i := range cas {
			cas[i] = testpki.MustCA(t, "Web")
		}
		chain := certs(cas[0].MustLeaf(t, "leaf", dns).Cert)
		for i := range cas {
			for j := range cas {
				if i != j {
					c, err := cas[i].CrossSign(cas[j])
					if err != nil {
						t.Fatal(err)
					}
					chain = append(chain, c)
				}
			}
		}
		return chain
	}

	cases := []struct {
		name  string
		chain []*x509.Certificate
		want  Flags
		check func(w work) bool // what the search spent
	}{
		{"issuer after 63 others", append(append(certs(leaf.Cert), others[:maxCertificates-1]...), inter.Cert), 0, nil},
		{"issuer after 64 others", append(append(certs(leaf.Cert), others...), inter.Cert), UnknownCA, nil},
		{"depth 16", deep(MaxDepth - 2), 0, nil},
		{"depth 17", deep(MaxDepth - 1), UnknownCA, nil},
		{"valid after 30 expired copies", copies(maxPaths - 2), 0, func(w work) bool { return w.paths == maxPaths-1 }},
		{"valid after 40 expired copies", copies(40), Expired, func(w work) bool { return w.paths == maxPaths && w.expansions < maxExpansions }},
		{"web of 7", web(7), UnknownCA, func(w work) bool { return w.paths == maxPaths && w.expansions < maxExpansions }},
		{"web of 8", web(8), UnknownCA, func(w work) bool { return w.expansions == maxExpansions && w.paths < maxPaths }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(context.Background(), &Options{
				Chain: tc.chain, Store: NewStore(certs(root.Cert), nil),
				Identity: Identity{Host: "example.com"}, CheckIdentity: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Flags != tc.want {
				t.Errorf("flags = %#x, want %#x (path of %d, anchored %v)", res.Flags, tc.want, len(res.Path), res.Anchored)
			}
			if tc.check != nil && !tc.check(res.work) {
				t.Errorf("spent %+v", res.work)
			}
		})
	}
}

// TestVerifyPolicyBomb sends certificates with 1,500 policies and 1,500
// policy mappings each, six deep, above 8 look-alike roots: each path costs
// some 25,000 policy graph steps. Policy processing has a budget per
// verification (maxPolicyWork): the paths checked within it give the
// verdict, those beyond it count as invalid (generic-error) and lose.
func TestVerifyPolicyBomb(t *testing.T) {
	var pols, maps []string
	for i := range 1500 {
		p := fmt.Sprintf("1.3.6.1.4.1.99999.3.%d", i)
		pols = append(pols, p)
		maps = append(maps, p, fmt.Sprintf("1.3.6.1.4.1.99999.4.%d", i))
	}
	root := testpki.MustCA(t, "Bomb Root")
	ca := root
	for i := range 6 {
		ca = ca.MustIntermediate(t, fmt.Sprint("Bomb ", i), testpki.Policies(append(pols, anyPolicy)...),
			testpki.PolicyMappings(maps...), testpki.PolicyConstraints(0, -1))
	}
	leaf := ca.MustLeaf(t, "leaf", testpki.DNSNames("localhost"), testpki.Policies(anyPolicy))
	chain := leaf.Chain
	for range 7 {
		chain = append(chain, testpki.MustCA(t, "Bomb Root", testpki.WithSigner(root.Key)).Cert)
	}
	chain = append(chain, root.Cert)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	res, err := Verify(ctx, &Options{Chain: chain, Identity: Identity{Host: "localhost"}, CheckIdentity: true})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("Verify = %v after %v", err, elapsed)
	}
	if res.Flags != UnknownCA {
		t.Errorf("flags = %#x, want unknown-ca", res.Flags)
	}
	if res.work.paths != 8 || res.work.policy > maxPolicyWork {
		t.Errorf("spent %+v", res.work)
	}
	t.Logf("ended in %v, spent %+v", elapsed, res.work)
}
