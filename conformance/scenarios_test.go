package conformance

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"regexp"
	"strconv"
	"testing"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/testpki"
)

// Deliberate differences: each has a short name, used in the README table,
// and a reason, in SEMANTICS.md's words where it has them.
const (
	whyTrailingDot  = "trailing-dot"
	whyIPSNI        = "ip-sni"
	whyRevoked      = "crl"
	whyRSA1024      = "rsa-1024"
	whyEKU          = "eku"
	whyNotCA        = "not-a-ca"
	whyTLS12Resume  = "tls12-resumption"
	whyReverify     = "reverify"
	whyTLS11        = "tls11"
	whyLowerCase    = "sni-case"
	whyCertReq      = "certificate-required"
	whySuite        = "suite-order"
	whyIdentityPort = "identity-port"
	whyAlert        = "alert"
	whyInteraction  = "interaction-certificate"
	whyUnique13     = "tls-unique-1.3"
	whyExporter12   = "tls-exporter-1.2"
	whyNotTLS       = "not-tls"
	whyCloseTicket  = "close-ticket"
)

var reasons = map[string]string{
	whyTrailingDot:  "a trailing dot is not part of the name: \"localhost.\" must verify against \"localhost\" (GIO 2.74 fails it)",
	whyIPSNI:        "SNI never carries an IP literal (RFC 6066, section 3); GIO 2.74 sends \"127.0.0.1\"",
	whyRevoked:      "giotls honours the CRLs its database holds; GIO's file database ignores them",
	whyRSA1024:      "RSA keys under 2048 bits are insecure; GIO 2.74 passes a 1024-bit leaf with no flag",
	whyEKU:          "a certificate whose extended key usage does not allow serving TLS gets generic-error; GIO 2.74 accepts a clientAuth-only server certificate",
	whyNotCA:        "an issuer that is not a CA breaks the chain: giotls finds the path and flags it generic-error, GIO cannot link it and says unknown-ca",
	whyTLS12Resume:  "giotls resumes TLS 1.2 sessions automatically; 2.74's GnuTLS client never does",
	whyReverify:     "every resumed handshake is verified again and accept-certificate asked again; GIO's GnuTLS backend accepts a resumed session without asking",
	whyTLS11:        "TLS 1.0 and 1.1 are deprecated (RFC 8996): giotls negotiates TLS 1.2 at least; GIO 2.74 with Debian 12's GnuTLS defaults still speaks TLS 1.1",
	whyLowerCase:    "giotls sends the host name in the lower-case ASCII form it verifies; GIO sends it as given (DNS names are case-insensitive, RFC 4343)",
	whyCertReq:      "a server that requires a client certificate and gets none yields certificate-required, also when TLS 1.2 servers say handshake_failure and when the TLS 1.3 alert arrives on the first read; GIO reports misc (\"Peer sent fatal TLS alert\")",
	whySuite:        "the server follows the client's preference: GnuTLS lists AES-256-GCM first, crypto/tls AES-128-GCM (on hardware with AES instructions)",
	whyIdentityPort: "giotls's session key holds the identity's port: a session is not offered under an identity with another port; GIO's key has the identity's host name only (with the address connected to)",
	whyInteraction:  "a session is tied to the client certificate sent; one chosen by an Interaction is known only after the session lookup, so the next connection does a full handshake and asks the interaction again; GIO keys the session without the certificate (computed before the interaction set it) and resumes it without asking",
	whyUnique13:     "tls-unique is not defined for TLS 1.3 (RFC 8446, section C.5): giotls answers not-supported, the error GIO's documentation names for this case; GIO 2.74's GnuTLS backend answers not-available",
	whyExporter12:   "tls-exporter is defined for TLS 1.2 with the extended master secret (RFC 9266, section 2; RFC 7627), which both ends negotiated: giotls gives the server's value; GIO 2.74's GnuTLS backend answers not-available",
	whyNotTLS:       "a peer whose first bytes cannot start a TLS record is not a TLS server: giotls says not-tls, the code GIO documents for it; GIO 2.74's GnuTLS backend says misc (\"An unexpected TLS packet was received\")",
	whyCloseTicket:  "Close drains what the server still sends before closing (close_notify, then read to the peer's end) and keeps the TLS 1.3 ticket it meets there, so that a connection that never reads (an FTP upload) still leaves a fresh ticket for the next; GIO's close reads nothing and keeps none",
	whyAlert:        "a client rejecting the certificate aborts with a bad_certificate alert (RFC 8446, section 4.4.2.4; crypto/tls does); GIO's GnuTLS client closes without one",
}

