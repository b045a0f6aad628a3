//go:build linux

package interop

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/giotls/giotls/internal/peer"
)

// slapd is a running OpenLDAP server with one empty database whose root DN
// can bind with a password, over ldap:// (StartTLS) and ldaps://.
type slapd struct {
	ldap, ldaps  string // host:port
	rootDN, pass string
	log          *peer.Process // slapd logs to stderr (-d stats)
}

// startSlapd runs slapd in the foreground (-d) as root, with a slapd.conf
// and an mdb database in a directory of its own.
func startSlapd(t *testing.T) *slapd {
	t.Helper()
	bin := need(t, "/usr/sbin/slapd", "slapd")
	p := getPKI(t)
	dir := serverDir(t)
	db := filepath.Join(dir, "db")
	if err := mkdirs(db); err != nil {
		t.Fatal(err)
	}
	s := &slapd{ldap: peer.Addr(peer.FreePort(t)), ldaps: peer.Addr(peer.FreePort(t)),
		rootDN: "cn=admin,dc=example,dc=org", pass: "interop-secret"}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
pidfile %[1]s/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile %[2]s
TLSCertificateKeyFile %[3]s
database mdb
maxsize 10485760
suffix "dc=example,dc=org"
rootdn "%[4]s"
rootpw %[5]s
directory %[6]s
`, dir, p.certFile, p.keyFile, s.rootDN, s.pass, db)
	cf := writeFile(t, filepath.Join(dir, "slapd.conf"), conf)
	urls := "ldap://" + s.ldap + "/ ldaps://" + s.ldaps + "/"
	// -d stats keeps slapd in the foreground and logs each operation and
	// each TLS session ("TLS established tls_ssf=...") to stderr.
	s.log = start(t, s.ldap, nil, bin, "-d", "stats", "-f", cf, "-h", urls)
	return s
}
