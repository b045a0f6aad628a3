package verify

import (
	"bytes"
	"crypto/x509"
	"sync"
)

// Store is an immutable set of trust anchors and CRLs, indexed so that a
// verification costs map lookups, not scans: anchors by DER, by raw subject
// and by raw issuer; CRLs by raw issuer. It is safe for concurrent use.
type Store struct {
	anchors   []*x509.Certificate
	byDER     map[string]*x509.Certificate
	bySubject map[string][]*x509.Certificate
	byIssuer  map[string][]*x509.Certificate
	crls      map[string][]*crl
}

// crl is a revocation list with its serial numbers indexed, and the issuers
// its signature was found to verify against, remembered.
type crl struct {
	list     *x509.RevocationList
	serials  map[string]bool // decimal form of each revoked serial
	verified sync.Map        // issuer DER -> bool
}

// NewStore indexes anchors (duplicates, by DER, are dropped) and crls.
func NewStore(anchors []*x509.Certificate, crls []*x509.RevocationList) *Store {
	s := &Store{
		byDER:     make(map[string]*x509.Certificate, len(anchors)),
		bySubject: make(map[string][]*x509.Certificate, len(anchors)),
		byIssuer:  make(map[string][]*x509.Certificate, len(anchors)),
		crls:      make(map[string][]*crl),
	}
	for _, a := range anchors {
		if a == nil || s.byDER[string(a.Raw)] != nil {
			continue
		}
		s.anchors = append(s.anchors, a)
		s.byDER[string(a.Raw)] = a
		s.bySubject[string(a.RawSubject)] = append(s.bySubject[string(a.RawSubject)], a)
		s.byIssuer[string(a.RawIssuer)] = append(s.byIssuer[string(a.RawIssuer)], a)
	}
	for _, l := range crls {
		if l == nil {
			continue
		}
		c := &crl{list: l, serials: make(map[string]bool, len(l.RevokedCertificateEntries))}
		for _, e := range l.RevokedCertificateEntries {
			if e.SerialNumber != nil {
				c.serials[e.SerialNumber.String()] = true
			}
		}
		s.crls[string(l.RawIssuer)] = append(s.crls[string(l.RawIssuer)], c)
	}
	return s
}

// Anchors returns the anchors, in the order given, without duplicates.
func (s *Store) Anchors() []*x509.Certificate {
	if s == nil {
		return nil
	}
	return s.anchors
}

// Len returns the number of anchors.
func (s *Store) Len() int {
	if s == nil {
		return 0
	}
	return len(s.anchors)
}

// Anchor returns the anchor c stands for: the same certificate (by DER), or
// one with the same subject and public key whose key made c's signature (a
// root reissued by its owner). A certificate that merely copies an anchor's
// subject and key, signed by another, is not trusted for it: nil.
func (s *Store) Anchor(c *x509.Certificate) *x509.Certificate {
	if s == nil {
		return nil
	}
	if a := s.byDER[string(c.Raw)]; a != nil {
		return a
	}
	for _, a := range s.bySubject[string(c.RawSubject)] {
		if bytes.Equal(a.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) && signedBy(c, a) {
			return a
		}
	}
	return nil
}

// WithSubject returns the anchors whose subject is the DER name rawSubject.
func (s *Store) WithSubject(rawSubject []byte) []*x509.Certificate {
	if s == nil {
		return nil
	}
	return s.bySubject[string(rawSubject)]
}

// IssuedBy returns the anchors whose issuer is the DER name rawIssuer.
func (s *Store) IssuedBy(rawIssuer []byte) []*x509.Certificate {
	if s == nil {
		return nil
	}
	return s.byIssuer[string(rawIssuer)]
}

// Issuer returns an anchor that issued c (by name, then signature), or nil.
func (s *Store) Issuer(c *x509.Certificate) *x509.Certificate {
	for _, a := range s.WithSubject(c.RawIssuer) {
		if signedBy(c, a) {
			return a
		}
	}
	return nil
}

// Revoked reports whether a CRL in the store, issued by issuer and carrying
// issuer's valid signature, lists c's serial number (RFC 5280, section 6.3).
// CRLs past their nextUpdate still count: a stale list of revoked
// certificates is still evidence against them.
func (s *Store) Revoked(c, issuer *x509.Certificate) bool {
	if s == nil || c.SerialNumber == nil {
		return false
	}
	for _, l := range s.crls[string(issuer.RawSubject)] {
		if !l.serials[c.SerialNumber.String()] {
			continue
		}
		if l.signedBy(issuer) {
			return true
		}
	}
	return false
}

func (l *crl) signedBy(issuer *x509.Certificate) bool {
	if ok, found := l.verified.Load(string(issuer.Raw)); found {
		return ok.(bool)
	}
	ok := CheckSignature(l.list.SignatureAlgorithm, l.list.RawTBSRevocationList, l.list.Signature, issuer.PublicKey) == nil
	l.verified.Store(string(issuer.Raw), ok)
	return ok
}
