package giotls

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
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
