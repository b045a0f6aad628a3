package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/giotls/giotls"
)

const connectHelp = `usage: giotls connect [flags] HOST[:PORT]
       giotls connect --service NAME[/PROTO] [flags] DOMAIN

Connects to a TLS server the way a GIO program does, and reports what GIO
would see: protocol, cipher suite, the peer's chain, every problem with its
certificate as GIO's flags (expired, bad-identity, ...), the CAs it accepts
for client certificates, ALPN, session resumption and channel bindings.
Then, unless --json or --no-pipe, stdin and stdout are piped through the
connection, like openssl s_client -quiet: at the end of stdin nothing more
is sent and the server's replies are read until it closes the connection
(or stays silent for --idle-timeout).

A certificate with problems is rejected, unless --accept names them all or,
on a terminal, you accept it when asked.

PORT defaults to 443, or to the --starttls protocol's port.

With --service and a DOMAIN without a port, the SRV records of
_NAME._PROTO.DOMAIN are looked up and their targets tried in RFC 2782 order
until one connects, as GIO's connect_to_service (no record: DOMAIN on the
service's well-known port); the certificate is checked against DOMAIN
(or --servername), never against a target's own name.

Examples:
  giotls connect example.org
  giotls connect --starttls smtp --servername mail.example.org 192.0.2.1:587
  giotls connect --ca my-ca.pem --accept expired --json localhost:8443
  giotls connect --starttls ldap --tls-max 1.2 ldap.example.org
  giotls connect --resume 2 --no-pipe example.org   # are sessions resumed?
  giotls connect --service xmpp-client --starttls xmpp jabber.example.org
  giotls connect --proxy socks5h://127.0.0.1:1080 example.org
`

const connectExit = `
Exit codes: 0 connected; 1 the connection, the TLS handshake or the
certificate failed (the reason is printed, with every certificate problem);
2 a usage or local error (bad flag, unreadable file).
`

// connectFlags are connect's own flags.
type connectFlags struct {
	tlsFlags
	proxyFlags
	alpn, service, starttls string
	resume                  int
	idle                    time.Duration
	json, noPipe            bool
	verbose                 bool
}

