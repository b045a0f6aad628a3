package ftp

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestVsftpdManyDataConnections runs many data connections in a row on one
// control connection, uploads (which never read a TLS 1.3 ticket, so bring
// none back to the control connection's chain) and downloads (which do)
// mixed, against vsftpd with require_ssl_reuse=YES: every one must resume
// the control connection's session, or vsftpd refuses it with 522.
func TestVsftpdManyDataConnections(t *testing.T) {
	const pattern = "UUUDUDDUUUUDUUUU" // U: STOR, D: RETR
	for _, tc := range vsftpdCases[:2] {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.opts)
			var trace bytes.Buffer
			c := s.dial(t, tc.implicit, &trace)
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
		})
	}
}
