// Package verify verifies X.509 certificate chains the way GIO reports
// them: it returns every problem it finds as a set of flags (with the bit
// values of GTlsCertificateFlags) instead of stopping at the first, as
// crypto/x509's Verify does.
//
// A path is built from the leaf through the certificates the peer sent (in
// any order, with duplicates and extras) and the store's anchors, checking
// signatures itself so that SHA-1 and MD5 signed certificates still chain
// and are then flagged insecure. When several paths exist, one that reaches
// an anchor is preferred, then the one with the fewest problems.
//
// Every certificate on the chosen path, the anchor included, is checked for
// its validity period (RFC 5280, section 6.1.3 (a)(2)), its key size and
// unhandled critical extensions; every issuer on the path for the CA basic
// constraint, certSign key usage and path length (RFC 5280, section 6.1.4);
// name constraints of every CA on the path apply to the certificates below
// it (RFC 5280, section 4.2.1.10); the certificates below the anchor must
// satisfy policy constraints as crypto/x509 processes them (RFC 5280,
// section 6.1, with any policy acceptable). Signatures made with a broken hash are
// flagged except the anchor's own signature, which trust in the anchor
// does not depend on. When no path reaches an anchor, the same checks run on
// the longest path that could be built from what the peer sent.
//
// Everything the peer controls has a budget: the certificates considered,
// the depth, the paths and issuer candidates examined, and the
// name-by-constraint comparisons (a name left uncompared counts as a
// violation, GenericError, as crypto/x509 refuses such chains); the context
// is checked inside each loop over what the peer sent.
//
// Compared with GIO 2.74's GnuTLS file database on the same certificates
// (g_tls_database_verify_chain), the flags are the same except where GIO
// is too lenient, by design: GIO matches the common name when there are no
// DNS names (we never do: RFC 6125, section 6.4.4); ignores CRLs in the
// anchors file, RSA keys under 2048 bits and a leaf whose extended key usage
// excludes serverAuth (we flag them Revoked, Insecure and GenericError);
// and reports an issuer that is not a CA as UnknownCA (GnuTLS's
// SIGNER_NOT_CA), where we say GenericError, since the path does reach an
// anchor.
package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"math/bits"
	"slices"
	"time"
)

// Flags is a set of problems, with GTlsCertificateFlags' bit values.
type Flags uint32

const (
	UnknownCA    Flags = 1 << 0 // no path to an anchor
	BadIdentity  Flags = 1 << 1 // the leaf is not valid for the identity
	NotActivated Flags = 1 << 2 // a certificate on the path is not valid yet
	Expired      Flags = 1 << 3 // a certificate on the path has expired
	Revoked      Flags = 1 << 4 // a CRL lists a certificate on the path
	Insecure     Flags = 1 << 5 // a broken hash or a key too small on the path
	GenericError Flags = 1 << 6 // any other violation of RFC 5280
)

// MaxDepth is the longest path built, leaf and anchor included.
const MaxDepth = 16

// maxCertificates bounds how many certificates a peer may send that are
// considered; real chains have a handful.
const maxCertificates = 64

// maxPaths bounds the complete paths examined, and maxExpansions the issuer
// candidates tried, so that a hostile set of cross-signed certificates
// cannot make path building exponential.
const (
	maxPaths      = 32
	maxExpansions = 512
)

// Options are the inputs of a verification.
type Options struct {
	// Chain is what the peer sent, its certificate first.
	Chain []*x509.Certificate
	// Store holds the trust anchors and CRLs; nil trusts nothing.
	Store *Store
	// Identity is checked against the leaf when CheckIdentity is set; a
	// zero Identity then gives BadIdentity.
	Identity      Identity
	CheckIdentity bool
	// Purpose is the extended key usage required of the leaf (and of
	// intermediates that restrict theirs); nil requires none.
	Purpose asn1.ObjectIdentifier
	// Now is the time of verification; zero means time.Now().
	Now time.Time
}

// Result is the outcome of a verification.
type Result struct {
	Flags Flags
	// Path is the path the flags were computed on, leaf first; it ends
	// with an anchor when Anchored.
	Path     []*x509.Certificate
	Anchored bool

	// work is what the search spent, for tests of its budgets.
	work work
}

// work counts the complete paths recorded, the issuer candidates tried and
// the name-constraint comparisons and policy graph steps made by one
// verification.
type work struct{ paths, expansions, comparisons, policy int }

