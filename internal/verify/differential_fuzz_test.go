package verify

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// FuzzVerifyConstraintsPolicies builds random chains, a root, one or two
// intermediates and a leaf, from fuzzed choices among DNS names (wildcards
// included), permitted and excluded DNS constraints, certificate policies,
// policy constraints, inhibitAnyPolicy and policy mappings, and requires
// that Verify never return no flags where crypto/x509 refuses the chain
// (issue 12). The other way round we may be stricter.
func FuzzVerifyConstraintsPolicies(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	// *.example.com under excluded secret.example.com.
	f.Add([]byte{0, 0, 0b100, 0, 0, 0, 0, 0b10, 0, 1})
	// requireExplicitPolicy=0 above a leaf without policies.
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0, 0b1, 0, 0})
	f.Add([]byte{1, 0b1, 0, 0b11, 2, 1, 1, 0b11, 0b100, 0, 0b10, 0, 0, 0, 0b1, 0b1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &choices{data: data}
		root := testpki.MustCA(t, "Root")
		ca := root
		for i := range 1 + r.pick(2) {
			ca = ca.MustIntermediate(t, "Inter "+string(rune('A'+i)), r.caOptions()...)
		}
		names := r.subset(fuzzNames)
		if len(names) == 0 {
			names = fuzzNames[:1]
		}
		leafOpts := []testpki.Option{testpki.DNSNames(names...)}
		if ps := r.subset(fuzzPolicies); len(ps) > 0 {
			leafOpts = append(leafOpts, testpki.Policies(ps...))
		}
		if r.pick(4) == 3 {
			leafOpts = append(leafOpts, testpki.PolicyConstraints(0, -1))
		}
		leaf, err := ca.NewLeaf("leaf", leafOpts...)
		if err != nil {
			return
		}
		host := fuzzHosts[r.pick(len(fuzzHosts))]
		notMoreLenient(t, root, leaf, Identity{Host: host}, host)
	})
}

var (
	fuzzNames = []string{"a.example.com", "*.example.com", "secret.example.com", "*.a.example.com",
		"b.a.example.com", "example.com", "x.b.a.example.com", "*.secret.example.com"}
	fuzzHosts       = []string{"a.example.com", "secret.example.com", "b.a.example.com", "example.com", "x.b.a.example.com", "y.secret.example.com"}
	fuzzConstraints = []string{"example.com", ".example.com", "secret.example.com", "a.example.com",
		"b.a.example.com", ".a.example.com", "other.com", ".secret.example.com"}
	fuzzPolicies = []string{"1.3.6.1.4.1.99999.2.1", "1.3.6.1.4.1.99999.2.2", anyPolicy}
)

// choices reads fuzzed choices from data; zeros once it runs out.
type choices struct{ data []byte }

func (r *choices) next() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *choices) pick(n int) int { return int(r.next()) % n }

// subset picks up to 8 of list by the bits of one byte.
func (r *choices) subset(list []string) []string {
	b := r.next()
	var out []string
	for i, s := range list {
		if i < 8 && b&(1<<i) != 0 {
			out = append(out, s)
		}
	}
	return out
}

func (r *choices) caOptions() []testpki.Option {
	var opts []testpki.Option
	if p := r.subset(fuzzConstraints); len(p) > 0 {
		opts = append(opts, testpki.PermittedDNSDomains(p...))
	}
	if e := r.subset(fuzzConstraints); len(e) > 0 {
		opts = append(opts, testpki.ExcludedDNSDomains(e...))
	}
	if ps := r.subset(fuzzPolicies); len(ps) > 0 {
		opts = append(opts, testpki.Policies(ps...))
	}
	switch r.pick(5) {
	case 1:
		opts = append(opts, testpki.PolicyConstraints(0, -1))
	case 2:
		opts = append(opts, testpki.PolicyConstraints(1, -1))
	case 3:
		opts = append(opts, testpki.PolicyConstraints(-1, 0))
	case 4:
		opts = append(opts, testpki.PolicyConstraints(0, 0))
	}
	if n := r.pick(3); n > 0 {
		opts = append(opts, testpki.InhibitAnyPolicy(n-1))
	}
	switch r.pick(3) {
	case 1:
		opts = append(opts, testpki.PolicyMappings(fuzzPolicies[0], fuzzPolicies[1]))
	case 2:
		opts = append(opts, testpki.PolicyMappings(fuzzPolicies[1], fuzzPolicies[0]))
	}
	return opts
}

// notMoreLenient fails t when Verify gives leaf's chain, anchored at root, no
// flags for id while crypto/x509 refuses it for host (DNS name or IP).
func notMoreLenient(t *testing.T, root *testpki.CA, leaf *testpki.Leaf, id Identity, host string) {
	t.Helper()
	res, err := Verify(context.Background(), &Options{
		Chain: leaf.Chain, Store: NewStore(certs(root.Cert), nil),
		Identity: id, CheckIdentity: true, Purpose: serverAuth,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Flags != 0 {
		return
	}
	inter := x509.NewCertPool()
	for _, c := range leaf.Chain[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{
		DNSName: host, Roots: root.Pool(), Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		t.Fatalf("no flags for a chain crypto/x509 refuses: %v", err)
	}
}
