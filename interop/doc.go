// Package interop runs giotls, its command and its library, against the
// servers users run, all Debian packages started on loopback by the tests:
// proftpd, pure-ftpd and vsftpd (FTPS), dovecot (IMAP, POP3), postfix
// (SMTP), prosody (XMPP), nginx (HTTP/1.1, h2) and slapd (LDAP). See
// README.md; the results table there is rewritten by
//
//	INTEROP_README=1 go test ./interop/
//
// The tests build on Linux only: the servers are Debian packages, stopped
// by process group.
package interop
