package giotls

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/giotls/giotls/internal/testpki"
)

// TestChannelBindingErrorCodes: channel-binding errors carry GIO's
// GTlsChannelBindingError code (same values as gioenums.h), which
// errors.As and ChannelBindingErrorCodeOf read and errors.Is matches; the
// ErrBinding sentinels keep their identity and match only their own code.
func TestChannelBindingErrorCodes(t *testing.T) {
	cases := []struct {
		code     ChannelBindingErrorCode
		value    int // G_TLS_CHANNEL_BINDING_ERROR_*
		nick     string
		sentinel error
	}{
		{ChannelBindingErrorNotImplemented, 0, "not-implemented", ErrBindingNotImplemented},
		{ChannelBindingErrorInvalidState, 1, "invalid-state", ErrBindingInvalidState},
		{ChannelBindingErrorNotAvailable, 2, "not-available", ErrBindingNotAvailable},
		{ChannelBindingErrorNotSupported, 3, "not-supported", ErrBindingNotSupported},
		{ChannelBindingErrorGeneralError, 4, "general-error", ErrBindingGeneral},
	}
	for _, tc := range cases {
		t.Run(tc.nick, func(t *testing.T) {
			if int(tc.code) != tc.value || tc.code.String() != tc.nick {
				t.Fatalf("code %d %q, want GIO's %d %q", int(tc.code), tc.code.String(), tc.value, tc.nick)
			}
			if code, ok := ChannelBindingErrorCodeOf(tc.sentinel); !ok || code != tc.code {
				t.Fatalf("the sentinel's code: %v, %v", code, ok)
			}
			for _, cause := range []error{nil, errors.New("cause")} {
				err := fmt.Errorf("wrapped: %w", bindingError(tc.code, cause, "why"))
				var code ChannelBindingErrorCode
				if !errors.As(err, &code) || code != tc.code {
					t.Fatalf("errors.As: %v", code)
				}
				if got, ok := ChannelBindingErrorCodeOf(err); !ok || got != tc.code {
					t.Fatalf("ChannelBindingErrorCodeOf = %v, %v", got, ok)
				}
				if !errors.Is(err, tc.code) || !errors.Is(err, tc.sentinel) || !errors.Is(err, ErrMisc) {
					t.Fatal("errors.Is does not match its code, sentinel and ErrMisc")
				}
				var ge *Error
				if !errors.As(err, &ge) || ge.Code != ErrorMisc {
					t.Fatalf("not a *Error with ErrorMisc: %v", err)
				}
				for _, other := range cases {
					if other.code != tc.code && (errors.Is(err, other.sentinel) || errors.Is(err, other.code)) {
						t.Fatalf("%v matches %v", tc.code, other.code)
					}
				}
			}
		})
	}
	if c := ChannelBindingErrorCode(99); c.String() != "ChannelBindingErrorCode(99)" || c.Error() == "" {
		t.Fatalf("an unknown code: %q, %q", c.String(), c.Error())
	}
	if _, ok := ChannelBindingErrorCodeOf(ErrMisc); ok {
		t.Fatal("ErrMisc has a channel-binding code")
	}
	if _, ok := ChannelBindingErrorCodeOf(nil); ok {
		t.Fatal("nil has a channel-binding code")
	}
}

// TestChannelBindingDataCodes: what ChannelBindingData returns carries the
// code for its case.
func TestChannelBindingDataCodes(t *testing.T) {
	ca := newTestCA(t, "Binding Codes Root")
	srv := startTLSServer(t, "tcp4", serverConfig(ca.MustLeaf(t, "localhost", testpki.DNSNames("localhost"))), nil)
	c := dialTest(t, srv.Addr.String(), dialConfig{Identity: localhost(srv.Addr.Port()), Database: ca.db})
	check := func(t ChannelBindingType, want ChannelBindingErrorCode) error {
		_, err := c.ChannelBindingData(t)
		if got, ok := ChannelBindingErrorCodeOf(err); !ok || got != want {
			return fmt.Errorf("%v: %v (code %v, %v), want %v", t, err, got, ok, want)
		}
		return nil
	}
	if err := check(ChannelBindingTLSExporter, ChannelBindingErrorInvalidState); err != nil {
		t.Fatal(err)
	}
	if err := c.Handshake(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := check(ChannelBindingTLSUnique, ChannelBindingErrorNotSupported); err != nil { // TLS 1.3
		t.Fatal(err)
	}
	if err := check(ChannelBindingType(99), ChannelBindingErrorNotImplemented); err != nil {
		t.Fatal(err)
	}
}