const (
	line = "line" // read up to the greeting's newline
	all  = "all"  // read to the end of the stream
)

func hostname(h string) IdentitySpec { return IdentitySpec{Kind: "hostname", Host: h} }

var localhost = hostname("localhost")

// serve is an in-process server presenting c, configured by opts.
func serve(c serverCert, opts ...func(*tls.Config)) TLSServer {
	return TLSServer{Config: func() *tls.Config {
		cfg := &tls.Config{Certificates: []tls.Certificate{c.tls()}}
		for _, o := range opts {
			o(cfg)
		}
		return cfg
	}}
}

func (s TLSServer) mode(m string) TLSServer { s.Mode = m; return s }
func (s TLSServer) ports(n int) TLSServer   { s.Listeners = n; return s }

func version(v uint16) func(*tls.Config) {
	return func(c *tls.Config) { c.MinVersion, c.MaxVersion = v, v }
}

func alpn(protos ...string) func(*tls.Config) {
	return func(c *tls.Config) { c.NextProtos = protos }
}

// requestCert makes the server ask for a client certificate naming cas.
func requestCert(auth tls.ClientAuthType, cas ...*testpki.CA) func(*tls.Config) {
	return func(c *tls.Config) {
		c.ClientAuth = auth
		c.ClientCAs = x509.NewCertPool()
		for _, ca := range cas {
			c.ClientCAs.AddCert(ca.Cert)
		}
	}
}

// conns is n connections to the first port, each reading the greeting.
func conns(n int, id IdentitySpec) []ConnSpec {
	out := make([]ConnSpec, n)
	for i := range out {
		out[i] = ConnSpec{Identity: id, Read: line}
	}
	return out
}

// Outcomes most scenarios share.
var (
	verified = map[string]string{
		"c1.handshake": "ok", "c1.errors": "none", "c1.accept": "not called",
		"c1.read": `"hello\n" -`, "s1.handshake": "ok", "s1.close": "close_notify",
	}
	// rejected is a handshake failing on the certificate, with no handler.
	rejected = map[string]string{
		"c1.handshake": "bad-certificate", "c1.accept": "not called", "s1.close": "-",
	}
	// rejectedDiff is how the server sees the client reject its certificate.
	rejectedDiff = map[string]Diff{"s1.handshake": {"no alert", "alert: bad certificate", whyAlert}}
)

