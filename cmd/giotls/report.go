package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/giotls/giotls"
)

// certInfo describes one certificate of the peer's chain.
type certInfo struct {
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	DNSNames    []string  `json:"dns_names"`
	IPAddresses []string  `json:"ip_addresses"`
	SHA256      string    `json:"sha256"`
}

func newCertInfo(c *giotls.Certificate) certInfo {
	x := c.X509()
	sum := sha256.Sum256(x.Raw)
	info := certInfo{
		Subject: c.SubjectName(), Issuer: c.IssuerName(),
		NotBefore: x.NotBefore.UTC(), NotAfter: x.NotAfter.UTC(),
		DNSNames: append([]string{}, x.DNSNames...), IPAddresses: []string{},
		SHA256: hex.EncodeToString(sum[:]),
	}
	for _, ip := range x.IPAddresses {
		info.IPAddresses = append(info.IPAddresses, ip.String())
	}
	return info
}

// report is what connect tells about a connection, for people (print) and
// programs (writeJSON).
type report struct {
	Address               string     `json:"address"`
	ServerIdentity        string     `json:"server_identity"`
	ProtocolVersion       string     `json:"protocol_version"`
	Ciphersuite           string     `json:"ciphersuite"`
	PeerCertificateErrors []string   `json:"peer_certificate_errors"`
	PeerCertificateFlags  uint32     `json:"peer_certificate_flags"`
	AcceptedBy            string     `json:"accepted_by,omitempty"`
	PeerCertificate       *certInfo  `json:"peer_certificate"`
	PeerChain             []certInfo `json:"peer_chain"`
	CertificateRequested  bool       `json:"certificate_requested"`
	AcceptedCAs           []string   `json:"accepted_cas"`
	ClientCertificate     string     `json:"client_certificate,omitempty"`
	AdvertisedProtocols   []string   `json:"advertised_protocols"`
	NegotiatedProtocol    string     `json:"negotiated_protocol"`
	SessionResumed        bool       `json:"session_resumed"`
	ChannelBindings       []string   `json:"channel_bindings"`
	Error                 string     `json:"error,omitempty"`
	// Resumptions (whether each connection resumed a session, the first
	// included) and Reconnections (each reconnection's own report) are in
	// the first connection's report only.
	Resumptions   []bool    `json:"resumptions,omitempty"`
	Reconnections []*report `json:"reconnections,omitempty"`

	errs             giotls.CertificateFlags
	identity         giotls.Connectable
	handshakeStarted bool
}

// emptyReport is the report of a connection that never reached the TLS
// handshake.
func emptyReport(addr string, identity giotls.Connectable) *report {
	return &report{
		Address: addr, ServerIdentity: identityString(identity), ProtocolVersion: "unknown",
		PeerCertificateErrors: []string{}, PeerChain: []certInfo{}, AcceptedCAs: []string{},
		AdvertisedProtocols: []string{}, ChannelBindings: []string{},
		identity: identity,
	}
}

