package giotls

import (
	"fmt"
	"strings"
)

// CertificateFlags is GIO's GTlsCertificateFlags: the problems found with a
// certificate, with the same bit values. A verification reports every flag
// that applies, not only the first problem found.
type CertificateFlags uint32

const (
	// CertificateNoFlags is no flag: a certificate without problems
	// (G_TLS_CERTIFICATE_NO_FLAGS, since GIO 2.74).
	CertificateNoFlags CertificateFlags = 0
	// CertificateUnknownCA: no path from the certificate to a trusted anchor.
	CertificateUnknownCA CertificateFlags = 1 << 0
	// CertificateBadIdentity: the certificate does not match the server identity.
	CertificateBadIdentity CertificateFlags = 1 << 1
	// CertificateNotActivated: a certificate on the path is not valid yet.
	CertificateNotActivated CertificateFlags = 1 << 2
	// CertificateExpired: a certificate on the path has expired.
	CertificateExpired CertificateFlags = 1 << 3
	// CertificateRevoked: a certificate on the path was revoked.
	CertificateRevoked CertificateFlags = 1 << 4
	// CertificateInsecure: weak cryptography on the path (SHA-1 or MD5
	// signatures, RSA keys under 2048 bits).
	CertificateInsecure CertificateFlags = 1 << 5
	// CertificateGenericError: any other problem (an issuer that is not a CA,
	// a key usage that forbids TLS serving, a violated name constraint, an
	// unhandled critical extension).
	CertificateGenericError CertificateFlags = 1 << 6
	// CertificateValidateAll is every flag.
	CertificateValidateAll CertificateFlags = 0x7f
)

var certificateFlagNicks = [...]string{
	"unknown-ca", "bad-identity", "not-activated", "expired", "revoked", "insecure", "generic-error",
}

// String returns GIO's nicks of the set flags joined by "|", such as
// "unknown-ca|bad-identity", or "none" when no flag is set. Bits GIO does not
// define are shown in hex.
func (f CertificateFlags) String() string {
	if f == 0 {
		return "none"
	}
	var parts []string
	for i, nick := range certificateFlagNicks {
		if f&(1<<i) != 0 {
			parts = append(parts, nick)
		}
	}
	if rest := f &^ CertificateValidateAll; rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", uint32(rest)))
	}
	return strings.Join(parts, "|")
}

// Nicks returns GIO's nick of every set flag, in bit order; empty for none.
func (f CertificateFlags) Nicks() []string {
	nicks := []string{}
	for i, nick := range certificateFlagNicks {
		if f&(1<<i) != 0 {
			nicks = append(nicks, nick)
		}
	}
	return nicks
}

// ParseCertificateFlags parses GIO nicks separated by "|" or ",", such as
// "unknown-ca|expired". "none" and "" give 0; "all" gives CertificateValidateAll.
func ParseCertificateFlags(s string) (CertificateFlags, error) {
	var f CertificateFlags
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ',' }) {
		part = strings.TrimSpace(part)
		switch part {
		case "", "none":
			continue
		case "all", "validate-all":
			f |= CertificateValidateAll
			continue
		}
		found := false
		for i, nick := range certificateFlagNicks {
			if part == nick {
				f |= 1 << i
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("giotls: unknown certificate flag %q", part)
		}
	}
	return f, nil
}

// ProtocolVersion is GIO's GTlsProtocolVersion, with the same values
// (gio/gioenums.h, GLib 2.70): 0 to 5 for unknown, SSL 3.0 and TLS 1.0 to
// 1.3, then 201 and 202 for DTLS 1.0 and 1.2. giotls speaks TLS 1.2 and 1.3
// only; the others are named for completeness.
type ProtocolVersion int

const (
	ProtocolVersionUnknown ProtocolVersion = iota
	ProtocolVersionSSL30
	ProtocolVersionTLS10
	ProtocolVersionTLS11
	ProtocolVersionTLS12
	ProtocolVersionTLS13
	// GIO numbers the DTLS versions apart from the TLS ones.
	ProtocolVersionDTLS10 ProtocolVersion = 201
	ProtocolVersionDTLS12 ProtocolVersion = 202
)

// String returns the version as people write it, such as "TLS 1.3".
func (v ProtocolVersion) String() string {
	switch v {
	case ProtocolVersionSSL30:
		return "SSL 3.0"
	case ProtocolVersionTLS10:
		return "TLS 1.0"
	case ProtocolVersionTLS11:
		return "TLS 1.1"
	case ProtocolVersionTLS12:
		return "TLS 1.2"
	case ProtocolVersionTLS13:
		return "TLS 1.3"
	case ProtocolVersionDTLS10:
		return "DTLS 1.0"
	case ProtocolVersionDTLS12:
		return "DTLS 1.2"
	}
	return "unknown"
}
