package ftp

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/giotls/giotls"
)

// TestVsftpdManyDataConnections runs many data connections in a row on one
// control connection, uploads (which never read, so receive their TLS 1.3
// ticket only while Close drains) and downloads (which read it) mixed,
// against vsftpd with require_ssl_reuse=YES: every one must resume the
// control connection's session, or vsftpd refuses it with 522. On TLS 1.3,
// what each ClientHello offered, read off the wire, shows that no ticket
// is presented twice: each data connection brings back the fresh ticket the
// next one presents. (A TLS 1.2 ticket is reusable; how often it was
// presented again is logged.)
func TestVsftpdManyDataConnections(t *testing.T) {
	const pattern = "UUUDUDDUUUUDUUUU" // U: STOR, D: RETR
	for _, tc := range vsftpdCases[:2] {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.opts)
			var trace bytes.Buffer
			var hellos helloLog
			c := s.dialWrapped(t, tc.implicit, &trace, hellos.wrap)
			ctx := context.Background()
			for i, op := range pattern {
				what := fmt.Sprintf("transfer %d (%c)", i+1, op)
				if op == 'U' {
					data := bytes.Repeat([]byte{byte('a' + i)}, 4096+i)
					name := fmt.Sprintf("up%d.bin", i)
					if n, err := c.Store(ctx, "upload/"+name, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
						t.Fatalf("%s: STOR = %d, %v\n%s", what, n, err, trace.String())
					}
					got, err := os.ReadFile(filepath.Join(s.Upload, name))
					if err != nil || !bytes.Equal(got, data) {
						t.Errorf("%s: the server stored %d bytes, %v; want %d", what, len(got), err, len(data))
					}
				} else {
					var out bytes.Buffer
					if n, err := c.Retrieve(ctx, "hello.txt", &out); err != nil || !bytes.Equal(out.Bytes(), s.text) {
						t.Fatalf("%s: RETR = %d bytes %q, %v\n%s", what, n, out.Bytes(), err, trace.String())
					}
				}
				if d := c.LastData(); !d.CopiedSession || !d.Resumed || d.Version != tc.version {
					t.Errorf("%s: data connection %+v; want the session copied and resumed on %v", what, d, tc.version)
				}
			}
			if err := c.Quit(ctx); err != nil {
				t.Errorf("Quit: %v", err)
			}
			if len(hellos.hellos) != 1+len(pattern) {
				t.Fatalf("%d ClientHellos seen; want %d", len(hellos.hellos), 1+len(pattern))
			}
			for i, o := range hellos.hellos {
				if o.err != nil {
					t.Fatalf("ClientHello %d: %v", i, o.err)
				}
				offered := len(o.psk) > 0 || o.ticket != ([32]byte{})
				if want := i > 0; offered != want || len(o.psk) > 1 {
					t.Errorf("ClientHello %d offered %d TLS 1.3 identities, a TLS 1.2 ticket: %v; want one session offered by each data connection only", i, len(o.psk), o.ticket != ([32]byte{}))
				}
			}
			again, total := hellos.presentedTwice()
			t.Logf("%d sessions presented, %d of them presented before", total, again)
			if tc.version == giotls.ProtocolVersionTLS13 && again != 0 {
				t.Errorf("%d TLS 1.3 tickets presented again", again)
			}
		})
	}
}
