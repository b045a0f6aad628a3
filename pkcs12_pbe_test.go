package giotls

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"testing"
)

// TestRC2KnownAnswers checks RC2 against RFC 2268's test vectors (section
// 5) and what openssl enc -rc2-* writes (legacy provider).
func TestRC2KnownAnswers(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		key      string
		bits     int
		iv       string // "" for one ECB block
		pt, want string
	}{
		{"0000000000000000", 63, "", "0000000000000000", "ebb773f993278eff"},
		{"ffffffffffffffff", 64, "", "ffffffffffffffff", "278b27e42e2f0d49"},
		{"3000000000000000", 64, "", "1000000000000001", "30649edf9be7d2c2"},
		{"88", 64, "", "0000000000000000", "61a8a244adacccf0"},
		{"88bca90e90875a", 64, "", "0000000000000000", "6ccf4308974c267f"},
		{"88bca90e90875a7f0f79c384627bafb2", 64, "", "0000000000000000", "1a807d272bbe5db1"},
		{"88bca90e90875a7f0f79c384627bafb2", 128, "", "0000000000000000", "2269552ab0f85ca6"},
		// openssl enc -rc2-ecb, -rc2-40-cbc, -rc2-64-cbc.
		{"88bca90e90875a7f0f79c384627bafb2", 128, "", "000102030405060708090a0b0c0d0e0f", "973d3aaa107b76fdb8c70ac1dc720ade"},
		{"0102030405", 40, "0001020304050607", "000102030405060708090a0b0c0d0e0f", "269b2c0070a1cb647796e22b61a1e7fb"},
		{"0102030405060708", 64, "0001020304050607", "000102030405060708090a0b0c0d0e0f", "e970ee571c816ebf71762f0d87103470"},
	} {
		c := newRC2(h(tc.key), tc.bits)
		pt, want := h(tc.pt), h(tc.want)
		got, back := make([]byte, len(pt)), make([]byte, len(pt))
		if tc.iv == "" {
			for i := 0; i < len(pt); i += 8 {
				c.Encrypt(got[i:], pt[i:])
				c.Decrypt(back[i:], got[i:])
			}
		} else {
			cipher.NewCBCEncrypter(c, h(tc.iv)).CryptBlocks(got, pt)
			cipher.NewCBCDecrypter(c, h(tc.iv)).CryptBlocks(back, got)
		}
		if !bytes.Equal(got, want) || !bytes.Equal(back, pt) {
			t.Errorf("RC2 key %s/%d bits: encrypted %x, want %x; decrypted back %x", tc.key, tc.bits, got, want, back)
		}
	}
}