// Verify verifies opts.Chain and returns every flag that applies. The error
// is only ctx's, when it is cancelled during path building or the checks of a
// path.
func Verify(ctx context.Context, opts *Options) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if len(opts.Chain) == 0 || opts.Chain[0] == nil {
		return Result{Flags: UnknownCA | BadIdentity}, nil
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	b := &builder{ctx: ctx, opts: opts, now: now, sigs: map[[2]*x509.Certificate]bool{}}
	b.pool = make([]*x509.Certificate, 0, min(len(opts.Chain)-1, maxCertificates))
	for i, c := range opts.Chain[1:] {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		// A linear search: the pool is small, and a set keyed by DER would
		// copy every certificate on every handshake.
		if c != nil && len(b.pool) < maxCertificates && !slices.ContainsFunc(b.pool, func(p *x509.Certificate) bool {
			return bytes.Equal(p.Raw, c.Raw)
		}) {
			b.pool = append(b.pool, c)
		}
	}
	leaf := opts.Chain[0]
	b.search([]*x509.Certificate{leaf})
	if b.err != nil {
		return Result{}, b.err
	}
	res := b.best
	res.work = work{b.paths, b.expansions, b.comparisons, b.policyWork}
	if opts.CheckIdentity && !MatchIdentity(leaf, opts.Identity) {
		res.Flags |= BadIdentity
	}
	return res, nil
}

type builder struct {
	ctx        context.Context
	opts       *Options
	now        time.Time
	pool       []*x509.Certificate // sent certificates but the leaf, without duplicates
	sigs       map[[2]*x509.Certificate]bool
	best       Result
	found      bool
	paths      int
	expansions int
	// comparisons counts name-constraint comparisons, against
	// maxConstraintComparisons.
	comparisons int
	// policyWork counts policy graph steps, against maxPolicyWork.
	policyWork int
	err        error
}

// done reports whether the search should stop: cancelled, out of budget, or
// a flawless anchored path found.
func (b *builder) done() bool {
	if b.err != nil {
		return true
	}
	if err := b.ctx.Err(); err != nil {
		b.err = err
		return true
	}
	return b.paths >= maxPaths || b.expansions >= maxExpansions ||
		(b.found && b.best.Anchored && b.best.Flags == 0)
}

// search extends path (whose last certificate is not yet linked to an
// issuer) depth first, recording each complete path.
func (b *builder) search(path []*x509.Certificate) {
	last := path[len(path)-1]
	if a := b.opts.Store.Anchor(last); a != nil {
		if len(path) > 1 {
			path = append(path[:len(path)-1:len(path)-1], a)
		}
		b.record(path, true)
		return
	}
	extended := false
	if len(path) < MaxDepth && !selfSigned(last) {
		for _, cand := range b.candidates(last) {
			if b.done() {
				return
			}
			if onPath(path, cand) {
				continue
			}
			b.expansions++
			if !b.signed(last, cand) {
				continue
			}
			extended = true
			b.search(append(path[:len(path):len(path)], cand))
		}
	}
	if !extended {
		b.record(path, false)
	}
}

// candidates returns the possible issuers of c by name: the store's
// anchors first, then what the peer sent. Those whose subject key ID
// contradicts c's authority key ID come last rather than not at all, since
// key IDs are only hints (RFC 5280, section 4.2.1.1).
func (b *builder) candidates(c *x509.Certificate) []*x509.Certificate {
	var good, poor []*x509.Certificate
	add := func(cand *x509.Certificate) {
		if len(c.AuthorityKeyId) > 0 && len(cand.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, cand.SubjectKeyId) {
			poor = append(poor, cand)
		} else {
			good = append(good, cand)
		}
	}
	for _, a := range b.opts.Store.WithSubject(c.RawIssuer) {
		add(a)
	}
	for _, p := range b.pool {
		if bytes.Equal(p.RawSubject, c.RawIssuer) {
			add(p)
		}
	}
	return append(good, poor...)
}

func (b *builder) signed(child, parent *x509.Certificate) bool {
	k := [2]*x509.Certificate{child, parent}
	ok, cached := b.sigs[k]
	if !cached {
		ok = signedBy(child, parent)
		b.sigs[k] = ok
	}
	return ok
}

// record scores a complete path and keeps it if it beats the best so far:
// anchored beats unanchored; among anchored paths, fewer problems, then
// shorter; among unanchored ones, longer (more of what was sent is
// explained), then fewer problems.
func (b *builder) record(path []*x509.Certificate, anchored bool) {
	b.paths++
	flags := b.pathFlags(path, anchored)
	cand := Result{Flags: flags, Path: path, Anchored: anchored}
	if !b.found || better(cand, b.best) {
		b.best, b.found = cand, true
	}
}