func (c *cli) connect(ctx context.Context, args []string) error {
	var f connectFlags
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.tlsFlags.register(fs, "pass-file")
	f.proxyFlags.register(fs)
	fs.StringVar(&f.alpn, "alpn", "", "offer these ALPN protocols, comma-separated `LIST` (e.g. h2,http/1.1)")
	fs.StringVar(&f.service, "service", "", "use the service identity _NAME._PROTO.DOMAIN (`NAME[/PROTO]`, PROTO tcp by default; DOMAIN: --servername or HOST), as GIO's NetworkService; with no PORT, connect to the SRV targets of _NAME._PROTO.HOST")
	fs.StringVar(&f.starttls, "starttls", "", "speak `PROTO`'s plain-text preamble first: "+starttlsNames)
	fs.IntVar(&f.resume, "resume", 0, "after the first connection, connect `N` more times and report whether each resumed the session")
	fs.DurationVar(&f.idle, "idle-timeout", 10*time.Second, "when stdin ends, wait for the server to close until it has been silent for `DURATION`")
	fs.BoolVar(&f.json, "json", false, "print one JSON object instead of the report, and do not pipe; with --resume, each reconnection's own report is in its reconnections list")
	fs.BoolVar(&f.noPipe, "no-pipe", false, "do not pipe stdin/stdout through the connection after the report")
	fs.BoolVar(&f.verbose, "v", false, "show the STARTTLS dialogue and the waits for session tickets on stderr")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.stdout, connectHelp)
			printFlags(c.stdout, fs, []flagGroup{
				{"Trust", []string{"ca", "accept", "servername", "service"}},
				{"Client certificate", []string{"cert", "key", "p12", "pass-file"}},
				{"Connection", []string{"starttls", "alpn", "tls-min", "tls-max", "resume", "timeout", "proxy", "proxy-env"}},
				{"Output", []string{"json", "no-pipe", "idle-timeout", "v"}},
			})
			fmt.Fprint(c.stdout, connectExit)
			return err
		}
		return usagef("%v", err)
	}
	if len(pos) != 1 {
		return usagef("want one HOST[:PORT], got %d arguments", len(pos))
	}
	if f.idle <= 0 {
		return usagef("--idle-timeout must be positive")
	}
	if f.resume < 0 || f.resume > 100 {
		return usagef("--resume %d: want 0 to 100", f.resume)
	}
	defPort := uint16(443)
	if f.starttls != "" {
		p, ok := starttlsPorts[f.starttls]
		if !ok {
			return usagef("--starttls %q: want "+starttlsNames, f.starttls)
		}
		defPort = p
	}
	service, proto, _ := strings.Cut(f.service, "/")
	if proto == "" {
		proto = "tcp"
	}
	if f.service != "" && (service == "" || strings.ContainsAny(f.service, " .")) {
		return usagef("--service %q: want NAME or NAME/PROTO, such as xmpp-client or sip/udp", f.service)
	}
	// With --service, no port means the SRV targets.
	lookup := false
	if f.service != "" {
		if t, err := giotls.ParseNetworkAddress(pos[0], 0); err == nil && t.Port == 0 {
			lookup = true
		}
	}
	target, err := giotls.ParseNetworkAddress(pos[0], defPort)
	if err != nil {
		return usagef("%s: %v", pos[0], err)
	}
	if target.Port == 0 {
		return usagef("%s: port 0", pos[0])
	}
	if err := f.load(c); err != nil {
		return err
	}
	if err := f.proxyFlags.check(); err != nil {
		return err
	}

	name := target.Hostname
	if f.servername != "" {
		name = f.servername
	}
	var identity giotls.Connectable = giotls.NewNetworkAddress(name, target.Port)
	if f.service != "" {
		identity = giotls.NewNetworkService(service, proto, name)
	}
	cache := giotls.NewSessionCache(giotls.SessionCacheOptions{})
	backend := f.backend(cache)
	addrs := []string{net.JoinHostPort(target.Hostname, strconv.Itoa(int(target.Port)))}
	if lookup {
		if addrs, err = c.serviceTargets(ctx, &f, service, proto, target.Hostname); err != nil {
			return err
		}
	}

	// The first connection's report is the whole story; each reconnection
	// has its own report inside it.
	var first *report
	var resumptions []bool
	for i := 0; i <= f.resume; i++ {
		last := i == f.resume
		conn, watch, addr, err := c.dialFirst(ctx, &f, backend, addrs, identity)
		addrs = []string{addr} // reconnections go where the first connection went
		var rep *report
		if conn != nil {
			rep = newReport(conn, &f, addr, identity)
		} else {
			rep = emptyReport(addr, identity)
		}
		if first == nil {
			first = rep
		} else {
			first.Reconnections = append(first.Reconnections, rep)
		}
		if err != nil {
			if conn != nil {
				conn.Close()
			}
			return c.failed(&f, first, rep, i, err)
		}
		resumptions = append(resumptions, conn.SessionResumed())
		first.Resumptions = resumptions
		var early []byte
		if !last || rep.CertificateRequested {
			s := settle(conn, watch, cache, f.timeout)
			if f.verbose {
				fmt.Fprintf(c.stderr, "* session ticket: %s\n", s.how)
			}
			if s.err != nil && refused(s.err) {
				conn.Close()
				return c.failed(&f, first, rep, i, s.err)
			}
			early = s.data
		}
		if i == 0 && !f.json {
			rep.print(c.stdout)
		} else if !f.json {
			fmt.Fprintf(c.stdout, "Reconnection %d: %s, %s, session resumed: %s\n", i, rep.ProtocolVersion, rep.Ciphersuite, yesNo(rep.SessionResumed))
		}
		if !last {
			conn.Close()
			continue
		}
		if f.json {
			conn.Close()
			return first.writeJSON(c.stdout)
		}
		if f.noPipe {
			return conn.Close()
		}
		c.stdout.Write(early)
		return c.pipe(conn, watch, f.idle)
	}
	return nil
}

// serviceTargets are the SRV targets of _service._proto.domain, as
// giotls.Dialer.DialService tries them.
func (c *cli) serviceTargets(ctx context.Context, f *connectFlags, service, proto, domain string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	targets, err := (&giotls.Dialer{Resolver: c.resolver}).LookupService(ctx, service, proto, domain)
	if err != nil {
		return nil, fmt.Errorf("could not connect to _%s._%s.%s: %w", service, proto, domain, err)
	}
	addrs := make([]string, len(targets))
	for i, t := range targets {
		addrs[i] = t.String()
	}
	return addrs, nil
}

