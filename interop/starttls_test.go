//go:build linux

package interop

import (
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"
)

// TestStartTLSLogin logs in to dovecot (IMAP, POP3), postfix (SMTP AUTH,
// checked by dovecot) and prosody (XMPP SASL) through the command, the
// commands piped to its stdin as a script would:
//
//	printf 'a1 LOGIN ...\r\na2 LOGOUT\r\n' | giotls connect --starttls imap ...
//
// Every reply must come back, up to the server's goodbye: stdin's end
// stops the sending, not the reading (issue 14, point 3). The server's
// own log must show the login over TLS.
func TestStartTLSLogin(t *testing.T) {
	d := startDovecot(t)
	pf := startPostfix(t, d)
	xm := startProsody(t)
	p := getPKI(t)
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + mailUser + "\x00" + mailPass))
	cases := []struct {
		server, proto, addr string
		stdin               string
		want                []string // in stdout, in this order
		log                 func() string
		logWant             string
	}{
		{
			"dovecot", "imap", d.imap,
			"a1 LOGIN " + mailUser + " " + mailPass + "\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n",
			[]string{"a1 OK", "a2 OK", "* BYE", "a3 OK"},
			func() string { return readLog(d.log) },
			"imap-login: Info: Login: user=<" + mailUser + ">, method=PLAIN",
		},
		{
			"dovecot", "pop3", d.pop3,
			"USER " + mailUser + "\r\nPASS " + mailPass + "\r\nSTAT\r\nQUIT\r\n",
			[]string{"+OK", "+OK Logged in.", "+OK 0 0", "+OK Logging out."},
			func() string { return readLog(d.log) },
			"pop3-login: Info: Login: user=<" + mailUser + ">, method=PLAIN",
		},
		{
			"postfix", "smtp", pf.smtp,
			"EHLO client.example\r\nAUTH PLAIN " + plain + "\r\nQUIT\r\n",
			[]string{"250-localhost", "235 2.7.0 Authentication successful", "221 2.0.0 Bye"},
			pf.Output,
			// smtpd counts each command, failures as n/m: "auth=0/1".
			"ehlo=2 starttls=1 auth=1 quit=1",
		},
		{
			"prosody", "xmpp", xm.c2s,
			"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" +
				"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + plain + "</auth></stream:stream>",
			[]string{"<mechanism>PLAIN</mechanism>", "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "</stream:stream>"},
			xm.Output,
			"Authenticated as " + mailUser + "@localhost",
		},
	}
	for _, c := range cases {
		t.Run(c.proto, func(t *testing.T) {
			r := record(t, c.server, "STARTTLS "+c.proto+", login piped to connect", "CLI")
			_, port, _ := net.SplitHostPort(c.addr)
			res := runCLI(t, c.stdin, "connect", "--starttls", c.proto, "--ca", p.caFile, "--timeout", "10s", "localhost:"+port)
			_, out, _ := strings.Cut(res.stdout, "\n---\n") // the report, then the session
			rest, missing := out, ""
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					missing = w
					break
				}
				rest = rest[i+len(w):]
			}
			log := c.log()
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(log, c.logWant) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				log = c.log()
			}
			switch {
			case res.code != 0 || missing != "":
				r.notef("exit %d, no %q in what the server sent", res.code, missing)
				t.Errorf("want exit 0 and replies %q; no %q\n%s", c.want, missing, res)
			case !strings.Contains(log, c.logWant):
				r.notef("the server's log shows no login")
				t.Errorf("%s's log has no %q:\n%s", c.server, c.logWant, log)
			default:
				r.notef("%s; log: %s", lineWith(res.stdout, "protocol:"), lineWith(log, c.logWant))
			}
		})
	}
}
