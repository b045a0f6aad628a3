package verify

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// rawNameConstraints returns a critical name constraints extension (RFC
// 5280, section 4.2.1.10) holding the iPAddress subtrees exactly as given:
// address and mask of either length, the address unmasked
// (10.1.2.3/8), which crypto/x509's writer would mask.
func rawNameConstraints(tb testing.TB, permitted, excluded []*net.IPNet) pkix.Extension {
	tb.Helper()
	subtrees := func(tag int, ranges []*net.IPNet) asn1.RawValue {
		var body []byte
		for _, n := range ranges {
			base, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 7, Bytes: append(append([]byte{}, n.IP...), n.Mask...)})
			if err != nil {
				tb.Fatal(err)
			}
			sub, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: base})
			if err != nil {
				tb.Fatal(err)
			}
			body = append(body, sub...)
		}
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: true, Bytes: body}
	}
	var parts []byte
	for tag, ranges := range [][]*net.IPNet{permitted, excluded} {
		if len(ranges) > 0 {
			b, err := asn1.Marshal(subtrees(tag, ranges))
			if err != nil {
				tb.Fatal(err)
			}
			parts = append(parts, b...)
		}
	}
	der, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: parts})
	if err != nil {
		tb.Fatal(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 30}, Critical: true, Value: der}
}

// ipAttackBases are the addresses ranges and SANs are drawn around: both
// ends of each family, the IPv4-mapped block and its neighbours, and the
// addresses of the cases crypto/x509's search once surprised us with.
var ipAttackBases = []string{
	"0.0.0.0", "10.0.0.0", "10.1.2.3", "10.255.255.255", "11.0.0.0", "192.168.1.1", "255.255.255.255",
	"::", "::1", "::fffe:ffff:ffff", "::ffff:0:0", "::ffff:10.1.2.3", "::1:0:0:0",
	"2001:db8::", "2001:db8::1", "fe80::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
}

// randIP returns an address near one of ipAttackBases, an IPv4 one in its
// 4-byte or 16-byte (mapped) form.
func randIP(r *rand.Rand) net.IP {
	ip := net.ParseIP(ipAttackBases[r.IntN(len(ipAttackBases))]) // 16 bytes
	if v4 := ip.To4(); v4 != nil && r.IntN(2) == 0 {
		ip = v4
	}
	ip = append(net.IP{}, ip...)
	switch r.IntN(4) {
	case 0: // flip some low bits
		ip[len(ip)-1] ^= byte(r.IntN(256))
	case 1: // flip a bit anywhere
		i := r.IntN(len(ip))
		ip[i] ^= 1 << r.IntN(8)
	}
	return ip
}

// randRange returns a range around randIP with a prefix length drawn from
// the edges (/0, /1, the mapped block's /96, the full length), the mask of
// the address's length, and its address sometimes left unmasked.
func randRange(r *rand.Rand) *net.IPNet {
	ip := randIP(r)
	bits := len(ip) * 8
	lengths := []int{0, 1, 7, 8, 16, 24, 31, 32, 64, 95, 96, 104, 120, 127, 128}
	ones := lengths[r.IntN(len(lengths))]
	if ones > bits {
		ones = r.IntN(bits + 1)
	}
	n := &net.IPNet{IP: ip, Mask: net.CIDRMask(ones, bits)}
	if r.IntN(3) > 0 {
		n.IP = ip.Mask(n.Mask)
	}
	return n
}

func randRanges(r *rand.Rand, max int) []*net.IPNet {
	out := make([]*net.IPNet, r.IntN(max+1))
	for i := range out {
		if i > 0 && r.IntN(6) == 0 { // a duplicate
			out[i] = out[r.IntN(i)]
			continue
		}
		out[i] = randRange(r)
	}
	return out
}