// dialFirst tries addrs in turn, as GIO tries a service's targets, until
// one connects and completes the handshake. On failure the last target's
// connection (if the handshake started) is returned for the report, and
// the error names the targets tried before it.
func (c *cli) dialFirst(ctx context.Context, f *connectFlags, backend *giotls.Backend, addrs []string, identity giotls.Connectable) (*giotls.ClientConnection, *watchConn, string, error) {
	var tried []string
	for i, addr := range addrs {
		conn, watch, err := c.dialTLS(ctx, f, backend, addr, identity)
		if err == nil || i == len(addrs)-1 || ctx.Err() != nil {
			if err != nil && len(tried) > 0 {
				err = fmt.Errorf("%w (tried before: %s)", err, strings.Join(tried, "; "))
			}
			return conn, watch, addr, err
		}
		if conn != nil {
			conn.Close()
		}
		if f.verbose {
			fmt.Fprintf(c.stderr, "* %s: %v; trying the next target\n", addr, err)
		}
		tried = append(tried, fmt.Sprintf("%s (%v)", addr, err))
	}
	return nil, nil, "", errors.New("no address to connect to")
}

// dialTLS connects to addr, speaks the STARTTLS preamble if asked, and
// runs the handshake. The connection is returned also when the handshake
// failed, for the report, with the TCP connection under it, watched.
func (c *cli) dialTLS(ctx context.Context, f *connectFlags, backend *giotls.Backend, addr string, identity giotls.Connectable) (*giotls.ClientConnection, *watchConn, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	start := time.Now()
	tcp, err := f.dial(ctx, addr, c.resolver)
	if err != nil {
		return nil, nil, err
	}
	base := &watchConn{Conn: tcp, rtt: time.Since(start)}
	if f.starttls != "" {
		domain := identity.String()
		if a, ok := identity.(*giotls.NetworkAddress); ok {
			domain = a.Hostname
		} else if s, ok := identity.(*giotls.NetworkService); ok {
			domain = s.Domain
		}
		var trace io.Writer
		if f.verbose {
			trace = c.stderr
		}
		if err := startTLS(base, f.starttls, domain, f.timeout, trace); err != nil {
			base.Close()
			return nil, nil, err
		}
	}
	conn, err := backend.NewClientConnection(base, identity)
	if err != nil {
		base.Close()
		return nil, nil, err
	}
	f.configure(c, conn)
	if f.alpn != "" {
		conn.SetAdvertisedProtocols(strings.Split(f.alpn, ","))
	}
	return conn, base, conn.Handshake(ctx)
}

// failed reports a failed connection, rep, and returns the error to exit
// with. first is the first connection's report: rep itself, or the one
// whose reconnection i failed.
func (c *cli) failed(f *connectFlags, first, rep *report, i int, err error) error {
	which := ""
	rep.Error = err.Error()
	if i > 0 {
		which = fmt.Sprintf(" (reconnection %d)", i)
		first.Error = fmt.Sprintf("reconnection %d: %v", i, err)
	}
	if f.json {
		if werr := first.writeJSON(c.stdout); werr != nil {
			return werr
		}
		fmt.Fprintf(c.stderr, "giotls connect: %v\n", err)
		return errReported
	}
	if rep.PeerCertificate == nil && !rep.handshakeStarted {
		return fmt.Errorf("could not connect to %s%s: %w", rep.Address, which, err)
	}
	if rep.PeerCertificate != nil {
		rep.print(c.stdout)
	}
	msg := fmt.Sprintf("giotls connect: the TLS handshake%s failed: %v\n", which, err)
	if rep.Ciphersuite != "" {
		msg = fmt.Sprintf("giotls connect: the server refused the connection%s after the handshake: %v\n", which, err)
	} else if errors.Is(err, giotls.ErrBadCertificate) && rep.errs != 0 && rep.AcceptedBy == "" {
		msg = fmt.Sprintf("giotls connect: certificate rejected%s: %v (0x%02x)\n", which, rep.errs, uint32(rep.errs))
		for _, p := range problems(rep.errs, rep.identity) {
			msg += "  " + p + "\n"
		}
		msg += fmt.Sprintf("  (to accept them: --accept '%v')\n", rep.errs)
	}
	fmt.Fprint(c.stderr, msg)
	return errReported
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
