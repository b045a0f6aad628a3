package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/ftp"
)

const ftpHelp = `usage: giotls ftp [flags] URL

FTP over TLS, built on CopySessionState: every data connection resumes the
control connection's TLS session, as servers such as vsftpd with
require_ssl_reuse=YES demand (and giotls tells whether they did, with -v).

URL is ftp://[USER[:PASSWORD]@]HOST[:PORT]/PATH, explicit TLS (AUTH TLS,
required: giotls never falls back to plain text), or ftps://... for
implicit TLS (port 990). Without USER it logs in as anonymous. A password
can come from the URL, --pass-file or, on a terminal, a prompt.

  PATH ending in /   list the directory (MLSD, else LIST)
  other PATH         download the file to stdout, or to -o FILE
  --upload FILE      store FILE at PATH, or under its own name in PATH/

PATH is relative to the login directory; start it with %2F for an absolute
one (ftp://host/%2Fpub/file). Transfers are streamed; on a terminal,
progress is shown on stderr. Passive mode: EPSV, then PASV.

Examples:
  giotls ftp ftp://ftp.example.org/pub/
  giotls ftp -o linux.iso ftp://ftp.example.org/pub/linux.iso
  giotls ftp --pass-file pw.txt --upload report.pdf ftp://me@example.org/in/
`

const ftpExit = `
Exit codes: 0 done; 1 the connection, TLS, certificate or the server failed
(a negative reply such as "522 session reuse required" is printed); 2 a
usage or local error.
`

type ftpFlags struct {
	tlsFlags
	output, upload, passFile string
	verbose, noProgress      bool
}

func (c *cli) ftp(ctx context.Context, args []string) error {
	var f ftpFlags
	fs := flag.NewFlagSet("ftp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.tlsFlags.register(fs, "p12-pass-file")
	fs.StringVar(&f.output, "o", "", "write the downloaded file to `FILE` (written as FILE.part, renamed when complete)")
	fs.StringVar(&f.upload, "upload", "", "store `FILE` (- for stdin) on the server")
	fs.StringVar(&f.passFile, "pass-file", "", "read the login password from the first line of `FILE`")
	fs.BoolVar(&f.verbose, "v", false, "show the control dialogue and each data connection's TLS session on stderr")
	fs.BoolVar(&f.noProgress, "no-progress", false, "do not show progress, even on a terminal")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.stdout, ftpHelp)
			printFlags(c.stdout, fs, []flagGroup{
				{"Transfer", []string{"o", "upload", "pass-file", "no-progress", "v"}},
				{"Trust", []string{"ca", "accept", "servername"}},
				{"Client certificate", []string{"cert", "key", "p12", "p12-pass-file"}},
				{"Connection", []string{"tls-min", "tls-max", "timeout"}},
			})
			fmt.Fprint(c.stdout, ftpExit)
			return err
		}
		return usagef("%v", err)
	}
	if len(pos) != 1 {
		return usagef("want one URL, got %d arguments", len(pos))
	}
	u, err := url.Parse(pos[0])
	if err != nil {
		return usagef("%v", err)
	}
	implicit := false
	defPort := uint16(21)
	switch u.Scheme {
	case "ftp":
	case "ftps":
		implicit, defPort = true, 990
	default:
		return usagef("URL %q: want ftp:// (AUTH TLS) or ftps:// (implicit TLS)", pos[0])
	}
	if u.Host == "" {
		return usagef("URL %q has no host", pos[0])
	}
	target, err := giotls.ParseNetworkAddress(u.Host, defPort)
	if err != nil {
		return usagef("URL %q: %v", pos[0], err)
	}
	remote := strings.TrimPrefix(u.Path, "/")
	isDir := remote == "" || strings.HasSuffix(remote, "/")
	if f.upload != "" {
		if f.output != "" {
			return usagef("-o and --upload are exclusive")
		}
		if isDir {
			if f.upload == "-" {
				return usagef("--upload -: the URL must name the file to store")
			}
			remote += path.Base(f.upload)
		}
	} else if isDir && f.output != "" {
		return usagef("-o FILE: the URL names a directory (it ends in /)")
	}
	if err := f.load(c); err != nil {
		return err
	}

	cfg := ftp.Config{
		Addr:       net.JoinHostPort(target.Hostname, strconv.Itoa(int(target.Port))),
		ServerName: f.servername,
		Implicit:   implicit,
		Timeout:    f.timeout,
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		pw, ok := u.User.Password()
		switch {
		case ok:
			cfg.Password = pw
		case f.passFile != "":
			if cfg.Password, err = readPassFile(f.passFile); err != nil {
				return err
			}
		case c.terminal:
			if cfg.Password, err = c.readPassword(fmt.Sprintf("Password for %s@%s: ", cfg.User, target.Hostname)); err != nil {
				return &localError{err}
			}
		default:
			return usagef("a password for %s is needed: put it in the URL, in --pass-file, or run on a terminal", cfg.User)
		}
	} else if f.passFile != "" {
		return usagef("--pass-file needs a user in the URL (ftp://USER@HOST/...)")
	}
	if f.verbose {
		cfg.Trace = c.stderr
	}
	backend := f.backend(giotls.NewSessionCache(giotls.SessionCacheOptions{}))
	var watch watched
	cfg.TLS = func(base net.Conn, identity giotls.Connectable) (*giotls.ClientConnection, error) {
		w := &watchConn{Conn: base}
		watch.add(w)
		conn, err := backend.NewClientConnection(w, identity)
		if err != nil {
			return nil, err
		}
		f.configure(c, conn)
		return conn, nil
	}

	client, err := ftp.Dial(ctx, cfg)
	if err != nil {
		return c.ftpError(&f, &watch, err)
	}
	defer client.Close()
	if f.verbose {
		ctl := client.Control()
		fmt.Fprintf(c.stderr, "* control connection: %s, %s, certificate problems: %v\n", ctl.ProtocolVersion(), ctl.CiphersuiteName(), ctl.PeerCertificateErrors())
	}

	switch {
	case f.upload != "":
		err = c.ftpUpload(ctx, client, &f, remote)
	case isDir:
		err = client.List(ctx, strings.TrimSuffix(remote, "/"), c.stdout)
	default:
		err = c.ftpDownload(ctx, client, &f, remote)
	}
	if f.verbose && client.LastData().Addr != "" {
		d := client.LastData()
		how := "session resumed (CopySessionState)"
		if !d.Resumed {
			how = "full handshake: the server did not resume the session"
		}
		fmt.Fprintf(c.stderr, "* data connection (%s to %s): %s, %s, %d bytes\n", d.Passive, d.Addr, d.Version, how, d.Bytes)
	}
	if err != nil {
		return c.ftpError(&f, &watch, err)
	}
	return client.Quit(ctx)
}

