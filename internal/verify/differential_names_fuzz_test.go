package verify

import (
	"net"
	"net/netip"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// FuzzVerifyNameTypes builds random chains, a root, one or two
// intermediates and a leaf, with name constraints and names of every type
// crypto/x509 checks (DNS, IP, email, URI; mixed case, leading dots,
// wildcards, IPv4-mapped addresses, names it cannot read), and requires
// that Verify never return no flags where crypto/x509 refuses the chain.
func FuzzVerifyNameTypes(f *testing.F) {
	f.Add([]byte{0, 0b1, 0, 0, 0, 0, 0, 0, 0, 0b1, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0b10, 0, 0, 0, 0, 0, 0, 0b100, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 0, 0b1, 0, 0, 0, 0, 0, 0, 0b1, 0, 2})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0b1000, 0, 0, 0, 0, 0, 0, 0b10, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &choices{data: data}
		root := testpki.MustCA(t, "Root")
		ca := root
		for i := range 1 + r.pick(2) {
			var opts []testpki.Option
			if p := r.subset(nameDNSConstraints); len(p) > 0 {
				opts = append(opts, testpki.PermittedDNSDomains(p...))
			}
			if e := r.subset(nameDNSConstraints); len(e) > 0 {
				opts = append(opts, testpki.ExcludedDNSDomains(e...))
			}
			if p := r.subset(nameIPConstraints); len(p) > 0 {
				opts = append(opts, testpki.PermittedIPRanges(p...))
			}
			if e := r.subset(nameIPConstraints); len(e) > 0 {
				opts = append(opts, testpki.ExcludedIPRanges(e...))
			}
			if p, e := r.subset(nameEmailConstraints), r.subset(nameEmailConstraints); len(p)+len(e) > 0 {
				opts = append(opts, testpki.EmailConstraints(p, e))
			}
			if p, e := r.subset(nameDNSConstraints), r.subset(nameDNSConstraints); len(p)+len(e) > 0 {
				opts = append(opts, testpki.URIConstraints(p, e))
			}
			next, err := ca.NewIntermediate("Inter "+string(rune('A'+i)), opts...)
			if err != nil {
				return // constraints crypto/x509 cannot write
			}
			ca = next
		}
		var leafOpts []testpki.Option
		if d := r.subset(nameDNS); len(d) > 0 {
			leafOpts = append(leafOpts, testpki.DNSNames(d...))
		}
		var ips []net.IP
		for _, s := range r.subset(nameIPs) {
			ips = append(ips, net.ParseIP(s))
		}
		if e := r.subset(nameEmails); len(e) > 0 {
			leafOpts = append(leafOpts, testpki.EmailAddresses(e...))
		}
		if u := r.subset(nameURIs); len(u) > 0 {
			leafOpts = append(leafOpts, testpki.URIs(u...))
		}
		if len(ips) > 0 && r.pick(2) == 1 {
			leafOpts = append(leafOpts, testpki.Extension(ipSAN(t, ips...))) // 16-byte forms kept
		} else {
			for _, ip := range ips {
				leafOpts = append(leafOpts, testpki.IPAddresses(ip.String()))
			}
		}
		leaf, err := ca.NewLeaf("leaf", leafOpts...)
		if err != nil {
			return
		}
		host := nameHosts[r.pick(len(nameHosts))]
		id := Identity{Host: host}
		if ip, err := netip.ParseAddr(host); err == nil {
			id = Identity{IP: ip}
		}
		notMoreLenient(t, root, leaf, id, host)
	})
}

var (
	nameDNSConstraints   = []string{"example.com", ".example.com", "EXAMPLE.com", "a.example.com", "", "other.com", "*.example.com", "com"}
	nameIPConstraints    = []string{"10.0.0.0/8", "::ffff:0:0/96", "::/0", "0.0.0.0/0", "10.1.2.3/32", "2001:db8::/32", "::ffff:10.0.0.0/104", "192.168.0.0/16"}
	nameEmailConstraints = []string{"example.com", ".example.com", "me@example.com", "Me@example.com", "", "a.example.com", `"me"@example.com`, "other.com"}
	nameDNS              = []string{"www.example.com", "*.example.com", "WWW.EXAMPLE.COM", "a..example.com", "x.a.example.com", "www.other.com", "example.com", "*.a.example.com"}
	nameIPs              = []string{"10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1", "192.168.1.1", "::1", "10.9.9.9", "0.0.0.0", "::"}
	nameEmails           = []string{"me@example.com", "Me@example.com", "me@a.example.com", "no-at-sign", `"me"@example.com`, "me@EXAMPLE.com", "me@other.com", "@example.com"}
	nameURIs             = []string{"https://www.example.com/", "https://10.1.2.3/", "urn:x:y", "https://example.com:8443/", "https://*.example.com/", "https://[2001:db8::1]/", "https://www.other.com/", "https://A.EXAMPLE.COM/"}
	nameHosts            = []string{"www.example.com", "10.1.2.3", "2001:db8::1", "example.com", "x.a.example.com", "www.other.com", "192.168.1.1"}
)
