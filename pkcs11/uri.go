package pkcs11

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/giotls/giotls"
)

// Attribute is one name=value pair of a PKCS#11 URI, its value
// percent-decoded (it may hold any bytes, as "id" does).
type Attribute struct {
	Name, Value string
}

// URI is a PKCS#11 URI (RFC 7512): the path attributes select a library, a
// slot, a token and objects on it; the query attributes say how to load
// the library and log in. Attributes keep their order; each standard one
// appears at most once.
type URI struct {
	Path  []Attribute
	Query []Attribute
}

// The standard attributes (RFC 7512, section 2.3) and what checks their
// values; vendor attributes start with "x-".
var (
	pathAttributes = map[string]func(string) error{
		"token": nil, "manufacturer": nil, "serial": nil, "model": nil,
		"library-manufacturer": nil, "library-description": nil, "library-version": checkLibraryVersion,
		"slot-manufacturer": nil, "slot-description": nil, "slot-id": checkSlotID,
		"object": nil, "type": checkType, "id": nil,
	}
	queryAttributes = map[string]func(string) error{
		"pin-source": nil, "pin-value": nil, "module-name": nil, "module-path": nil,
	}
)

// uriError is the error of a URI that cannot be parsed. It does not quote
// the URI, whose query may hold a PIN.
func uriError(format string, args ...any) error {
	return tokenError(giotls.ErrorBadCertificate, nil, "invalid PKCS#11 URI: %s", fmt.Sprintf(format, args...))
}

// ParseURI parses a PKCS#11 URI as RFC 7512 writes it (an error is a
// *giotls.Error with ErrorBadCertificate):
// "pkcs11:" path attributes separated by ";", then optionally "?" and query
// attributes separated by "&", values percent-encoded (section 2.3). An
// attribute name is case-sensitive; a standard attribute appears at most
// once; a pin-source and a pin-value together are refused (section 2.3:
// which one would win is undefined). Unknown attributes (vendor ones,
// "x-...", and any other name) are kept: an unknown path attribute makes
// the URI match nothing (Match), an unknown query attribute is ignored.
func ParseURI(s string) (*URI, error) {
	const scheme = "pkcs11:"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return nil, uriError("it does not start with %q", scheme)
	}
	rest := s[len(scheme):]
	path, query, hasQuery := strings.Cut(rest, "?")
	u := &URI{}
	var err error
	if u.Path, err = parseAttributes(path, ";", pathAttributes, isPathChar); err != nil {
		return nil, err
	}
	if hasQuery {
		if u.Query, err = parseAttributes(query, "&", queryAttributes, isQueryChar); err != nil {
			return nil, err
		}
	}
	_, src := u.Get("pin-source")
	_, val := u.Get("pin-value")
	if src && val {
		return nil, uriError("it has both pin-source and pin-value")
	}
	return u, nil
}

func parseAttributes(part, sep string, known map[string]func(string) error, valid func(byte) bool) ([]Attribute, error) {
	if part == "" {
		return nil, nil
	}
	var out []Attribute
	seen := map[string]bool{}
	for _, field := range strings.Split(part, sep) {
		name, raw, ok := strings.Cut(field, "=")
		if !ok {
			if sep == "&" { // a query attribute may be a mistyped PIN
				return nil, uriError("a query attribute has no '='")
			}
			return nil, uriError("attribute %q has no '='", field)
		}
		check, standard := known[name]
		// A query attribute is named only when it is a standard one: an
		// unencoded "&" in a PIN makes the rest of the PIN look like a name.
		what := "a query attribute"
		if standard || sep == ";" {
			what = fmt.Sprintf("attribute %q", name)
		}
		if !isAttributeName(name) {
			return nil, uriError("%s is not an attribute name", what)
		}
		if standard && seen[name] {
			return nil, uriError("%s appears twice", what)
		}
		seen[name] = true
		value, err := unescape(raw, valid)
		if err != nil {
			return nil, uriError("%s: %v", what, err)
		}
		if check != nil {
			if err := check(value); err != nil {
				return nil, uriError("%s: %v", what, err)
			}
		}
		// RFC 7512 lets a path value hold "&" and "=", so a query
		// attribute written with "&" instead of "?" would become part of
		// a label, and be quoted by every error that names the object.
		if sep == ";" && (strings.Contains(value, "pin-value=") || strings.Contains(value, "pin-source=")) {
			return nil, uriError("%s holds a pin-value or pin-source: query attributes follow '?'", what)
		}
		out = append(out, Attribute{name, value})
	}
	return out, nil
}

