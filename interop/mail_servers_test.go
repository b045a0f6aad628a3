//go:build linux

package interop

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/peer"
)

// The mail and chat servers' one user.
const (
	mailUser = "alice"
	mailPass = "wonderland"
)

// dovecot is a running dovecot with IMAP and POP3 (STARTTLS required
// before a login), and a SASL socket for postfix.
type dovecot struct {
	imap, pop3 string // host:port
	log        string // log_path
	authSocket string // for postfix's smtpd_sasl_path
}

// startDovecot runs dovecot in the foreground (-F) as root with a
// configuration of its own: one user in a passwd-file, mail stored under
// the test's directory as nobody.
func startDovecot(t *testing.T) *dovecot {
	t.Helper()
	bin := need(t, "/usr/sbin/dovecot", "dovecot-imapd dovecot-pop3d")
	need(t, "/usr/lib/dovecot/imap", "dovecot-imapd")
	need(t, "/usr/lib/dovecot/pop3", "dovecot-pop3d")
	p := getPKI(t)
	dir := serverDir(t)
	mail := filepath.Join(dir, "mail")
	if err := mkdirs(mail); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(mail, 0o777); err != nil { // the mail user is nobody
		t.Fatal(err)
	}
	users := writeFile(t, filepath.Join(dir, "users"), mailUser+":{PLAIN}"+mailPass+"\n")
	imap, pop3 := peer.FreePort(t), peer.FreePort(t)
	d := &dovecot{imap: peer.Addr(imap), pop3: peer.Addr(pop3), log: filepath.Join(dir, "dovecot.log"),
		authSocket: filepath.Join(dir, "auth-postfix")}
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = giotls-interop-%[2]d
protocols = imap pop3
listen = 127.0.0.1
log_path = %[3]s
auth_verbose = yes
ssl = required
ssl_cert = <%[4]s
ssl_key = <%[5]s
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[6]s
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=%[7]s/%%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    port = %[8]d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[9]d
  }
  inet_listener pop3s {
    port = 0
  }
}
service auth {
  unix_listener %[10]s {
    mode = 0666
  }
}
`, dir, imap, d.log, p.certFile, p.keyFile, users, mail, imap, pop3, d.authSocket)
	cf := writeFile(t, filepath.Join(dir, "dovecot.conf"), conf)
	// dovecot's master binds every listener before it accepts on any.
	start(t, d.imap, nil, bin, "-F", "-c", cf)
	return d
}

// postfix is a running postfix: smtpd on a high port, TLS required before
// AUTH (smtpd_tls_security_level = encrypt), logins checked by dovecot.
type postfix struct {
	smtp string // host:port
	*peer.Process
}

// startPostfix runs postfix in the foreground (start-fg) with main.cf and
// master.cf of its own (no chroot), a queue under the test's directory,
// and its log on stdout (maillog_file = /dev/stdout). d answers its
// SASL requests.
func startPostfix(t *testing.T, d *dovecot) *postfix {
	t.Helper()
	bin := need(t, "/usr/sbin/postfix", "postfix")
	pu, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("postfix's user does not exist (the postfix package creates it): %v", err)
	}
	p := getPKI(t)
	dir := serverDir(t)
	conf, queue, data := filepath.Join(dir, "conf"), filepath.Join(dir, "queue"), filepath.Join(dir, "data")
	if err := mkdirs(conf, queue, data); err != nil {
		t.Fatal(err)
	}
	// postfix-script wants its data directory owned by mail_owner.
	var uid, gid int
	fmt.Sscan(pu.Uid, &uid)
	fmt.Sscan(pu.Gid, &gid)
	if err := os.Chown(data, uid, gid); err != nil {
		t.Fatal(err)
	}
	port := peer.FreePort(t)
	writeFile(t, filepath.Join(conf, "main.cf"), fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s
data_directory = %[2]s
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydestination = localhost
maillog_file = /dev/stdout
smtpd_tls_chain_files = %[3]s, %[4]s
smtpd_tls_security_level = encrypt
smtpd_tls_loglevel = 1
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = %[5]s
`, queue, data, p.keyFile, p.certFile, d.authSocket))
	// The services smtpd needs, none chrooted (the fifth column).
	writeFile(t, filepath.Join(conf, "master.cf"), strings.Join([]string{
		fmt.Sprintf("%d inet n - n - - smtpd", port),
		"cleanup unix n - n - 0 cleanup",
		"qmgr unix n - n 300 1 qmgr",
		"tlsmgr unix - - n 1000? 1 tlsmgr",
		"rewrite unix - - n - - trivial-rewrite",
		"bounce unix - - n - 0 bounce",
		"defer unix - - n - 0 bounce",
		"trace unix - - n - 0 bounce",
		"verify unix - - n - 1 verify",
		"proxymap unix - - n - - proxymap",
		"anvil unix - - n - 1 anvil",
		"scache unix - - n - 1 scache",
		"postlog unix-dgram n - n - 1 postlogd",
	}, "\n")+"\n")
	proc := start(t, peer.Addr(port), nil, bin, "-c", conf, "start-fg")
	// postfix-script starts master in a session of its own, out of the
	// process group the test kills: master is stopped by its PID file,
	// before (cleanups run last first) the group is.
	t.Cleanup(func() { stopPID(t, filepath.Join(queue, "pid", "master.pid")) })
	return &postfix{smtp: peer.Addr(port), Process: proc}
}

// prosody is a running prosody: client-to-server on a high port, TLS
// required (c2s_require_encryption), one account.
type prosody struct {
	c2s string // host:port
	*peer.Process
}

// startProsody runs prosody in the foreground as root (run_as_root) with
// a configuration and data of its own, after registering the account.
func startProsody(t *testing.T) *prosody {
	t.Helper()
	bin := need(t, "/usr/bin/prosody", "prosody")
	ctl := need(t, "/usr/bin/prosodyctl", "prosody")
	p := getPKI(t)
	dir := serverDir(t)
	data := filepath.Join(dir, "data")
	if err := mkdirs(data); err != nil {
		t.Fatal(err)
	}
	port := peer.FreePort(t)
	cf := writeFile(t, filepath.Join(dir, "prosody.cfg.lua"), fmt.Sprintf(`pidfile = "%[1]s/prosody.pid"
data_path = "%[2]s"
run_as_root = true
daemonize = false
certificates = "%[1]s"
log = { info = "*console" }
interfaces = { "127.0.0.1" }
c2s_ports = { %[3]d }
c2s_direct_tls_ports = {}
s2s_ports = {}
http_ports = {}
https_ports = {}
c2s_require_encryption = true
authentication = "internal_plain"
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "posix" }
modules_disabled = { "s2s" }
VirtualHost "localhost"
  ssl = { certificate = "%[4]s", key = "%[5]s" }
`, dir, data, port, p.certFile, p.keyFile))
	if out, err := exec.Command(ctl, "--config", cf, "register", mailUser, "localhost", mailPass).CombinedOutput(); err != nil {
		t.Fatalf("prosodyctl register: %v\n%s", err, out)
	}
	proc := start(t, peer.Addr(port), nil, bin, "--config", cf, "-F")
	return &prosody{c2s: peer.Addr(port), Process: proc}
}
