package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagGroup is a heading and the flags under it, in the order shown.
type flagGroup struct {
	title string
	names []string
}

// printFlags writes fs's flags under their headings, GNU style:
// "  --name ARG   what it does".
func printFlags(w io.Writer, fs *flag.FlagSet, groups []flagGroup) {
	type row struct{ left, usage string }
	var rows [][]row
	width := 0
	for _, g := range groups {
		var rs []row
		for _, name := range g.names {
			f := fs.Lookup(name)
			if f == nil {
				panic("printFlags: no flag " + name)
			}
			arg, usage := flag.UnquoteUsage(f)
			dash := "--"
			if len(name) == 1 {
				dash = "-"
			}
			left := dash + name
			if arg != "" {
				left += " " + arg
			}
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				usage += " (default " + f.DefValue + ")"
			}
			width = max(width, len(left))
			rs = append(rs, row{left, usage})
		}
		rows = append(rows, rs)
	}
	for i, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, r := range rows[i] {
			fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, wrap(r.usage, 78-width-4, width+4))
		}
	}
}

// wrap breaks s into lines of at most n characters, indenting the
// continuation lines by indent spaces.
func wrap(s string, n, indent int) string {
	if n < 30 {
		n = 30
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > n {
			lines = append(lines, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	lines = append(lines, line)
	return strings.Join(lines, "\n"+strings.Repeat(" ", indent))
}
