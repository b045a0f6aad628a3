package giotls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/giotls/giotls/internal/testpki"
)

// ocspStaple is an OCSP response to staple: the status template says about
// whom (its SerialNumber), certID the issuer its CertID names, signer the
// key that signs it and, for a delegated responder, the certificate
// embedded.
type ocspStaple struct {
	template ocsp.Response
	certID   *x509.Certificate
	signer   crypto.Signer
	embed    *x509.Certificate
	// edit, when set, changes the ResponseData, which is then signed again
	// by signer: x/crypto/ocsp writes one status a response.
	edit func(*ocspResponseData)
}

func (s ocspStaple) bytes(t *testing.T) []byte {
	t.Helper()
	tmpl := s.template
	tmpl.Certificate = s.embed
	responder := s.certID
	if s.embed != nil {
		responder = s.embed
	}
	der, err := ocsp.CreateResponse(s.certID, responder, tmpl, s.signer)
	if err != nil {
		t.Fatal(err)
	}
	if s.edit != nil {
		der = resignOCSP(t, der, s.signer, s.edit)
	}
	return der
}

// resignOCSP applies edit to the ResponseData of the response der (RFC
// 6960, section 4.2.1) and signs it again with key, an ECDSA key.
func resignOCSP(t *testing.T, der []byte, key crypto.Signer, edit func(*ocspResponseData)) []byte {
	t.Helper()
	var envelope struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	var basic struct {
		TBS          asn1.RawValue
		Algorithm    pkix.AlgorithmIdentifier
		Signature    asn1.BitString
		Certificates []asn1.RawValue `asn1:"explicit,tag:0,optional"`
	}
	var data ocspResponseData
	if _, err := asn1.Unmarshal(der, &envelope); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(envelope.Bytes.Response, &basic); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(basic.TBS.FullBytes, &data); err != nil {
		t.Fatal(err)
	}
	edit(&data)
	tbs, err := asn1.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(tbs)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	basic.TBS = asn1.RawValue{FullBytes: tbs}
	basic.Algorithm = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}} // ecdsa-with-SHA256
	basic.Signature = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	if envelope.Bytes.Response, err = asn1.Marshal(basic); err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(envelope)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOCSPStapling staples OCSP responses in real handshakes (TLS 1.2's
// CertificateStatus message, TLS 1.3's Certificate entry extension) and
// checks that CertificateRevoked comes only from a response RFC 6960,
// section 3.2, lets the client trust: about the leaf's CertID, signed by its
// issuer or a responder the issuer delegated to, and current.
func TestOCSPStapling(t *testing.T) {
	dns := testpki.DNSNames("localhost")
	ca := newTestCA(t, "OCSP Root")
	inter := ca.MustIntermediate(t, "OCSP Inter")
	stranger := testpki.MustCA(t, "OCSP Stranger")
	leaf := inter.MustLeaf(t, "localhost", dns)  // sent with its issuer
	rootLeaf := ca.MustLeaf(t, "localhost", dns) // sent alone: its issuer is the database's
	otherLeaf := inter.MustLeaf(t, "other", testpki.DNSNames("other.test"))
	ocspSigning := testpki.ExtKeyUsage(x509.ExtKeyUsageOCSPSigning)
	responder := inter.MustLeaf(t, "OCSP Responder", ocspSigning)
	sibling := inter.MustLeaf(t, "Sibling Server", testpki.DNSNames("sibling.test"))
	expiredResponder := inter.MustLeaf(t, "Expired Responder", ocspSigning, testpki.Expired())
	strangerResponder := stranger.MustLeaf(t, "Stranger Responder", ocspSigning)
	// CertIDs that get one of the issuer's two hashes right.
	sameName := testpki.MustCA(t, "OCSP Inter")
	sameKey := testpki.MustCA(t, "OCSP Renamed", testpki.WithSigner(inter.Key))
	if !bytes.Equal(sameName.Cert.RawSubject, inter.Cert.RawSubject) {
		t.Fatal("the same-name CA's subject differs from the intermediate's")
	}
	sent := func(l *testpki.Leaf, chain ...*x509.Certificate) tls.Certificate {
		c := l.TLSCertificate()
		if chain != nil {
			c.Certificate = [][]byte{l.Cert.Raw}
			for _, x := range chain {
				c.Certificate = append(c.Certificate, x.Raw)
			}
		}
		return c
	}

	now := time.Now()
	status := func(s int, about *x509.Certificate) ocsp.Response {
		r := ocsp.Response{Status: s, SerialNumber: about.SerialNumber, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour)}
		if s == ocsp.Revoked {
			r.RevokedAt, r.RevocationReason = now.Add(-2*time.Hour), ocsp.KeyCompromise
		}
		return r
	}
	revoked := status(ocsp.Revoked, leaf.Cert)
	byIssuer := func(tmpl ocsp.Response) ocspStaple {
		return ocspStaple{template: tmpl, certID: inter.Cert, signer: inter.Key}
	}
	delegated := func(r *testpki.Leaf) ocspStaple {
		return ocspStaple{template: revoked, certID: inter.Cert, signer: r.Key, embed: r.Cert}
	}
	with := func(s ocspStaple, edit func(*ocsp.Response)) ocspStaple {
		edit(&s.template)
		return s
	}
	resigned := byIssuer(revoked)
	resigned.edit = func(*ocspResponseData) {}
	// twoStatuses staples, for leaf under inter, other's status first and
	// then the leaf's, one of them revoked.
	twoStatuses := func(revokedFirst bool) ocspStaple {
		s := byIssuer(revoked)
		s.edit = func(d *ocspResponseData) {
			first, second := d.Responses[0], d.Responses[0]
			first.CertID.SerialNumber = otherLeaf.Cert.SerialNumber
			good := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0}
			if revokedFirst {
				second.Status = good
			} else {
				first.Status = good
			}
			d.Responses = []ocspSingleResponse{first, second}
		}
		return s
	}

	tests := []struct {
		name        string
		cert        tls.Certificate // what the server sends
		staple      ocspStaple
		wantRevoked bool
	}{
		{"revoked, signed by the issuer", sent(leaf), byIssuer(revoked), true},
		{"revoked, signed by the root the server leaves out", sent(rootLeaf),
			ocspStaple{template: status(ocsp.Revoked, rootLeaf.Cert), certID: ca.Cert, signer: ca.Key}, true},
		{"revoked, signed by the issuer sent after another certificate", sent(leaf, sibling.Cert, inter.Cert), byIssuer(revoked), true},
		{"revoked, signed by the issuer, its certificate embedded", sent(leaf),
			ocspStaple{template: revoked, certID: inter.Cert, signer: inter.Key, embed: inter.Cert}, true},
		{"revoked, by a responder the issuer delegated to", sent(leaf), delegated(responder), true},
		{"revoked, no nextUpdate", sent(leaf), with(byIssuer(revoked), func(r *ocsp.Response) { r.NextUpdate = time.Time{} }), true},
		{"revoked, SHA-256 CertID", sent(leaf), with(byIssuer(revoked), func(r *ocsp.Response) { r.IssuerHash = crypto.SHA256 }), true},
		{"revoked, signed again by the test", sent(leaf), resigned, true},
		{"revoked, after another certificate's status", sent(leaf), twoStatuses(false), true},
		{"good, after another certificate's revocation", sent(leaf), twoStatuses(true), false},
		{"revoked, nextUpdate a minute ago (clock skew)", sent(leaf), with(byIssuer(revoked), func(r *ocsp.Response) {
			r.ThisUpdate, r.NextUpdate = now.Add(-time.Hour), now.Add(-time.Minute)
		}), true},
		{"revoked, thisUpdate in a minute (clock skew)", sent(leaf), with(byIssuer(revoked), func(r *ocsp.Response) {
			r.ThisUpdate = now.Add(time.Minute)
		}), true},
		{"good", sent(leaf), byIssuer(status(ocsp.Good, leaf.Cert)), false},
		{"unknown", sent(leaf), byIssuer(status(ocsp.Unknown, leaf.Cert)), false},
		// Not to be trusted: signed by someone else.
		{"revoked, signed by a stranger's key", sent(leaf), ocspStaple{template: revoked, certID: inter.Cert, signer: stranger.Key}, false},
		{"revoked, signed by the issuer's issuer", sent(leaf), ocspStaple{template: revoked, certID: inter.Cert, signer: ca.Key}, false},
		{"revoked, by a responder without id-kp-OCSPSigning", sent(leaf), delegated(sibling), false},
		{"revoked, by an expired responder", sent(leaf), delegated(expiredResponder), false},
		{"revoked, by a stranger's responder", sent(leaf), delegated(strangerResponder), false},
		// Not to be trusted: about another certificate.
		{"revoked, another certificate", sent(leaf), byIssuer(status(ocsp.Revoked, otherLeaf.Cert)), false},
		{"revoked, the leaf's serial under another issuer", sent(leaf), ocspStaple{template: revoked, certID: stranger.Cert, signer: inter.Key}, false},
		{"revoked, under an issuer of the same name", sent(leaf), ocspStaple{template: revoked, certID: sameName.Cert, signer: inter.Key}, false},
		{"revoked, under an issuer of the same key", sent(leaf), ocspStaple{template: revoked, certID: sameKey.Cert, signer: inter.Key}, false},
		// Not to be trusted: outside its validity window.
		{"revoked, stale", sent(leaf), with(byIssuer(revoked), func(r *ocsp.Response) {
			r.ThisUpdate, r.NextUpdate = now.Add(-3*time.Hour), now.Add(-time.Hour)
		}), false},
		{"revoked, not yet valid", sent(leaf), with(byIssuer(revoked), func(r *ocsp.Response) {
			r.ThisUpdate, r.NextUpdate = now.Add(time.Hour), now.Add(2*time.Hour)
		}), false},
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, tc := range tests {
			t.Run(tls.VersionName(version)+"/"+tc.name, func(t *testing.T) {
				flags, err := handshakeWithStaple(t, ca, tc.cert, tc.staple.bytes(t), version)
				if tc.wantRevoked {
					if flags != CertificateRevoked || !errors.Is(err, ErrBadCertificate) {
						t.Errorf("errors %v, Handshake = %v; want revoked, ErrBadCertificate", flags, err)
					}
					return
				}
				if flags != 0 || err != nil {
					t.Errorf("errors %v, Handshake = %v; want none, nil", flags, err)
				}
			})
		}
	}
}

