package giotls

import (
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"unicode/utf16"
)

// The bounds on the key-derivation work a PKCS#12 file may ask for. Writers
// use 2,048 iterations (OpenSSL's default) to a few hundred thousand; a
// file asking for 2^31 would keep a loader busy for hours.
const (
	// maxPKCS12Iterations bounds the iterations of any one derivation.
	maxPKCS12Iterations = 1 << 21
	// maxPKCS12Work bounds the whole file: the sum, over every derivation
	// checkPKCS12Work and go-pkcs12 will run (retries included), of its
	// iterations times the hash outputs it derives: about 2.5 s of CPU
	// (2^21 PBKDF2-HMAC-SHA-256 iterations took 1.3 s on a loaded 2-core
	// machine); a file past it is refused before any derivation.
	maxPKCS12Work = 1 << 22
)

// PKCS#12 object identifiers (RFC 7292; RFC 5652 for the content types;
// RFC 9579 for PBMAC1).
var (
	oidData                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidShroudedKeyBag      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidPBEWithSHA3DES      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHARC2128    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHARC240     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBMAC1              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	errPKCS12Unstructured  = errors.New("not a PKCS#12 file go-pkcs12 can read")
	errPKCS12WrongPassword = errors.New("an encrypted safe does not decrypt with it")
)

// The shapes go-pkcs12 parses (RFC 7292, sections 4 and 4.2; RFC 5652,
// section 8), so that what it reads, this reads too.
type (
	p12PFX struct {
		Version  int
		AuthSafe p12ContentInfo
		MacData  p12MacData `asn1:"optional"`
	}
	p12ContentInfo struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
	}
	p12MacData struct {
		Mac struct {
			Algorithm pkix.AlgorithmIdentifier
			Digest    []byte
		}
		MacSalt    []byte
		Iterations int `asn1:"optional,default:1"`
	}
	p12EncryptedData struct {
		Version              int
		EncryptedContentInfo struct {
			ContentType                asn1.ObjectIdentifier
			ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
			EncryptedContent           []byte `asn1:"tag:0,optional"`
		}
	}
	p12SafeBag struct {
		ID         asn1.ObjectIdentifier
		Value      asn1.RawValue   `asn1:"tag:0,explicit"`
		Attributes []asn1.RawValue `asn1:"set,optional"`
	}
	p12PBEParams struct {
		Salt       []byte
		Iterations int
	}
	p12PBMAC1Params struct {
		KDF    pkix.AlgorithmIdentifier
		MacAlg pkix.AlgorithmIdentifier
	}
)

// unmarshalAll parses der whole into out, as go-pkcs12 does.
func unmarshalAll(der []byte, out any) error {
	rest, err := asn1.Unmarshal(der, out)
	if err == nil && len(rest) != 0 {
		err = errors.New("trailing data")
	}
	return err
}

// pkcs12Budget adds up the work of a file's key derivations.
type pkcs12Budget struct{ spent int64 }

// add counts times runs of a derivation of iterations iterations giving
// blocks hash outputs, and fails when either bound is passed.
func (b *pkcs12Budget) add(iterations int, blocks, times int64) error {
	if iterations > maxPKCS12Iterations {
		return fmt.Errorf("a key derivation asks for %d iterations, more than %d", iterations, maxPKCS12Iterations)
	}
	b.spent += max(int64(iterations), 1) * blocks * times
	if b.spent > maxPKCS12Work {
		return fmt.Errorf("its key derivations ask for more than %d iterations in all", maxPKCS12Work)
	}
	return nil
}

