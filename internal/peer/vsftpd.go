package peer

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// VsftpdOptions configure StartVsftpd.
type VsftpdOptions struct {
	// CertFile and KeyFile are the server's certificate chain and key, in
	// PEM (vsftpd's rsa_cert_file takes ECDSA keys too).
	CertFile, KeyFile string
	// Implicit makes vsftpd speak TLS from the first byte (ftps://,
	// implicit_ssl=YES) instead of waiting for AUTH TLS.
	Implicit bool
	// MaxTLS12 caps the server at TLS 1.2. vsftpd 3.0.3 has no key for it
	// (ssl_tlsv1_2 and friends are unknown and make it refuse to start), so
	// it is done through OpenSSL's own configuration: OPENSSL_CONF pointing
	// to a file whose system_default section says MaxProtocol = TLSv1.2.
	MaxTLS12 bool
	// NoSessionTickets makes OpenSSL issue no session tickets (Options =
	// -SessionTicket, through OPENSSL_CONF as MaxTLS12): TLS 1.2 sessions
	// then resume by session ID only, as proftpd's mod_tls with
	// TLSSessionTickets off.
	NoSessionTickets bool
	// Extra lines are appended to the configuration as they are.
	Extra []string
}

// Vsftpd is a running vsftpd.
type Vsftpd struct {
	*Process
	Port int
	// Root is the anonymous root (anon_root): owned by root, readable by
	// everyone, writable by nobody else. Tests put the files to download
	// here.
	Root string
	// Upload is Root's subdirectory "upload", where anonymous users may
	// store files (anon_upload_enable) and nothing else.
	Upload string
}

// StartVsftpd runs vsftpd in the foreground on 127.0.0.1 with TLS required
// for logins and data (force_anon_*_ssl, force_local_*_ssl), anonymous
// access to a fresh Root, anonymous uploads to Root/upload, and
// require_ssl_reuse=YES: a data connection that does not resume the control
// connection's TLS session is refused with "522 SSL connection failed:
// session reuse required", and the session ends.
//
// vsftpd must run as root: it chroots into Root. Passive data ports are
// left to the kernel (pasv_min_port=0), so that parallel servers never
// collide; pasv_address is 127.0.0.1 for PASV replies.
func StartVsftpd(tb testing.TB, o VsftpdOptions) *Vsftpd {
	tb.Helper()
	Need(tb, "vsftpd")
	if _, err := user.Lookup("ftp"); err != nil {
		tb.Fatalf("vsftpd's anonymous user \"ftp\" does not exist (Debian's vsftpd package creates it: apt-get install --reinstall vsftpd): %v", err)
	}
	if os.Geteuid() != 0 {
		tb.Fatalf("vsftpd must be started as root (it chroots into the anonymous root); run the tests as root")
	}
	dir := tb.TempDir()
	// t.TempDir's directories are 0700; vsftpd changes into its directories
	// as root, so only the directories it serves need wider modes.
	root := filepath.Join(dir, "root")
	upload := filepath.Join(root, "upload")
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{root, upload, empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	// Writable by the anonymous user (ftp_username=ftp, the account
	// Debian's vsftpd package creates with its home /srv/ftp, which vsftpd
	// changes into before anon_root) and by anyone: a test directory.
	if err := os.Chmod(upload, 0o777); err != nil {
		tb.Fatal(err)
	}
	port := FreePort(tb)
	lines := []string{
		"listen=YES",
		"listen_ipv6=NO",
		"listen_address=127.0.0.1",
		fmt.Sprintf("listen_port=%d", port),
		"background=NO",
		"seccomp_sandbox=NO",
		"isolate=NO",
		"isolate_network=NO",
		"secure_chroot_dir=" + empty,
		"ftp_username=ftp",
		"nopriv_user=nobody",
		"anonymous_enable=YES",
		"anon_root=" + root,
		"no_anon_password=NO",
		"local_enable=NO",
		"write_enable=YES",
		"anon_upload_enable=YES",
		"anon_mkdir_write_enable=NO",
		"anon_other_write_enable=NO",
		"anon_umask=022",
		"pasv_enable=YES",
		"pasv_address=127.0.0.1",
		"pasv_min_port=0",
		"pasv_max_port=0",
		"connect_from_port_20=NO",
		"ssl_enable=YES",
		"allow_anon_ssl=YES",
		"force_anon_logins_ssl=YES",
		"force_anon_data_ssl=YES",
		"force_local_logins_ssl=YES",
		"force_local_data_ssl=YES",
		"require_ssl_reuse=YES",
		"ssl_request_cert=NO",
		"ssl_sslv2=NO",
		"ssl_sslv3=NO",
		// vsftpd 3.0.3's default is DES-CBC3-SHA, which neither OpenSSL 3
		// nor crypto/tls enables any more; TLS 1.3 suites are not set here.
		"ssl_ciphers=HIGH",
		"rsa_cert_file=" + o.CertFile,
		"rsa_private_key_file=" + o.KeyFile,
		"xferlog_enable=NO",
		"log_ftp_protocol=NO",
		"dual_log_enable=NO",
		"vsftpd_log_file=" + filepath.Join(dir, "vsftpd.log"),
		"use_localtime=NO",
		"idle_session_timeout=60",
		"data_connection_timeout=30",
	}
	if o.Implicit {
		lines = append(lines, "implicit_ssl=YES")
	}
	lines = append(lines, o.Extra...)
	conf := filepath.Join(dir, "vsftpd.conf")
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	var env []string
	if o.MaxTLS12 || o.NoSessionTickets {
		sslConf := filepath.Join(dir, "openssl.cnf")
		settings := []string{
			"openssl_conf = giotls_test",
			"[giotls_test]",
			"ssl_conf = giotls_ssl",
			"[giotls_ssl]",
			"system_default = giotls_system_default",
			"[giotls_system_default]",
		}
		if o.MaxTLS12 {
			settings = append(settings, "MaxProtocol = TLSv1.2")
		}
		if o.NoSessionTickets {
			settings = append(settings, "Options = -SessionTicket")
		}
		text := strings.Join(settings, "\n") + "\n"
		if err := os.WriteFile(sslConf, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
		env = append(env, "OPENSSL_CONF="+sslConf)
	}
	p := StartEnv(tb, Addr(port), env, "vsftpd", conf)
	return &Vsftpd{Process: p, Port: port, Root: root, Upload: upload}
}
