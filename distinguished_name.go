package giotls

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"strings"
)

// FormatDN writes a DER distinguished name, such as one of AcceptedCAs(), as
// SubjectName writes a certificate's: RFC 4514 attribute syntax and escaping
// in the DER's own order, as GIO does, e.g. "C=FR,O=Example\, Inc.,CN=CA 1".
// A name that does not parse is shown as "#" and its hex.
func FormatDN(der []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) != 0 {
		return "#" + hex.EncodeToString(der)
	}
	return dnString(der, pkix.Name{})
}

// dnString formats a DER name as GIO does (GnuTLS's
// gnutls_x509_crt_get_dn3 with GNUTLS_X509_DN_FLAG_COMPAT): RFC 4514
// attribute syntax and escaping, but in the order of the DER, as in
// "C=FR,O=Example\, Inc.,CN=example.com", with GnuTLS's attribute names
// ("EMAIL" for emailAddress); unknown attributes as OID=#hex (RFC 4514,
// section 2.4), from their DER as it is, whatever its type. It falls back
// on crypto/x509's form if raw does not parse.
func dnString(raw []byte, parsed pkix.Name) string {
	var rdns pkix.RDNSequence
	var raws []rawRDNSET
	if rest, err := asn1.Unmarshal(raw, &rdns); err != nil || len(rest) != 0 {
		return parsed.String()
	}
	if rest, err := asn1.Unmarshal(raw, &raws); err != nil || len(rest) != 0 || len(raws) != len(rdns) {
		return parsed.String()
	}
	var b strings.Builder
	for i, rdn := range rdns {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, atv := range rdn {
			if j > 0 {
				b.WriteByte('+')
			}
			name, known := dnAttributeNames[atv.Type.String()]
			s, isString := atv.Value.(string)
			if !known || !isString || len(raws[i]) != len(rdn) {
				b.WriteString(atv.Type.String())
				b.WriteString("=#")
				if j < len(raws[i]) {
					b.WriteString(hex.EncodeToString(raws[i][j].Value.FullBytes))
				}
				continue
			}
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(escapeDNValue(s))
		}
	}
	return b.String()
}

// rawRDNSET is a relative distinguished name with the DER of each value
// kept. (encoding/asn1 reads a slice type whose name ends in SET as a SET.)
type rawRDNSET []struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// escapeDNValue escapes an attribute value (RFC 4514, section 2.4).
func escapeDNValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';',
			i == 0 && (c == ' ' || c == '#'),
			i == len(s)-1 && c == ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == 0:
			b.WriteString("\\00")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// dnAttributeNames are GnuTLS's names of the attribute types it knows.
var dnAttributeNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "surName",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.13":                   "description",
	"2.5.4.15":                   "businessCategory",
	"2.5.4.17":                   "postalCode",
	"2.5.4.41":                   "name",
	"2.5.4.42":                   "givenName",
	"2.5.4.43":                   "initials",
	"2.5.4.44":                   "generationQualifier",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"2.5.4.97":                   "organizationIdentifier",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "EMAIL",
	"1.3.6.1.4.1.311.60.2.1.1":   "jurisdictionOfIncorporationLocalityName",
	"1.3.6.1.4.1.311.60.2.1.2":   "jurisdictionOfIncorporationStateOrProvinceName",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionOfIncorporationCountryName",
}