// TestOCSPMalformedStaple: a staple that is not a valid response adds no
// flag and the handshake goes on (soft-fail), without a panic.
func TestOCSPMalformedStaple(t *testing.T) {
	ca := newTestCA(t, "OCSP Malformed Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	now := time.Now()
	good := ocspStaple{template: ocsp.Response{Status: ocsp.Revoked, SerialNumber: leaf.Cert.SerialNumber,
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour), RevokedAt: now.Add(-time.Hour)},
		certID: ca.Cert, signer: ca.Key}.bytes(t)
	for _, tc := range []struct {
		name   string
		staple []byte
	}{
		{"plain text", []byte("not an OCSP response")},
		{"truncated", good[:len(good)/2]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"unauthorized status", ocsp.UnauthorizedErrorResponse},
		{"empty sequence", []byte{0x30, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags, err := handshakeWithStaple(t, ca, leaf.TLSCertificate(), tc.staple, tls.VersionTLS13)
			if flags != 0 || err != nil {
				t.Errorf("errors %v, Handshake = %v; want none, nil", flags, err)
			}
		})
	}
}

// TestOCSPMutilatedStaple: every truncation and every flipped byte of a
// valid "revoked" response, checked without a handshake: no panic, and no
// truncation trusted.
func TestOCSPMutilatedStaple(t *testing.T) {
	ca := testpki.MustCA(t, "OCSP Mutilated Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	now := time.Now()
	good := ocspStaple{template: ocsp.Response{Status: ocsp.Revoked, SerialNumber: leaf.Cert.SerialNumber,
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour), RevokedAt: now.Add(-time.Hour)},
		certID: ca.Cert, signer: ca.Key}.bytes(t)
	if status, ok := stapledStatus(good, leaf.Cert, ca.Cert, now); !ok || status != ocsp.Revoked {
		t.Fatalf("the intact response: status %d, trusted %v; want revoked, true", status, ok)
	}
	for i := range good {
		if _, ok := stapledStatus(good[:i], leaf.Cert, ca.Cert, now); ok {
			t.Errorf("the first %d bytes of the response are trusted", i)
		}
		flipped := append([]byte(nil), good...)
		flipped[i] ^= 0x55
		stapledStatus(flipped, leaf.Cert, ca.Cert, now)
	}
}

