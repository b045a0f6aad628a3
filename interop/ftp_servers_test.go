//go:build linux

package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/peer"
)

// ftpServer is a running FTPS server (explicit TLS, AUTH TLS) and what the
// tests need to know of it.
type ftpServer struct {
	addr       string // host:port
	version    string // of the data connections: "TLS 1.3", "TLS 1.2"
	user, pass string // "" user: anonymous
	// root is the local directory the login lands in; files to download
	// are put there.
	root string
	// upload is the FTP path of a writable directory ("" or "upload/"),
	// uploadDir its local path.
	upload, uploadDir string
	// log reads the server's own log ("" where it has none).
	log func() string
	// reused and refused count the data connections the log shows resumed
	// and refused for not resuming; nil when the log does not say.
	reused, refused func(log string) int
	// refuses is set when the server is known to refuse every data
	// connection of today's giotls: the server's log line saying why.
	refuses string
}

// startVsftpd runs vsftpd (internal/peer: require_ssl_reuse=YES) with
// debug_ssl, whose log line for each TLS session says "reused" or "not
// reused".
func startVsftpd(t *testing.T, maxTLS12 bool) *ftpServer {
	t.Helper()
	need(t, "/usr/sbin/vsftpd", "vsftpd")
	p := getPKI(t)
	dir := serverDir(t)
	log := filepath.Join(dir, "vsftpd.log")
	v := peer.StartVsftpd(t, peer.VsftpdOptions{CertFile: p.certFile, KeyFile: p.keyFile, MaxTLS12: maxTLS12,
		// Later lines win over internal/peer's.
		Extra: []string{"xferlog_enable=YES", "xferlog_std_format=NO", "debug_ssl=YES", "vsftpd_log_file=" + log}})
	return &ftpServer{
		addr: v.Addr, version: tlsVersion(maxTLS12), root: v.Root, upload: "upload/", uploadDir: v.Upload,
		log: func() string { return readLog(log) },
		// The data connections' lines come after the login ("[user]").
		reused: func(s string) int { return strings.Count(s, ", reused, ") },
		refused: func(s string) int {
			n := 0
			for _, l := range strings.Split(s, "\n") {
				if strings.Contains(l, "] [") && strings.Contains(l, ", not reused, ") {
					n++
				}
			}
			return n
		},
	}
}

// proftpdVariant is a mod_tls configuration.
type proftpdVariant struct {
	name    string
	version string
	lines   []string // added to the <IfModule mod_tls.c> section
	// refuses: the TLSLog line when today's giotls is refused.
	refuses string
}

var proftpdVariants = []proftpdVariant{
	// mod_tls's own default with OpenSSL 3: TLS 1.3, whose resumption is by
	// ticket.
	{name: "TLS 1.3 (mod_tls default)", version: "TLS 1.3"},
	{name: "TLS 1.2, TLSSessionTickets on", version: "TLS 1.2", lines: []string{"TLSProtocol TLSv1.2", "TLSSessionTickets on"}},
	// As Debian's tls.conf template has it: TLS 1.2, tickets off (the
	// default), session reuse required (the default). crypto/tls resumes
	// TLS 1.2 only with tickets (issue 14, point 2).
	{name: "TLS 1.2, as shipped", version: "TLS 1.2", lines: []string{"TLSProtocol TLSv1.2"},
		refuses: "client did not reuse TLS session, rejecting data connection"},
}

