package giotls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/giotls/giotls/internal/testpki"
)

// Fuzz targets for what a peer or a user's input controls. Their seed
// corpora are in testdata/fuzz; scripts/test runs each for a bounded time.

// FuzzHandshakeRecords answers the client's ClientHello with a crypto/tls
// server whose bytes reach the client edited (flipped, replaced, inserted,
// deleted, cut off: see parseEdits), over TLS 1.2 (whose certificates travel
// in the clear, so that edits reach the verifier) or TLS 1.3. Every case is
// bounded by a deadline; the client fails with a giotls error (or the
// deadline's), ErrBadCertificate as soon as the certificate has errors, or
// succeeds only with a certificate that verifies, by crypto/x509's own
// judgment too.
func FuzzHandshakeRecords(f *testing.F) {
	ca := newTestCA(f, "Fuzz Records Root")
	leaf := ca.MustLeaf(f, "localhost", testpki.DNSNames("localhost"))
	backend := NewBackend(BackendOptions{DisableResumption: true})
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), []byte{})
	f.Fuzz(func(t *testing.T, version uint8, edits []byte) {
		cfg := serverConfig(leaf)
		cfg.MinVersion = tlsVersions[int(version)%len(tlsVersions)]
		cfg.MaxVersion = cfg.MinVersion
		cli, srv := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer srv.Close()
			tc := tls.Server(&mutatingConn{Conn: srv, edits: parseEdits(edits)}, cfg)
			tc.SetDeadline(time.Now().Add(5 * time.Second))
			if tc.Handshake() == nil {
				tc.Write([]byte("hello"))
				io.Copy(io.Discard, tc)
			}
		}()
		c, err := backend.NewClientConnection(cli, localhost(443))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDatabase(ca.db)
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		defer cancel()
		var hsErr, readErr error
		within(t, 10*time.Second, "the handshake and a read", func() {
			if hsErr = c.Handshake(ctx); hsErr == nil {
				c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
				_, readErr = io.ReadFull(c, make([]byte, 5))
			}
		})
		cli.Close() // not c.Close: its close_notify could wait on a server that writes
		c.Close()
		<-done
		if hsErr != nil {
			if !giotlsError(hsErr) {
				t.Fatalf("Handshake = %v (%T), want a giotls *Error or the deadline", hsErr, hsErr)
			}
			// Errors found in the certificate end the handshake there,
			// there being no accept-certificate handler. (Otherwise a
			// certificate edited in transit would only be caught by the
			// Finished messages, which a client must not rely on.)
			if f := c.PeerCertificateErrors(); f != 0 && !errors.Is(hsErr, ErrBadCertificate) {
				t.Fatalf("the server's certificate has errors (%v), yet the handshake went on to fail otherwise: %v", f, hsErr)
			}
			return
		}
		if readErr != nil && !giotlsError(readErr) && readErr != io.EOF {
			t.Fatalf("Read = %v (%T), want a giotls *Error, the deadline or io.EOF", readErr, readErr)
		}
		peer := c.PeerCertificate()
		if f := c.PeerCertificateErrors(); f != 0 || peer == nil {
			t.Fatalf("handshake succeeded with peer %v, errors %v", peer, f)
		}
		chain := peer.chain()
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		if _, err := chain[0].Verify(x509.VerifyOptions{
			DNSName: "localhost", Roots: ca.Pool(), Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}); err != nil {
			t.Fatalf("handshake succeeded with a certificate crypto/x509 refuses: %v", err)
		}
	})
}

