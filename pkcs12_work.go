package giotls

import (
	"encoding/asn1"
	"fmt"
	"math/big"
)

// maxPKCS12Iterations bounds the key-derivation iterations a PKCS#12 file
// may ask for. Writers use 2,048 (OpenSSL's default) to a few hundred
// thousand; a file asking for 2^31 would keep a loader busy for hours.
const maxPKCS12Iterations = 1 << 21

// checkPKCS12Work refuses a PKCS#12 file whose visible key derivations ask
// for more than maxPKCS12Iterations iterations, before any is run. It walks
// the DER (into OCTET STRINGs that hold DER, as the authenticated safe does)
// and reads as an iteration count every INTEGER that follows an OCTET
// STRING in a SEQUENCE: the MacData (RFC 7292, section 4), PKCS#12 PBE
// parameters (Appendix C) and PBKDF2 parameters (RFC 8018, appendix A.2) all
// have that shape. Parameters inside encrypted content cannot be seen; the
// outer layer they sit in has to be decrypted with bounded work first.
func checkPKCS12Work(der []byte) error {
	return walkPKCS12(der, 0)
}

func walkPKCS12(der []byte, depth int) error {
	if depth > 16 {
		return nil
	}
	for len(der) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(der, &v)
		if err != nil {
			return nil // not DER: opaque (encrypted) content
		}
		der = rest
		switch {
		case v.Class == asn1.ClassUniversal && v.Tag == asn1.TagSequence && v.IsCompound:
			if err := checkIterations(v.Bytes); err != nil {
				return err
			}
			if err := walkPKCS12(v.Bytes, depth+1); err != nil {
				return err
			}
		case v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOctetString && !v.IsCompound,
			v.Class == asn1.ClassContextSpecific && v.IsCompound:
			if err := walkPKCS12(v.Bytes, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkIterations looks at the direct children of a SEQUENCE for an OCTET
// STRING followed by an INTEGER, and bounds that INTEGER.
func checkIterations(body []byte) error {
	prevOctets := false
	for len(body) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(body, &v)
		if err != nil {
			return nil
		}
		body = rest
		isInt := v.Class == asn1.ClassUniversal && v.Tag == asn1.TagInteger
		if prevOctets && isInt {
			n := new(big.Int).SetBytes(v.Bytes)
			if len(v.Bytes) > 0 && v.Bytes[0]&0x80 != 0 || !n.IsInt64() || n.Int64() > maxPKCS12Iterations {
				return fmt.Errorf("a key derivation asks for %v iterations, more than %d", n, maxPKCS12Iterations)
			}
		}
		prevOctets = v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOctetString
	}
	return nil
}
