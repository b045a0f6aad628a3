package verify

import (
	"bytes"
	"net"
	"slices"
)

// permittedIPs holds a CA's permitted IP ranges as crypto/x509 (Go 1.26,
// constraints.go) searches them, so that giotls never admits an address
// it refuses: the ranges are split by their length (4 bytes or 16), each
// part sorted by address then mask, a range pruned when the one kept
// before it contains it, and an address admitted only by the last range
// at or below it.
//
// The search is not a plain "some range contains the address": an
// IPv4-mapped range (::ffff:0:0/96) is read as IPv4 by
// net.IPNet.Contains, so it is never pruned under ::/0 and then stands
// between ::/0 and the addresses above it. crypto/x509 refuses
// 2001:db8::1 under the permitted ranges ::/0 and ::ffff:0:0/96; so does
// giotls. Only ranges of the address's own length count, the mapped forms
// included (golang/go#79776: IPv4 ranges never admit IPv6 addresses).
type permittedIPs struct{ v4, v6 []*net.IPNet }

// newPermittedIPs sorts and prunes ranges, a copy, as crypto/x509 does.
func newPermittedIPs(ranges []*net.IPNet) permittedIPs {
	var p permittedIPs
	for _, n := range ranges {
		if len(n.IP) == net.IPv4len {
			p.v4 = append(p.v4, n)
		} else {
			p.v6 = append(p.v6, n)
		}
	}
	return permittedIPs{v4: sortAndPruneIPs(p.v4), v6: sortAndPruneIPs(p.v6)}
}

func sortAndPruneIPs(set []*net.IPNet) []*net.IPNet {
	if len(set) < 2 {
		return set
	}
	slices.SortFunc(set, func(a, b *net.IPNet) int {
		if c := bytes.Compare(a.IP, b.IP); c != 0 {
			return c
		}
		return bytes.Compare(a.Mask, b.Mask)
	})
	kept := 1
	for _, n := range set[1:] {
		if !ipRangeHolds(set[kept-1], n) {
			set[kept] = n
			kept++
		}
	}
	return set[:kept]
}

// ipRangeHolds reports whether a contains both ends of b, by
// net.IPNet.Contains as crypto/x509 asks it.
func ipRangeHolds(a, b *net.IPNet) bool {
	if len(b.Mask) != len(b.IP) || !a.Contains(b.IP) {
		return false
	}
	last := make(net.IP, len(b.IP))
	for i := range b.IP {
		last[i] = b.IP[i] | ^b.Mask[i]
	}
	return a.Contains(last)
}

// admits reports whether crypto/x509 finds ip in the permitted ranges.
func (p permittedIPs) admits(ip net.IP) bool {
	set := p.v6
	if len(ip) == net.IPv4len {
		set = p.v4
	}
	if len(set) == 0 {
		return false
	}
	i, found := slices.BinarySearchFunc(set, ip, func(n *net.IPNet, ip net.IP) int {
		return bytes.Compare(n.IP, ip)
	})
	if found {
		return true
	}
	return set[max(i-1, 0)].Contains(ip)
}
