// Command giotls is GIO's TLS client in a terminal: a demo of what giotls
// promises, and tools to look at real servers.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/giotls/giotls/internal/demo"
)

const usage = `usage: giotls <command> [arguments]

commands:
  demo     walk through giotls's guarantees against loopback servers
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "demo":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := demo.Run(ctx, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "giotls demo: %v\n", err)
			os.Exit(1)
		}
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "giotls: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}
