package giotls

import (
	"bytes"
	"runtime"
	"strconv"
)

// goroutineID returns the running goroutine's number, parsed from its stack
// header ("goroutine 42 [running]:"). It is used only to tell whether a call
// comes from inside a handshake callback, on a contended path, never for
// scheduling or storage.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
