//go:build linux

package interop

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/giotls/giotls/internal/peer"
)

// nginx is a running nginx with two HTTPS servers, both speaking HTTP/1.1
// and h2: open (no client certificate asked) and mutual (a client
// certificate from the PKI's client CA required).
type nginx struct {
	open, mutual string // host:port
	errorLog     string
}

// startNginx runs nginx in the foreground (daemon off) with a
// configuration, pid file, logs and temporary files of its own. Each
// response says what nginx saw: the HTTP version, the TLS version, the
// client certificate's subject and whether the session was reused.
func startNginx(t *testing.T) *nginx {
	t.Helper()
	bin := need(t, "/usr/sbin/nginx", "nginx")
	p := getPKI(t)
	dir := serverDir(t)
	open, mutual := peer.FreePort(t), peer.FreePort(t)
	n := &nginx{open: peer.Addr(open), mutual: peer.Addr(mutual), errorLog: filepath.Join(dir, "error.log")}
	body := `return 200 "http=$server_protocol tls=$ssl_protocol client=[$ssl_client_s_dn] reused=$ssl_session_reused\n";`
	conf := fmt.Sprintf(`
pid %[1]s/nginx.pid;
error_log %[2]s info;
worker_processes 1;
events { worker_connections 64; }
http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	default_type text/plain;
	ssl_certificate %[3]s;
	ssl_certificate_key %[4]s;
	server {
		listen 127.0.0.1:%[5]d ssl http2;
		location / { %[8]s }
	}
	server {
		listen 127.0.0.1:%[6]d ssl http2;
		ssl_verify_client on;
		ssl_client_certificate %[7]s;
		location / { %[8]s }
	}
}
`, dir, n.errorLog, p.certFile, p.keyFile, open, mutual, p.clientCAFile, body)
	cf := writeFile(t, filepath.Join(dir, "nginx.conf"), conf)
	// nginx binds every listener before it accepts on any.
	start(t, n.open, nil, bin, "-p", dir, "-c", cf, "-e", n.errorLog, "-g", "daemon off;")
	return n
}
