package giotls

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// echConfig returns an ECHConfig (draft-ietf-tls-esni, section 4: version
// 0xfe0d; DHKEM(X25519), HKDF-SHA256, AES-128-GCM) for publicName, and its
// private key.
func echConfig(t *testing.T, id uint8, publicName string) (config, key []byte) {
	t.Helper()
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.PublicKey().Bytes()
	body := []byte{id, 0x00, 0x20}
	body = binary.BigEndian.AppendUint16(body, uint16(len(pub)))
	body = append(body, pub...)
	body = append(body, 0x00, 0x04, 0x00, 0x01, 0x00, 0x01) // one suite: HKDF-SHA256, AES-128-GCM
	body = append(body, 0, byte(len(publicName)))           // maximum_name_length, public_name
	body = append(body, publicName...)
	body = append(body, 0x00, 0x00) // no extensions
	config = binary.BigEndian.AppendUint16([]byte{0xfe, 0x0d}, uint16(len(body)))
	return append(config, body...), k.Bytes()
}

// echList is an ECHConfigList holding config.
func echList(config []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(config))), config...)
}

// TestClientConfigECH: a library that turns on Encrypted Client Hello on
// its clone still gets giotls's verification, of the inner name, when the
// server accepts it (an untrusted chain is refused); when the server
// rejects it, the handshake fails (crypto/tls then checks only the outer
// name, and reports the rejection).
func TestClientConfigECH(t *testing.T) {
	e := newResumptionEnv(t, tls.VersionTLS13, tls.NoClientCert, BackendOptions{DisableResumption: true})
	cfg, key := echConfig(t, 7, "public.example")
	srvCfg := serverConfig(e.ca.MustLeaf(t, "ech", testpki.DNSNames("a.example", "public.example")))
	srvCfg.MinVersion = tls.VersionTLS13
	srvCfg.EncryptedClientHelloKeys = []tls.EncryptedClientHelloKey{{Config: cfg, PrivateKey: key}}
	srv := startTLSServer(t, "tcp4", srvCfg, func(c *tls.Conn) { c.Write([]byte{'!'}) })
	other := newTestCA(t, "Other Root")
	wrong, _ := echConfig(t, 7, "public.example") // same id, another key: the server cannot decrypt
	for _, tc := range []struct {
		name string
		db   Database
		list []byte
		want string // "": success with ECH accepted; "rejected": a failed handshake; else the flags refused
	}{
		{"accepted, trusted", e.ca.db, echList(cfg), ""},
		{"accepted, untrusted", other.db, echList(cfg), "unknown-ca"},
		// crypto/tls checks the outer certificate itself (RootCAs or the
		// system's roots), before giotls could: EncryptedClientHelloRejectionVerify
		// is given no PeerCertificates. It fails the handshake either way.
		{"rejected", e.ca.db, echList(wrong), "rejected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustConfig(t, e.backend, ClientConfigOptions{ServerName: "a.example", Database: tc.db}).Clone()
			c.EncryptedClientHelloConfigList = tc.list
			c.MinVersion = tls.VersionTLS13 // crypto/tls requires it for ECH
			cs, err := configDial(t, srv.Addr.String(), c)
			switch tc.want {
			case "":
				if err != nil || !cs.ECHAccepted {
					t.Fatalf("handshake = %v, ECH accepted %v; want success with ECH", err, cs.ECHAccepted)
				}
			case "rejected":
				if err == nil {
					t.Fatalf("handshake succeeded (ECH accepted %v), want a failure", cs.ECHAccepted)
				}
			default:
				badCertificate(t, err, CertificateUnknownCA)
			}
		})
	}
	if snis := srv.SNIs(); len(snis) != 3 || snis[0] != "a.example" || snis[2] != "public.example" {
		t.Errorf("the server saw SNIs %q, want the inner name twice, then the outer", snis)
	}
}
