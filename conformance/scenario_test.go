package conformance

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/giotls/giotls"
)

// Scenario is one conformance case: a server, a client configuration and a
// sequence of connections, run once through GIO and once through giotls.
type Scenario struct {
	Name   string
	Server Server
	Client ClientSpec
	Conns  []ConnSpec
	// FTP, when set, replaces Conns: an FTPS exchange with the server.
	FTP *FTPSpec

	// Want holds fields both clients must show with these values.
	Want map[string]string
	// Differ holds the fields where giotls deliberately differs from GIO:
	// each client must show exactly its value.
	Differ map[string]Diff
}

// Diff is a field's value for each client, and why they differ: a key of
// reasons.
type Diff struct{ GIO, Giotls, Why string }

// reasons returns the scenario's distinct reasons for differing.
func (sc *Scenario) reasons() []string {
	var out []string
	keys := make([]string, 0, len(sc.Differ))
	for k := range sc.Differ {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if w := sc.Differ[k].Why; !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// ClientSpec is the client configuration every connection of a scenario
// shares.
type ClientSpec struct {
	CAFile             string // trust anchors; "" means no database at all
	CertFile, KeyFile  string // client certificate, optional
	ALPN               []string
	RequireCloseNotify bool
	Accept             string // accept-certificate: "none" (no handler), "yes", "no"
	// Interaction: no certificate is set; an interaction supplies
	// CertFile when the server asks for one.
	Interaction bool
	// Bindings: report each kind of channel binding data after the
	// handshake (RFC 5929, RFC 9266).
	Bindings bool
	// MinVersion and MaxVersion bound the versions the client offers
	// (BackendOptions for giotls, G_TLS_GNUTLS_PRIORITY for GIO, which has
	// no other way); zero: the default.
	MinVersion, MaxVersion giotls.ProtocolVersion
}

// ConnSpec is one connection of a scenario, made after the previous one
// finished.
type ConnSpec struct {
	Listener int          // which of the server's addresses to connect to
	Identity IdentitySpec // the server identity
	CopyFrom int          // 1-based connection to copy the session state from; 0: none
	Send     string       // written after the handshake
	Read     string       // "none", "line" or "all"
	KeepOpen bool         // closed at the end of the scenario, not after its turn
	NoCert   bool         // this connection sets no client certificate
	// Extract, if set, keeps of the data read only the matches of this
	// expression (joined by spaces): what a server program's page says
	// that does not change from run to run.
	Extract *regexp.Regexp
}

// IdentitySpec is a server identity: Kind "hostname" or "ip" (a
// NetworkAddress), "inet" (an InetSocketAddress), "service" (a
// NetworkService) or "none". Port 0 means the listener's port.
type IdentitySpec struct {
	Kind     string `json:"kind"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port"`
	Service  string `json:"service,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	Domain   string `json:"domain,omitempty"`
}

// FTPSpec is an FTPS exchange (RFC 4217): AUTH TLS, anonymous login,
// PBSZ 0, PROT P, PASV and LIST over a TLS data connection, which copies the
// control connection's session when CopySession is set.
type FTPSpec struct {
	Identity    IdentitySpec
	CopySession bool
}

// ClientResult is what a client reports for a scenario (the JSON that
// gio_client.py prints, and what runGiotls fills the same way).
type ClientResult struct {
	Connections []ConnResult `json:"connections"`
	Replies     []string     `json:"replies"` // FTP replies, in order
}

// ConnResult is what the client saw on one connection.
type ConnResult struct {
	Handshake   string     `json:"handshake"` // "ok" or the error's GTlsError nick
	Error       *ErrorInfo `json:"error"`
	AcceptFlags *uint32    `json:"accept_flags"` // the errors accept-certificate got; nil: not called
	AcceptCalls int        `json:"accept_calls"`
	// InteractionCalls counts request_certificate calls; nil without an
	// interaction.
	InteractionCalls *int `json:"interaction_calls"`
	// Bindings maps "tls-unique", "tls-server-end-point" and
	// "tls-exporter" to the data in hex, or "error:" and the
	// GTlsChannelBindingError nick.
	Bindings    map[string]string `json:"bindings"`
	PeerErrors  uint32            `json:"peer_errors"`
	Version     string            `json:"version"`
	Ciphersuite string            `json:"ciphersuite"`
	AcceptedCAs []string          `json:"accepted_cas"` // hex DER subjects
	ALPN        string            `json:"alpn"`
	Data        string            `json:"data"`
	ReadEnd     string            `json:"read_end"` // "eof", an error nick, or "" (stopped at a line)
	ReadError   *ErrorInfo        `json:"read_error"`
	IOError     *ErrorInfo        `json:"io_error"`
	CloseError  *ErrorInfo        `json:"close_error"`
}

// ErrorInfo is an error as GIO has it: a domain and code (nick), and a
// message for people (never compared).
type ErrorInfo struct {
	Domain  string `json:"domain"`
	Code    int    `json:"code"`
	Nick    string `json:"nick"`
	Message string `json:"message"`
}

// Fields flattens what a client and the server saw into named values, the
// unit of comparison: "cN.x" are connection N's client-side fields, "sN.x"
// what the server recorded of connection N, "s.x" the server's totals.
type Fields map[string]string

func fields(cr ClientResult, srv []ServerConn) Fields {
	f := Fields{}
	for i, c := range cr.Connections {
		p := "c" + strconv.Itoa(i+1) + "."
		f[p+"handshake"] = c.Handshake
		f[p+"errors"] = giotls.CertificateFlags(c.PeerErrors).String()
		switch {
		case c.AcceptFlags == nil:
			f[p+"accept"] = "not called"
		case c.AcceptCalls > 1:
			f[p+"accept"] = fmt.Sprintf("%v (%d calls)", giotls.CertificateFlags(*c.AcceptFlags), c.AcceptCalls)
		default:
			f[p+"accept"] = giotls.CertificateFlags(*c.AcceptFlags).String()
		}
		if c.InteractionCalls != nil {
			f[p+"interaction"] = strconv.Itoa(*c.InteractionCalls) + " calls"
		}
		f[p+"version"] = c.Version
		f[p+"suite"] = c.Ciphersuite
		f[p+"cas"] = describeCAs(c.AcceptedCAs)
		f[p+"alpn"] = c.ALPN
		f[p+"read"] = "-" // nothing read
		if c.Data != "" || c.ReadEnd != "" {
			f[p+"read"] = strconv.Quote(c.Data) + " " + orDash(c.ReadEnd)
		}
		if c.IOError != nil {
			f[p+"io"] = c.IOError.Nick
		}
		for kind, v := range c.Bindings {
			// Compared with what the server computed on its side.
			if !strings.HasPrefix(v, "error:") && i < len(srv) {
				switch want := srv[i].Bindings[kind]; {
				case want == "":
					v = "(server has none) " + v
				case v == want:
					v = "same as the server's"
				default:
					v = "differs from the server's " + want + ": " + v
				}
			}
			f[p+kind] = v
		}
	}
	if len(cr.Replies) > 0 {
		codes := make([]string, len(cr.Replies))
		for i, r := range cr.Replies {
			codes[i], _, _ = strings.Cut(r, " ")
		}
		f["ftp.replies"] = strings.Join(codes, " ")
	}
	if srv == nil {
		return f
	}
	tickets := map[[32]byte]int{} // hash -> t<n>
	presentedTwice := 0
	for i, s := range srv {
		p := "s" + strconv.Itoa(i+1) + "."
		f[p+"sni"] = orDash(s.SNI)
		f[p+"resumed"] = strconv.FormatBool(s.Resumed)
		if s.External {
			continue
		}
		f[p+"handshake"] = s.Handshake
		f[p+"alpn"] = orDash(strings.Join(s.ALPN, ","))
		var ts []string
		for _, h := range s.Tickets {
			n, seen := tickets[h]
			if seen {
				presentedTwice++
			} else {
				n = len(tickets) + 1
				tickets[h] = n
			}
			ts = append(ts, "t"+strconv.Itoa(n))
		}
		f[p+"ticket"] = orDash(strings.Join(ts, ","))
		f[p+"client-cert"] = orDash(s.ClientCert)
		f[p+"received"] = strconv.Quote(s.Received)
		f[p+"close"] = s.Close
	}
	f["s.connections"] = strconv.Itoa(len(srv))
	f["s.tickets-presented-twice"] = strconv.Itoa(presentedTwice)
	return f
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// describeCAs writes accepted CAs as their count and common names.
func describeCAs(cas []string) string {
	if len(cas) == 0 {
		return "0"
	}
	names := make([]string, len(cas))
	for i, h := range cas {
		names[i] = "?"
		der, err := hex.DecodeString(h)
		if err != nil {
			continue
		}
		var rdn pkix.RDNSequence
		if _, err := asn1.Unmarshal(der, &rdn); err != nil {
			continue
		}
		var n pkix.Name
		n.FillFromRDNSequence(&rdn)
		names[i] = n.CommonName
	}
	return strconv.Itoa(len(cas)) + ": " + strings.Join(names, ", ")
}

// compare checks the two clients' fields against the scenario: equal except
// where Differ names the difference, and equal to Want. It returns the
// problems it reported, for the table.
func compare(t *testing.T, sc *Scenario, gio, ours Fields) []string {
	t.Helper()
	var problems []string
	errorf := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		t.Error(msg)
		msg, _, _ = strings.Cut(msg, " (a deliberate difference")
		problems = append(problems, msg)
	}
	keys := map[string]bool{}
	for k := range gio {
		keys[k] = true
	}
	for k := range ours {
		keys[k] = true
	}
	for k := range sc.Want {
		keys[k] = true
	}
	for k := range sc.Differ {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, gok := gio[k]
		o, ook := ours[k]
		if d, ok := sc.Differ[k]; ok {
			if d.GIO == d.Giotls {
				errorf("%s: Differ lists the same value %q for both clients", k, d.GIO)
			}
			if reasons[d.Why] == "" {
				errorf("%s: Differ names no known reason (%q)", k, d.Why)
			}
			if g != d.GIO || !gok {
				errorf("%s: GIO shows %q, want %q (a deliberate difference, %s: %s)", k, g, d.GIO, d.Why, reasons[d.Why])
			}
			if o != d.Giotls || !ook {
				errorf("%s: giotls shows %q, want %q (a deliberate difference, %s: %s)", k, o, d.Giotls, d.Why, reasons[d.Why])
			}
			continue
		}
		if g != o || gok != ook {
			errorf("%s: GIO shows %q, giotls %q; they should agree", k, g, o)
		}
		if w, ok := sc.Want[k]; ok && (g != w || !gok) {
			errorf("%s: GIO shows %q, want %q", k, g, w)
		}
		if w, ok := sc.Want[k]; ok && (o != w || !ook) {
			errorf("%s: giotls shows %q, want %q", k, o, w)
		}
	}
	return problems
}

// summary is a scenario's result for one client, for the README table: the
// fields the scenario is about, deliberate differences in bold. With one
// connection, "c1." is left out and "s1." is written "server ".
func summary(sc *Scenario, f Fields) string {
	var keys []string
	for k := range sc.Want {
		keys = append(keys, k)
	}
	for k := range sc.Differ {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	single := sc.FTP == nil && len(sc.Conns) == 1
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v, ok := f[k]
		if !ok {
			v = "(none)"
		} else if v == "" {
			v = `""`
		}
		if _, ok := sc.Differ[k]; ok {
			v = "**" + v + "**"
		}
		name := k
		if single {
			name = strings.NewReplacer("c1.", "", "s1.", "server ").Replace(k)
		}
		parts = append(parts, name+"="+v)
	}
	return strings.Join(parts, ", ")
}