// TestIPConstraintsDifferential builds seeded random chains, one to three
// intermediates each with permitted and excluded IP ranges (4- and 16-byte
// forms, mapped ones, unmasked addresses, duplicates, /0 and full-length
// masks) above a leaf with one or two IP SANs, and requires that Verify
// never return no flags where crypto/x509 refuses the chain.
// GIOTLS_IPDIFF_N sets the number of chains (default 400), GIOTLS_IPDIFF_SEED
// the seed (default: the time, logged).
func TestIPConstraintsDifferential(t *testing.T) {
	n := 400
	if s := os.Getenv("GIOTLS_IPDIFF_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GIOTLS_IPDIFF_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (GIOTLS_IPDIFF_SEED), %d chains", seed, n)
	r := rand.New(rand.NewPCG(seed, 0))
	root := testpki.MustCA(t, "Root")
	key := root.Key
	stricter, accepted := 0, 0
	for i := range n {
		ca := root
		var desc string
		for j := range 1 + r.IntN(3) {
			p, e := randRanges(r, 5), randRanges(r, 2)
			if len(p)+len(e) == 0 {
				continue
			}
			desc += fmt.Sprintf(" CA%d permitted %v excluded %v;", j, p, e)
			next, err := ca.NewIntermediate(fmt.Sprintf("Inter %d", j), testpki.WithSigner(key), testpki.Extension(rawNameConstraints(t, p, e)))
			if err != nil {
				t.Fatalf("chain %d: %v", i, err)
			}
			ca = next
		}
		ips := []net.IP{randIP(r)}
		if r.IntN(4) == 0 {
			ips = append(ips, randIP(r))
		}
		desc += fmt.Sprintf(" leaf %v", ips)
		leaf, err := ca.NewLeaf("leaf", testpki.WithSigner(key), testpki.Extension(ipSAN(t, ips...)))
		if err != nil {
			t.Fatalf("chain %d: %v", i, err)
		}
		res, err := Verify(context.Background(), &Options{Chain: leaf.Chain, Store: NewStore(certs(root.Cert), nil), Purpose: serverAuth})
		if err != nil {
			t.Fatal(err)
		}
		inter := x509.NewCertPool()
		for _, c := range leaf.Chain[1:] {
			inter.AddCert(c)
		}
		_, xerr := leaf.Cert.Verify(x509.VerifyOptions{Roots: root.Pool(), Intermediates: inter})
		switch {
		case res.Flags == 0 && xerr != nil:
			t.Errorf("chain %d: no flags, crypto/x509 refuses (%v):%s", i, xerr, desc)
		case res.Flags != 0 && xerr == nil:
			stricter++
		}
		if xerr == nil {
			accepted++
		}
	}
	t.Logf("%d chains accepted by crypto/x509, %d of them refused by giotls (stricter excluded ranges)", accepted, stricter)
}

// ipConstraintBomb returns a leaf with addrs IP SANs under an intermediate
// permitting each of them by its own /24 and excluding ranges distinct
// ranges that hold none of them, above roots look-alike roots: every
// address is admitted, so a verifier compares all of them with every
// excluded range on every path.
func ipConstraintBomb(tb testing.TB, addrs, ranges, roots int) *testpki.Leaf {
	tb.Helper()
	root := testpki.MustCA(tb, "IP Bomb Root")
	var permitted, excluded []*net.IPNet
	var ips []net.IP
	for i := range addrs {
		ip := net.IPv4(10, byte(i>>8), byte(i), 1).To4()
		ips = append(ips, ip)
		permitted = append(permitted, &net.IPNet{IP: ip.Mask(net.CIDRMask(24, 32)), Mask: net.CIDRMask(24, 32)})
	}
	for i := range ranges {
		excluded = append(excluded, &net.IPNet{IP: net.IPv4(172, 16, byte(i>>8), byte(i)).To4(), Mask: net.CIDRMask(32, 32)})
	}
	inter := root.MustIntermediate(tb, "IP Bomb Inter", testpki.Extension(rawNameConstraints(tb, permitted, excluded)))
	leaf := inter.MustLeaf(tb, "bomb", testpki.Extension(ipSAN(tb, ips...)))
	for i := 1; i < roots; i++ {
		leaf.Chain = append(leaf.Chain, testpki.MustCA(tb, "IP Bomb Root", testpki.WithSigner(root.Key)).Cert)
	}
	leaf.Chain = append(leaf.Chain, root.Cert)
	return leaf
}

// TestVerifyIPConstraintBomb: 16,000 IP SANs, each admitted by one of
// 16,000 permitted ranges, beside 16,000 excluded ranges, above 2
// look-alike roots; with a 1 s context, Verify ends within 1.5 s, on the
// comparison budget (flags) or, on a slow machine, on the context. With the budget lifted, a 200 ms context
// alone ends it (the sort of the permitted ranges and the comparisons
// both check it).
func TestVerifyIPConstraintBomb(t *testing.T) {
	leaf := ipConstraintBomb(t, 16000, 16000, 2)
	trusted := testpki.MustCA(t, "Trusted")
	t.Run("budget", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		res, err := Verify(ctx, &Options{Chain: leaf.Chain, Store: NewStore(certs(trusted.Cert), nil), Purpose: serverAuth})
		elapsed := time.Since(start)
		if elapsed > 1500*time.Millisecond {
			t.Errorf("Verify took %v with a 1 s context", elapsed)
		}
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Verify = %v after %v, want flags or the context's end", err, elapsed)
			}
			t.Logf("the context ended it first, after %v", elapsed)
			return
		}
		if want := UnknownCA | GenericError; res.Flags != want {
			t.Errorf("flags = %#x, want %#x", res.Flags, want)
		}
		t.Logf("ended in %v", elapsed)
	})
	t.Run("context", func(t *testing.T) {
		defer func(n int) { constraintBudget = n }(constraintBudget)
		constraintBudget = math.MaxInt
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := Verify(ctx, &Options{Chain: leaf.Chain, Purpose: serverAuth})
		if elapsed := time.Since(start); elapsed > 700*time.Millisecond {
			t.Errorf("Verify took %v with a 200 ms context", elapsed)
		}
		if err != context.DeadlineExceeded {
			t.Errorf("Verify = %v, want context.DeadlineExceeded", err)
		}
	})
}
