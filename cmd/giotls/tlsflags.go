package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/giotls/giotls"
)

// tlsFlags are the trust and client-certificate flags connect and ftp share.
type tlsFlags struct {
	ca, cert, key, p12, p12PassFile string
	accept                          string
	servername                      string
	tlsMin, tlsMax                  string
	timeout                         time.Duration

	minVersion, maxVersion giotls.ProtocolVersion

	acceptFlags giotls.CertificateFlags
	db          giotls.Database // nil: the system's trust anchors
	certificate *giotls.Certificate
	decision    decision
}

// register adds the flags to fs; p12Pass names the flag of the file holding
// the PKCS#12 password.
func (t *tlsFlags) register(fs *flag.FlagSet, p12Pass string) {
	fs.StringVar(&t.ca, "ca", "", "trust the CA certificates in `FILE` (PEM) instead of the system's")
	fs.StringVar(&t.cert, "cert", "", "client certificate `FILE` (PEM or DER; PEM may hold its issuers and key)")
	fs.StringVar(&t.key, "key", "", "private key `FILE` of --cert (PEM or DER)")
	fs.StringVar(&t.p12, "p12", "", "client certificate, issuers and key in PKCS#12 `FILE`")
	fs.StringVar(&t.p12PassFile, p12Pass, "", "read the --p12 password from the first line of `FILE` (default: asked on a terminal)")
	fs.StringVar(&t.accept, "accept", "", "accept a certificate whose problems are all among `FLAGS`, GIO nicks joined by | or , (unknown-ca, bad-identity, not-activated, expired, revoked, insecure, generic-error, all)")
	fs.StringVar(&t.servername, "servername", "", "check the certificate against `NAME` (and send it as SNI) instead of the host connected to")
	fs.StringVar(&t.tlsMin, "tls-min", "", "offer no protocol version below `VERSION`: 1.2 or 1.3 (default 1.2)")
	fs.StringVar(&t.tlsMax, "tls-max", "", "offer no protocol version above `VERSION`: 1.2 or 1.3 (default 1.3)")
	fs.DurationVar(&t.timeout, "timeout", 15*time.Second, "give up on a connection, handshake or reply (or a stalled transfer) after `DURATION`, such as 5s")
}

// load checks the flags and reads the files they name.
func (t *tlsFlags) load(c *cli) error {
	f, err := giotls.ParseCertificateFlags(t.accept)
	if err != nil {
		return usagef("--accept: %v", err)
	}
	t.acceptFlags = f
	if t.minVersion, err = parseVersion("--tls-min", t.tlsMin); err != nil {
		return err
	}
	if t.maxVersion, err = parseVersion("--tls-max", t.tlsMax); err != nil {
		return err
	}
	if t.minVersion != 0 && t.maxVersion != 0 && t.minVersion > t.maxVersion {
		return usagef("--tls-min %s is above --tls-max %s", t.tlsMin, t.tlsMax)
	}
	if t.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	if t.ca != "" {
		db, err := giotls.NewFileDatabase(t.ca)
		if err != nil {
			return &localError{fmt.Errorf("--ca %s: %w", t.ca, err)}
		}
		t.db = db
	}
	switch {
	case t.p12 != "" && (t.cert != "" || t.key != ""):
		return usagef("--p12 and --cert/--key are exclusive")
	case t.key != "" && t.cert == "":
		return usagef("--key needs --cert")
	case t.p12 != "":
		cert, err := t.loadPKCS12(c)
		if err != nil {
			return err
		}
		t.certificate = cert
	case t.cert != "":
		var cert *giotls.Certificate
		var err error
		if t.key != "" {
			cert, err = giotls.NewCertificateFromFiles(t.cert, t.key)
		} else {
			cert, err = giotls.NewCertificateFromFile(t.cert)
		}
		if err != nil {
			return &localError{fmt.Errorf("--cert %s: %w", t.cert, err)}
		}
		if !cert.HasPrivateKey() {
			return &localError{fmt.Errorf("--cert %s holds no private key: give it with --key", t.cert)}
		}
		t.certificate = cert
	}
	t.decision.answers = map[[32]byte]giotls.CertificateFlags{}
	return nil
}

func (t *tlsFlags) loadPKCS12(c *cli) (*giotls.Certificate, error) {
	data, err := os.ReadFile(t.p12)
	if err != nil {
		return nil, &localError{fmt.Errorf("--p12: %w", err)}
	}
	if t.p12PassFile != "" {
		pass, err := readPassFile(t.p12PassFile)
		if err != nil {
			return nil, err
		}
		cert, err := giotls.NewCertificateFromPKCS12(data, pass)
		if err != nil {
			return nil, &localError{fmt.Errorf("--p12 %s: %w", t.p12, err)}
		}
		return cert, nil
	}
	// No password file: try no password, then ask the person, three times.
	cert, err := giotls.NewCertificateFromPKCS12(data, "")
	for try := 0; errors.Is(err, giotls.ErrBadCertificatePassword) && try < 3; try++ {
		if !c.terminal {
			return nil, &localError{fmt.Errorf("--p12 %s is encrypted: give its password with a pass file, or run on a terminal", t.p12)}
		}
		pass, perr := c.readPassword(fmt.Sprintf("Password for %s: ", t.p12))
		if perr != nil {
			return nil, &localError{fmt.Errorf("reading the password: %w", perr)}
		}
		cert, err = giotls.NewCertificateFromPKCS12(data, pass)
	}
	if err != nil {
		return nil, &localError{fmt.Errorf("--p12 %s: %w", t.p12, err)}
	}
	return cert, nil
}