// startProftpd runs proftpd (unpacked, with mod_tls from
// proftpd-mod-crypto) in the foreground (-n) as root, one virtual user in
// an AuthUserFile, TLS required, and a TLSLog.
func startProftpd(t *testing.T, v proftpdVariant) *ftpServer {
	t.Helper()
	root := unpackRoot()
	bin := need(t, filepath.Join(root, "proftpd-core/usr/sbin/proftpd"), "proftpd-core")
	mods := filepath.Join(root, "proftpd-mod-crypto/usr/lib/proftpd")
	if _, err := os.Stat(filepath.Join(mods, "mod_tls.so")); err != nil {
		t.Fatalf("proftpd's mod_tls is missing (apt-get download proftpd-mod-crypto && dpkg-deb -x proftpd-mod-crypto_*.deb %s; scripts/test does it): %v",
			filepath.Join(root, "proftpd-mod-crypto"), err)
	}
	p := getPKI(t)
	dir := serverDir(t)
	home := filepath.Join(dir, "home")
	if err := mkdirs(home); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o777); err != nil { // the user is nobody
		t.Fatal(err)
	}
	// mod_auth_file refuses a world-readable AuthUserFile.
	users := filepath.Join(dir, "passwd")
	if err := os.WriteFile(users, []byte(fmt.Sprintf("%s:%s:65534:65534::%s:/bin/sh\n", mailUser, cryptHash(t, mailPass), home)), 0o600); err != nil {
		t.Fatal(err)
	}
	groups := writeFile(t, filepath.Join(dir, "group"), "nogroup:x:65534:\n")
	port := peer.FreePort(t)
	tlsLog := filepath.Join(dir, "tls.log")
	conf := fmt.Sprintf(`ServerType standalone
ServerName "giotls interop"
Port %[1]d
DefaultAddress 127.0.0.1
SocketBindTight on
UseIPv6 off
User nobody
Group nogroup
PidFile %[2]s/proftpd.pid
ScoreboardFile %[2]s/proftpd.scoreboard
DelayTable none
WtmpLog off
UseReverseDNS off
RequireValidShell off
AuthOrder mod_auth_file.c
AuthUserFile %[3]s
AuthGroupFile %[4]s
SystemLog %[2]s/proftpd.log
DefaultRoot ~
ModulePath %[5]s
LoadModule mod_tls.c
<IfModule mod_tls.c>
TLSEngine on
TLSLog %[6]s
TLSRequired on
TLSECCertificateFile %[7]s
TLSECCertificateKeyFile %[8]s
TLSVerifyClient off
%[9]s
</IfModule>
<Directory />
  AllowOverwrite on
</Directory>
`, port, dir, users, groups, mods, tlsLog, p.certFile, p.keyFile, strings.Join(v.lines, "\n"))
	cf := writeFile(t, filepath.Join(dir, "proftpd.conf"), conf)
	start(t, peer.Addr(port), nil, bin, "-n", "-c", cf)
	return &ftpServer{
		addr: peer.Addr(port), user: mailUser, pass: mailPass, root: home, uploadDir: home,
		log:    func() string { return readLog(tlsLog) },
		reused: func(s string) int { return strings.Count(s, "client reused TLS session for data connection") },
		refused: func(s string) int {
			return strings.Count(s, "client did not reuse TLS session, rejecting data connection")
		},
		refuses: v.refuses,
	}
}

// startPureFtpd runs pure-ftpd (unpacked) in the foreground as root, TLS
// required on the control connection (-Y 2), one virtual user in a PureDB.
// pure-ftpd logs only to syslog, which a test cannot own without taking
// /dev/log from the whole machine: resumption is read on the client side.
//
// pure-ftpd has no setting for the TLS versions: maxTLS12 caps it through
// OpenSSL's configuration (OPENSSL_CONF), as internal/peer does vsftpd.
func startPureFtpd(t *testing.T, maxTLS12 bool) *ftpServer {
	t.Helper()
	root := unpackRoot()
	bin := need(t, filepath.Join(root, "pure-ftpd/usr/sbin/pure-ftpd"), "pure-ftpd")
	pw := need(t, filepath.Join(root, "pure-ftpd/usr/bin/pure-pw"), "pure-ftpd")
	p := getPKI(t)
	dir := serverDir(t)
	home := filepath.Join(dir, "home")
	if err := mkdirs(home); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o777); err != nil {
		t.Fatal(err)
	}
	// pure-pw useradd hashes with argon2id at t=127, about 4 s a login
	// here; pure-ftpd takes crypt(3) hashes as well. The home ends in /./
	// to chroot the user there.
	db := filepath.Join(dir, "pureftpd.pdb")
	users := filepath.Join(dir, "pureftpd.passwd")
	if err := os.WriteFile(users, []byte(fmt.Sprintf("%s:%s:65534:65534::%s/./::::::::::::\n", mailUser, cryptHash(t, mailPass), home)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pw, "mkdb", db, "-f", users).CombinedOutput(); err != nil {
		t.Fatalf("pure-pw mkdb: %v\n%s", err, out)
	}
	var env []string
	if maxTLS12 {
		env = []string{"OPENSSL_CONF=" + writeFile(t, filepath.Join(dir, "openssl.cnf"), strings.Join([]string{
			"openssl_conf = giotls_interop",
			"[giotls_interop]",
			"ssl_conf = giotls_ssl",
			"[giotls_ssl]",
			"system_default = giotls_system_default",
			"[giotls_system_default]",
			"MaxProtocol = TLSv1.2",
		}, "\n")+"\n")}
	}
	port := peer.FreePort(t)
	start(t, peer.Addr(port), env, bin, "-S", fmt.Sprintf("127.0.0.1,%d", port), "-Y", "2",
		"-2", p.certFile+","+p.keyFile, "-l", "puredb:"+db, "-E", "-H", "-g", filepath.Join(dir, "pure-ftpd.pid"))
	return &ftpServer{addr: peer.Addr(port), version: tlsVersion(maxTLS12), user: mailUser, pass: mailPass, root: home, uploadDir: home}
}

// cryptHash returns a crypt(3) SHA-256 hash of password (openssl passwd -5).
func cryptHash(t *testing.T, password string) string {
	t.Helper()
	hash, err := exec.Command(need(t, "/usr/bin/openssl", "openssl"), "passwd", "-5", password).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(hash))
}

func tlsVersion(maxTLS12 bool) string {
	if maxTLS12 {
		return "TLS 1.2"
	}
	return "TLS 1.3"
}
