package giotls

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/giotls/giotls/internal/verify"
)

// The databases giotls makes are never more lenient than crypto/x509: a
// chain that internal/verify finds no problem with is given to
// crypto/x509's Verify as well, with the same anchors, the certificates the
// peer sent as intermediates, the identity (DNS name or IP address; none for
// a nil identity), the purpose's extended key usage and the current time
// (read again, microseconds after internal/verify read it). If crypto/x509
// refuses it, its error becomes the chain's flag:
//
//	x509.UnknownAuthorityError             unknown-ca
//	x509.CertificateInvalidError, Expired  not-activated before a
//	                                       certificate's NotBefore, else expired
//	x509.HostnameError                     bad-identity
//	x509.InsecureAlgorithmError            insecure
//	anything else                          generic-error
//
// Flags internal/verify reports stand: where it is stricter than
// crypto/x509 (RSA under 2048 bits, SHA-1, names only in the common name,
// CRLs) it stays so, and crypto/x509 is not asked. A Database that users
// implement themselves remains the sole judge of its chains.
//
// crypto/x509's acceptance is remembered for the exact chain sent, identity
// and purpose, while the time stays inside the validity of every
// certificate of the path it built: resumed handshakes and reconnections
// to the same server then cost a map lookup. Refusals are not remembered;
// they are rare and flagged anyway. Nor are the platform verifier's
// verdicts: the platform's trust changes under a running process (a root
// distrusted in a keychain or Windows' disallowed store), and crypto/x509
// asks the platform afresh each time.

// x509Verify is crypto/x509's verifier for databases with anchors of their
// own (Roots set).
func x509Verify(leaf *x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
	return leaf.Verify(opts)
}

// rootsVerify is x509Verify, a variable so that tests can count its calls.
var rootsVerify = x509Verify

// platformVerify is crypto/x509's platform verifier (Roots nil: the macOS
// keychain, Windows' CryptoAPI), which SystemDatabase uses on those
// systems. A variable so that tests can stand in for the platform on any
// system.
var platformVerify = x509Verify

// x509Opinion asks crypto/x509 about the chains a database verifies, and
// remembers its acceptances.
type x509Opinion struct {
	roots    *x509.CertPool // nil: the platform's trust (platformVerify)
	mu       sync.Mutex
	accepted map[string][]x509Verdict // by the leaf's DER
	bytes    int                      // DER held by accepted
}

// x509Verdict is one acceptance by crypto/x509: for the intermediates sent
// with a leaf, an identity and a purpose, between notBefore and notAfter.
type x509Verdict struct {
	sent                [][]byte // DER, copied: nothing else of the connection is kept
	host                string
	ip                  netip.Addr
	purpose             Purpose
	notBefore, notAfter time.Time
	// whole says that the database's whole verification, internal/verify's
	// and crypto/x509's, found nothing for the identity, checked as said,
	// between wholeBefore and wholeAfter (see acceptedWhole).
	whole                   bool
	checked                 bool
	wholeBefore, wholeAfter time.Time
}

// Bounds of the remembered acceptances, per database: the DER they hold
// (a few hundred chains), and the verdicts kept per leaf (identities and
// purposes a server's certificate is checked for). When full, the
// memory starts over.
const (
	x509OpinionBytes    = 1 << 20
	x509VerdictsPerLeaf = 8
)

func newX509Opinion(anchors []*x509.Certificate, platform bool) *x509Opinion {
	o := &x509Opinion{accepted: make(map[string][]x509Verdict)}
	if !platform {
		o.roots = x509.NewCertPool()
		for _, a := range anchors {
			o.roots.AddCert(a)
		}
	}
	return o
}

// check returns nil if crypto/x509 accepts chain (leaf first, as sent) for
// id and purpose at now, else its refusal; err is ctx's when it ended
// first.
func (o *x509Opinion) check(ctx context.Context, chain []*x509.Certificate, id verify.Identity, purpose Purpose, now time.Time) (refusal, err error) {
	leaf, sent := chain[0], chain[1:]
	if o.remembered(leaf, sent, id, purpose, now) {
		return nil, nil
	}
	opts := x509.VerifyOptions{
		Roots:         o.roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
		KeyUsages:     purposeUsages(purpose),
	}
	for _, c := range sent {
		if c != nil {
			opts.Intermediates.AddCert(c)
		}
	}
	switch {
	case id.IP.IsValid():
		opts.DNSName = id.IP.String()
	case id.Host != "":
		opts.DNSName = id.Host
	}
	// Pure Go with roots, its cost bounded by crypto/x509's own budgets
	// (100 signature checks, each up to milliseconds with the keys a
	// hostile server picks); the platform's, by the system. Neither takes
	// a context: both are waited for only until ctx ends.
	verifier := platformVerify
	if o.roots != nil {
		verifier = rootsVerify
	}
	chains, refusal, err := verdict(ctx, verifier, leaf, opts)
	if err != nil {
		return nil, err
	}
	if refusal == nil && len(chains) > 0 && o.roots != nil {
		o.remember(leaf, sent, id, purpose, chains[0])
	}
	return refusal, nil
}

