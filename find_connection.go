package giotls

import (
	"reflect"
	"unsafe"
)

var clientConnType = reflect.TypeFor[*clientConn]()

// findClientConn finds the *clientConn that v holds: v itself, or, through
// pointers and interfaces, a struct field that embeds one, is one, or has a
// (non-empty) interface type that one satisfies. The walk is bounded, so cyclic
// structures end. Unexported fields are followed too: the pointer is read
// with reflect, never through an exported path the caller did not offer.
func findClientConn(v reflect.Value, depth int) *clientConn {
	if !v.IsValid() || depth > 8 {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if v.Type() == clientConnType {
			return (*clientConn)(unsafe.Pointer(v.Pointer()))
		}
		return findClientConn(v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return findClientConn(v.Elem(), depth+1)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			holds := f.Type == clientConnType ||
				f.Type.Kind() == reflect.Interface && f.Type.NumMethod() > 0 && clientConnType.Implements(f.Type)
			if f.Anonymous || holds {
				if c := findClientConn(v.Field(i), depth+1); c != nil {
					return c
				}
			}
		}
	}
	return nil
}