// checkPKCS12Work refuses, before any key is derived, a PKCS#12 file whose
// key derivations would cost more than the bounds above with password,
// counting every one go-pkcs12 runs (RFC 7292): the MAC (twice for an
// empty password, which it tries as two zero bytes and as nothing), each
// encrypted safe, and each shrouded key bag, run by DecodeChain and (the
// MAC and the safes again) by DecodeTrustStore when NewCertificateFromPKCS12
// falls back to it. The bags of an encrypted safe cannot be seen from
// outside: each safe is decrypted here first, its own derivation counted
// (once per password tried), so that a safe asking for 1 iteration cannot
// hide a key bag asking for 2^31. Derivations go-pkcs12 does not support
// cost nothing: it fails before running them.
//
// The file is read with go-pkcs12's own shapes, never more strictly, so
// that every derivation it would reach is seen. What does not parse so, and
// what it could not decrypt either, gives errPKCS12Unstructured (fail
// closed: go-pkcs12 refuses such files too); a safe that does not decrypt
// with password gives errPKCS12WrongPassword.
func checkPKCS12Work(der []byte, password string) error {
	// go-pkcs12 takes the authenticated safe from the content of whatever
	// element the [0] holds, an OCTET STRING or not: so does this.
	var pfx p12PFX
	var authSafe asn1.RawValue
	var safes []p12ContentInfo
	if unmarshalAll(der, &pfx) != nil || pfx.Version != 3 || !pfx.AuthSafe.ContentType.Equal(oidData) ||
		unmarshalAll(pfx.AuthSafe.Content.Bytes, &authSafe) != nil || unmarshalAll(authSafe.Bytes, &safes) != nil {
		return errPKCS12Unstructured
	}
	hasMAC := len(pfx.MacData.Mac.Algorithm.Algorithm) != 0
	if !hasMAC && password != "" {
		return nil // go-pkcs12 refuses it: "no MAC in data"
	}
	// The passwords go-pkcs12 may use: for the PKCS#12 PBEs, a BMPString
	// with two zero bytes, or for "" also nothing when the MAC says so.
	bmp, err := bmpPassword(password)
	if err != nil {
		return nil // go-pkcs12 refuses it the same way
	}
	candidates := [][]byte{bmp}
	if password == "" && hasMAC {
		candidates = append(candidates, nil)
	}
	const runs = 2 // DecodeChain, then DecodeTrustStore
	var b pkcs12Budget
	if hasMAC {
		iterations, blocks, err := macWork(pfx.MacData)
		if err != nil {
			return err
		}
		if err := b.add(iterations, blocks, runs*int64(len(candidates))); err != nil {
			return err
		}
	}
	// Every visible derivation is counted before the first is run.
	var encrypted []p12EncryptedData
	for _, ci := range safes {
		if !ci.ContentType.Equal(oidEncryptedData) {
			continue
		}
		var ed p12EncryptedData
		if unmarshalAll(ci.Content.Bytes, &ed) != nil || ed.Version != 0 {
			return errPKCS12Unstructured
		}
		iterations, blocks, ok, err := encryptionWork(ed.EncryptedContentInfo.ContentEncryptionAlgorithm)
		if err != nil {
			return err
		}
		if !ok {
			break // go-pkcs12 stops there, unable to decrypt it
		}
		if err := b.add(iterations, blocks, runs+int64(len(candidates))); err != nil {
			return err
		}
		encrypted = append(encrypted, ed)
	}
	var bags []p12SafeBag
	for _, ci := range safes {
		switch {
		case ci.ContentType.Equal(oidData):
			var contents []byte
			var safe []p12SafeBag
			if unmarshalAll(ci.Content.Bytes, &contents) != nil || unmarshalAll(contents, &safe) != nil {
				return errPKCS12Unstructured
			}
			bags = append(bags, safe...)
		case len(encrypted) > 0 && ci.ContentType.Equal(oidEncryptedData):
			ed := encrypted[0]
			encrypted = encrypted[1:]
			safe, err := decryptSafe(ed, password, candidates)
			if err != nil {
				return err
			}
			bags = append(bags, safe...)
		default: // another content type, or a cipher go-pkcs12 lacks
			return errPKCS12Unstructured
		}
	}
	for _, bag := range bags {
		if !bag.ID.Equal(oidShroudedKeyBag) {
			continue
		}
		var info encryptedPrivateKeyInfo
		if unmarshalAll(bag.Value.Bytes, &info) != nil {
			return errPKCS12Unstructured
		}
		iterations, blocks, ok, err := encryptionWork(info.Algorithm)
		if err != nil {
			return err
		}
		if ok {
			if err := b.add(iterations, blocks, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// bmpPassword is password as a BMPString with its two zero bytes (RFC
// 7292, appendix B.1).
func bmpPassword(password string) ([]byte, error) {
	var out []byte
	for _, r := range password {
		if r > 0xffff || utf16.IsSurrogate(r) {
			return nil, errors.New("password outside the Basic Multilingual Plane")
		}
		out = append(out, byte(r>>8), byte(r))
	}
	return append(out, 0, 0), nil
}

// macWork returns the iterations and hash outputs of the MAC's derivation:
// the PKCS#12 KDF for a hash-sized HMAC key (one output) or, for PBMAC1
// (RFC 9579), PBKDF2.
func macWork(m p12MacData) (int, int64, error) {
	if !m.Mac.Algorithm.Algorithm.Equal(oidPBMAC1) {
		return m.Iterations, 1, nil
	}
	var params p12PBMAC1Params
	var kdf pbkdf2Params
	if unmarshalAll(m.Mac.Algorithm.Parameters.FullBytes, &params) != nil ||
		unmarshalAll(params.KDF.Parameters.FullBytes, &kdf) != nil {
		return 0, 0, nil // go-pkcs12 refuses it before deriving
	}
	return kdf.IterationCount, pbkdf2Blocks(kdf.KeyLength, kdf.PRF.Algorithm), nil
}

// pbkdf2Blocks is the number of PRF outputs PBKDF2 computes for keyLen
// bytes (RFC 8018, section 5.2), each costing the iteration count.
func pbkdf2Blocks(keyLen int, prf asn1.ObjectIdentifier) int64 {
	hLen := sha1.Size
	switch {
	case prf.Equal(oidHMACWithSHA256):
		hLen = 32
	case prf.Equal(oidHMACWithSHA512):
		hLen = 64
	}
	return int64(max((keyLen+hLen-1)/hLen, 1))
}

// encryptionWork returns the iterations and hash outputs of the key
// derivation alg asks for, and whether go-pkcs12 would run it.
func encryptionWork(alg pkix.AlgorithmIdentifier) (int, int64, bool, error) {
	if pbe, ok := pkcs12PBEFor(alg.Algorithm); ok {
		var params p12PBEParams
		if unmarshalAll(alg.Parameters.FullBytes, &params) != nil {
			return 0, 0, false, nil
		}
		return params.Iterations, pbe.blocks(), true, nil
	}
	if !alg.Algorithm.Equal(oidPBES2) {
		return 0, 0, false, nil
	}
	p, err := parsePBES2Algorithm(alg)
	if err != nil {
		// go-pkcs12 reads PBES2 parameters as parsePBES2 does, so whatever
		// it could still derive is refused here rather than left unbounded.
		return 0, 0, false, fmt.Errorf("unreadable PBES2 parameters: %w", err)
	}
	return p.iterations, pbkdf2Blocks(p.keyLen, p.prfOID), true, nil
}

func pkcs12PBEFor(oid asn1.ObjectIdentifier) (pkcs12PBE, bool) {
	switch {
	case oid.Equal(oidPBEWithSHA3DES):
		return pbeSHA3DES, true
	case oid.Equal(oidPBEWithSHARC2128):
		return pbeSHARC2128, true
	case oid.Equal(oidPBEWithSHARC240):
		return pbeSHARC240, true
	}
	return pkcs12PBE{}, false
}

// decryptSafe decrypts an encrypted safe and returns its bags. For the
// PKCS#12 PBEs it tries every candidate password and returns the bags of
// each that gives SafeContents: go-pkcs12 uses the one its MAC check
// chose, so whichever it is, its bags are counted. PBES2 takes the
// password as it is (RFC 8018), the same for every candidate.
func decryptSafe(ed p12EncryptedData, password string, candidates [][]byte) ([]p12SafeBag, error) {
	info := ed.EncryptedContentInfo
	alg := info.ContentEncryptionAlgorithm
	if pbe, ok := pkcs12PBEFor(alg.Algorithm); ok {
		var params p12PBEParams
		if unmarshalAll(alg.Parameters.FullBytes, &params) != nil {
			return nil, errPKCS12Unstructured
		}
		var bags []p12SafeBag
		found := false
		for _, pw := range candidates {
			out, err := pbe.decrypt(pw, params.Salt, params.Iterations, info.EncryptedContent)
			var safe []p12SafeBag
			if err == nil && unmarshalAll(out, &safe) == nil {
				bags, found = append(bags, safe...), true
			}
		}
		if !found {
			return nil, errPKCS12WrongPassword
		}
		return bags, nil
	}
	p, err := parsePBES2Algorithm(alg)
	if err != nil {
		return nil, err
	}
	p.data = info.EncryptedContent
	if len(p.data) == 0 || len(p.data)%len(p.iv) != 0 {
		return nil, errPKCS12Unstructured
	}
	out, err := p.decrypt([]byte(password))
	var safe []p12SafeBag
	if err != nil || unmarshalAll(out, &safe) != nil {
		return nil, errPKCS12WrongPassword
	}
	return safe, nil
}
