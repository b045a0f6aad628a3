// Package conformance runs the same TLS client scenarios through the
// reference implementation, GIO's TlsClientConnection (glib-networking's
// GnuTLS backend, driven by gio_client.py under /usr/bin/python3), and
// through giotls, against the same servers: in-process crypto/tls servers
// that record what each client sent, openssl s_server, gnutls-serv and
// vsftpd. It compares the two clients field by field: where SEMANTICS.md
// says giotls deliberately differs from GIO, the test asserts both sides'
// behaviour and names the difference; everywhere else they must agree.
//
// The package holds only tests; README.md explains them and holds the table
// of results, regenerated with
//
//	CONFORMANCE_README=1 go test ./conformance/
package conformance
