package giotls

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// rfc4514Attribute is one attribute of a parsed RFC 4514 string: its type
// as written (a keyword or a dotted OID) and its value, unescaped for the
// string form or decoded for the "#" hex form (then hex is true).
type rfc4514Attribute struct {
	typ   string
	value []byte
	hex   bool
}

// parseRFC4514 parses s strictly as RFC 4514, section 3 writes it: RDNs
// separated by ',' and their attributes by '+', each TYPE=VALUE, the
// value either '#' and hex (the BER of the value) or a string in which
// '"', '+', ',', ';', '<', '>', '\\', NUL, a leading ' ' or '#' and a
// trailing ' ' are escaped with '\' (section 2.4). It exists to check
// FormatDN's output without FormatDN's own code: an empty RDN, which X.501
// does not allow and RFC 4514 cannot write, reads back as no attributes.
func parseRFC4514(s string) ([][]rfc4514Attribute, error) {
	if s == "" {
		return nil, nil
	}
	var rdns [][]rfc4514Attribute
	for _, rdn := range splitUnescaped(s, ',') {
		var attrs []rfc4514Attribute
		if rdn != "" {
			for _, atv := range splitUnescaped(rdn, '+') {
				a, err := parseRFC4514Attribute(atv)
				if err != nil {
					return nil, fmt.Errorf("%q: %v", atv, err)
				}
				attrs = append(attrs, a)
			}
		}
		rdns = append(rdns, attrs)
	}
	return rdns, nil
}

// splitUnescaped splits s at each sep that no '\' escapes.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func parseRFC4514Attribute(atv string) (rfc4514Attribute, error) {
	typ, v, ok := strings.Cut(atv, "=")
	if !ok || typ == "" {
		return rfc4514Attribute{}, fmt.Errorf("no TYPE=")
	}
	if strings.HasPrefix(v, "#") {
		b, err := hex.DecodeString(v[1:])
		if err != nil || len(b) == 0 {
			return rfc4514Attribute{}, fmt.Errorf("bad hex value")
		}
		return rfc4514Attribute{typ: typ, value: b, hex: true}, nil
	}
	if strings.HasPrefix(v, " ") {
		return rfc4514Attribute{}, fmt.Errorf("unescaped leading space")
	}
	var out []byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			if i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
				b, _ := hex.DecodeString(v[i+1 : i+3])
				out = append(out, b[0])
				i += 2
				continue
			}
			if i+1 >= len(v) || !strings.ContainsRune(" \"#+,;<=>\\", rune(v[i+1])) {
				return rfc4514Attribute{}, fmt.Errorf("bad escape at %d", i)
			}
			i++
			out = append(out, v[i])
		case strings.IndexByte("\"+,;<>\x00", c) >= 0:
			return rfc4514Attribute{}, fmt.Errorf("unescaped %q at %d", c, i)
		case c == ' ' && i == len(v)-1:
			return rfc4514Attribute{}, fmt.Errorf("unescaped trailing space")
		default:
			out = append(out, c)
		}
	}
	return rfc4514Attribute{typ: typ, value: out}, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