// ftpError explains a certificate rejection as connect does, and a server
// that fell back to plain text.
func (c *cli) ftpError(f *ftpFlags, watch *watched, err error) error {
	var le *localError
	if errors.As(err, &le) {
		return err
	}
	if text, ok := watch.plainText(err); ok {
		return c.reportPlainText("ftp", text)
	}
	if errors.Is(err, giotls.ErrBadCertificate) && f.decision.asked && f.decision.by == "" {
		fmt.Fprintf(c.stderr, "giotls ftp: certificate rejected: %v (0x%02x)\n", f.decision.errors, uint32(f.decision.errors))
		for _, p := range problems(f.decision.errors, f.decision.identity) {
			fmt.Fprintf(c.stderr, "  %s\n", p)
		}
		fmt.Fprintf(c.stderr, "  (to accept them: --accept '%v')\n", f.decision.errors)
		return errReported
	}
	return err
}

func (c *cli) ftpDownload(ctx context.Context, client *ftp.Client, f *ftpFlags, remote string) error {
	var w io.Writer = c.stdout
	var file *os.File
	if f.output != "" && f.output != "-" {
		var err error
		file, err = os.OpenFile(f.output+".part", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return &localError{err}
		}
		defer func() {
			if file != nil {
				file.Close()
				os.Remove(f.output + ".part")
			}
		}()
		w = file
	}
	var prog *progress
	if c.terminal && !f.noProgress {
		prog = &progress{w: c.stderr, total: client.Size(ctx, remote), name: remote}
		w = io.MultiWriter(w, prog)
	}
	_, err := client.Retrieve(ctx, remote, w)
	prog.done()
	if err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return &localError{err}
		}
		file = nil
		if err := os.Rename(f.output+".part", f.output); err != nil {
			return &localError{err}
		}
	}
	return nil
}

func (c *cli) ftpUpload(ctx context.Context, client *ftp.Client, f *ftpFlags, remote string) error {
	var r io.Reader = c.stdin
	var total int64 = -1
	if f.upload != "-" {
		file, err := os.Open(f.upload)
		if err != nil {
			return &localError{err}
		}
		defer file.Close()
		if fi, err := file.Stat(); err == nil {
			total = fi.Size()
		}
		r = file
	}
	if c.terminal && !f.noProgress {
		prog := &progress{w: c.stderr, total: total, name: remote}
		defer prog.done()
		r = io.TeeReader(r, prog)
	}
	_, err := client.Store(ctx, remote, r)
	return err
}

// progress shows a transfer's progress on a terminal, at most ten times a
// second.
type progress struct {
	w     io.Writer
	name  string
	total int64
	n     int64
	last  time.Time
	shown bool
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if time.Since(p.last) >= 100*time.Millisecond {
		p.show()
	}
	return len(b), nil
}

func (p *progress) show() {
	p.last = time.Now()
	p.shown = true
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s: %s of %s (%d%%)  ", p.name, size(p.n), size(p.total), p.n*100/p.total)
	} else {
		fmt.Fprintf(p.w, "\r%s: %s  ", p.name, size(p.n))
	}
}

func (p *progress) done() {
	if p == nil {
		return
	}
	p.show()
	fmt.Fprintln(p.w)
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
