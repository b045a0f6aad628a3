package giotls

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DialConnectable connects to c and completes the TLS handshake, as GIO's
// g_socket_client_connect with TLS: c is turned into addresses to try (a
// NetworkAddress: its host and port; an InetSocketAddress: that address; a
// NetworkService: its SRV targets, see [Dialer.DialService]), each is tried
// in order until one gives a TCP connection and a successful handshake, and
// the server identity is c itself, whichever address answered. network is
// "tcp", "tcp4" or "tcp6". Everything is bounded by ctx (and the
// NetDialer's Timeout and Deadline).
//
// A host name is resolved by the TCP dial (net.Dialer, through
// [Dialer.Resolver]), which tries each of its addresses in turn; a failed
// handshake moves on to the next target, as in GIO.
//
// On failure the error lists every target tried with its error; errors.Is
// and errors.As see each of those errors (ctx's, ErrBadCertificate, a
// *net.OpError, ...).
func (d *Dialer) DialConnectable(ctx context.Context, network string, c Connectable) (*ClientConnection, error) {
	if d == nil {
		d = new(Dialer)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, newError(ErrorMisc, nil, "cannot dial network %q: want tcp, tcp4 or tcp6", network)
	}
	ctx, cancel := d.bound(ctx)
	defer cancel()
	conn, _, err := d.connect(ctx, network, c)
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// bound applies the NetDialer's Timeout and Deadline to ctx: as in
// tls.Dialer, they bound the whole dial, handshake included.
func (d *Dialer) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	nd := d.NetDialer
	if nd == nil {
		return ctx, func() {}
	}
	timeout := nd.Timeout
	if !nd.Deadline.IsZero() {
		if until := time.Until(nd.Deadline); timeout == 0 || until < timeout {
			timeout = until
		}
	}
	if timeout == 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, timeout)
}

// dialAttempt is one target tried and why it gave no connection.
type dialAttempt struct {
	target string
	err    error
}

// connect is GIO's connect loop (g_socket_client_connect) with its events.
// It returns the attempts too, so that DialContext, which tries one target,
// can return that target's error unchanged.
func (d *Dialer) connect(ctx context.Context, network string, c Connectable) (*ClientConnection, []dialAttempt, error) {
	d.emit(SocketClientResolving, c, nil)
	targets, note, err := d.targets(ctx, c)
	d.emit(SocketClientResolved, c, nil)
	if err != nil {
		d.emit(SocketClientComplete, c, nil)
		return nil, nil, newDialError(ctx, c, "", err, nil)
	}
	var attempts []dialAttempt
	for i, t := range targets {
		if i > 0 && ctx.Err() != nil {
			break
		}
		d.emit(SocketClientConnecting, c, nil)
		raw, proxied, err := d.dialTCP(ctx, network, t, c)
		if err != nil {
			attempts = append(attempts, dialAttempt{t, err})
			continue
		}
		if proxied {
			d.emit(SocketClientProxyNegotiated, c, raw)
		} else {
			d.emit(SocketClientConnected, c, raw)
		}
		conn, err := d.clientConnection(ctx, raw, c)
		if err != nil {
			attempts = append(attempts, dialAttempt{t, err})
			continue
		}
		d.emit(SocketClientComplete, c, conn)
		return conn, attempts, nil
	}
	d.emit(SocketClientComplete, c, nil)
	return nil, attempts, newDialError(ctx, c, note, nil, attempts)
}

// targets turns c into the "host:port" addresses to dial, in order, with
// a note on how they were found when that is not plain.
func (d *Dialer) targets(ctx context.Context, c Connectable) (targets []string, note string, err error) {
	switch v := c.(type) {
	case *NetworkAddress:
		if v != nil && v.Hostname != "" {
			return []string{net.JoinHostPort(strings.Trim(v.Hostname, "[]"), strconv.Itoa(int(v.Port)))}, "", nil
		}
	case *InetSocketAddress:
		if v != nil && v.AddrPort.Addr().IsValid() {
			return []string{v.AddrPort.String()}, "", nil
		}
	case *NetworkService:
		if v != nil {
			return d.serviceTargets(ctx, v)
		}
	}
	return nil, "", newError(ErrorMisc, nil, "nothing to dial: no host in %v", c)
}