func better(a, c Result) bool {
	if a.Anchored != c.Anchored {
		return a.Anchored
	}
	na, nc := bits.OnesCount32(uint32(a.Flags)), bits.OnesCount32(uint32(c.Flags))
	if a.Anchored {
		if na != nc {
			return na < nc
		}
		return len(a.Path) < len(c.Path)
	}
	if len(a.Path) != len(c.Path) {
		return len(a.Path) > len(c.Path)
	}
	return na < nc
}

// pathFlags returns the flags of path, identity aside.
func (b *builder) pathFlags(path []*x509.Certificate, anchored bool) Flags {
	var f Flags
	if !anchored {
		f |= UnknownCA
	}
	n := len(path)
	for i, c := range path {
		if b.now.Before(c.NotBefore) {
			f |= NotActivated
		}
		if b.now.After(c.NotAfter) {
			f |= Expired
		}
		if weakKey(c) || (weakSignature(c.SignatureAlgorithm) && !(anchored && i == n-1)) {
			f |= Insecure
		}
		if len(c.UnhandledCriticalExtensions) > 0 {
			f |= GenericError
		}
		if i == 0 {
			continue
		}
		if !validIssuer(c, i, anchored && i == n-1) {
			f |= GenericError
		}
		if b.opts.Store.Revoked(path[i-1], c) {
			f |= Revoked
		}
		if b.violatesNameConstraints(c, path[:i]) {
			f |= GenericError
		}
	}
	// The anchor's policy constraints are its own business, as in
	// crypto/x509 (RFC 5280, section 6.1.1 (d) to (f) leave them to the
	// relying party).
	if n > 1 && !policiesValid(path[:n-1], b.spendPolicyWork) {
		f |= GenericError
	}
	if b.opts.Purpose != nil {
		for i, c := range path {
			// The anchor's extended key usage is its own business, as in
			// GnuTLS; intermediates that state one must allow the purpose.
			if (i == 0 || !(anchored && i == n-1)) && !allowsPurpose(c, b.opts.Purpose) {
				f |= GenericError
			}
		}
	}
	return f
}

// spendPolicyWork charges steps of policy processing to the verification's
// budget, and checks the context: false when either has run out.
func (b *builder) spendPolicyWork(steps int) bool {
	if b.policyWork+steps > maxPolicyWork {
		return false
	}
	b.policyWork += steps
	if err := b.ctx.Err(); err != nil {
		b.err = err
		return false
	}
	return true
}

// validIssuer checks the certificate at index i (> 0) of a path as the issuer
// of the one below it: a CA with certSign in its key usage, if it has one, and
// a path length constraint that allows the i-1 intermediates below it
// (RFC 5280, sections 4.2.1.3, 4.2.1.9 and 6.1.4). A version 1 anchor,
// without basic constraints, is a CA because it is trusted as one.
func validIssuer(c *x509.Certificate, i int, anchor bool) bool {
	if c.BasicConstraintsValid {
		if !c.IsCA {
			return false
		}
	} else if !(anchor && c.Version < 3) {
		return false
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return false
	}
	if c.MaxPathLen > 0 || (c.MaxPathLen == 0 && c.MaxPathLenZero) {
		if i-1 > c.MaxPathLen {
			return false
		}
	}
	return true
}

var extKeyUsageOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageServerAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageEmailProtection: {1, 3, 6, 1, 5, 5, 7, 3, 4},
	x509.ExtKeyUsageIPSECEndSystem:  {1, 3, 6, 1, 5, 5, 7, 3, 5},
	x509.ExtKeyUsageIPSECTunnel:     {1, 3, 6, 1, 5, 5, 7, 3, 6},
	x509.ExtKeyUsageIPSECUser:       {1, 3, 6, 1, 5, 5, 7, 3, 7},
	x509.ExtKeyUsageTimeStamping:    {1, 3, 6, 1, 5, 5, 7, 3, 8},
	x509.ExtKeyUsageOCSPSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 9},
}

// allowsPurpose reports whether c's extended key usage allows purpose: no
// extension, anyExtendedKeyUsage, or purpose itself (RFC 5280, section
// 4.2.1.12).
func allowsPurpose(c *x509.Certificate, purpose asn1.ObjectIdentifier) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageAny || extKeyUsageOIDs[u].Equal(purpose) {
			return true
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		if oid.Equal(purpose) {
			return true
		}
	}
	return false
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && signedBy(c, c)
}

// onPath reports whether c, or a certificate with its subject and key,
// is already on path: following it would go round in a circle.
func onPath(path []*x509.Certificate, c *x509.Certificate) bool {
	for _, p := range path {
		if bytes.Equal(p.Raw, c.Raw) ||
			(bytes.Equal(p.RawSubject, c.RawSubject) && bytes.Equal(p.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo)) {
			return true
		}
	}
	return false
}
