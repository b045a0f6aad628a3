package main

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
)

// dnNames are the attribute names GnuTLS (and so GIO) writes.
var dnNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.42":                   "GN",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "EMAIL",
}

// formatDN writes a DER distinguished name (such as one of a server's
// accepted CAs) as Certificate.SubjectName does: RFC 4514 attribute syntax
// and escaping, in the DER's order. A name that does not parse is shown in
// hex.
func formatDN(der []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) != 0 {
		return "#" + hex.EncodeToString(der)
	}
	var parts []string
	for _, rdn := range rdns {
		var attrs []string
		for _, atv := range rdn {
			name, ok := dnNames[atv.Type.String()]
			if !ok {
				name = atv.Type.String()
			}
			var value string
			switch v := atv.Value.(type) {
			case string:
				value = escapeDN(v)
			default:
				raw, err := asn1.Marshal(v)
				if err != nil {
					value = fmt.Sprint(v)
				} else {
					value = "#" + hex.EncodeToString(raw)
				}
			}
			attrs = append(attrs, name+"="+value)
		}
		parts = append(parts, strings.Join(attrs, "+"))
	}
	return strings.Join(parts, ",")
}

// escapeDN escapes a value as RFC 4514, section 2.4 asks.
func escapeDN(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(s)-1 && r == ' ':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == 0:
			b.WriteString(`\00`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
