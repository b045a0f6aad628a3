package giotls

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"math/bits"
)

// The PKCS#12 password-based encryption of RFC 7292, appendix C
// (pbeWithSHAAnd3-KeyTripleDES-CBC, pbeWithSHAAnd128BitRC2-CBC and
// pbeWithSHAAnd40BitRC2-CBC), decryption only: checkPKCS12Work uses it to
// look inside encrypted safes before go-pkcs12 derives any key from what
// they hold.

// pkcs12KDF is the key derivation of RFC 7292, appendix B.2, with SHA-1
// (u = 20, v = 64 bytes): n bytes of purpose id (1 key, 2 IV, 3 MAC) from
// password (a BMPString with its two zero bytes, or empty), salt and
// iterations, at a cost of iterations hashes per 20 bytes.
func pkcs12KDF(password, salt []byte, iterations int, id byte, n int) []byte {
	const u, v = sha1.Size, 64
	fill := func(b []byte) []byte { // b repeated to a multiple of v bytes
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	in := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < n {
		h := sha1.New()
		h.Write(d)
		h.Write(in)
		a := h.Sum(nil)
		for j := 1; j < iterations; j++ {
			s := sha1.Sum(a)
			a = s[:]
		}
		out = append(out, a...)
		if len(out) >= n {
			break
		}
		// I_j = (I_j + B + 1) mod 2^(8v), B being A repeated to v bytes.
		var b [v]byte
		for i := range b {
			b[i] = a[i%u]
		}
		for j := 0; j < len(in); j += v {
			carry := uint(1)
			for k := v - 1; k >= 0; k-- {
				s := uint(in[j+k]) + uint(b[k]) + carry
				in[j+k], carry = byte(s), s>>8
			}
		}
	}
	return out[:n]
}

// pkcs12PBE describes one of the three PKCS#12 PBE schemes.
type pkcs12PBE struct {
	keyLen    int
	newCipher func(key []byte) (cipher.Block, error)
}

// blocks is the number of SHA-1 outputs its key and IV take to derive.
func (p pkcs12PBE) blocks() int64 { return int64((p.keyLen+sha1.Size-1)/sha1.Size) + 1 }

// decrypt derives the key and IV from password and decrypts data, checking
// the padding (RFC 8018, section 6.1.1, as PKCS#12 uses it).
func (p pkcs12PBE) decrypt(password, salt []byte, iterations int, data []byte) ([]byte, error) {
	block, err := p.newCipher(pkcs12KDF(password, salt, iterations, 1, p.keyLen))
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(data) == 0 || len(data)%bs != 0 {
		return nil, errors.New("encrypted data is not a whole number of blocks")
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, pkcs12KDF(password, salt, iterations, 2, bs)).CryptBlocks(out, data)
	n := int(out[len(out)-1])
	if n == 0 || n > bs {
		return nil, errWrongPassword
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errWrongPassword
		}
	}
	return out[:len(out)-n], nil
}

var (
	pbeSHA3DES   = pkcs12PBE{24, des.NewTripleDESCipher}
	pbeSHARC2128 = pkcs12PBE{16, func(k []byte) (cipher.Block, error) { return newRC2(k, 128), nil }}
	pbeSHARC240  = pkcs12PBE{5, func(k []byte) (cipher.Block, error) { return newRC2(k, 40), nil }}
)

// rc2 is the RC2 block cipher of RFC 2268, for the legacy PKCS#12 files
// OpenSSL 1.x writes (their certificates are RC2-40). Encrypt is there for
// the tests' known answers.
type rc2 struct{ k [64]uint16 }

