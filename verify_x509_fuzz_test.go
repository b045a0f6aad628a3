package giotls

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net"
	"net/netip"
	"testing"
	"time"
)

// The names FuzzSecondOpinion draws constraints, SANs and identities from:
// wildcards above and beside excluded and permitted subtrees.
var (
	fuzzConstraintNames = []string{"example.com", "a.example.com", "secret.example.com", "b.a.example.com", "other.test"}
	fuzzSANs            = []string{"*.example.com", "secret.example.com", "*.a.example.com", "b.a.example.com", "www.example.com", "x.other.test"}
	fuzzIdentities      = []string{"secret.example.com", "b.a.example.com", "www.example.com", "x.other.test", "c.a.example.com", "127.0.0.1", "other.test", "www.example.com"}
	fuzzPolicyA         = asn1.ObjectIdentifier{1, 2, 3, 4}
	fuzzPolicyB         = asn1.ObjectIdentifier{1, 2, 3, 5}
	fuzzAnyPolicy       = asn1.ObjectIdentifier{2, 5, 29, 32, 0}
)

// fuzzKeys are made once: key generation would dominate every run.
type fuzzKeys struct {
	inter   [2]crypto.Signer
	ca      crypto.Signer // the root's
	leafEC  crypto.Signer
	rsa2048 crypto.Signer
	rsa1024 crypto.Signer
}

func newFuzzKeys(tb testing.TB) *fuzzKeys {
	ec := func() crypto.Signer {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		return k
	}
	rsaKey := func(bits int) crypto.Signer {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			tb.Fatal(err)
		}
		return k
	}
	return &fuzzKeys{ca: ec(), inter: [2]crypto.Signer{ec(), ec()}, leafEC: ec(), rsa2048: rsaKey(2048), rsa1024: rsaKey(1024)}
}

// fuzzTemplate returns a template with the options of bits (see
// FuzzSecondOpinion) that a CA and a leaf share: policies from bits 0-1,
// extended key usage from 2-3, validity from 4-5.
func fuzzTemplate(cn string, bits uint32, now time.Time) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	t := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
	}
	switch bits & 3 {
	case 1:
		t.PolicyIdentifiers = []asn1.ObjectIdentifier{fuzzAnyPolicy}
	case 2:
		t.PolicyIdentifiers = []asn1.ObjectIdentifier{fuzzPolicyA}
	case 3:
		t.PolicyIdentifiers = []asn1.ObjectIdentifier{fuzzPolicyA, fuzzPolicyB}
	}
	switch bits >> 2 & 3 {
	case 1:
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case 2:
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case 3:
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	switch bits >> 4 & 3 {
	case 1:
		t.NotBefore, t.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	case 2:
		t.NotBefore, t.NotAfter = now.Add(24*time.Hour), now.Add(48*time.Hour)
	}
	return t
}

// fuzzCA returns the template of a CA: the shared options (bits 0-5),
// permitted DNS subtrees (a subset of fuzzConstraintNames, bits 6-10),
// excluded ones (11-15), policy constraints (16-17: none,
// requireExplicitPolicy 0 or 1, inhibitAnyPolicy 0), not a CA (18), path
// length 0 (19), an RSA-1024 key (20).
func fuzzCA(cn string, bits uint32, now time.Time) *x509.Certificate {
	t := fuzzTemplate(cn, bits, now)
	t.BasicConstraintsValid = true
	t.IsCA = bits>>18&1 == 0
	t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	for i, name := range fuzzConstraintNames {
		if bits>>(6+i)&1 != 0 {
			t.PermittedDNSDomains = append(t.PermittedDNSDomains, name)
		}
		if bits>>(11+i)&1 != 0 {
			t.ExcludedDNSDomains = append(t.ExcludedDNSDomains, name)
		}
	}
	switch bits >> 16 & 3 {
	case 1:
		t.ExtraExtensions = append(t.ExtraExtensions, policyConstraints(0))
	case 2:
		t.ExtraExtensions = append(t.ExtraExtensions, policyConstraints(1))
	case 3: // RFC 5280, section 4.2.1.14: inhibitAnyPolicy, SkipCerts 0
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 54}, Critical: true,
			Value: []byte{0x02, 0x01, 0x00}})
	}
	if bits>>19&1 != 0 && t.IsCA { // crypto/x509 creates no path length for others
		t.MaxPathLenZero = true
	}
	return t
}