// parseVersion reads a --tls-min or --tls-max value: "1.2", "1.3", also
// spelled "TLS1.2" or "TLS 1.2". Empty is no bound.
func parseVersion(flag, s string) (giotls.ProtocolVersion, error) {
	v := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	v = strings.TrimPrefix(strings.TrimPrefix(v, "TLSV"), "TLS")
	switch v {
	case "":
		return 0, nil
	case "1.2":
		return giotls.ProtocolVersionTLS12, nil
	case "1.3":
		return giotls.ProtocolVersionTLS13, nil
	case "1.0", "1", "1.1":
		return 0, usagef("%s %q: TLS 1.0 and 1.1 are deprecated (RFC 8996) and giotls does not speak them", flag, s)
	}
	return 0, usagef("%s %q: want 1.2 or 1.3", flag, s)
}

// backend returns a backend with the flags' version bounds and its own
// session cache.
func (t *tlsFlags) backend(cache *giotls.SessionCache) *giotls.Backend {
	return giotls.NewBackend(giotls.BackendOptions{SessionCache: cache, MinVersion: t.minVersion, MaxVersion: t.maxVersion})
}

// readPassFile returns the first line of path.
func readPassFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", &localError{err}
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return strings.TrimSuffix(string(line), "\r"), nil
}

// configure applies the flags to a connection.
func (t *tlsFlags) configure(c *cli, conn *giotls.ClientConnection) {
	if t.db != nil {
		conn.SetDatabase(t.db)
	}
	if t.certificate != nil {
		conn.SetCertificate(t.certificate)
	}
	conn.OnAcceptCertificate(func(peer *giotls.Certificate, errs giotls.CertificateFlags) bool {
		return t.decision.decide(c, t.acceptFlags, conn.ServerIdentity(), peer, errs)
	})
}

// decision is how certificate problems were dealt with: --accept, a
// person's answer (remembered for the certificate, so reconnections do not
// ask again), or rejection.
type decision struct {
	errors   giotls.CertificateFlags
	identity giotls.Connectable // what the certificate was checked against
	asked    bool
	by       string // "--accept", "you", or "" when rejected
	answers  map[[32]byte]giotls.CertificateFlags
}

func (d *decision) decide(c *cli, accept giotls.CertificateFlags, identity giotls.Connectable, peer *giotls.Certificate, errs giotls.CertificateFlags) bool {
	d.asked, d.errors, d.identity, d.by = true, errs, identity, ""
	if errs&^accept == 0 {
		d.by = "--accept"
		return true
	}
	fp := sha256.Sum256(peer.X509().Raw)
	if prev, ok := d.answers[fp]; ok && errs&^prev == 0 {
		d.by = "you"
		return true
	}
	if !c.terminal {
		return false
	}
	fmt.Fprintf(c.stderr, "The certificate of %s has problems:\n", identityString(identity))
	fmt.Fprintf(c.stderr, "  subject: %s\n  issuer:  %s\n", peer.SubjectName(), peer.IssuerName())
	for _, p := range problems(errs, identity) {
		fmt.Fprintf(c.stderr, "  %s\n", p)
	}
	if c.ask("Accept it?") {
		d.answers[fp] = errs
		d.by = "you"
		return true
	}
	return false
}

// flagMeanings explain GIO's certificate flags, by nick.
var flagMeanings = map[string]string{
	"unknown-ca":    "no chain to a trusted CA (see --ca)",
	"bad-identity":  "the certificate is not for %s",
	"not-activated": "a certificate on the path is not valid yet",
	"expired":       "a certificate on the path has expired",
	"revoked":       "a certificate on the path was revoked",
	"insecure":      "weak cryptography on the path (SHA-1 or MD5 signature, RSA key under 2048 bits)",
	"generic-error": "another problem (an issuer that is not a CA, a key usage or name constraint that forbids it, an unknown critical extension)",
}

// problems spells out errs, one line a flag: "expired: a certificate ...".
func problems(errs giotls.CertificateFlags, identity giotls.Connectable) []string {
	var out []string
	for _, nick := range errs.Nicks() {
		m := flagMeanings[nick]
		if strings.Contains(m, "%s") {
			m = fmt.Sprintf(m, identityString(identity))
		}
		out = append(out, fmt.Sprintf("%-13s %s", nick+":", m))
	}
	return out
}

func identityString(id giotls.Connectable) string {
	if id == nil {
		return "(no identity)"
	}
	return id.String()
}
