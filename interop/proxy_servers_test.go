//go:build linux

package interop

import (
	"fmt"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/giotls/giotls/internal/peer"
)

// startTinyproxy runs tinyproxy in the foreground, an HTTP proxy that
// tunnels with CONNECT, requiring Basic credentials user:password; its
// log is its output.
func startTinyproxy(t *testing.T, user, password string) (*peer.Process, *url.URL) {
	t.Helper()
	bin := need(t, "/usr/bin/tinyproxy", "tinyproxy")
	port := peer.FreePort(t)
	conf := writeFile(t, filepath.Join(serverDir(t), "tinyproxy.conf"), fmt.Sprintf(`
User nobody
Group nogroup
Listen 127.0.0.1
Port %d
Timeout 30
MaxClients 16
LogLevel Info
Allow 127.0.0.1
BasicAuth %s %s
DisableViaHeader Yes
`, port, user, password))
	p := peer.Start(t, peer.Addr(port), bin, "-d", "-c", conf)
	return p, &url.URL{Scheme: "http", User: url.UserPassword(user, password), Host: peer.Addr(port)}
}

// startDante runs Dante's SOCKS5 server in the foreground, without
// authentication, for clients and destinations on 127.0.0.1; it logs each
// connection to its output.
func startDante(t *testing.T) (*peer.Process, *url.URL) {
	t.Helper()
	bin := need(t, "/usr/sbin/danted", "dante-server")
	port := peer.FreePort(t)
	dir := serverDir(t)
	conf := writeFile(t, filepath.Join(dir, "danted.conf"), fmt.Sprintf(`
logoutput: stderr
internal: 127.0.0.1 port = %d
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
	from: 127.0.0.1/32 to: 0.0.0.0/0
	log: connect disconnect error
}
socks pass {
	from: 127.0.0.1/32 to: 127.0.0.1/32
	command: connect
	log: connect disconnect error
}
`, port))
	p := peer.Start(t, peer.Addr(port), bin, "-f", conf, "-p", filepath.Join(dir, "danted.pid"), "-N", "1")
	return p, &url.URL{Scheme: "socks5h", Host: peer.Addr(port)}
}