// fuzzLeaf returns the template of a leaf: the shared options (bits 0-5),
// DNS names (a subset of fuzzSANs, bits 6-11) and the IP address
// 127.0.0.1 (12).
func fuzzLeaf(bits uint32, now time.Time) *x509.Certificate {
	t := fuzzTemplate("fuzz leaf", bits, now)
	t.KeyUsage = x509.KeyUsageDigitalSignature
	for i, name := range fuzzSANs {
		if bits>>(6+i)&1 != 0 {
			t.DNSNames = append(t.DNSNames, name)
		}
	}
	if bits>>12&1 != 0 {
		t.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	return t
}

// FuzzSecondOpinion is the differential test of the databases giotls
// makes against crypto/x509: random chains (a fixed root, up to two
// intermediates with name constraints, policies, policy constraints, EKUs,
// validity and key sizes the fuzzer picks, and a leaf with wildcard and
// plain DNS names, an IP address, policies, EKU, validity and key size),
// sent in an order the fuzzer picks, verified for an identity it picks.
// The database must never return no flags where crypto/x509 refuses, and
// must give the same flags again when it remembers crypto/x509's verdict.
//
// shape: bits 0-1 the number of intermediates (3 is 2), bit 2 sends them
// top first, bit 3 leaves the first out, bits 4-6 the identity
// (fuzzIdentities), bit 7 an RSA-2048 (or with leaf bit 13, RSA-1024) leaf
// key.
func FuzzSecondOpinion(f *testing.F) {
	keys := newFuzzKeys(f)
	now := time.Now()
	rootTmpl := fuzzCA("Fuzz Root", 0, now)
	rootTmpl.NotBefore, rootTmpl.NotAfter = now.Add(-24*time.Hour*365), now.Add(24*time.Hour*365)
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, keys.ca.Public(), keys.ca)
	if err != nil {
		f.Fatal(err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		f.Fatal(err)
	}
	db := NewDatabase([]*x509.Certificate{root})
	roots := x509.NewCertPool()
	roots.AddCert(root)

	sans := func(names ...string) uint32 { // leaf bits for names of fuzzSANs
		var b uint32
		for i, s := range fuzzSANs {
			for _, n := range names {
				if s == n {
					b |= 1 << (6 + i)
				}
			}
		}
		return b
	}
	// Issue 12, points 1 and 2, and plain chains.
	f.Add(uint32(1<<(11+2)), uint32(0), sans("*.example.com"), uint8(1|0<<4))      // *.example.com under excluded secret.example.com
	f.Add(uint32(1<<(11+3)), uint32(0), sans("*.a.example.com"), uint8(1|1<<4))    // *.a.example.com under excluded b.a.example.com
	f.Add(uint32(1<<16), uint32(0), sans("www.example.com"), uint8(1|2<<4))        // requireExplicitPolicy 0, no policies
	f.Add(uint32(2<<16|2), uint32(1), sans("www.example.com")|2, uint8(2|2<<4))    // requireExplicitPolicy 1, policies
	f.Add(uint32(3<<16|1), uint32(0), sans("www.example.com")|1, uint8(2|2<<4))    // inhibitAnyPolicy, anyPolicy
	f.Add(uint32(1<<6), uint32(1<<(11+2)), sans("*.example.com"), uint8(2|4|0<<4)) // permitted example.com, excluded below
	f.Add(uint32(0), uint32(0), sans("www.example.com")|1<<12, uint8(5<<4))        // IP identity
	f.Add(uint32(1<<20), uint32(0), sans("www.example.com"), uint8(1|2<<4|1<<7))   // RSA-1024 intermediate
	f.Add(uint32(4), uint32(8), sans("www.example.com")|4, uint8(2|2<<4))          // EKUs
	f.Add(uint32(1<<4), uint32(0), sans("www.example.com"), uint8(1|2<<4))         // expired intermediate
	f.Fuzz(func(t *testing.T, inter1, inter2, leafBits uint32, shape uint8) {
		now := time.Now()
		depth := int(shape & 3)
		if depth == 3 {
			depth = 2
		}
		parent, parentKey := root, keys.ca
		var inters []*x509.Certificate
		for i, bits := range []uint32{inter1, inter2}[:depth] {
			key := keys.inter[i]
			if bits>>20&1 != 0 {
				key = keys.rsa1024
			}
			c := mustCreate(t, fuzzCA("Fuzz Inter "+string(rune('1'+i)), bits, now), parent, key.Public(), parentKey)
			inters = append(inters, c)
			parent, parentKey = c, key
		}
		leafKey := keys.leafEC
		if shape>>7&1 != 0 {
			leafKey = keys.rsa2048
			if leafBits>>13&1 != 0 {
				leafKey = keys.rsa1024
			}
		}
		leaf := mustCreate(t, fuzzLeaf(leafBits, now), parent, leafKey.Public(), parentKey)

		sent := append([]*x509.Certificate(nil), inters...)
		if shape>>2&1 == 0 { // nearest first, as servers send
			for i, j := 0, len(sent)-1; i < j; i, j = i+1, j-1 {
				sent[i], sent[j] = sent[j], sent[i]
			}
		}
		if shape>>3&1 != 0 && len(sent) > 0 {
			sent = sent[1:]
		}
		chain, err := NewCertificateFromX509(append([]*x509.Certificate{leaf}, sent...), nil)
		if err != nil {
			t.Fatal(err)
		}
		name := fuzzIdentities[shape>>4&7]
		var id Connectable = NewNetworkAddress(name, 443)
		if ip, err := netip.ParseAddr(name); err == nil {
			id = NewInetSocketAddress(netip.AddrPortFrom(ip, 443))
		}

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		flags, err := db.VerifyChain(ctx, chain, PurposeServer, id, nil)
		if elapsed := time.Since(start); err != nil || elapsed > 5*time.Second {
			t.Fatalf("VerifyChain took %v: %v", elapsed, err)
		}
		if again, err := db.VerifyChain(ctx, chain, PurposeServer, id, nil); err != nil || again != flags {
			t.Fatalf("again: %v, %v; first %v", again, err, flags)
		}
		if flags != 0 {
			return
		}
		pool := x509.NewCertPool()
		for _, c := range sent {
			pool.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: pool, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Fatalf("no flags for a chain crypto/x509 refuses: %v", err)
		}
	})
}

func mustCreate(t *testing.T, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
