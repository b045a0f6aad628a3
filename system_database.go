package giotls

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Where crypto/x509 looks for the system's trust anchors on Linux
// (crypto/x509/root_linux.go); SSL_CERT_FILE and SSL_CERT_DIR override them.
var (
	systemCertFiles = []string{
		"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
		"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
		"/etc/ssl/ca-bundle.pem",                            // OpenSUSE
		"/etc/pki/tls/cacert.pem",                           // OpenELEC
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
		"/etc/ssl/cert.pem",                                 // Alpine
	}
	systemCertDirs = []string{
		"/etc/ssl/certs",     // SLES 10, SLES 11
		"/etc/pki/tls/certs", // Fedora, RHEL
	}
)

// platformTrust is whether SystemDatabase defers trust to crypto/x509's
// platform verifier: on macOS (the keychains, enterprise roots included)
// and Windows (CryptoAPI), where the system's anchors are not files.
const platformTrust = runtime.GOOS == "darwin" || runtime.GOOS == "windows"

var system struct {
	once sync.Once
	db   Database
	err  error
}

// SystemDatabase returns the database of the system's trust anchors, loaded
// once per process from where crypto/x509 finds them on Linux: the file
// SSL_CERT_FILE or the first bundle of the usual ones that exists, plus the
// files of the directories in SSL_CERT_DIR (colon-separated) or the usual
// ones. On macOS and Windows, trust is the platform's, through crypto/x509's
// platform verifier (Verify with no Roots: the keychains, CryptoAPI): a
// chain the platform trusts gets no unknown-ca, and the other flags still
// come from the checks on what the server sent (trusted, but not for the
// purpose, is generic-error); the platform is asked every time, as its
// trust may change while the process runs; a chain the platform
// refuses gets no less than the flag its refusal maps to (see NewDatabase).
// There the files above serve only the lookups, as crypto/x509 ignores
// them too. The same database is returned every time, as GIO's default database
// is a singleton. A system without anchors gives a database that trusts
// nothing; only an SSL_CERT_FILE that is set but unreadable is an error.
func SystemDatabase() (Database, error) {
	system.once.Do(func() {
		system.db, system.err = loadSystemDatabase()
	})
	return system.db, system.err
}

func loadSystemDatabase() (Database, error) {
	var anchors []*x509.Certificate
	files := systemCertFiles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		if _, err := os.Stat(f); err != nil {
			return nil, newError(ErrorUnavailable, err, "SSL_CERT_FILE is unusable")
		}
		files = []string{f}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		anchors = append(anchors, pemCertificates(data)...)
		break
	}
	dirs := systemCertDirs
	if d, ok := os.LookupEnv("SSL_CERT_DIR"); ok {
		dirs = strings.Split(d, ":")
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			// Hash-named links (c_rehash) point at files read anyway.
			if e.Type()&os.ModeSymlink != 0 && sameDirSymlink(dir, e.Name()) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			anchors = append(anchors, pemCertificates(data)...)
		}
	}
	// NewStore drops the duplicates of the bundle and the directories.
	db := newStoreDatabase(anchors, nil, "system", platformTrust)
	db.handles = newHandles(systemHandlePrefix, db.store.Anchors())
	return db, nil
}

// sameDirSymlink reports whether dir/name is a symbolic link to a file in
// dir, as crypto/x509 skips them.
func sameDirSymlink(dir, name string) bool {
	target, err := os.Readlink(filepath.Join(dir, name))
	return err == nil && !strings.Contains(target, "/")
}

// pemCertificates returns the certificates of data that parse, skipping
// the others, as a trust store shared with other software may hold some
// that crypto/x509 refuses.
func pemCertificates(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for block := range pemBlocks(data) {
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, c)
		}
	}
	return out
}
