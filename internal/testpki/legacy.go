package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
)

// Version1 makes a version 1 certificate (RFC 5280, section 4.1.2.1): no
// extensions at all, so no basic constraints, key usage or names. Such
// certificates can be trusted roots, never intermediates. The issuer key
// must be ECDSA P-256, RSA (signed with SHA-256) or Ed25519.
func Version1() Option { return func(c *config) { c.version1 = true } }

// toVersion1 drops the version and the extensions from the TBSCertificate
// of der and signs it again with priv, the issuer's key.
func toVersion1(der []byte, priv crypto.Signer) ([]byte, error) {
	var outer struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, err
	}
	var fields []asn1.RawValue
	for rest := outer.TBS.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			return nil, err
		}
		// [0] version, [3] extensions.
		if f.Class == asn1.ClassContextSpecific && (f.Tag == 0 || f.Tag == 3) {
			continue
		}
		fields = append(fields, f)
	}
	var body []byte
	for _, f := range fields {
		body = append(body, f.FullBytes...)
	}
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		return nil, err
	}
	var sig []byte
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		sig, err = k.Sign(rand.Reader, tbs, crypto.Hash(0))
	case *ecdsa.PrivateKey:
		if k.Curve.Params().BitSize != 256 {
			return nil, errors.New("testpki: Version1 needs a P-256 ECDSA issuer key")
		}
		sum := sha256.Sum256(tbs)
		sig, err = k.Sign(rand.Reader, sum[:], crypto.SHA256)
	default:
		sum := sha256.Sum256(tbs)
		sig, err = priv.Sign(rand.Reader, sum[:], crypto.SHA256)
	}
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, outer.Alg, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
}

var (
	oidPolicyConstraints = asn1.ObjectIdentifier{2, 5, 29, 36}
	oidPolicyMappings    = asn1.ObjectIdentifier{2, 5, 29, 33}
	oidInhibitAnyPolicy  = asn1.ObjectIdentifier{2, 5, 29, 54}
)

// PolicyConstraints adds a critical policyConstraints extension (RFC 5280,
// section 4.2.1.11); a negative count leaves that field out.
func PolicyConstraints(requireExplicitPolicy, inhibitPolicyMapping int) Option {
	var body []byte
	for tag, n := range []int{requireExplicitPolicy, inhibitPolicyMapping} {
		if n >= 0 {
			v, _ := asn1.Marshal(n)
			// [tag] IMPLICIT INTEGER: the INTEGER's content under a
			// context-specific tag.
			body = append(body, byte(0x80|tag))
			body = append(body, v[1:]...)
		}
	}
	return criticalExtension(oidPolicyConstraints, body)
}

// InhibitAnyPolicy adds a critical inhibitAnyPolicy extension (RFC 5280,
// section 4.2.1.14).
func InhibitAnyPolicy(skipCerts int) Option {
	v, _ := asn1.Marshal(skipCerts)
	return Extension(pkix.Extension{Id: oidInhibitAnyPolicy, Critical: true, Value: v})
}

// PolicyMappings adds a critical policyMappings extension (RFC 5280,
// section 4.2.1.5) mapping each issuer domain policy to a subject domain
// policy, given in pairs of dotted OIDs.
func PolicyMappings(pairs ...string) Option {
	var body []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		var m struct{ Issuer, Subject asn1.ObjectIdentifier }
		for j, s := range pairs[i : i+2] {
			oid, err := parseDotted(s)
			if err != nil {
				return func(c *config) { c.ipErr = err }
			}
			if j == 0 {
				m.Issuer = oid
			} else {
				m.Subject = oid
			}
		}
		v, _ := asn1.Marshal(m)
		body = append(body, v...)
	}
	return criticalExtension(oidPolicyMappings, body)
}

func criticalExtension(id asn1.ObjectIdentifier, seqBody []byte) Option {
	v, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: seqBody})
	return Extension(pkix.Extension{Id: id, Critical: true, Value: v})
}

func parseDotted(s string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	n, seen := 0, false
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if !seen {
				return nil, errors.New("testpki: bad OID " + s)
			}
			oid = append(oid, n)
			n, seen = 0, false
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			return nil, errors.New("testpki: bad OID " + s)
		}
		n, seen = n*10+int(s[i]-'0'), true
	}
	return oid, nil
}
