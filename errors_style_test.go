package giotls

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// goStyle reports whether msg starts as Go error strings do: lower case,
// unless its first word is an acronym or a name ("TLS", "PEM").
func goStyle(msg string) bool {
	word, _, _ := strings.Cut(msg, " ")
	word = strings.TrimRight(word, ":,")
	if word == "" {
		return true
	}
	r := []rune(word)
	return !unicode.IsUpper(r[0]) || strings.ToUpper(word) == word
}

// TestErrorsAreGiotlsErrors checks that every sentinel, the channel-binding
// ones included, is a *Error in Go's message style ("giotls: " and lower
// case), and that each channel-binding sentinel matches only itself.
func TestErrorsAreGiotlsErrors(t *testing.T) {
	bindings := []error{ErrBindingNotImplemented, ErrBindingInvalidState, ErrBindingNotAvailable, ErrBindingNotSupported, ErrBindingGeneral}
	all := append([]error{ErrUnavailable, ErrMisc, ErrBadCertificate, ErrNotTLS, ErrHandshake,
		ErrCertificateRequired, ErrEOF, ErrInappropriateFallback, ErrBadCertificatePassword}, bindings...)
	for _, err := range all {
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q is a %T, not a *Error", err, err)
			continue
		}
		msg, ok := strings.CutPrefix(err.Error(), "giotls: ")
		if !ok || !goStyle(msg) {
			t.Errorf("%q: want \"giotls: \" and a lower-case message", err)
		}
	}
	for i, a := range bindings {
		for j, b := range bindings {
			if got := errors.Is(a, b); got != (i == j) {
				t.Errorf("errors.Is(%q, %q) = %v", a, b, got)
			}
		}
		if errors.Is(a, ErrBadCertificate) {
			t.Errorf("%q matches ErrBadCertificate", a)
		}
	}
}

// TestErrorMessagesInGoStyle reads the library's source: every message given
// to newError or an Error literal starts as Go's error strings do.
func TestErrorMessagesInGoStyle(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		check := func(lit ast.Expr) {
			bl, ok := lit.(*ast.BasicLit)
			if !ok || bl.Kind != token.STRING {
				return
			}
			s, err := strconv.Unquote(bl.Value)
			if err == nil && !goStyle(s) {
				t.Errorf("%s: message %q is not in Go's style", fset.Position(bl.Pos()), s)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "newError" || id.Name == "bindingError") && len(n.Args) >= 3 {
					check(n.Args[2])
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Message" {
					check(n.Value)
				}
			}
			return true
		})
	}
}
