package pkcs11

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/giotls/giotls"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		in    string
		path  []Attribute
		query []Attribute
		err   string // a part of the error; "" for none
	}{
		{in: "pkcs11:"},
		{in: "PKCS11:token=a", path: []Attribute{{"token", "a"}}},
		// RFC 7512, section 3's examples.
		{in: "pkcs11:object=my-pubkey;type=public", path: []Attribute{{"object", "my-pubkey"}, {"type", "public"}}},
		{in: "pkcs11:object=my-key;type=private?pin-source=file:/etc/token",
			path: []Attribute{{"object", "my-key"}, {"type", "private"}}, query: []Attribute{{"pin-source", "file:/etc/token"}}},
		{in: "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin",
			path: []Attribute{{"token", "The Software PKCS#11 Softtoken"}, {"manufacturer", "Snake Oil, Inc."}, {"model", "1.0"},
				{"object", "my-certificate"}, {"type", "cert"}, {"id", "\x69\x95\x3e\x5c\xf4\xbd\xec\x91"}, {"serial", ""}},
			query: []Attribute{{"pin-source", "file:/etc/token_pin"}}},
		{in: "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11",
			path: []Attribute{{"object", "my-sign-key"}, {"type", "private"}}, query: []Attribute{{"module-name", "mypkcs11"}}},
		{in: "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1",
			path: []Attribute{{"object", "my-sign-key"}, {"type", "private"}}, query: []Attribute{{"module-path", "/mnt/libmypkcs11.so.1"}}},
		{in: "pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin",
			path:  []Attribute{{"token", "Software PKCS#11 softtoken"}, {"manufacturer", "Snake Oil, Inc."}},
			query: []Attribute{{"pin-value", "the-pin"}}},
		{in: "pkcs11:slot-description=Sun%20Metaslot", path: []Attribute{{"slot-description", "Sun Metaslot"}}},
		{in: "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token%20Library;library-version=1.23",
			path: []Attribute{{"library-manufacturer", "Snake Oil, Inc."}, {"library-description", "Soft Token Library"}, {"library-version", "1.23"}}},
		{in: "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
			path: []Attribute{{"token", "A name with a substring %;"}, {"object", "my-certificate"}, {"type", "cert"}}},
		{in: "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;object=my-certificate;type=cert",
			path: []Attribute{{"token", "Name with a small A with acute: á"}, {"object", "my-certificate"}, {"type", "cert"}}},
		{in: "pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a?pin-source=file:/etc/token_pin&vendor-bbb=value-b",
			path:  []Attribute{{"token", "my-token"}, {"object", "my-certificate"}, {"type", "cert"}, {"vendor-aaa", "value-a"}},
			query: []Attribute{{"pin-source", "file:/etc/token_pin"}, {"vendor-bbb", "value-b"}}},
		{in: "pkcs11:slot-id=7;x-vendor=a&b", path: []Attribute{{"slot-id", "7"}, {"x-vendor", "a&b"}}},
		{in: "pkcs11:x-a=1;x-a=2", path: []Attribute{{"x-a", "1"}, {"x-a", "2"}}}, // only standard ones are unique
		{in: "pkcs11:library-version=3", path: []Attribute{{"library-version", "3"}}},
		{in: "pkcs11:?module-path=/a/b?c", query: []Attribute{{"module-path", "/a/b?c"}}},

		{in: "pkcs12:token=a", err: "does not start with"},
		{in: "token=a", err: "does not start with"},
		{in: "pkcs11:token", err: "has no '='"},
		{in: "pkcs11:token=a;token=b", err: `"token" appears twice`},
		{in: "pkcs11:?pin-value=1&pin-value=2", err: `"pin-value" appears twice`},
		{in: "pkcs11:?pin-value=1&pin-source=/f", err: "both pin-source and pin-value"},
		{in: "pkcs11:token=a b", err: "must be percent-encoded"},
		{in: "pkcs11:object=a/b", err: "must be percent-encoded"},
		{in: "pkcs11:id=%6", err: "bad percent-encoding"},
		{in: "pkcs11:id=%zz", err: "bad percent-encoding"},
		{in: "pkcs11:id=%+1", err: "bad percent-encoding"},
		{in: "pkcs11:slot-id=-1", err: "not a slot number"},
		{in: "pkcs11:slot-id=+1", err: "not a slot number"},
		{in: "pkcs11:slot-id=99999999999999999999999", err: "not a slot number"},
		{in: "pkcs11:library-version=1.x", err: "not a version"},
		{in: "pkcs11:type=key", err: "not an object type"},
		{in: "pkcs11:=a", err: "not an attribute name"},
		{in: "pkcs11:to%6Ben=a", err: "not an attribute name"},
		{in: "pkcs11:token=a;", err: "has no '='"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			u, err := ParseURI(tc.in)
			if tc.err != "" {
				var ge *giotls.Error
				if !errors.As(err, &ge) || ge.Code != giotls.ErrorBadCertificate || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseURI = %v, %v; want a bad-certificate *giotls.Error with %q", u, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(u.Path, tc.path) || !reflect.DeepEqual(u.Query, tc.query) {
				t.Errorf("ParseURI = %q ? %q, want %q ? %q", u.Path, u.Query, tc.path, tc.query)
			}
			again, err := ParseURI(u.String())
			if err != nil || !reflect.DeepEqual(again, u) {
				t.Errorf("String() = %q parses as %v, %v", u.String(), again, err)
			}
		})
	}
}

// TestURIErrorHidesPIN: the error of a URI that cannot be parsed never
// shows its query's values, which may be a PIN.
func TestURIErrorHidesPIN(t *testing.T) {
	for _, uri := range []string{
		"pkcs11:token=a b?pin-value=s3cret",
		"pkcs11:?pin-value=s3cret&pin-value=s3cret",
		"pkcs11:?pin%2Dvalue=s3cret",
		"pkcs11:?pin-value:s3cret",
		"pkcs11:?pin-value=s3cret&pin-source=/f",
	} {
		if _, err := ParseURI(uri); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseURI(%q) error = %v, want one without the PIN", uri, err)
		}
	}
}

func TestURIString(t *testing.T) {
	u := &URI{Path: []Attribute{{"token", "My Token;1"}, {"id", "ab"}}, Query: []Attribute{{"module-path", "/usr/lib/x.so"}}}
	if got, want := u.String(), "pkcs11:token=My%20Token%3B1;id=%61%62?module-path=%2Fusr%2Flib%2Fx.so"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// FuzzParseURI: ParseURI never panics, and what it accepts is written back
// by String as a URI that parses to the same attributes.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"pkcs11:", "pkcs11:token=a;object=b;type=cert;id=%01%02?module-path=/x&pin-value=1",
		"pkcs11:slot-id=1;library-version=2.3;x-v=%00", "pkcs11:?pin-source=file:/p&x-q=a?b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			if !errors.Is(err, giotls.ErrBadCertificate) {
				t.Fatalf("ParseURI error %v is not ErrBadCertificate", err)
			}
			return
		}
		again, err := ParseURI(u.String())
		if err != nil {
			t.Fatalf("String() = %q does not parse: %v", u.String(), err)
		}
		if !reflect.DeepEqual(again, u) {
			t.Fatalf("round trip: %v, then %v", u, again)
		}
	})
}