// handshakeWithStaple runs a handshake against a crypto/tls server
// presenting cert with staple, trusting ca, and returns the peer's flags
// and the handshake's error.
func handshakeWithStaple(t *testing.T, ca *testCA, cert tls.Certificate, staple []byte, version uint16) (CertificateFlags, error) {
	t.Helper()
	cert.OCSPStaple = staple
	s := startTLSServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version}, nil)
	c := dialTest(t, s.Addr.String(), dialConfig{Identity: localhost(s.Addr.Port())})
	c.SetDatabase(ca.db)
	var err error
	within(t, 10*time.Second, "Handshake", func() { err = c.Handshake(context.Background()) })
	return c.PeerCertificateErrors(), err
}

// nameOnlyDatabase answers LookupCertificateIssuer with a certificate of
// the right name whatever its key, as a careless Database might.
type nameOnlyDatabase struct {
	Database
	issuer *x509.Certificate
}

func (d nameOnlyDatabase) LookupCertificateIssuer(context.Context, *Certificate, Interaction) (*Certificate, error) {
	return &Certificate{cert: d.issuer}, nil
}

// TestOCSPDatabaseIssuerChecked: the issuer a Database returns for a leaf
// sent alone must have signed the leaf; otherwise a response its namesake
// signed would be trusted.
func TestOCSPDatabaseIssuerChecked(t *testing.T) {
	ca := newTestCA(t, "OCSP Named Root")
	namesake := testpki.MustCA(t, "OCSP Named Root")
	leaf := ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	now := time.Now()
	staple := ocspStaple{template: ocsp.Response{Status: ocsp.Revoked, SerialNumber: leaf.Cert.SerialNumber,
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour), RevokedAt: now.Add(-time.Hour)},
		certID: namesake.Cert, signer: namesake.Key}.bytes(t)
	db := &testCA{CA: ca.CA, db: nameOnlyDatabase{ca.db, namesake.Cert}}
	if flags, err := handshakeWithStaple(t, db, leaf.TLSCertificate(), staple, tls.VersionTLS13); flags != 0 || err != nil {
		t.Errorf("errors %v, Handshake = %v; want none, nil", flags, err)
	}
}
