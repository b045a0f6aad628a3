package giotls_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net/smtp"

	"github.com/go-ldap/ldap/v3"
	"github.com/jlaffaye/ftp"

	"github.com/giotls/giotls"
)

// A library that takes a *tls.Config gets giotls's verification: here a
// plain crypto/tls client, as inside any library, first to a name the
// certificate has, then to one it has not.
func ExampleBackend_ClientConfig() {
	pki := newPKI("Example Root")
	srv := serve(pki.serverConfig("mail.example"), nil)
	defer srv.Close()
	for _, name := range []string{"mail.example", "other.example"} {
		cfg, err := giotls.DefaultBackend().ClientConfig(giotls.ClientConfigOptions{ServerName: name, Database: pki.db})
		if err != nil {
			log.Fatal(err)
		}
		conn, err := tls.Dial("tcp", srv.addr, cfg)
		var gerr *giotls.Error
		switch {
		case errors.As(err, &gerr):
			fmt.Printf("%s: %v (code %v)\n", name, gerr, gerr.Code == giotls.ErrorBadCertificate)
			continue
		case err != nil:
			log.Fatal(err)
		}
		conn.Write([]byte("hello"))
		buf := make([]byte, 5)
		io.ReadFull(conn, buf)
		conn.Close()
		fmt.Printf("%s: %s\n", name, buf)
	}
	// Output:
	// mail.example: hello
	// other.example: giotls: unacceptable TLS certificate (bad-identity) (code true)
}

// net/smtp: STARTTLS with the server's name, then AUTH over TLS.
func ExampleBackend_ClientConfig_smtp() {
	cfg, err := giotls.DefaultBackend().ClientConfig(giotls.ClientConfigOptions{ServerName: "mail.example.org"})
	if err != nil {
		log.Fatal(err)
	}
	c, err := smtp.Dial("mail.example.org:587")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(cfg); err != nil {
		log.Fatal(err) // a rejected certificate: giotls's *Error, ErrorBadCertificate
	}
	if err := c.Auth(smtp.PlainAuth("", "user", "password", "mail.example.org")); err != nil {
		log.Fatal(err)
	}
	c.Quit()
}

// go-ldap: ldaps:// and StartTLS. tls.DialWithDialer would set the URL's
// host as ServerName only on its own clone, which crypto/tls does not
// report for an IP address: give the name (or the address) here.
func ExampleBackend_ClientConfig_ldap() {
	cfg, err := giotls.DefaultBackend().ClientConfig(giotls.ClientConfigOptions{ServerName: "ldap.example.org"})
	if err != nil {
		log.Fatal(err)
	}
	l, err := ldap.DialURL("ldaps://ldap.example.org", ldap.DialWithTLSConfig(cfg))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	if err := l.Bind("cn=admin,dc=example,dc=org", "secret"); err != nil {
		log.Fatal(err)
	}
	// Or over ldap://: l, _ = ldap.DialURL("ldap://ldap.example.org"); l.StartTLS(cfg)
}

// jlaffaye/ftp: explicit TLS. The data connections resume the control
// connection's session through the config's cache, which servers with
// require_ssl_reuse demand. Make the config for the FTP session: its
// sessions last ten minutes from its making. See Backend.ClientConfig for
// what TLS 1.3 uploads cost.
func ExampleBackend_ClientConfig_ftp() {
	cfg, err := giotls.DefaultBackend().ClientConfig(giotls.ClientConfigOptions{ServerName: "ftp.example.org"})
	if err != nil {
		log.Fatal(err)
	}
	c, err := ftp.Dial("ftp.example.org:21", ftp.DialWithExplicitTLS(cfg))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("anonymous", "me@example.org"); err != nil {
		log.Fatal(err)
	}
	if err := c.Stor("upload/hello.txt", bytes.NewReader([]byte("hello\n"))); err != nil {
		log.Fatal(err)
	}
}
