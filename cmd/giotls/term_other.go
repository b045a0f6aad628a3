//go:build !linux

package main

import "os"

// isTerminal reports whether f is a character device, the best guess
// without a terminal library.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// withoutEcho runs f; turning echo off is only implemented on Linux.
func withoutEcho(_ *os.File, f func() error) error { return f() }