// giotlsError reports whether err is a giotls *Error, or a deadline's
// error (the context's, or a net.Error that timed out).
func giotlsError(err error) bool {
	var ge *Error
	var ne net.Error
	return errors.As(err, &ge) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// FuzzParseNetworkAddress checks that ParseNetworkAddress never panics,
// fails with ErrMisc, and that what it accepts prints (String) as text it
// parses back to the same address; and that resolving it as an identity
// does not panic either.
func FuzzParseNetworkAddress(f *testing.F) {
	for _, s := range []string{"example.com:443", "[::1]:993", "::1", "[fe80::1%eth0]:80", "host", "host:https",
		"bücher.example:25", " host:1 ", "[::1]x", "a:b:c", "host:65536", ":80", "[]:1", "h:"} {
		f.Add(s, uint16(443))
	}
	f.Fuzz(func(t *testing.T, s string, port uint16) {
		a, err := ParseNetworkAddress(s, port)
		if err != nil {
			if !errors.Is(err, ErrMisc) {
				t.Fatalf("ParseNetworkAddress(%q) = %v, not ErrMisc", s, err)
			}
			return
		}
		if a.Hostname == "" {
			t.Fatalf("ParseNetworkAddress(%q) = %+v: empty host", s, a)
		}
		again, err := ParseNetworkAddress(a.String(), port^0xffff)
		if err != nil || *again != *a {
			t.Fatalf("ParseNetworkAddress(%q) = %+v, printed %q, parsed back as %+v, %v", s, a, a.String(), again, err)
		}
		resolveIdentity(a)
	})
}

// FuzzFormatDN formats DER distinguished names as FormatDN does for a
// server's accepted CAs (and SubjectName, through the same dnString, for a
// certificate's names), and reads the result back with parseRFC4514, a
// strict RFC 4514 parser of its own. What encoding/asn1 parses as an
// RDNSequence must read back as the same RDNs and attributes in the same
// order: a known attribute with a string value as its keyword and the
// value, escaped so that it unescapes to the value exactly; any other as
// its OID and "#" with the DER of its value. So a hostile server cannot
// make one name read as another. What does not parse is shown in hex.
func FuzzFormatDN(f *testing.F) {
	seed := func(n pkix.Name) {
		der, err := asn1.Marshal(n.ToRDNSequence())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	seed(pkix.Name{CommonName: "example.com", Organization: []string{"Example, Inc."}, Country: []string{"FR"}})
	seed(pkix.Name{CommonName: "#+,;<>\\\" x ", OrganizationalUnit: []string{"a", "b"}})
	seed(pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: "x"}}})
	seed(pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: 7}}})
	f.Fuzz(func(t *testing.T, der []byte) {
		shown := FormatDN(der)
		var rdns pkix.RDNSequence
		rest, err := asn1.Unmarshal(der, &rdns)
		var raws []testRawRDNSET
		if err == nil && len(rest) == 0 {
			rest, err = asn1.Unmarshal(der, &raws)
		}
		if err != nil || len(rest) != 0 {
			if shown != "#"+hex.EncodeToString(der) {
				t.Fatalf("FormatDN(%x) = %q, want the hex of what does not parse", der, shown)
			}
			return
		}
		got, err := parseRFC4514(shown)
		if err != nil {
			t.Fatalf("FormatDN(%x) = %q, not RFC 4514: %v", der, shown, err)
		}
		if len(got) == 0 && len(rdns) == 1 && len(rdns[0]) == 0 {
			return // one empty RDN: RFC 4514 has no way to write it
		}
		if len(got) != len(rdns) {
			t.Fatalf("FormatDN(%x) = %q: %d RDNs, want %d", der, shown, len(got), len(rdns))
		}
		for i, rdn := range rdns {
			if len(got[i]) != len(rdn) || len(raws[i]) != len(rdn) {
				t.Fatalf("FormatDN(%x) = %q: RDN %d has %d attributes, want %d", der, shown, i, len(got[i]), len(rdn))
			}
			for j, atv := range rdn {
				g := got[i][j]
				name, known := dnAttributeNames[atv.Type.String()]
				if s, isString := atv.Value.(string); known && isString {
					if g.typ != name || g.hex || string(g.value) != s {
						t.Fatalf("FormatDN(%x) = %q: attribute %d.%d reads as %s=%q (hex %v), want %s=%q", der, shown, i, j, g.typ, g.value, g.hex, name, s)
					}
					continue
				}
				if g.typ != atv.Type.String() || !g.hex || !bytes.Equal(g.value, raws[i][j].Value.FullBytes) {
					t.Fatalf("FormatDN(%x) = %q: attribute %d.%d reads as %s=%x (hex %v), want %s=#%x", der, shown, i, j, g.typ, g.value, g.hex, atv.Type, raws[i][j].Value.FullBytes)
				}
			}
		}
	})
}

// testRawRDNSET is an RDN with the DER of each value (encoding/asn1 reads
// a slice type whose name ends in SET as a SET).
type testRawRDNSET []struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}
