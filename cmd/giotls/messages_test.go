package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// ftpAuthTLS is an FTP server's plain-text part: greeting, AUTH TLS.
func ftpAuthTLS(c net.Conn, r *bufio.Reader, seen chan<- string) bool {
	io.WriteString(c, "220 ready\r\n")
	if readLine(r, seen) != "AUTH TLS" {
		return false
	}
	io.WriteString(c, "234 go ahead\r\n")
	return true
}

// TestFTPNamesIdentity: a certificate rejected for its name says which
// name it was checked against, as connect does.
func TestFTPNamesIdentity(t *testing.T) {
	p := newPKI(t, "FTP Name Root")
	leaf := p.ca.MustLeaf(t, "ftp", testpki.DNSNames("localhost"))
	s := startPlainServer(t, leaf, ftpAuthTLS, func(*tls.Conn) {})
	byIP := strings.Replace(s.addr, "localhost", "127.0.0.1", 1)
	r := run(t, "", "ftp", "--ca", p.caFile, "ftp://"+byIP+"/")
	want := "bad-identity: the certificate is not for " + byIP + "\n"
	if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "(no identity)") {
		t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}
}