// verdict runs verify, which may take long (path building among what a
// hostile server sent) or wait on the system (a keychain, a fetch of
// missing issuers), until it answers or ctx ends; then it is left to
// finish on its own.
func verdict(ctx context.Context, verify func(*x509.Certificate, x509.VerifyOptions) ([][]*x509.Certificate, error),
	leaf *x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error, error) {
	type answer struct {
		chains [][]*x509.Certificate
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		chains, err := verify(leaf, opts)
		done <- answer{chains, err}
	}()
	select {
	case v := <-done:
		return v.chains, v.err, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

func (o *x509Opinion) remembered(leaf *x509.Certificate, sent []*x509.Certificate, id verify.Identity, purpose Purpose, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, v := range o.accepted[string(leaf.Raw)] {
		if v.host == id.Host && v.ip == id.IP && v.purpose == purpose &&
			!now.Before(v.notBefore) && !now.After(v.notAfter) && sameCertificates(v.sent, sent) {
			return true
		}
	}
	return false
}

// acceptedWhole reports whether the database's whole verification of
// chain for id and purpose found nothing earlier, at a time from which now
// changes nothing: every certificate of both paths (internal/verify's and
// crypto/x509's) valid at both. Nothing else those verifications depend on
// changes: the chain sent, the identity and the purpose are the key, the
// anchors and CRLs of a database never change, and neither verifier reads
// anything but them and the time. A resumed handshake, verified again each
// time, then costs a lookup. Verdicts of the platform's trust are never
// remembered (see check), so neither is this.
func (o *x509Opinion) acceptedWhole(chain []*x509.Certificate, id peerIdentity, purpose Purpose, now time.Time) bool {
	leaf, sent := chain[0], chain[1:]
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, v := range o.accepted[string(leaf.Raw)] {
		if v.whole && v.checked == id.check && v.host == id.Host && v.ip == id.IP && v.purpose == purpose &&
			!now.Before(v.wholeBefore) && !now.After(v.wholeAfter) && sameCertificates(v.sent, sent) {
			return true
		}
	}
	return false
}

// rememberWhole records that the database's whole verification of chain
// for id and purpose found nothing at now, on path (internal/verify's),
// beside crypto/x509's remembered acceptance of the same question, whose
// window it narrows to path's; without one (the platform's trust), nothing
// is remembered.
func (o *x509Opinion) rememberWhole(chain []*x509.Certificate, id peerIdentity, purpose Purpose, path []*x509.Certificate, now time.Time) {
	leaf, sent := chain[0], chain[1:]
	o.mu.Lock()
	defer o.mu.Unlock()
	vs := o.accepted[string(leaf.Raw)]
	for i := range vs {
		v := &vs[i]
		if v.host != id.Host || v.ip != id.IP || v.purpose != purpose ||
			now.Before(v.notBefore) || now.After(v.notAfter) || !sameCertificates(v.sent, sent) {
			continue
		}
		before, after := v.notBefore, v.notAfter
		for _, c := range path {
			if c.NotBefore.After(before) {
				before = c.NotBefore
			}
			if c.NotAfter.Before(after) {
				after = c.NotAfter
			}
		}
		if now.Before(before) || now.After(after) {
			return
		}
		v.whole, v.checked, v.wholeBefore, v.wholeAfter = true, id.check, before, after
		return
	}
}

func (o *x509Opinion) remember(leaf *x509.Certificate, sent []*x509.Certificate, id verify.Identity, purpose Purpose, path []*x509.Certificate) {
	v := x509Verdict{host: id.Host, ip: id.IP, purpose: purpose}
	for _, c := range path {
		if v.notBefore.IsZero() || c.NotBefore.After(v.notBefore) {
			v.notBefore = c.NotBefore
		}
		if v.notAfter.IsZero() || c.NotAfter.Before(v.notAfter) {
			v.notAfter = c.NotAfter
		}
	}
	size := len(leaf.Raw)
	for _, c := range sent {
		var der []byte
		if c != nil {
			der = bytes.Clone(c.Raw)
		}
		v.sent = append(v.sent, der)
		size += len(der)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.bytes+size > x509OpinionBytes {
		clear(o.accepted)
		o.bytes = 0
	}
	vs := o.accepted[string(leaf.Raw)]
	if len(vs) >= x509VerdictsPerLeaf {
		vs = vs[1:] // the oldest goes
	}
	o.accepted[string(leaf.Raw)] = append(vs, v)
	o.bytes += size
}

// sameCertificates reports whether sent holds the certificates of ders, in
// order.
func sameCertificates(ders [][]byte, sent []*x509.Certificate) bool {
	if len(ders) != len(sent) {
		return false
	}
	for i, c := range sent {
		if c == nil && ders[i] != nil || c != nil && !bytes.Equal(ders[i], c.Raw) {
			return false
		}
	}
	return true
}

// purposeUsages returns the extended key usages crypto/x509 requires for
// purpose: each one crypto/x509 has a name for as itself (it then checks
// the usage along the whole path, the anchor included); any for the empty
// Purpose and for OIDs it has no name for (internal/verify checks those
// itself). purposeOID admits only canonical OID strings, so comparing
// strings is comparing OIDs.
func purposeUsages(p Purpose) []x509.ExtKeyUsage {
	switch p {
	case PurposeServer:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case PurposeClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case "1.3.6.1.5.5.7.3.3":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	case "1.3.6.1.5.5.7.3.4":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	case "1.3.6.1.5.5.7.3.5":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageIPSECEndSystem}
	case "1.3.6.1.5.5.7.3.6":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageIPSECTunnel}
	case "1.3.6.1.5.5.7.3.7":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageIPSECUser}
	case "1.3.6.1.5.5.7.3.8":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	case "1.3.6.1.5.5.7.3.9":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	case "1.3.6.1.4.1.311.10.3.3":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageMicrosoftServerGatedCrypto}
	case "2.16.840.1.113730.4.1":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageNetscapeServerGatedCrypto}
	case "1.3.6.1.4.1.311.2.1.22":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageMicrosoftCommercialCodeSigning}
	case "1.3.6.1.4.1.311.61.1.1":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageMicrosoftKernelCodeSigning}
	}
	return []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
}