// isAttributeName: RFC 7512's pk11-v-attr-nm-char (ALPHA, DIGIT, "-", "_"),
// at least one.
func isAttributeName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlphaNum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlphaNum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isUnreserved is RFC 3986's unreserved set.
func isUnreserved(c byte) bool { return isAlphaNum(c) || strings.IndexByte("-._~", c) >= 0 }

// isPathChar and isQueryChar are what a value may hold unencoded:
// pk11-pchar and pk11-qchar (RFC 7512, section 2.3).
func isPathChar(c byte) bool { return isUnreserved(c) || strings.IndexByte(":[]@!$'()*+,=&", c) >= 0 }
func isQueryChar(c byte) bool {
	return isUnreserved(c) || strings.IndexByte(":[]@!$'()*+,=/?|", c) >= 0
}

// unescape decodes the percent-encoding of a value, refusing characters
// the value may not hold unencoded.
func unescape(s string, valid func(byte) bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+3 > len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", fmt.Errorf("bad percent-encoding at byte %d", i)
			}
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case valid(c):
			b.WriteByte(c)
		default:
			// The character is not quoted: it may be one of a PIN's.
			return "", fmt.Errorf("the character at byte %d must be percent-encoded", i)
		}
	}
	return b.String(), nil
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func checkSlotID(v string) error {
	if _, err := strconv.ParseUint(v, 10, 0); err != nil || !isDigits(v) {
		return fmt.Errorf("%q is not a slot number", v)
	}
	return nil
}

func checkLibraryVersion(v string) error {
	major, minor, hasMinor := strings.Cut(v, ".")
	if !isDigits(major) || hasMinor && !isDigits(minor) {
		return fmt.Errorf("%q is not a version (M or M.N)", v)
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func checkType(v string) error {
	switch v {
	case "public", "private", "cert", "secret-key", "data":
		return nil
	}
	return fmt.Errorf("%q is not an object type (public, private, cert, secret-key, data)", v)
}

// Get returns the value of the named attribute, path or query, and whether
// the URI has it.
func (u *URI) Get(name string) (string, bool) {
	for _, part := range [][]Attribute{u.Path, u.Query} {
		for _, a := range part {
			if a.Name == name {
				return a.Value, true
			}
		}
	}
	return "", false
}

// unknownPath returns the first path attribute this package does not know
// (a vendor one included), "" if none.
func (u *URI) unknownPath() string {
	for _, a := range u.Path {
		if _, ok := pathAttributes[a.Name]; !ok {
			return a.Name
		}
	}
	return ""
}

// with returns a copy of u with the path attribute name set to value.
func (u *URI) with(name, value string) *URI {
	c := &URI{Path: append([]Attribute(nil), u.Path...), Query: u.Query}
	for i := range c.Path {
		if c.Path[i].Name == name {
			c.Path[i].Value = value
			return c
		}
	}
	c.Path = append(c.Path, Attribute{name, value})
	return c
}

// String writes u back as a URI that ParseURI reads as u: every byte
// outside RFC 3986's unreserved set percent-encoded, and all of "id" (RFC
// 7512, section 2.3, recommends it for binary values). A pin-value is
// written as it is: do not log the result.
func (u *URI) String() string {
	var b strings.Builder
	b.WriteString("pkcs11:")
	write := func(attrs []Attribute, sep byte) {
		for i, a := range attrs {
			if i > 0 {
				b.WriteByte(sep)
			}
			b.WriteString(a.Name)
			b.WriteByte('=')
			for j := 0; j < len(a.Value); j++ {
				c := a.Value[j]
				if isUnreserved(c) && a.Name != "id" {
					b.WriteByte(c)
				} else {
					fmt.Fprintf(&b, "%%%02X", c)
				}
			}
		}
	}
	write(u.Path, ';')
	if len(u.Query) > 0 {
		b.WriteByte('?')
		write(u.Query, '&')
	}
	return b.String()
}
