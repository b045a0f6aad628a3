package sessioncache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// HostIdentity is the identity part of a key for a host name and port, in
// the ASCII (punycode) form the caller has already made of the name.
func HostIdentity(host string, port uint16) string {
	return "host/" + host + ":" + strconv.Itoa(int(port))
}

// ServiceIdentity is the identity part of a key for a service domain (a
// GNetworkService: its port comes from SRV records and is not part of it).
func ServiceIdentity(domain string) string {
	return "service/" + domain
}

// AddressIdentity is the identity part of a key for an IP address and port,
// used when the server identity is an IP address or there is none. Any
// IPv4-in-IPv6 mapping is dropped. An IPv6 zone is kept: fe80::1%eth0 and
// fe80::1%eth1 are different hosts (RFC 4007, Section 6). It is written in
// hexadecimal, so that lower-casing the key (see [Key]) cannot merge zones
// whose names differ only in case.
func AddressIdentity(ap netip.AddrPort) string {
	a := ap.Addr().Unmap()
	zone := a.Zone()
	if zone == "" {
		return "ip/" + netip.AddrPortFrom(a, ap.Port()).String()
	}
	return "ip/[" + a.WithZone("").String() + "%" + hex.EncodeToString([]byte(zone)) + "]:" + strconv.Itoa(int(ap.Port()))
}

// Key is the cache key for sessions made with identity (from HostIdentity,
// ServiceIdentity or AddressIdentity) while sending the client certificate
// chain clientCertDER (nil or empty: no certificate). The identity is
// lower-cased (ASCII only: host names are compared in their ASCII form, RFC
// 5890) and the chain is hashed with SHA-256, so that a key never holds a
// certificate and a session made under one certificate is never offered
// under another (RFC 8446, Appendix C.4). Distinct (identity, chain) pairs
// give distinct keys: the prefixes tell identity kinds apart, ports hold no
// colon, and the hash, after the last slash, has a fixed length.
func Key(identity string, clientCertDER [][]byte) string {
	b := make([]byte, 0, len(identity)+1+2*sha256.Size)
	for i := 0; i < len(identity); i++ {
		ch := identity[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b = append(b, ch)
	}
	b = append(b, '/')
	if len(clientCertDER) == 0 {
		return string(append(b, noCertificate...))
	}
	h := sha256.New()
	var n [4]byte
	for _, der := range clientCertDER {
		// Length-prefixed, so that no two chains hash the same input.
		binary.BigEndian.PutUint32(n[:], uint32(len(der)))
		h.Write(n[:])
		h.Write(der)
	}
	return string(hex.AppendEncode(b, h.Sum(nil)))
}

// noCertificate is the client-certificate part of a key made without one.
const noCertificate = "none"

// certificatePart returns the client-certificate part of a key made by
// [Key]: noCertificate or the chain's hash; "" for anything else.
func certificatePart(key string) string {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return ""
	}
	return key[i+1:]
}
