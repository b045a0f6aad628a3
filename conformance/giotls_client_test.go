package conformance

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/giotls/giotls"
	"github.com/giotls/giotls/internal/loopback"
)

// giotlsClient holds what every connection of a scenario shares, as
// gio_client.py's module-level settings do.
type giotlsClient struct {
	t       *testing.T
	spec    ClientSpec
	backend *giotls.Backend
	db      giotls.Database
	cert    *giotls.Certificate
}

// newGiotlsClient sets up the client side of a scenario: a backend with a
// session cache of its own (GIO's process starts empty too), the database
// and the client certificate.
func newGiotlsClient(t *testing.T, spec ClientSpec) *giotlsClient {
	t.Helper()
	c := &giotlsClient{
		t:    t,
		spec: spec,
		backend: giotls.NewBackend(giotls.BackendOptions{
			SessionCache: giotls.NewSessionCache(giotls.SessionCacheOptions{}),
			MinVersion:   spec.MinVersion,
			MaxVersion:   spec.MaxVersion,
		}),
	}
	if spec.CAFile != "" {
		db, err := giotls.NewFileDatabase(spec.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		c.db = db
	}
	if spec.CertFile != "" {
		cert, err := giotls.NewCertificateFromFiles(spec.CertFile, spec.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		c.cert = cert
	}
	return c
}

// identity builds the giotls identity, as gio_client.py's identity_of.
func (c *giotlsClient) identity(id IdentitySpec) giotls.Connectable {
	switch id.Kind {
	case "hostname", "ip":
		return giotls.NewNetworkAddress(id.Host, uint16(id.Port))
	case "inet":
		return giotls.NewInetSocketAddress(netip.AddrPortFrom(netip.MustParseAddr(id.Host), uint16(id.Port)))
	case "service":
		return giotls.NewNetworkService(id.Service, id.Protocol, id.Domain)
	case "none":
		return nil
	}
	c.t.Fatalf("unknown identity kind %q", id.Kind)
	return nil
}

// newTLS wraps base in a giotls client connection set up as the scenario
// says (gio_client.py's new_tls), and the record of accept-certificate calls.
func (c *giotlsClient) newTLS(base net.Conn, id giotls.Connectable, withCert bool) (*giotls.ClientConnection, *[]uint32) {
	c.t.Helper()
	conn, err := c.backend.NewClientConnection(base, id)
	if err != nil {
		c.t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	conn.SetDatabase(c.db)
	switch {
	case c.spec.Interaction:
		conn.SetInteraction(&certificateInteraction{cert: c.cert})
	case c.cert != nil && withCert:
		conn.SetCertificate(c.cert)
	}
	if len(c.spec.ALPN) > 0 {
		conn.SetAdvertisedProtocols(c.spec.ALPN)
	}
	conn.SetRequireCloseNotify(c.spec.RequireCloseNotify)
	calls := new([]uint32)
	if c.spec.Accept != "none" {
		conn.OnAcceptCertificate(func(_ *giotls.Certificate, errs giotls.CertificateFlags) bool {
			*calls = append(*calls, uint32(errs))
			return c.spec.Accept == "yes"
		})
	}
	return conn, calls
}

// certificateInteraction supplies the client certificate when the server
// asks for one, as gio_client.py's CertificateInteraction.
type certificateInteraction struct {
	cert  *giotls.Certificate
	calls int
}

func (i *certificateInteraction) AskPassword(context.Context, *giotls.Password) (giotls.InteractionResult, error) {
	return giotls.InteractionUnhandled, nil
}

func (i *certificateInteraction) RequestCertificate(_ context.Context, conn *giotls.ClientConnection) (giotls.InteractionResult, error) {
	i.calls++
	conn.SetCertificate(i.cert)
	return giotls.InteractionHandled, nil
}

// bindingKinds are the channel bindings, named as gio_client.py names them.
var bindingKinds = map[string]giotls.ChannelBindingType{
	"tls-unique":           giotls.ChannelBindingTLSUnique,
	"tls-server-end-point": giotls.ChannelBindingTLSServerEndPoint,
	"tls-exporter":         giotls.ChannelBindingTLSExporter,
}

// bindingErrorNick names a channel binding error as GIO's
// GTlsChannelBindingError nick.
func bindingErrorNick(err error) string {
	for nick, sentinel := range map[string]error{
		"not-implemented": giotls.ErrBindingNotImplemented,
		"invalid-state":   giotls.ErrBindingInvalidState,
		"not-available":   giotls.ErrBindingNotAvailable,
		"not-supported":   giotls.ErrBindingNotSupported,
		"general-error":   giotls.ErrBindingGeneral,
	} {
		if errors.Is(err, sentinel) {
			return nick
		}
	}
	return "go:" + err.Error()
}

// describe fills r with what conn says after its handshake (and its channel
// binding data when bindings is set).
func describe(conn *giotls.ClientConnection, calls []uint32, r *ConnResult, bindings bool) {
	if bindings && r.Handshake == "ok" {
		r.Bindings = map[string]string{}
		for name, kind := range bindingKinds {
			data, err := conn.ChannelBindingData(kind)
			if err != nil {
				r.Bindings[name] = "error:" + bindingErrorNick(err)
			} else {
				r.Bindings[name] = hex.EncodeToString(data)
			}
		}
	}
	if len(calls) > 0 {
		f := calls[len(calls)-1]
		r.AcceptFlags = &f
	}
	r.AcceptCalls = len(calls)
	r.PeerErrors = uint32(conn.PeerCertificateErrors())
	r.Version = conn.ProtocolVersion().String()
	r.Ciphersuite = conn.CiphersuiteName()
	for _, dn := range conn.AcceptedCAs() {
		r.AcceptedCAs = append(r.AcceptedCAs, hex.EncodeToString(dn))
	}
	r.ALPN = conn.NegotiatedProtocol()
	if i, ok := conn.Interaction().(*certificateInteraction); ok {
		n := i.calls
		r.InteractionCalls = &n
	}
}

// read reads as mode says ("line" or "all") into r.
func read(conn io.Reader, mode string, r *ConnResult) {
	var data []byte
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		data = append(data, buf[:n]...)
		if err == io.EOF {
			r.ReadEnd = "eof"
			break
		}
		if err != nil {
			e := errorInfo(err)
			r.ReadEnd, r.ReadError = "error:"+e.Nick, e
			break
		}
		if mode == "line" && len(data) > 0 && data[len(data)-1] == '\n' {
			break
		}
	}
	r.Data = string(data)
}

// run runs the scenario's connections through giotls, as gio_client.py's
// connections().
func (c *giotlsClient) run(sc *Scenario, addrs []string) ClientResult {
	var out ClientResult
	conns := make([]*giotls.ClientConnection, len(sc.Conns))
	out.Connections = make([]ConnResult, len(sc.Conns))
	for i, spec := range sc.Conns {
		r := &out.Connections[i]
		r.Handshake = "ok"
		addr := addrs[spec.Listener]
		base, err := loopback.Dial(context.Background(), addr)
		if err != nil {
			c.t.Fatal(err)
		}
		conn, calls := c.newTLS(base, c.identity(resolvePort(spec.Identity, addrs, spec.Listener)), !spec.NoCert)
		conns[i] = conn
		if spec.CopyFrom > 0 {
			conn.CopySessionState(conns[spec.CopyFrom-1])
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = conn.Handshake(ctx)
		cancel()
		if err != nil {
			e := errorInfo(err)
			r.Handshake, r.Error = e.Nick, e
		}
		describe(conn, *calls, r, c.spec.Bindings)
		if err == nil {
			if spec.Send != "" {
				if _, err := io.WriteString(conn, spec.Send); err != nil {
					r.IOError = errorInfo(err)
				}
			}
			if r.IOError == nil && spec.Read != "none" && spec.Read != "" {
				read(conn, spec.Read, r)
			}
		}
		if !spec.KeepOpen {
			closeConn(conn, r)
		}
	}
	for i, conn := range conns {
		closeConn(conn, &out.Connections[i])
	}
	return out
}

// closeConn closes conn once, recording an error.
func closeConn(conn *giotls.ClientConnection, r *ConnResult) {
	if err := conn.Close(); err != nil && r.CloseError == nil {
		r.CloseError = errorInfo(err)
	}
}

// tlsErrorNicks are GTlsError's nicks, as gio_client.py names them.
var tlsErrorNicks = []string{"unavailable", "misc", "bad-certificate", "not-tls", "handshake",
	"certificate-required", "eof", "inappropriate-fallback", "bad-certificate-password"}

// errorInfo names a giotls error as gio_client.py names GIO's: the GTlsError
// nick for a *giotls.Error, "io:<nick>" for errors GIO reports in the
// G_IO_ERROR domain.
func errorInfo(err error) *ErrorInfo {
	var ge *giotls.Error
	var ne net.Error
	switch {
	case errors.As(err, &ge):
		nick := ge.Code.String()
		if int(ge.Code) >= 0 && int(ge.Code) < len(tlsErrorNicks) {
			nick = tlsErrorNicks[ge.Code]
		}
		return &ErrorInfo{Domain: "g-tls-error-quark", Code: int(ge.Code), Nick: nick, Message: err.Error()}
	case errors.Is(err, net.ErrClosed):
		return &ErrorInfo{Domain: "g-io-error-quark", Nick: "io:closed", Message: err.Error()}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &ErrorInfo{Domain: "g-io-error-quark", Nick: "io:timed-out", Message: err.Error()}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return &ErrorInfo{Domain: "g-io-error-quark", Nick: "io:connection-closed", Message: err.Error()}
	}
	return &ErrorInfo{Domain: "go", Nick: "go:" + strings.TrimPrefix(err.Error(), "giotls: "), Message: err.Error()}
}
