//go:build linux

package interop

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// fatalTB records the message of a Fatalf and stops the caller there.
type fatalTB struct {
	testing.TB
	msg string
}

type fatalStop struct{}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatalStop{})
}

// callNeed runs need with a TB that records its failure.
func callNeed(t *testing.T, path, pkg string) (msg string) {
	f := &fatalTB{TB: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(fatalStop); !ok {
				panic(r)
			}
			msg = f.msg
		}
	}()
	need(f, path, pkg)
	return ""
}

// TestMissingServerFails: a server program that is not there fails the
// test, naming the package and how to get it; it is never skipped.
func TestMissingServerFails(t *testing.T) {
	for _, c := range []struct{ path, pkg, want string }{
		{"/usr/sbin/no-such-giotls-server", "no-such-package", "apt-get install -y no-such-package"},
		{filepath.Join(unpackRoot(), "no-such-package/usr/sbin/x"), "no-such-package", "apt-get download no-such-package && dpkg-deb -x"},
		{t.TempDir(), "a-directory", "apt-get install -y a-directory"},
	} {
		msg := callNeed(t, c.path, c.pkg)
		if !strings.Contains(msg, c.path) || !strings.Contains(msg, c.want) || !strings.Contains(msg, "scripts/test") {
			t.Errorf("need(%s) failed with %q; want the path, %q and scripts/test", c.path, msg, c.want)
		}
	}
}
