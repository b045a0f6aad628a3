// Command giotls is GIO's TLS client in a terminal: a demo of what giotls
// promises, and tools to look at real servers.
//
//	giotls demo                      walk through giotls's guarantees on loopback
//	giotls connect [flags] HOST[:PORT]   handshake, report, then pipe stdin/stdout
//	giotls ftp [flags] URL           FTP over TLS: list, download, upload
//
// Exit codes: 0 success; 1 the connection, the TLS handshake, the
// certificate or the server failed; 2 a usage or local error.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/giotls/giotls/internal/demo"
)

const usage = `usage: giotls <command> [arguments]

commands:
  demo      walk through giotls's guarantees against loopback servers
  connect   connect to a TLS server, report what GIO sees, pipe stdin/stdout
  ftp       FTP over TLS, every data connection resuming the control's session

Run 'giotls <command> --help' for a command's flags.
Exit codes: 0 success; 1 a connection, TLS, certificate or server failure;
2 a usage or local error.
`

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the connection, handshake, certificate or server failed
	exitUsage   = 2 // bad usage or a local error (unreadable file, ...)
)

// cli is the process's environment, replaceable in tests.
type cli struct {
	stdin  *bufio.Reader
	stdout io.Writer
	stderr io.Writer
	// terminal reports whether a person can be asked: stdin and stderr are
	// terminals.
	terminal bool
	// tty is the terminal's file, for turning echo off; nil when there is
	// none.
	tty *os.File
	// resolver looks up --service's SRV records; nil is the system's.
	resolver *net.Resolver
}

// usageError is a bad flag or argument: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// localError is a problem on this side (a file that cannot be read): exit
// code 2.
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

func main() {
	c := &cli{
		stdin:    bufio.NewReader(os.Stdin),
		stdout:   os.Stdout,
		stderr:   os.Stderr,
		terminal: isTerminal(os.Stdin) && isTerminal(os.Stderr),
	}
	if c.terminal {
		c.tty = os.Stdin
	}
	os.Exit(c.run(context.Background(), os.Args[1:]))
}

// run runs the command in args and returns the exit code.
func (c *cli) run(ctx context.Context, args []string) int {
	if len(args) < 1 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "demo":
		if len(args) > 1 && (args[1] == "-h" || args[1] == "--help" || args[1] == "-help") {
			fmt.Fprint(c.stdout, demoHelp)
			return exitOK
		}
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := demo.Run(dctx, c.stdout); err != nil {
			fmt.Fprintf(c.stderr, "giotls demo: %v\n", err)
			return exitFailure
		}
		return exitOK
	case "connect":
		err = c.connect(ctx, args[1:])
	case "ftp":
		err = c.ftp(ctx, args[1:])
	case "help", "-h", "--help", "-help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(c.stderr, "giotls: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	return c.exit(args[0], err)
}

// exit prints err and returns its exit code.
func (c *cli) exit(cmd string, err error) int {
	var ue *usageError
	var le *localError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "giotls %s: %v\nRun 'giotls %s --help' for usage.\n", cmd, err, cmd)
		return exitUsage
	case errors.As(err, &le):
		fmt.Fprintf(c.stderr, "giotls %s: %v\n", cmd, err)
		return exitUsage
	case errors.Is(err, errReported):
		return exitFailure
	}
	fmt.Fprintf(c.stderr, "giotls %s: %v\n", cmd, err)
	return exitFailure
}

// errReported is a failure already explained on the output.
var errReported = errors.New("failure reported")

const demoHelp = `usage: giotls demo

Starts TLS servers on 127.0.0.1 with a throwaway CA and walks through what
giotls promises, checking each step: a verified handshake; certificates that
are expired, for the wrong host, from an unknown CA, and all three, rejected
with exactly those flags and then accepted by a handler; the CAs a server
accepts for client certificates and the certificate an Interaction picks;
automatic resumption that uses each TLS 1.3 ticket once; CopySessionState for
an FTP-style data connection; truncation detected. It needs no network and
no files, and exits 1 naming the step that misbehaved.
`

// parseInterspersed parses flags that may come before or after the
// positional arguments, as people type them: "connect host:443 --json".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// ask asks the person at the terminal a yes/no question; no when there is
// no terminal.
func (c *cli) ask(question string) bool {
	if !c.terminal {
		return false
	}
	fmt.Fprintf(c.stderr, "%s [y/N] ", question)
	line, err := c.stdin.ReadString('\n')
	if err != nil {
		return false
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// readPassword asks for a password on the terminal, without echo.
func (c *cli) readPassword(prompt string) (string, error) {
	if !c.terminal {
		return "", errors.New("no terminal to ask for it")
	}
	fmt.Fprint(c.stderr, prompt)
	var line string
	err := withoutEcho(c.tty, func() error {
		var err error
		line, err = c.stdin.ReadString('\n')
		return err
	})
	fmt.Fprintln(c.stderr)
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
