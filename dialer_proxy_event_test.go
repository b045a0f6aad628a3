package giotls

import (
	"net/url"
	"strings"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
	"github.com/giotls/giotls/internal/testproxy"
)

// TestDialerEventsProxied: through a proxy, the events are GIO's
// (gsocketclient.c): connected when the connection to the proxy is made,
// then proxy-negotiating with it, proxy-negotiated with the tunnel, then the
// TLS steps; a proxy that refuses ends with complete and no connection.
func TestDialerEventsProxied(t *testing.T) {
	ca := newTestCA(t, "Proxy events CA")
	srv := startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, destName, testpki.DNSNames(destName))), nil)
	const ok = "resolving:- resolved:- connecting:- connected:tcp proxy-negotiating:tcp proxy-negotiated:tcp " +
		"tls-handshaking:tls tls-handshaked:tls complete:tls"
	const refused = "resolving:- resolved:- connecting:- connected:tcp proxy-negotiating:tcp complete:-"
	for _, kind := range proxyKinds {
		for _, tc := range []struct {
			name string
			opts testproxy.Options
			want string
		}{
			{"tunnel", testproxy.Options{Route: routeTo(srv)}, ok},
			{"credentials refused", testproxy.Options{User: "alice", Password: "right", Route: routeTo(srv)}, refused},
		} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				p := kind.start(t, tc.opts)
				u := *p.URL
				if tc.opts.User != "" {
					u.User = url.UserPassword(tc.opts.User, "wrong")
				}
				log := &eventLog{t: t}
				d := &Dialer{Database: ca.db, Proxy: useProxy(&u), Event: log.record}
				conn, err := d.DialContext(proxyCtx(t), "tcp", destName+":443")
				if err == nil {
					conn.Close()
				}
				if got := strings.Join(log.events, " "); got != tc.want {
					t.Errorf("events (dial error %v):\n got %s\nwant %s", err, got, tc.want)
				}
			})
		}
	}
}
