package giotls

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
)

// DialService connects to the service _service._protocol.domain and
// completes the TLS handshake, as GIO's g_socket_client_connect_to_service
// (with any protocol, where GIO's takes "tcp"): the SRV records of that
// name are looked up through [Dialer.Resolver] and their targets tried in
// turn, as [Dialer.DialConnectable] does with a [NetworkService].
//
// The targets are tried in RFC 2782 order: lowest priority first, and
// within a priority in a random order weighted by the records' weights.
// That is the order net.Resolver.LookupSRV returns them in, which is used
// as it is.
//
// The server identity is the NetworkService, so every target's certificate
// is checked against domain (also sent as SNI), not against the target's
// own host name, as glib-networking does: an SRV record is unsigned DNS
// data, and trusting the name it points to would let whoever forges it
// choose the name the certificate must match (RFC 6125, section 6).
//
// A single record whose target is "." means the service is decidedly not
// available at domain (RFC 2782): DialService fails without dialing. When
// there is no SRV record at all, DialService falls back, as GIO does, to
// domain itself on the service's well-known TCP port (the services
// database, /etc/services, as getservbyname); a service with no known port
// then fails with the lookup's error. At most 32 targets, the first in that
// order, are tried.
func (d *Dialer) DialService(ctx context.Context, service, protocol, domain string) (*ClientConnection, error) {
	return d.DialConnectable(ctx, "tcp", NewNetworkService(service, protocol, domain))
}

// LookupService returns the targets [Dialer.DialService] tries for
// _service._protocol.domain, in the order it tries them (RFC 2782, or GIO's
// fallback to domain; their host names are not resolved), for a program
// that dials each itself, such as one speaking STARTTLS first. Its server
// identity should still be [NewNetworkService](service, protocol, domain).
func (d *Dialer) LookupService(ctx context.Context, service, protocol, domain string) ([]*NetworkAddress, error) {
	if d == nil {
		d = new(Dialer)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	targets, _, err := d.serviceTargets(ctx, NewNetworkService(service, protocol, domain))
	if err != nil {
		return nil, err
	}
	addrs := make([]*NetworkAddress, 0, len(targets))
	for _, t := range targets {
		host, port, err := net.SplitHostPort(t)
		if err != nil {
			return nil, newError(ErrorMisc, err, "bad SRV target %q", t)
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return nil, newError(ErrorMisc, err, "bad SRV target %q", t)
		}
		addrs = append(addrs, NewNetworkAddress(strings.TrimSuffix(host, "."), uint16(p)))
	}
	return addrs, nil
}

// maxServiceTargets bounds the targets of one SRV answer that are tried:
// the answer is whatever the DNS (or whoever forges it) says, and each
// target costs a dial.
const maxServiceTargets = 32

// serviceTargets are the addresses of s: its SRV targets in RFC 2782 order,
// or the fallback to its domain.
func (d *Dialer) serviceTargets(ctx context.Context, s *NetworkService) (targets []string, note string, err error) {
	if s.Service == "" || s.Protocol == "" || s.Domain == "" {
		return nil, "", newError(ErrorMisc, nil, "invalid service %q: service, protocol and domain must not be empty", s.String())
	}
	domain, err := hostIdentity(s.Domain, 0)
	if err != nil {
		return nil, "", err
	}
	if domain.host == "" {
		return nil, "", newError(ErrorMisc, nil, "invalid service %q: the domain is an IP address", s.String())
	}
	r := d.resolver()
	_, srvs, err := r.LookupSRV(ctx, s.Service, s.Protocol, domain.host)
	if len(srvs) == 0 {
		var dnsErr *net.DNSError
		if err == nil || !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			return nil, "", newError(ErrorMisc, err, "SRV lookup of %s failed", s)
		}
		port, perr := servicePort(ctx, r, s.Service)
		if perr != nil {
			return nil, "", newError(ErrorMisc, err, "no SRV record for %s, and no well-known port for %q to fall back on", s, s.Service)
		}
		// GIO's fallback (gnetworkservice.c): the domain itself.
		return []string{net.JoinHostPort(domain.host, strconv.Itoa(int(port)))}, "no SRV record: the domain on the service's port", nil
	}
	// Records with bad names were dropped and err says so; the rest are
	// usable.
	if len(srvs) == 1 && srvs[0].Target == "." {
		return nil, "", newError(ErrorMisc, nil, "service %s is not available: its SRV record's target is \".\" (RFC 2782)", s)
	}
	targets = make([]string, 0, len(srvs))
	for _, srv := range srvs {
		if srv.Target == "." || srv.Target == "" {
			continue // "." cannot be dialed, and is only meaningful alone
		}
		targets = append(targets, net.JoinHostPort(srv.Target, strconv.Itoa(int(srv.Port))))
	}
	if len(targets) == 0 {
		return nil, "", newError(ErrorMisc, err, "service %s has no usable SRV target", s)
	}
	if len(targets) > maxServiceTargets {
		targets = targets[:maxServiceTargets]
	}
	return targets, "", nil
}

// servicePort is the well-known TCP port of service, as GIO's fallback
// finds it with getservbyname(service, "tcp"): names only, never a number.
func servicePort(ctx context.Context, r *net.Resolver, service string) (uint16, error) {
	if strings.TrimLeft(service, "0123456789") == "" {
		return 0, errors.New("a number is not a service name")
	}
	p, err := r.LookupPort(ctx, "tcp", service)
	if err != nil {
		return 0, err
	}
	return uint16(p), nil
}
