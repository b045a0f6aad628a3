package giotls

import (
	"context"
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
	"github.com/giotls/giotls/internal/verify"
)

// fakePlatform stands in for crypto/x509's platform verifier (macOS,
// Windows) on any system: it trusts the roots it is given, and records
// what it was asked.
type fakePlatform struct {
	roots *x509.CertPool
	mu    sync.Mutex
	asked []x509.VerifyOptions
}

func (p *fakePlatform) verify(leaf *x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
	p.mu.Lock()
	p.asked = append(p.asked, opts)
	roots := p.roots
	p.mu.Unlock()
	if opts.Roots != nil {
		return nil, errors.New("the platform verifier was given roots")
	}
	opts.Roots = roots
	return leaf.Verify(opts)
}

func (p *fakePlatform) calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.asked)
}

// usePlatform makes p the platform verifier until the test ends.
func usePlatform(t *testing.T, p *fakePlatform) {
	saved := platformVerify
	platformVerify = p.verify
	t.Cleanup(func() { platformVerify = saved })
}

// TestPlatformTrust: with the platform's trust (SystemDatabase on macOS and
// Windows), a chain to a root only the platform trusts gets no unknown-ca;
// every other flag still comes from our checks on what was sent, and the
// platform's refusals map as crypto/x509's do.
func TestPlatformTrust(t *testing.T) {
	// Valid long before and after the leaves, as real CAs are: an expired
	// leaf was valid with its issuers once.
	long := testpki.Validity(time.Now().Add(-30*24*time.Hour), time.Now().Add(30*24*time.Hour))
	platformRoot := testpki.MustCA(t, "Platform Root", long)
	inter := platformRoot.MustIntermediate(t, "Platform Inter", long)
	excluding := platformRoot.MustIntermediate(t, "Excludes secret", testpki.ExcludedDNSDomains("secret.example.com"))
	stranger := testpki.MustCA(t, "Not On The Platform")
	localRoot := testpki.MustCA(t, "Local Root") // in the store, not on the platform
	p := &fakePlatform{roots: platformRoot.Pool()}
	usePlatform(t, p)
	db := newStoreDatabase([]*x509.Certificate{localRoot.Cert}, nil, "system", true)

	dns := testpki.DNSNames("www.example.com")
	leafChain := func(ca *testpki.CA, opts ...testpki.Option) []*x509.Certificate {
		return ca.MustLeaf(t, "server", opts...).Chain
	}
	cases := []struct {
		name  string
		chain []*x509.Certificate
		host  string
		want  CertificateFlags
	}{
		{"trusted by the platform", leafChain(inter, dns), "www.example.com", 0},
		{"platform root sent too", append(leafChain(inter, dns), platformRoot.Cert), "www.example.com", 0},
		{"wrong identity", leafChain(inter, dns), "other.example.com", CertificateBadIdentity},
		{"expired leaf", leafChain(inter, dns, testpki.Expired()), "www.example.com", CertificateExpired},
		{"not yet valid leaf", leafChain(inter, dns, testpki.NotYetValid()), "www.example.com", CertificateNotActivated},
		{"RSA-1024 leaf", leafChain(inter, dns, testpki.Key(testpki.RSA1024)), "www.example.com", CertificateInsecure},
		{"clientAuth-only leaf", leafChain(inter, dns, testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth)), "www.example.com",
			CertificateGenericError},
		// crypto/x509 refuses this chain whatever the identity: the
		// platform is never seen trusting it. internal/verify flags the
		// wildcard under the excluded subtree itself (constraints.go).
		{"wildcard under excluded subtree", leafChain(excluding, testpki.DNSNames("*.example.com")), "secret.example.com",
			CertificateUnknownCA | CertificateGenericError},
		{"not trusted by the platform", leafChain(stranger, dns), "www.example.com", CertificateUnknownCA},
		{"not trusted, expired", leafChain(stranger, dns, testpki.Expired()), "www.example.com",
			CertificateUnknownCA | CertificateExpired},
		// The store's anchors are not the platform's: the platform is the
		// second opinion, and it refuses.
		{"anchored locally only", leafChain(localRoot, dns), "www.example.com", CertificateUnknownCA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := p.calls()
			got, err := db.VerifyChain(context.Background(), mustChain(t, tc.chain...), PurposeServer, NewNetworkAddress(tc.host, 443), nil)
			if err != nil || got != tc.want {
				t.Fatalf("VerifyChain = %v, %v; want %v", got, err, tc.want)
			}
			if p.calls() == before {
				t.Fatal("the platform verifier was not asked")
			}
		})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range p.asked {
		if o.CurrentTime.IsZero() || o.Intermediates == nil {
			t.Errorf("platform asked without a time or the intermediates sent: %+v", o)
		}
	}
	if o := p.asked[0]; o.DNSName != "www.example.com" || len(o.KeyUsages) != 1 || o.KeyUsages[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("platform asked for %q, %v; want www.example.com, serverAuth", o.DNSName, o.KeyUsages)
	}
}