func newReport(conn *giotls.ClientConnection, f *connectFlags, addr string, identity giotls.Connectable) *report {
	r := emptyReport(addr, identity)
	r.handshakeStarted = true
	r.ProtocolVersion = conn.ProtocolVersion().String()
	r.Ciphersuite = conn.CiphersuiteName()
	r.errs = conn.PeerCertificateErrors()
	r.PeerCertificateErrors = r.errs.Nicks()
	r.PeerCertificateFlags = uint32(r.errs)
	if f.decision.asked && f.decision.by != "" {
		r.AcceptedBy = f.decision.by
	}
	if peer := conn.PeerCertificate(); peer != nil {
		info := newCertInfo(peer)
		r.PeerCertificate = &info
		for c := peer; c != nil; c = c.Issuer() {
			r.PeerChain = append(r.PeerChain, newCertInfo(c))
		}
	}
	if cas := conn.AcceptedCAs(); cas != nil {
		r.CertificateRequested = true
		for _, dn := range cas {
			r.AcceptedCAs = append(r.AcceptedCAs, giotls.FormatDN(dn))
		}
		if cert := conn.Certificate(); cert != nil {
			r.ClientCertificate = cert.SubjectName()
		}
	}
	r.AdvertisedProtocols = append(r.AdvertisedProtocols, conn.AdvertisedProtocols()...)
	r.NegotiatedProtocol = conn.NegotiatedProtocol()
	r.SessionResumed = conn.SessionResumed()
	for _, t := range []giotls.ChannelBindingType{giotls.ChannelBindingTLSUnique, giotls.ChannelBindingTLSServerEndPoint, giotls.ChannelBindingTLSExporter} {
		if _, err := conn.ChannelBindingData(t); err == nil {
			r.ChannelBindings = append(r.ChannelBindings, t.String())
		}
	}
	return r
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// print writes the report for people.
func (r *report) print(w io.Writer) {
	connected := r.Error == "" || r.Ciphersuite != ""
	if connected {
		fmt.Fprintf(w, "Connected to %s, server identity %s\n", r.Address, r.ServerIdentity)
	} else {
		fmt.Fprintf(w, "Handshake with %s, server identity %s, failed\n", r.Address, r.ServerIdentity)
	}
	row := func(name, format string, args ...any) {
		fmt.Fprintf(w, "  %-18s %s\n", name+":", fmt.Sprintf(format, args...))
	}
	if connected {
		row("protocol", "%s", r.ProtocolVersion)
		row("cipher suite", "%s", r.Ciphersuite)
		switch {
		case len(r.AdvertisedProtocols) == 0:
			row("ALPN", "none offered")
		case r.NegotiatedProtocol == "":
			row("ALPN", "none agreed (offered %s)", strings.Join(r.AdvertisedProtocols, ", "))
		default:
			row("ALPN", "%s (offered %s)", r.NegotiatedProtocol, strings.Join(r.AdvertisedProtocols, ", "))
		}
		row("session resumed", "%s", yesNo(r.SessionResumed))
		bindings := strings.Join(r.ChannelBindings, ", ")
		if bindings == "" {
			bindings = "none"
		}
		row("channel bindings", "%s", bindings)
	}
	if len(r.PeerChain) > 0 {
		fmt.Fprintf(w, "Peer certificate chain (as the server sent it):\n")
		for i, c := range r.PeerChain {
			fmt.Fprintf(w, "  %d subject:  %s\n", i, c.Subject)
			fmt.Fprintf(w, "    issuer:   %s\n", c.Issuer)
			fmt.Fprintf(w, "    valid:    %s to %s\n", c.NotBefore.Format(time.DateTime+" MST"), c.NotAfter.Format(time.DateTime+" MST"))
			var names []string
			for _, n := range c.DNSNames {
				names = append(names, "DNS:"+n)
			}
			for _, n := range c.IPAddresses {
				names = append(names, "IP:"+n)
			}
			if len(names) > 0 {
				fmt.Fprintf(w, "    names:    %s\n", strings.Join(names, ", "))
			}
			fmt.Fprintf(w, "    sha256:   %s\n", c.SHA256)
		}
	}
	if r.PeerCertificate != nil {
		if r.errs == 0 {
			fmt.Fprintf(w, "Certificate problems: none\n")
		} else {
			how := "rejected"
			switch r.AcceptedBy {
			case "--accept":
				how = "accepted by --accept"
			case "you":
				how = "accepted by you"
			}
			fmt.Fprintf(w, "Certificate problems: %v (0x%02x), %s\n", r.errs, uint32(r.errs), how)
			for _, p := range problems(r.errs, r.identity) {
				fmt.Fprintf(w, "  %s\n", p)
			}
		}
	}
	if !connected {
		return
	}
	if !r.CertificateRequested {
		fmt.Fprintf(w, "Client certificate: not requested\n")
	} else {
		if len(r.AcceptedCAs) == 0 {
			fmt.Fprintf(w, "Client certificate: requested, from any CA (the server named none)\n")
		} else {
			fmt.Fprintf(w, "Client certificate: requested; the server accepts certificates from:\n")
			for _, dn := range r.AcceptedCAs {
				fmt.Fprintf(w, "  %s\n", dn)
			}
		}
		if r.ClientCertificate != "" {
			fmt.Fprintf(w, "  sent: %s\n", r.ClientCertificate)
		} else {
			fmt.Fprintf(w, "  sent: none (see --cert, --p12)\n")
		}
	}
	fmt.Fprintf(w, "---\n")
}