// rc2PiTable is PITABLE of RFC 2268, section 2: a permutation of 0..255
// derived from the digits of pi.
var rc2PiTable = [256]byte{
	0xd9, 0x78, 0xf9, 0xc4, 0x19, 0xdd, 0xb5, 0xed, 0x28, 0xe9, 0xfd, 0x79, 0x4a, 0xa0, 0xd8, 0x9d,
	0xc6, 0x7e, 0x37, 0x83, 0x2b, 0x76, 0x53, 0x8e, 0x62, 0x4c, 0x64, 0x88, 0x44, 0x8b, 0xfb, 0xa2,
	0x17, 0x9a, 0x59, 0xf5, 0x87, 0xb3, 0x4f, 0x13, 0x61, 0x45, 0x6d, 0x8d, 0x09, 0x81, 0x7d, 0x32,
	0xbd, 0x8f, 0x40, 0xeb, 0x86, 0xb7, 0x7b, 0x0b, 0xf0, 0x95, 0x21, 0x22, 0x5c, 0x6b, 0x4e, 0x82,
	0x54, 0xd6, 0x65, 0x93, 0xce, 0x60, 0xb2, 0x1c, 0x73, 0x56, 0xc0, 0x14, 0xa7, 0x8c, 0xf1, 0xdc,
	0x12, 0x75, 0xca, 0x1f, 0x3b, 0xbe, 0xe4, 0xd1, 0x42, 0x3d, 0xd4, 0x30, 0xa3, 0x3c, 0xb6, 0x26,
	0x6f, 0xbf, 0x0e, 0xda, 0x46, 0x69, 0x07, 0x57, 0x27, 0xf2, 0x1d, 0x9b, 0xbc, 0x94, 0x43, 0x03,
	0xf8, 0x11, 0xc7, 0xf6, 0x90, 0xef, 0x3e, 0xe7, 0x06, 0xc3, 0xd5, 0x2f, 0xc8, 0x66, 0x1e, 0xd7,
	0x08, 0xe8, 0xea, 0xde, 0x80, 0x52, 0xee, 0xf7, 0x84, 0xaa, 0x72, 0xac, 0x35, 0x4d, 0x6a, 0x2a,
	0x96, 0x1a, 0xd2, 0x71, 0x5a, 0x15, 0x49, 0x74, 0x4b, 0x9f, 0xd0, 0x5e, 0x04, 0x18, 0xa4, 0xec,
	0xc2, 0xe0, 0x41, 0x6e, 0x0f, 0x51, 0xcb, 0xcc, 0x24, 0x91, 0xaf, 0x50, 0xa1, 0xf4, 0x70, 0x39,
	0x99, 0x7c, 0x3a, 0x85, 0x23, 0xb8, 0xb4, 0x7a, 0xfc, 0x02, 0x36, 0x5b, 0x25, 0x55, 0x97, 0x31,
	0x2d, 0x5d, 0xfa, 0x98, 0xe3, 0x8a, 0x92, 0xae, 0x05, 0xdf, 0x29, 0x10, 0x67, 0x6c, 0xba, 0xc9,
	0xd3, 0x00, 0xe6, 0xcf, 0xe1, 0x9e, 0xa8, 0x2c, 0x63, 0x16, 0x01, 0x3f, 0x58, 0xe2, 0x89, 0xa9,
	0x0d, 0x38, 0x34, 0x1b, 0xab, 0x33, 0xff, 0xb0, 0xbb, 0x48, 0x0c, 0x5f, 0xb9, 0xb1, 0xcd, 0x2e,
	0xc5, 0xf3, 0xdb, 0x47, 0xe5, 0xa5, 0x9c, 0x77, 0x0a, 0xa6, 0x20, 0x68, 0xfe, 0x7f, 0xc1, 0xad,
}

// newRC2 expands key (1 to 128 bytes) for effective key bits t1 (RFC 2268,
// section 2).
func newRC2(key []byte, t1 int) *rc2 {
	var l [128]byte
	t := copy(l[:], key)
	t8 := (t1 + 7) / 8
	tm := byte(0xff >> (8*t8 - t1))
	for i := t; i < 128; i++ {
		l[i] = rc2PiTable[l[i-1]+l[i-t]]
	}
	l[128-t8] = rc2PiTable[l[128-t8]&tm]
	for i := 127 - t8; i >= 0; i-- {
		l[i] = rc2PiTable[l[i+1]^l[i+t8]]
	}
	c := &rc2{}
	for i := range c.k {
		c.k[i] = uint16(l[2*i]) | uint16(l[2*i+1])<<8
	}
	return c
}

func (c *rc2) BlockSize() int { return 8 }

// Encrypt runs the rounds of RFC 2268, section 3: five mixing rounds, a
// mashing round, six mixing, a mashing, five mixing.
func (c *rc2) Encrypt(dst, src []byte) {
	r := rc2Load(src)
	j := 0
	for n, rounds := range []int{5, 6, 5} {
		if n > 0 {
			for i := range 4 {
				r[i] += c.k[r[(i+3)%4]&63]
			}
		}
		for range rounds {
			for i := range 4 {
				r[i] += c.k[j] + (r[(i+3)%4] & r[(i+2)%4]) + (^r[(i+3)%4] & r[(i+1)%4])
				r[i] = bits.RotateLeft16(r[i], rc2Shift[i])
				j++
			}
		}
	}
	rc2Store(dst, r)
}

// Decrypt undoes Encrypt (RFC 2268, section 4): the same rounds, reversed.
func (c *rc2) Decrypt(dst, src []byte) {
	r := rc2Load(src)
	j := 63
	for n, rounds := range []int{5, 6, 5} {
		if n > 0 {
			for i := 3; i >= 0; i-- {
				r[i] -= c.k[r[(i+3)%4]&63]
			}
		}
		for range rounds {
			for i := 3; i >= 0; i-- {
				r[i] = bits.RotateLeft16(r[i], -rc2Shift[i])
				r[i] -= c.k[j] + (r[(i+3)%4] & r[(i+2)%4]) + (^r[(i+3)%4] & r[(i+1)%4])
				j--
			}
		}
	}
	rc2Store(dst, r)
}

var rc2Shift = [4]int{1, 2, 3, 5}

func rc2Load(src []byte) (r [4]uint16) {
	for i := range r {
		r[i] = binary.LittleEndian.Uint16(src[2*i:])
	}
	return r
}

func rc2Store(dst []byte, r [4]uint16) {
	for i := range r {
		binary.LittleEndian.PutUint16(dst[2*i:], r[i])
	}
}