// TestX509OpinionRemembers: crypto/x509's acceptance is remembered for the
// exact chain, identity and purpose, and only while the time is inside
// the validity of every certificate of its path.
func TestX509OpinionRemembers(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	inter := root.MustIntermediate(t, "Inter")
	leaf := inter.MustLeaf(t, "server", testpki.DNSNames("a.example", "b.example"))
	// crypto/x509's calls are counted: the database's own anchors (the
	// platform's verdicts are never remembered, TestPlatformDistrustHonoured).
	p := &fakePlatform{}
	saved := rootsVerify
	rootsVerify = func(leaf *x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
		p.mu.Lock()
		p.asked = append(p.asked, opts)
		p.mu.Unlock()
		return x509Verify(leaf, opts)
	}
	t.Cleanup(func() { rootsVerify = saved })
	db := newStoreDatabase([]*x509.Certificate{root.Cert}, nil, "", false)
	ctx := context.Background()
	steps := []struct {
		name  string
		chain []*x509.Certificate
		host  string
		purp  Purpose
		calls int // the platform's, in all, after the step
	}{
		{"first", leaf.Chain, "a.example", PurposeServer, 1},
		{"again", leaf.Chain, "a.example", PurposeServer, 1},
		{"another identity", leaf.Chain, "b.example", PurposeServer, 2},
		{"another purpose", leaf.Chain, "a.example", "", 3},
		{"another chain sent", append(leaf.Chain, root.Cert), "a.example", PurposeServer, 4},
		{"first again", leaf.Chain, "a.example", PurposeServer, 4},
	}
	for _, s := range steps {
		f, err := db.VerifyChain(ctx, mustChain(t, s.chain...), s.purp, NewNetworkAddress(s.host, 443), nil)
		if err != nil || f != 0 {
			t.Fatalf("%s: %v, %v", s.name, f, err)
		}
		if n := p.calls(); n != s.calls {
			t.Fatalf("%s: %d calls to the verifier, want %d", s.name, n, s.calls)
		}
	}
	// Past the leaf's NotAfter the acceptance no longer holds.
	later := leaf.Cert.NotAfter.Add(time.Second)
	id := verifyIdentity(NewNetworkAddress("a.example", 443))
	if f, err := db.x509.secondOpinion(ctx, 0, leaf.Chain, id, PurposeServer, later); err != nil || f != CertificateExpired {
		t.Errorf("after the leaf expired: %v, %v; want expired", f, err)
	}
	if n := p.calls(); n != 5 {
		t.Errorf("after the leaf expired: %d calls, want 5", n)
	}
}

// TestX509Flags: crypto/x509's errors map to GIO's flags.
func TestX509Flags(t *testing.T) {
	now := time.Now()
	future := &x509.Certificate{NotBefore: now.Add(time.Hour), NotAfter: now.Add(2 * time.Hour)}
	past := &x509.Certificate{NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)}
	cases := []struct {
		err  error
		want CertificateFlags
	}{
		{x509.UnknownAuthorityError{}, CertificateUnknownCA},
		{x509.CertificateInvalidError{Cert: past, Reason: x509.Expired}, CertificateExpired},
		{x509.CertificateInvalidError{Cert: future, Reason: x509.Expired}, CertificateNotActivated},
		{x509.CertificateInvalidError{Reason: x509.CANotAuthorizedForThisName}, CertificateGenericError},
		{x509.CertificateInvalidError{Reason: x509.IncompatibleUsage}, CertificateGenericError},
		{x509.HostnameError{Host: "x"}, CertificateBadIdentity},
		{x509.InsecureAlgorithmError(x509.SHA1WithRSA), CertificateInsecure},
		{x509.SystemRootsError{}, CertificateGenericError},
		{errors.New("anything"), CertificateGenericError},
	}
	for _, tc := range cases {
		if got := x509Flags(tc.err, now); got != tc.want {
			t.Errorf("%T %v: %v, want %v", tc.err, tc.err, got, tc.want)
		}
	}
}

// TestX509OpinionBounded: whatever is verified, the remembered verdicts
// hold at most x509OpinionBytes of DER, and x509VerdictsPerLeaf per leaf.
func TestX509OpinionBounded(t *testing.T) {
	o := newX509Opinion(nil, false)
	now := time.Now()
	path := []*x509.Certificate{{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}}
	for i := range 2000 {
		leaf := &x509.Certificate{Raw: make([]byte, 4096)}
		leaf.Raw[0], leaf.Raw[1] = byte(i), byte(i>>8)
		sent := []*x509.Certificate{{Raw: make([]byte, 4096)}}
		o.remember(leaf, sent, verify.Identity{Host: "a.example"}, PurposeServer, path)
		if o.bytes > x509OpinionBytes {
			t.Fatalf("after %d chains: %d bytes remembered, bound %d", i+1, o.bytes, x509OpinionBytes)
		}
	}
	leaf := &x509.Certificate{Raw: []byte("one leaf")}
	for i := range 100 {
		o.remember(leaf, nil, verify.Identity{Host: string(rune('a'+i%26)) + ".example"}, PurposeServer, path)
	}
	if n := len(o.accepted[string(leaf.Raw)]); n != x509VerdictsPerLeaf {
		t.Errorf("%d verdicts for one leaf, want %d", n, x509VerdictsPerLeaf)
	}
}

// TestPlatformVerifierHonoursContext: a platform verifier that does not
// answer (a keychain prompt, a fetch that hangs) does not hold the
// verification past its context.
func TestPlatformVerifierHonoursContext(t *testing.T) {
	root := testpki.MustCA(t, "Root")
	leaf := root.MustLeaf(t, "server", testpki.DNSNames("a.example"))
	release := make(chan struct{})
	saved := platformVerify
	platformVerify = func(*x509.Certificate, x509.VerifyOptions) ([][]*x509.Certificate, error) {
		<-release
		return nil, errors.New("released")
	}
	t.Cleanup(func() { close(release); platformVerify = saved })
	db := newStoreDatabase(nil, nil, "system", true)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.VerifyChain(ctx, mustChain(t, leaf.Chain...), PurposeServer, NewNetworkAddress("a.example", 443), nil)
	if elapsed := time.Since(start); elapsed > time.Second || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("VerifyChain returned %v after %v; want the context's deadline within 1s", err, elapsed)
	}
}
