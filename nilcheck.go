package giotls

import "reflect"

// isNilPointer reports whether v is an interface holding a nil pointer,
// which would panic when a method is called on it.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return rv.IsNil()
	}
	return false
}