// x509Flags maps crypto/x509's refusal to the GIO flag (see above).
func x509Flags(err error, now time.Time) CertificateFlags {
	var invalid x509.CertificateInvalidError
	var insecure x509.InsecureAlgorithmError
	switch {
	case errors.As(err, new(x509.UnknownAuthorityError)):
		return CertificateUnknownCA
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		if invalid.Cert != nil && now.Before(invalid.Cert.NotBefore) {
			return CertificateNotActivated
		}
		return CertificateExpired
	case errors.As(err, new(x509.HostnameError)):
		return CertificateBadIdentity
	case errors.As(err, &insecure):
		return CertificateInsecure
	}
	return CertificateGenericError
}

// secondOpinion returns the flags of chain, given those internal/verify
// found (ours) at now. With anchors of the database's own, crypto/x509 is
// asked only when ours are none. With the platform's trust, it is asked
// also when ours include unknown-ca: a chain the platform trusts loses that
// flag, and keeps every other flag our checks found on what was sent.
func (o *x509Opinion) secondOpinion(ctx context.Context, ours CertificateFlags, chain []*x509.Certificate, id verify.Identity, purpose Purpose,
	now time.Time) (CertificateFlags, error) {
	if len(chain) == 0 || chain[0] == nil {
		return ours, nil
	}
	if o.roots == nil && ours&CertificateUnknownCA != 0 {
		var full error
		if ours == CertificateUnknownCA {
			refusal, err := o.check(ctx, chain, id, purpose, now)
			if err != nil || refusal == nil {
				return 0, err
			}
			full = refusal
		}
		// Trust alone: no identity, at a time every certificate sent is
		// valid at when there is one (validity and identity are ours to
		// flag), for the purpose: the platform may build its path through
		// intermediates we never saw, whose usages only it checks. Trusted
		// for no purpose but not for this one is generic-error.
		at := trustTime(chain, now)
		refusal, err := o.check(ctx, chain, verify.Identity{}, purpose, at)
		if err != nil {
			return 0, err
		}
		if refusal != nil && purpose != "" {
			if refusal, err = o.check(ctx, chain, verify.Identity{}, "", at); err != nil {
				return 0, err
			}
			if refusal == nil {
				ours |= CertificateGenericError
			}
		}
		if refusal != nil {
			return ours, nil
		}
		ours &^= CertificateUnknownCA
		if full != nil {
			ours |= x509Flags(full, now)
		}
		return ours, nil
	}
	if ours != 0 {
		return ours, nil
	}
	refusal, err := o.check(ctx, chain, id, purpose, now)
	if err != nil {
		return 0, err
	}
	if refusal != nil {
		return x509Flags(refusal, now), nil
	}
	return 0, nil
}

// trustTime returns now if every certificate of chain is valid then, else
// the latest NotBefore of chain if every one is valid at that time, else
// now.
func trustTime(chain []*x509.Certificate, now time.Time) time.Time {
	validAt := func(t time.Time) bool {
		for _, c := range chain {
			if c != nil && (t.Before(c.NotBefore) || t.After(c.NotAfter)) {
				return false
			}
		}
		return true
	}
	if validAt(now) {
		return now
	}
	var latest time.Time
	for _, c := range chain {
		if c != nil && c.NotBefore.After(latest) {
			latest = c.NotBefore
		}
	}
	if validAt(latest) {
		return latest
	}
	return now
}