// dialTCP opens the connection to one target, "host:port": through the
// proxy d.Proxy chooses, if any (proxied; the connection to the proxy is
// reported as connected, then proxy-negotiating), else directly. Host
// names (the proxy's, or the target's when there is none) are resolved
// through the Dialer's resolver; a target's name is sent to a proxy
// unresolved.
func (d *Dialer) dialTCP(ctx context.Context, network, addr string, c Connectable) (conn net.Conn, proxied bool, err error) {
	var nd net.Dialer
	if d.NetDialer != nil {
		nd = *d.NetDialer
	}
	nd.Resolver = d.resolver()
	if conn, proxied, err = d.viaProxy(ctx, &nd, network, addr, c); proxied {
		return conn, true, err
	}
	conn, err = nd.DialContext(ctx, network, addr)
	return conn, false, err
}

// resolver is Resolver, else the NetDialer's, else net.DefaultResolver.
func (d *Dialer) resolver() *net.Resolver {
	switch {
	case d.Resolver != nil:
		return d.Resolver
	case d.NetDialer != nil && d.NetDialer.Resolver != nil:
		return d.NetDialer.Resolver
	}
	return net.DefaultResolver
}

// clientConnection runs the TLS side over raw: the connection configured
// from the Dialer's fields and Configure, then the handshake between the
// TLSHandshaking and TLSHandshaked events. On failure raw is closed.
func (d *Dialer) clientConnection(ctx context.Context, raw net.Conn, identity Connectable) (*ClientConnection, error) {
	conn, err := d.backend().NewClientConnection(raw, identity)
	if err != nil {
		raw.Close()
		return nil, err
	}
	if d.Database != nil {
		conn.SetDatabase(d.Database)
	}
	if d.Certificate != nil {
		conn.SetCertificate(d.Certificate)
	}
	if d.Interaction != nil {
		conn.SetInteraction(d.Interaction)
	}
	if len(d.AdvertisedProtocols) > 0 {
		conn.SetAdvertisedProtocols(slices.Clone(d.AdvertisedProtocols))
	}
	if d.AcceptCertificate != nil {
		conn.OnAcceptCertificate(d.AcceptCertificate)
	}
	if d.Configure != nil {
		if err := d.Configure(conn); err != nil {
			conn.Close()
			return nil, err
		}
	}
	d.emit(SocketClientTLSHandshaking, identity, conn)
	if err := conn.Handshake(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	d.emit(SocketClientTLSHandshaked, identity, conn)
	return conn, nil
}

// dialError is a dial that gave no connection: the lookup's error, or each
// target tried with its error, and ctx's error if it ended the dial.
type dialError struct {
	what     Connectable
	note     string // how the targets were found, if not plainly
	lookup   error
	attempts []dialAttempt
	ctxErr   error
}

func (e *dialError) Error() string {
	var b strings.Builder
	b.WriteString("giotls: could not connect to ")
	b.WriteString(connectableString(e.what))
	if e.note != "" {
		b.WriteString(" (" + e.note + ")")
	}
	switch {
	case e.lookup != nil:
		b.WriteString(": ")
		b.WriteString(e.lookup.Error())
	case len(e.attempts) == 0:
		b.WriteString(": no address tried")
	default:
		b.WriteString(": tried ")
		for i, a := range e.attempts {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(displayTarget(a.target))
			b.WriteString(" (")
			b.WriteString(a.err.Error())
			b.WriteString(")")
		}
	}
	if e.ctxErr != nil {
		b.WriteString(": ")
		b.WriteString(e.ctxErr.Error())
	}
	return b.String()
}

// newDialError records why a dial failed; ctx's error is added when it
// ended the dial and no target's error says so already. It is read now:
// the caller cancels ctx when it returns.
func newDialError(ctx context.Context, what Connectable, note string, lookup error, attempts []dialAttempt) *dialError {
	e := &dialError{what: what, note: note, lookup: lookup, attempts: attempts}
	if err := context.Cause(ctx); err != nil && !slices.ContainsFunc(e.Unwrap(), func(x error) bool { return errors.Is(x, err) }) {
		e.ctxErr = err
	}
	return e
}

// displayTarget is target without the trailing dot of an absolute name.
func displayTarget(target string) string {
	if h, p, err := net.SplitHostPort(target); err == nil && len(h) > 1 && strings.HasSuffix(h, ".") {
		return net.JoinHostPort(strings.TrimSuffix(h, "."), p)
	}
	return target
}

// Unwrap returns the lookup's error or each target's, then ctx's.
func (e *dialError) Unwrap() []error {
	var errs []error
	if e.lookup != nil {
		errs = append(errs, e.lookup)
	}
	for _, a := range e.attempts {
		errs = append(errs, a.err)
	}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	return errs
}

func connectableString(c Connectable) string {
	if c == nil {
		return "<nil>"
	}
	return c.String()
}
