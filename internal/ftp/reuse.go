package ftp

import (
	"fmt"
	"strings"

	"github.com/giotls/giotls"
)

// reuseRefusal recognises a server refusing a data connection because it
// did not resume the control connection's TLS session, and explains it:
// vsftpd (require_ssl_reuse=YES) answers "522 SSL connection failed: session
// reuse required", proftpd (mod_tls, reuse required by default) "425 Unable
// to build data connection: Operation not permitted" once the data
// connection's handshake completed without resuming. It returns nil for any
// other reply. The reply stays reachable with errors.As.
//
// crypto/tls cannot resume a TLS 1.2 session by session ID (RFC 5246,
// section 7.4.1.2): its ClientHello's session_id is always random, it stores
// a TLS 1.2 session only when the server sends a ticket (RFC 5077), and
// nothing in its API sets either. So a TLS 1.2 server that issues no tickets
// can only be told what to change.
func (c *Client) reuseRefusal(reply *Error, data DataInfo) error {
	if data.Resumed {
		return nil
	}
	handshook := data.Version != giotls.ProtocolVersionUnknown
	switch {
	case reply.Code == 522 && (handshook || strings.Contains(strings.ToLower(reply.Message), "reuse")):
	case reply.Code == 425 && handshook:
	default:
		return nil
	}
	version := data.Version
	if version == giotls.ProtocolVersionUnknown {
		version = c.conn.ProtocolVersion()
	}
	var why string
	switch {
	case !data.CopiedSession:
		why = "giotls did not offer the control connection's session on it (session copying is off)"
	case version == giotls.ProtocolVersionTLS12:
		why = "giotls (crypto/tls) resumes TLS 1.2 only with session tickets, and the server issued none " +
			"that it accepts (crypto/tls cannot resume by session ID); the server operator can enable " +
			"session tickets (proftpd: TLSSessionTickets on) or TLS 1.3"
	default:
		why = fmt.Sprintf("the server issued no %v session ticket on the control connection that it then accepted", version)
	}
	return &giotls.Error{
		Code: giotls.ErrorMisc,
		Message: fmt.Sprintf("ftp: %s: the server requires TLS session reuse on data connections, "+
			"but this data connection did not resume the control connection's %v session: %s", reply.Command, version, why),
		Err: reply,
	}
}