// goSuite is the ciphersuite crypto/tls chooses for version v on this
// machine when both ends are crypto/tls: AES-128-GCM where the CPU has AES
// instructions, ChaCha20-Poly1305 otherwise. The in-process servers choose
// it for GIO too (GnuTLS lists AES-GCM first), and servers that follow the
// client's order choose it for giotls.
func goSuite(t *testing.T, c serverCert, v uint16) string {
	t.Helper()
	cli, srv := net.Pipe()
	defer cli.Close()
	defer srv.Close()
	done := make(chan error, 1)
	go func() {
		done <- tls.Server(srv, &tls.Config{Certificates: []tls.Certificate{c.tls()}, MinVersion: v, MaxVersion: v}).Handshake()
	}()
	tc := tls.Client(cli, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("probing crypto/tls's ciphersuite: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("probing crypto/tls's ciphersuite: %v", err)
	}
	return tls.CipherSuiteName(tc.ConnectionState().CipherSuite)
}

// gioPasses is GIO passing, on TLS 1.3 with ciphersuite suite, a
// certificate that giotls rejects with flags.
func gioPasses(suite, flags, why string) map[string]Diff {
	return map[string]Diff{
		"c1.handshake": {"ok", "bad-certificate", why},
		"c1.errors":    {"none", flags, why},
		"c1.version":   {"TLS 1.3", "unknown", why},
		"c1.suite":     {suite, "", why},
		"c1.read":      {`"hello\n" -`, "-", why},
		"s1.handshake": {"ok", "alert: bad certificate", why},
		"s1.close":     {"close_notify", "-", why},
	}
}

// giotlsPasses is giotls passing a certificate that GIO rejects with flags.
func giotlsPasses(suite, flags, why string) map[string]Diff {
	d := map[string]Diff{}
	for k, v := range gioPasses(suite, flags, why) {
		d[k] = Diff{v.Giotls, v.GIO, why}
	}
	d["s1.handshake"] = Diff{"no alert", "ok", why}
	return d
}

func errorsAre(flags string) map[string]string { return map[string]string{"c1.errors": flags} }

// merge returns the union of maps, later ones winning.
func merge[V any](ms ...map[string]V) map[string]V {
	out := map[string]V{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func allScenarios(p *pki) []*Scenario {
	t := p.t
	def := ClientSpec{CAFile: p.anchors, RequireCloseNotify: true, Accept: "none"}
	accepting := def
	accepting.Accept = "yes"
	refusing := def
	refusing.Accept = "no"
	noDatabase := def
	noDatabase.CAFile = ""
	good := certOf(p.leaf())
	suite13 := goSuite(t, good, tls.VersionTLS13)
	suite12 := goSuite(t, good, tls.VersionTLS12)
	leafOf := func(ca *testpki.CA, opts ...testpki.Option) serverCert {
		return certOf(ca.MustLeaf(t, "localhost", append([]testpki.Option{testpki.DNSNames("localhost")}, opts...)...))
	}
	one := func(name string, srv Server, want map[string]string, differ ...map[string]Diff) *Scenario {
		return &Scenario{Name: name, Server: srv, Client: def, Conns: conns(1, localhost), Want: want, Differ: merge(differ...)}
	}
	reject := func(name string, c serverCert, flags string) *Scenario {
		return one(name, serve(c), merge(rejected, errorsAre(flags)), rejectedDiff)
	}
	rsaInter := func(alg x509.SignatureAlgorithm) *testpki.CA {
		return p.rsaRoot.MustIntermediate(t, "Conformance "+alg.String()+" Intermediate", testpki.SignatureAlgorithm(alg))
	}
	// lenient is GIO passing a certificate giotls flags.
	lenient := func(name string, c serverCert, flags, why string) *Scenario {
		return one(name, serve(c), nil, gioPasses(suite13, flags, why))
	}
	var s []*Scenario
	add := func(sc ...*Scenario) { s = append(s, sc...) }

	// Certificate flags, one at a time, then together.
	add(
		one("verified chain", serve(good), merge(verified, map[string]string{"s1.sni": "localhost"})),
		reject("unknown-ca", leafOf(p.other), "unknown-ca"),
		reject("bad-identity", certOf(p.inter.MustLeaf(t, "other", testpki.DNSNames("other.example"))), "bad-identity"),
		reject("not-activated", certOf(p.leaf(testpki.NotYetValid())), "not-activated"),
		reject("expired", certOf(p.leaf(testpki.Expired())), "expired"),
		one("expired, TLS 1.2", serve(certOf(p.leaf(testpki.Expired())), version(tls.VersionTLS12)),
			merge(rejected, errorsAre("expired")), rejectedDiff),
		reject("expired intermediate", leafOf(p.root.MustIntermediate(t, "Expired Intermediate", testpki.Expired())), "expired"),
		reject("insecure: SHA-1 intermediate", leafOf(rsaInter(x509.SHA1WithRSA)), "insecure"),
		reject("insecure: MD5 intermediate", leafOf(rsaInter(x509.MD5WithRSA)), "insecure"),
		reject("generic-error: issuer without certSign", leafOf(p.root.MustIntermediate(t, "No certSign",
			testpki.KeyUsage(x509.KeyUsageDigitalSignature))), "generic-error"),
		reject("generic-error: path length exceeded", leafOf(p.pathLenRoot.MustIntermediate(t, "Too deep")), "generic-error"),
		reject("generic-error: name constraints", leafOf(p.root.MustIntermediate(t, "Constrained",
			testpki.PermittedDNSDomains("example.org"))), "generic-error"),
		reject("generic-error: unknown critical extension", certOf(p.leaf(testpki.UnhandledCriticalExtension())), "generic-error"),
		reject("unknown-ca|bad-identity|expired", certOf(p.other.MustLeaf(t, "x", testpki.DNSNames("other.example"), testpki.Expired())),
			"unknown-ca|bad-identity|expired"),
		lenient("revoked (CRL in the database)", certOf(p.revoked), "revoked", whyRevoked),
		lenient("insecure: RSA-1024 leaf", certOf(p.leaf(testpki.Key(testpki.RSA1024))), "insecure", whyRSA1024),
		lenient("generic-error: clientAuth-only extended key usage", certOf(p.leaf(testpki.ExtKeyUsage(x509.ExtKeyUsageClientAuth))),
			"generic-error", whyEKU),
		one("issuer is not a CA", serve(leafOf(p.root.MustIntermediate(t, "Not a CA", testpki.IsCA(false)))),
			rejected, rejectedDiff, map[string]Diff{"c1.errors": {"unknown-ca", "generic-error", whyNotCA}}),
	)

	// accept-certificate and the database.
	expired := certOf(p.leaf(testpki.Expired()))
	add(
		&Scenario{Name: "accept-certificate accepts", Server: serve(expired), Client: accepting, Conns: conns(1, localhost),
			Want: merge(verified, map[string]string{"c1.errors": "expired", "c1.accept": "expired"})},
		&Scenario{Name: "accept-certificate refuses", Server: serve(expired), Client: refusing, Conns: conns(1, localhost),
			Want: merge(rejected, map[string]string{"c1.errors": "expired", "c1.accept": "expired"}), Differ: rejectedDiff},
		&Scenario{Name: "no database", Server: serve(good), Client: noDatabase, Conns: conns(1, localhost),
			Want: merge(rejected, errorsAre("unknown-ca")), Differ: rejectedDiff},
	)
	noDatabaseAccepting := noDatabase
	noDatabaseAccepting.Accept = "yes"
	add(&Scenario{Name: "no database, accepted", Server: serve(good), Client: noDatabaseAccepting, Conns: conns(1, localhost),
		Want: merge(verified, map[string]string{"c1.errors": "unknown-ca", "c1.accept": "unknown-ca"})})

	// Chains as servers send them.
	a := p.root.MustIntermediate(t, "Conformance Upper Intermediate")
	b := a.MustIntermediate(t, "Conformance Lower Intermediate")
	deep := b.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))
	plain := p.leaf()
	add(
		one("chain: two intermediates in order", serve(certOf(deep)), verified),
		one("chain: intermediates unordered", serve(serverCert{[]*x509.Certificate{deep.Cert, a.Cert, b.Cert}, deep.Key}), verified),
		one("chain: redundant root", serve(serverCert{[]*x509.Certificate{plain.Cert, p.inter.Cert, p.root.Cert}, plain.Key}), verified),
		one("chain: leaf sent twice", serve(serverCert{[]*x509.Certificate{plain.Cert, plain.Cert, p.inter.Cert}, plain.Key}), verified),
		one("chain: missing intermediate", serve(serverCert{plain.Chain[:1], plain.Key}), merge(rejected, errorsAre("unknown-ca")), rejectedDiff),
		one("chain: intermediate from the database", serve(leafOf(p.lonely)), verified),
	)

	// Server identities.
	named := certOf(p.inter.MustLeaf(t, "named", testpki.DNSNames("localhost", "service.example", "xn--bcher-kva.example"),
		testpki.IPAddresses("127.0.0.1", "::1")))
	clientVersions := func(name string, srv TLSServer, lo, hi giotls.ProtocolVersion, want map[string]string) *Scenario {
		sc := one(name, srv, want)
		sc.Client.MinVersion, sc.Client.MaxVersion = lo, hi
		return sc
	}
	withID := func(name string, srv TLSServer, id IdentitySpec, want map[string]string, differ ...map[string]Diff) *Scenario {
		sc := one(name, srv, want, differ...)
		sc.Conns = conns(1, id)
		return sc
	}
	add(
		withID("identity: trailing dot", serve(named), hostname("localhost."), map[string]string{"s1.sni": "localhost"},
			giotlsPasses(suite13, "bad-identity", whyTrailingDot)),
		withID("identity: upper case", serve(named), hostname("LOCALHOST"), verified,
			map[string]Diff{"s1.sni": {"LOCALHOST", "localhost", whyLowerCase}}),
		// GnuTLS converts internationalized names too (libidn2), for SNI and verification.
		withID("identity: IDN", serve(named), hostname("bücher.example"), merge(verified, map[string]string{"s1.sni": "xn--bcher-kva.example"})),
		withID("identity: IPv4 as NetworkAddress", serve(named), IdentitySpec{Kind: "ip", Host: "127.0.0.1"}, verified,
			map[string]Diff{"s1.sni": {"127.0.0.1", "-", whyIPSNI}}),
		withID("identity: IPv6 as NetworkAddress", TLSServer{Config: serve(named).Config, Network: "tcp6"},
			IdentitySpec{Kind: "ip", Host: "::1"}, verified, map[string]Diff{"s1.sni": {"::1", "-", whyIPSNI}}),
		withID("identity: InetSocketAddress", serve(named), IdentitySpec{Kind: "inet", Host: "127.0.0.1"},
			merge(verified, map[string]string{"s1.sni": "-"})),
		withID("identity: NetworkService", serve(named), IdentitySpec{Kind: "service", Service: "xmpp-client", Protocol: "tcp", Domain: "service.example"},
			merge(verified, map[string]string{"s1.sni": "service.example"})),
		withID("identity: none", serve(named), IdentitySpec{Kind: "none"}, merge(rejected, errorsAre("bad-identity"), map[string]string{"s1.sni": "-"}), rejectedDiff),
	)
	noIdentity := withID("identity: none, accepted", serve(named), IdentitySpec{Kind: "none"},
		merge(verified, map[string]string{"c1.errors": "bad-identity", "c1.accept": "bad-identity", "s1.sni": "-"}))
	noIdentity.Client = accepting
	add(noIdentity)

	// ALPN.
	alpnClient := func(name string, srv TLSServer, client []string, want map[string]string, differ ...map[string]Diff) *Scenario {
		sc := one(name, srv, want, differ...)
		sc.Client.ALPN = client
		return sc
	}
	add(
		alpnClient("ALPN: match", serve(good, alpn("http/1.1")), []string{"h2", "http/1.1"},
			merge(verified, map[string]string{"c1.alpn": "http/1.1", "s1.alpn": "h2,http/1.1"})),
		// The server refuses with no_application_protocol (RFC 7301, section 3.2).
		alpnClient("ALPN: no match", serve(good, alpn("imap")), []string{"h2", "http/1.1"}, map[string]string{
			"c1.handshake": "misc", "c1.alpn": "", "s1.handshake": `tls: client requested unsupported application protocols (["h2" "http/1.1"])`}),
		alpnClient("ALPN: client only", serve(good), []string{"h2"}, merge(verified, map[string]string{"c1.alpn": "", "s1.alpn": "h2"})),
		alpnClient("ALPN: server only", serve(good, alpn("h2")), nil, merge(verified, map[string]string{"c1.alpn": "", "s1.alpn": "-"})),
	)

	// Protocol versions.
	add(
		one("TLS 1.2", serve(good, version(tls.VersionTLS12)), merge(verified, map[string]string{"c1.version": "TLS 1.2"})),
		one("TLS 1.3", serve(good, version(tls.VersionTLS13)), merge(verified, map[string]string{"c1.version": "TLS 1.3"})),
		clientVersions("client offers TLS 1.2 only", serve(good), giotls.ProtocolVersionTLS12, giotls.ProtocolVersionTLS12,
			merge(verified, map[string]string{"c1.version": "TLS 1.2"})),
		clientVersions("client offers TLS 1.3 only", serve(good), giotls.ProtocolVersionTLS13, giotls.ProtocolVersionTLS13,
			merge(verified, map[string]string{"c1.version": "TLS 1.3"})),
		clientVersions("client offers TLS 1.3 only, server TLS 1.2 only", serve(good, version(tls.VersionTLS12)),
			giotls.ProtocolVersionTLS13, giotls.ProtocolVersionTLS13, map[string]string{
				"c1.handshake": "misc", "c1.version": "unknown", "s1.handshake": "tls: client offered only unsupported versions: [304]"}),
		one("TLS 1.1 only", serve(good, version(tls.VersionTLS11)), nil, map[string]Diff{
			"c1.handshake": {"ok", "misc", whyTLS11},
			"c1.version":   {"TLS 1.1", "unknown", whyTLS11},
			"c1.suite":     {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "", whyTLS11},
			"c1.read":      {`"hello\n" -`, "-", whyTLS11},
			"s1.handshake": {"ok", "tls: client offered only unsupported versions: [304 303]", whyTLS11},
			"s1.close":     {"close_notify", "-", whyTLS11},
		}),
	)

	// Channel binding (RFC 5929, RFC 9266), against what the server computes.
	binding := def
	binding.Bindings = true
	add(
		&Scenario{Name: "channel binding, TLS 1.2", Server: serve(good, version(tls.VersionTLS12)), Client: binding, Conns: conns(1, localhost),
			Want:   map[string]string{"c1.tls-unique": "same as the server's", "c1.tls-server-end-point": "same as the server's"},
			Differ: map[string]Diff{"c1.tls-exporter": {"error:not-available", "same as the server's", whyExporter12}}},
		&Scenario{Name: "channel binding, TLS 1.3", Server: serve(good, version(tls.VersionTLS13)), Client: binding, Conns: conns(1, localhost),
			Want:   map[string]string{"c1.tls-server-end-point": "same as the server's", "c1.tls-exporter": "same as the server's"},
			Differ: map[string]Diff{"c1.tls-unique": {"error:not-available", "error:not-supported", whyUnique13}}},
	)

	// Client certificates.
	withClientCert := def
	withClientCert.CertFile, withClientCert.KeyFile = p.clientCert, p.clientKey
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		vn := tls.VersionName(v)
		add(
			one("accepted CAs, "+vn, serve(good, version(v), requestCert(tls.RequestClientCert, p.root, p.second)),
				merge(verified, map[string]string{"c1.cas": "2: Conformance Root, Conformance Second Root", "s1.client-cert": "-"})),
			&Scenario{Name: "client certificate, " + vn, Server: serve(good, version(v), requestCert(tls.RequireAndVerifyClientCert, p.second)),
				Client: withClientCert, Conns: conns(1, localhost),
				Want: merge(verified, map[string]string{"c1.cas": "1: Conformance Second Root", "s1.client-cert": "conformance client"})},
		)
	}
	fromInteraction := withClientCert
	fromInteraction.Interaction = true
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		add(&Scenario{Name: "client certificate from an Interaction, " + tls.VersionName(v),
			Server: serve(good, version(v), requestCert(tls.RequireAndVerifyClientCert, p.second)),
			Client: fromInteraction, Conns: conns(1, localhost),
			Want: merge(verified, map[string]string{"c1.interaction": "1 calls", "s1.client-cert": "conformance client"})})
	}
	optional := serve(good, version(tls.VersionTLS13), requestCert(tls.VerifyClientCertIfGiven, p.second))
	add(
		&Scenario{Name: "resumption: same client certificate", Server: optional, Client: withClientCert, Conns: conns(2, localhost),
			Want: map[string]string{"s1.client-cert": "conformance client", "s2.resumed": "true", "s2.client-cert": "conformance client"}},
		// A session is tied to the client certificate it was made with.
		&Scenario{Name: "resumption: session made with a client certificate, next connection without", Server: optional, Client: withClientCert,
			Conns: []ConnSpec{{Identity: localhost, Read: line}, {Identity: localhost, Read: line, NoCert: true}},
			Want:  map[string]string{"s1.client-cert": "conformance client", "s2.resumed": "false", "s2.ticket": "-", "s2.client-cert": "-"}},
		&Scenario{Name: "resumption: session made without a client certificate, next connection with", Server: optional, Client: withClientCert,
			Conns: []ConnSpec{{Identity: localhost, Read: line, NoCert: true}, {Identity: localhost, Read: line}},
			Want:  map[string]string{"s1.client-cert": "-", "s2.resumed": "false", "s2.ticket": "-", "s2.client-cert": "conformance client"}},
		&Scenario{Name: "resumption: client certificate from an Interaction", Server: optional, Client: fromInteraction, Conns: conns(2, localhost),
			Want: map[string]string{"c1.interaction": "1 calls", "s1.client-cert": "conformance client", "s2.client-cert": "conformance client"},
			Differ: map[string]Diff{
				"c2.interaction": {"0 calls", "1 calls", whyInteraction},
				"c2.cas":         {"0", "1: Conformance Second Root", whyInteraction},
				"s2.resumed":     {"true", "false", whyInteraction},
				"s2.ticket":      {"t1", "-", whyInteraction},
			}},
	)
	required := serve(good, version(tls.VersionTLS12), requestCert(tls.RequireAndVerifyClientCert, p.second))
	add(
		one("client certificate required, none set, TLS 1.2", required, map[string]string{"s1.handshake": "tls: client didn't provide a certificate"},
			map[string]Diff{"c1.handshake": {"misc", "certificate-required", whyCertReq}}),
		// In TLS 1.3 the client's handshake is over when the server sees no certificate.
		one("client certificate required, none set, TLS 1.3", serve(good, version(tls.VersionTLS13), requestCert(tls.RequireAndVerifyClientCert, p.second)),
			map[string]string{"c1.handshake": "ok", "s1.handshake": "tls: client didn't provide a certificate"},
			map[string]Diff{"c1.read": {`"" error:misc`, `"" error:certificate-required`, whyCertReq}}),
	)

	// Resumption.
	three := func(name string, srv TLSServer, client ClientSpec, want map[string]string, differ ...map[string]Diff) *Scenario {
		return &Scenario{Name: name, Server: srv, Client: client, Conns: conns(3, localhost), Want: want, Differ: merge(differ...)}
	}
	noRead := conns(3, localhost)
	for i := range noRead {
		noRead[i].Read = "none"
	}
	add(
		three("resumption, TLS 1.3: single-use tickets", serve(good, version(tls.VersionTLS13)), def, map[string]string{
			"s1.resumed": "false", "s2.resumed": "true", "s3.resumed": "true",
			"s1.ticket": "-", "s2.ticket": "t1", "s3.ticket": "t2", "s.tickets-presented-twice": "0"}),
		three("resumption, TLS 1.2", serve(good, version(tls.VersionTLS12)), def, map[string]string{"s1.resumed": "false"},
			map[string]Diff{
				"s2.resumed": {"false", "true", whyTLS12Resume}, "s3.resumed": {"false", "true", whyTLS12Resume},
				// A resumed TLS 1.2 handshake brings a new ticket, which the next one presents.
				"s2.ticket": {"-", "t1", whyTLS12Resume}, "s3.ticket": {"-", "t2", whyTLS12Resume},
			}),
		&Scenario{Name: "resumption, TLS 1.3: no read, no ticket", Server: serve(good, version(tls.VersionTLS13)).mode("silent"), Client: def, Conns: noRead,
			Want: map[string]string{"s1.resumed": "false"},
			Differ: map[string]Diff{
				"s2.resumed": {"false", "true", whyCloseTicket}, "s2.ticket": {"-", "t1", whyCloseTicket},
				"s3.resumed": {"false", "true", whyCloseTicket}, "s3.ticket": {"-", "t2", whyCloseTicket},
			}},
		three("resumption, TLS 1.3: accepted certificate verified again", serve(good, version(tls.VersionTLS13)), noDatabaseAccepting,
			map[string]string{"c1.accept": "unknown-ca", "s2.resumed": "true", "s3.resumed": "true"},
			map[string]Diff{"c2.accept": {"not called", "unknown-ca", whyReverify}, "c3.accept": {"not called", "unknown-ca", whyReverify}}),
		&Scenario{Name: "resumption: another port", Server: serve(good, version(tls.VersionTLS13)).ports(2), Client: def,
			Conns: []ConnSpec{{Identity: localhost, Read: line}, {Listener: 1, Identity: localhost, Read: line}},
			Want:  map[string]string{"s2.resumed": "false", "s2.ticket": "-"}},
		// GIO keys sessions by the address connected to (IP and port) and
		// the identity's host name: a connection to another port under the
		// same identity, as an FTP data connection, does not resume.
		&Scenario{Name: "resumption: same identity, another port", Server: serve(good, version(tls.VersionTLS13)).ports(2), Client: def,
			Conns: []ConnSpec{{Identity: localhost, Read: line}, {Listener: 1, Identity: IdentitySpec{Kind: "hostname", Host: "localhost", Port: -1}, Read: line}},
			Want:  map[string]string{"s2.resumed": "false", "s2.ticket": "-"}},
		&Scenario{Name: "resumption: same port, identity with another port", Server: serve(good, version(tls.VersionTLS13)), Client: def,
			Conns:  []ConnSpec{{Identity: IdentitySpec{Kind: "hostname", Host: "localhost", Port: 1}, Read: line}, {Identity: IdentitySpec{Kind: "hostname", Host: "localhost", Port: 2}, Read: line}},
			Want:   map[string]string{"s1.resumed": "false", "c2.handshake": "ok"},
			Differ: map[string]Diff{"s2.resumed": {"true", "false", whyIdentityPort}, "s2.ticket": {"t1", "-", whyIdentityPort}}},
	)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		add(&Scenario{Name: "copy_session_state to another port, " + tls.VersionName(v),
			Server: serve(good, version(v)).ports(2), Client: def,
			Conns: []ConnSpec{{Identity: localhost, Read: line, KeepOpen: true}, {Listener: 1, Identity: localhost, Read: line, CopyFrom: 1}},
			Want:  map[string]string{"s2.resumed": "true"}})
	}

	// Close and truncation.
	readAll := func(name string, srv TLSServer, client ClientSpec, want map[string]string) *Scenario {
		return &Scenario{Name: name, Server: srv, Client: client, Conns: []ConnSpec{{Identity: localhost, Read: all}}, Want: want}
	}
	lax := def
	lax.RequireCloseNotify = false
	add(
		readAll("truncation, require-close-notify", serve(good).mode("truncate"), def, map[string]string{"c1.read": `"hello\n" error:eof`}),
		readAll("truncation, require-close-notify off", serve(good).mode("truncate"), lax, map[string]string{"c1.read": `"hello\n" eof`}),
		readAll("server close_notify", serve(good).mode("close"), def, map[string]string{"c1.read": `"hello\n" eof`, "s1.close": "close_notify"}),
		&Scenario{Name: "close_notify on close", Server: serve(good), Client: def,
			Conns: []ConnSpec{{Identity: localhost, Send: "bye\n", Read: line}},
			Want:  map[string]string{"s1.received": `"bye\n"`, "s1.close": "close_notify"}},
	)

	// Servers that do not speak TLS.
	add(
		// A plain-text greeting, as on a port that wants STARTTLS; the
		// server then waits for a command that never comes.
		one("not TLS: plain-text greeting", RawServer{Handle: func(c net.Conn) {
			io.WriteString(c, "220 smtp.example ESMTP ready\r\n")
			io.Copy(io.Discard, c)
		}}, map[string]string{"c1.version": "unknown"}, map[string]Diff{"c1.handshake": {"misc", "not-tls", whyNotTLS}}),
		// A server that reads the ClientHello and hangs up.
		one("not TLS: closed after the ClientHello", RawServer{Handle: func(c net.Conn) {
			c.Read(make([]byte, 4096))
		}}, map[string]string{"c1.handshake": "not-tls", "c1.version": "unknown"}),
	)

	// Real servers: openssl s_server, gnutls-serv, vsftpd.
	page := regexp.MustCompile(`(New|Reused), TLSv1\.[0-9]`)
	get := func(n int) []ConnSpec {
		out := make([]ConnSpec, n)
		for i := range out {
			out[i] = ConnSpec{Identity: localhost, Send: "GET / HTTP/1.0\r\n\r\n", Read: all, Extract: page}
		}
		return out
	}
	echo := func(n int) []ConnSpec {
		out := make([]ConnSpec, n)
		for i := range out {
			out[i] = ConnSpec{Identity: localhost, Send: "ping\n", Read: line}
		}
		return out
	}
	// suites is the ciphersuites each client gets from a server that
	// follows the client's preference, on n connections.
	suites := func(n int, tls12 bool) map[string]Diff {
		d := Diff{"TLS_AES_256_GCM_SHA384", suite13, whySuite}
		if tls12 {
			d = Diff{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", suite12, whySuite}
		}
		out := map[string]Diff{}
		for i := 1; i <= n; i++ {
			out["c"+strconv.Itoa(i)+".suite"] = d
		}
		return out
	}
	add(
		&Scenario{Name: "openssl s_server, TLS 1.3", Server: OpenSSLServer{Cert: good, Args: []string{"-tls1_3"}}, Client: def, Conns: get(2),
			Want:   map[string]string{"c1.version": "TLS 1.3", "c1.read": `"New, TLSv1.3" eof`, "c2.read": `"Reused, TLSv1.3" eof`},
			Differ: suites(2, false)},
		&Scenario{Name: "openssl s_server, TLS 1.2", Server: OpenSSLServer{Cert: good, Args: []string{"-tls1_2"}}, Client: def, Conns: get(2),
			Want: map[string]string{"c1.version": "TLS 1.2", "c1.read": `"New, TLSv1.2" eof`},
			Differ: merge(suites(2, true), map[string]Diff{
				"c2.read": {`"New, TLSv1.2" eof`, `"Reused, TLSv1.2" eof`, whyTLS12Resume}})},
		&Scenario{Name: "gnutls-serv, TLS 1.3", Server: GnuTLSServer{Cert: good, Priority: "NORMAL:-VERS-ALL:+VERS-TLS1.3"}, Client: def, Conns: echo(2),
			Want:   map[string]string{"c1.version": "TLS 1.3", "c1.read": `"ping\n" -`, "s1.sni": "localhost", "s1.resumed": "false", "s2.resumed": "true"},
			Differ: suites(2, false)},
		&Scenario{Name: "gnutls-serv, TLS 1.2", Server: GnuTLSServer{Cert: good, Priority: "NORMAL:-VERS-ALL:+VERS-TLS1.2"}, Client: def, Conns: echo(2),
			Want:   map[string]string{"c1.version": "TLS 1.2", "c1.read": `"ping\n" -`, "s1.sni": "localhost", "s1.resumed": "false"},
			Differ: merge(suites(2, true), map[string]Diff{"s2.resumed": {"false", "true", whyTLS12Resume}})},
	)
	for _, tls12 := range []bool{false, true} {
		v := "TLS 1.3"
		if tls12 {
			v = "TLS 1.2"
		}
		add(&Scenario{Name: "FTPS, vsftpd, copy_session_state, " + v, Server: VsftpdServer{Cert: good, MaxTLS12: tls12}, Client: def,
			FTP:    &FTPSpec{Identity: localhost, CopySession: true},
			Want:   map[string]string{"c1.version": v, "c2.version": v, "c2.handshake": "ok", "ftp.replies": "220 234 331 230 200 200 227 150 226 221"},
			Differ: suites(2, tls12)})
	}
	// The data connection goes to another port under the control
	// connection's identity: without copy_session_state it must not resume,
	// and vsftpd refuses it (and ends the session).
	add(&Scenario{Name: "FTPS, vsftpd, no copy_session_state", Server: VsftpdServer{Cert: good}, Client: def,
		FTP:    &FTPSpec{Identity: localhost},
		Want:   map[string]string{"c2.handshake": "ok", "c2.read": `"" eof`, "ftp.replies": "220 234 331 230 200 200 227 150 522"},
		Differ: suites(2, false)})
	return s
}
