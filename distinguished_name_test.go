package giotls

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

func TestFormatDN(t *testing.T) {
	oid := func(s ...int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier(s) }
	for _, tc := range []struct {
		rdns pkix.RDNSequence
		want string
	}{
		{pkix.RDNSequence{{{Type: oid(2, 5, 4, 6), Value: "FR"}}, {{Type: oid(2, 5, 4, 10), Value: "Example, Inc."}}, {{Type: oid(2, 5, 4, 3), Value: "example.com"}}},
			`C=FR,O=Example\, Inc.,CN=example.com`},
		{pkix.RDNSequence{{{Type: oid(2, 5, 4, 3), Value: " lead#"}, {Type: oid(1, 2, 840, 113549, 1, 9, 1), Value: "a@b"}}},
			`CN=\ lead#+EMAIL=a@b`},
		// An attribute type without a name: its value in hex (RFC 4514, section 2.4).
		{pkix.RDNSequence{{{Type: oid(1, 2, 3), Value: "x"}}}, `1.2.3=#130178`},
	} {
		der, err := asn1.Marshal(tc.rdns)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatDN(der); got != tc.want {
			t.Errorf("FormatDN = %q, want %q", got, tc.want)
		}
	}
	if got := FormatDN([]byte{0x30, 0x03, 0x01}); got != "#300301" {
		t.Errorf("FormatDN(garbage) = %q", got)
	}
}
