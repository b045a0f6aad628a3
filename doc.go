// Package giotls is GIO's TLS client connection (GLib's
// GTlsClientConnection and the types it leans on) in pure Go, on crypto/tls.
//
// It keeps GIO's semantics where plain crypto/tls has none:
//
//   - Every problem with the server's certificate is reported as
//     CertificateFlags (unknown-ca, bad-identity, expired, ...), all of them,
//     not the first one found; a handler set with OnAcceptCertificate may
//     accept them, and without one the handshake fails with
//     ErrBadCertificate. Resumed handshakes are verified again.
//   - A server that closes without close_notify is reported (ErrEOF), so a
//     truncation attack is visible; RequireCloseNotify(false) opts out.
//   - Sessions are resumed through a process-wide SessionCache whose TLS 1.3
//     tickets are used once and never offered to another host, port or
//     client certificate; CopySessionState lets an FTP data connection
//     resume its control connection's session.
//   - The server's accepted CAs (AcceptedCAs) and an Interaction let a
//     client choose its certificate late; ChannelBindingData serves
//     SCRAM-PLUS.
//
// And it keeps Go's conventions: a connection is a net.Conn, blocking calls
// honour a context or the connection's deadlines, failures are errors
// (*Error, matched with errors.Is against ErrBadCertificate and its
// siblings), and nothing needs cgo.
//
// Names follow GIO: NewClientConnection is g_tls_client_connection_new,
// PeerCertificateErrors is the peer-certificate-errors property, OnNotify
// reports GIO's property names.
package giotls
