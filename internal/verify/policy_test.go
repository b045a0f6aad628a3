package verify

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestVerifyPolicies checks certificate policy processing (RFC 5280,
// section 6.1, as updated by RFC 9618) with any policy acceptable, as
// crypto/x509 does it: a chain fails when an explicit policy is required
// and none is valid for the whole path. Each verdict is checked against
// crypto/x509's.
func TestVerifyPolicies(t *testing.T) {
	const (
		p   = "1.3.6.1.4.1.99999.2.1"
		q   = "1.3.6.1.4.1.99999.2.2"
		r   = "1.3.6.1.4.1.99999.2.3"
		any = "2.5.29.32.0"
	)
	type opts = []testpki.Option
	pc := testpki.PolicyConstraints
	pol := testpki.Policies
	cases := []struct {
		name   string
		root   opts
		inters []opts // from the root down
		// selfIssued names the intermediate at this index (from 1) as its
		// issuer, as a CA changing keys does; -1 names the leaf so; 0 none.
		selfIssued int
		leaf       opts
		want       Flags
	}{
		{"explicit policy required, leaf has none", nil, []opts{{pc(0, -1)}}, 0, nil, GenericError},
		{"explicit policy required, policy valid", nil, []opts{{pc(0, -1), pol(p)}}, 0, opts{pol(p)}, 0},
		{"explicit policy required, other policy", nil, []opts{{pc(0, -1), pol(p)}}, 0, opts{pol(q)}, GenericError},
		{"explicit policy required, intermediate has none", nil, []opts{{pc(0, -1)}}, 0, opts{pol(p)}, GenericError},
		{"explicit policy required, anyPolicy above", nil, []opts{{pc(0, -1), pol(any)}}, 0, opts{pol(p)}, 0},
		{"explicit policy required after one more", nil, []opts{{pc(1, -1)}}, 0, nil, GenericError},
		{"explicit policy required after two more", nil, []opts{{pc(2, -1)}}, 0, nil, 0},
		{"explicit policy required by the leaf", nil, nil, 0, opts{pc(0, -1)}, GenericError},
		{"explicit policy required by the anchor only", opts{pc(0, -1)}, nil, 0, nil, 0},
		{"no policies anywhere", nil, []opts{nil}, 0, nil, 0},
		{"anyPolicy inhibited", nil, []opts{{pc(0, -1), pol(any), testpki.InhibitAnyPolicy(0)}}, 0, opts{pol(any)}, GenericError},
		{"anyPolicy not inhibited", nil, []opts{{pc(0, -1), pol(any)}}, 0, opts{pol(any)}, 0},
		{"anyPolicy inhibited, explicit policy kept", nil, []opts{{pc(0, -1), pol(any), testpki.InhibitAnyPolicy(0)}}, 0, opts{pol(p)}, 0},
		{"policy mapped", nil, []opts{{pc(0, -1), pol(p)}, {pol(p), testpki.PolicyMappings(p, q)}}, 0, opts{pol(q)}, 0},
		{"policy mapping inhibited", nil, []opts{{pc(0, 0), pol(p)}, {pol(p), testpki.PolicyMappings(p, q)}}, 0, opts{pol(q)}, GenericError},
		{"policy mapping inhibited, issuer policy used", nil, []opts{{pc(0, 0), pol(p)}, {pol(p), testpki.PolicyMappings(p, q)}}, 0, opts{pol(p)}, GenericError},
		{"mapped policy used unmapped", nil, []opts{{pc(0, -1), pol(p)}, {pol(p), testpki.PolicyMappings(p, q)}}, 0, opts{pol(p)}, GenericError},
		{"policy mapped to anyPolicy", nil, []opts{{pol(p)}, {pol(p), testpki.PolicyMappings(p, any)}}, 0, opts{pol(p)}, GenericError},
		{"policy mapped from anyPolicy", nil, []opts{{pol(any)}, {pol(any), testpki.PolicyMappings(any, q)}}, 0, opts{pol(q)}, GenericError},
		{"mapping from an absent policy", nil, []opts{{pc(0, -1), pol(p)}, {pol(p), testpki.PolicyMappings(q, r)}}, 0, opts{pol(r)}, GenericError},
		{"mapping under anyPolicy, kept past a deleted anyPolicy", nil, []opts{{pol(any), testpki.PolicyMappings(p, q), pc(0, 0)}, {pol(any), testpki.PolicyMappings(any, r)}}, 0, opts{pol(q)}, 0},
		{"explicit policy required after two more, two intermediates", nil, []opts{{pc(2, -1)}, nil}, 0, nil, GenericError},
		{"self-issued intermediate not counted", nil, []opts{{pc(2, -1)}, nil}, 1, nil, 0},
		{"leaf's mappings ignored", nil, []opts{{pc(0, -1), pol(p)}}, 0, opts{pol(p), testpki.PolicyMappings(p, any)}, 0},
		{"policy mapping inhibited one further down", nil, []opts{{pc(0, 1), pol(p)}, {pol(p)}, {pol(p), testpki.PolicyMappings(p, q)}}, 0, opts{pol(q)}, GenericError},
		{"anyPolicy inhibited one further down", nil, []opts{{pc(0, -1), pol(any), testpki.InhibitAnyPolicy(1)}, {pol(any)}}, 0, opts{pol(any)}, GenericError},
		{"anyPolicy inhibited, self-issued intermediate exempt", nil, []opts{{pc(0, -1), pol(any), testpki.InhibitAnyPolicy(0)}, {pol(any)}}, 1, opts{pol(p)}, 0},
		{"anyPolicy inhibited, self-issued leaf not exempt", nil, []opts{{pc(0, -1), pol(any), testpki.InhibitAnyPolicy(0)}}, -1, opts{pol(any)}, GenericError},
		{"policy mapped without explicit policy", nil, []opts{{pol(p)}, {pol(p), testpki.PolicyMappings(p, q)}}, 0, opts{pol(q)}, 0},
	}
	dns := testpki.DNSNames("example.com")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := testpki.MustCA(t, "Root", tc.root...)
			ca := root
			for i, o := range tc.inters {
				name := "Inter " + string(rune('A'+i))
				if i > 0 && i == tc.selfIssued {
					name = ca.Cert.Subject.CommonName
				}
				ca = ca.MustIntermediate(t, name, o...)
			}
			leafName := "leaf"
			if tc.selfIssued == -1 {
				leafName = ca.Cert.Subject.CommonName
			}
			leaf := ca.MustLeaf(t, leafName, append(opts{dns}, tc.leaf...)...)
			res, err := Verify(context.Background(), &Options{
				Chain: leaf.Chain, Store: NewStore(certs(root.Cert), nil),
				Identity: Identity{Host: "example.com"}, CheckIdentity: true, Purpose: serverAuth,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Flags != tc.want {
				t.Errorf("flags = %#x, want %#x", res.Flags, tc.want)
			}
			inter := x509.NewCertPool()
			for _, c := range leaf.Chain[1:] {
				inter.AddCert(c)
			}
			_, err = leaf.Cert.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: root.Pool(), Intermediates: inter})
			if (err == nil) != (tc.want == 0) {
				t.Errorf("crypto/x509 says %v", err)
			}
		})
	}
}
