package giotls

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestCertificateFlagsString(t *testing.T) {
	tests := []struct {
		f    CertificateFlags
		want string
	}{
		{0, "none"},
		{CertificateUnknownCA, "unknown-ca"},
		{CertificateUnknownCA | CertificateBadIdentity, "unknown-ca|bad-identity"},
		{CertificateExpired | CertificateNotActivated, "not-activated|expired"},
		{CertificateValidateAll, "unknown-ca|bad-identity|not-activated|expired|revoked|insecure|generic-error"},
		{CertificateInsecure | 0x100, "insecure|0x100"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("%#x.String() = %q, want %q", uint32(tt.f), got, tt.want)
		}
		if tt.f&^CertificateValidateAll != 0 {
			continue
		}
		back, err := ParseCertificateFlags(tt.want)
		if err != nil || back != tt.f {
			t.Errorf("ParseCertificateFlags(%q) = %v, %v", tt.want, back, err)
		}
	}
	if got := (CertificateRevoked | CertificateGenericError).Nicks(); !slices.Equal(got, []string{"revoked", "generic-error"}) {
		t.Errorf("Nicks = %q", got)
	}
	if got := CertificateFlags(0).Nicks(); got == nil || len(got) != 0 {
		t.Errorf("Nicks of none = %#v, want an empty list", got)
	}
	if _, err := ParseCertificateFlags("unknown-ca|bogus"); err == nil {
		t.Errorf("ParseCertificateFlags accepted a bogus nick")
	}
	if f, err := ParseCertificateFlags("all"); err != nil || f != CertificateValidateAll {
		t.Errorf("ParseCertificateFlags(all) = %v, %v", f, err)
	}
}

func TestGIOValues(t *testing.T) {
	// The values are GIO's: code outside Go (and GIO's docs) rely on them.
	if CertificateGenericError != 64 || CertificateValidateAll != 127 {
		t.Errorf("GTlsCertificateFlags values changed")
	}
	if ErrorBadCertificatePassword != 8 || ErrorEOF != 6 || ErrorNotTLS != 3 {
		t.Errorf("GTlsError values changed")
	}
	// gio/gioenums.h: G_TLS_PROTOCOL_VERSION_DTLS_1_0 = 201, _DTLS_1_2 = 202.
	for v, want := range map[ProtocolVersion]int{
		ProtocolVersionUnknown: 0, ProtocolVersionSSL30: 1, ProtocolVersionTLS10: 2, ProtocolVersionTLS11: 3,
		ProtocolVersionTLS12: 4, ProtocolVersionTLS13: 5, ProtocolVersionDTLS10: 201, ProtocolVersionDTLS12: 202,
	} {
		if int(v) != want {
			t.Errorf("GTlsProtocolVersion %v = %d, want GIO's %d", v, int(v), want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	cause := errors.New("cause")
	err := fmt.Errorf("wrapped: %w", newError(ErrorEOF, cause, "closed"))
	if !errors.Is(err, ErrEOF) || errors.Is(err, ErrMisc) {
		t.Errorf("errors.Is does not match by code")
	}
	if !errors.Is(err, cause) {
		t.Errorf("the cause is not reachable")
	}
	var ge *Error
	if !errors.As(err, &ge) || ge.Code != ErrorEOF || ge.Error() != "giotls: closed: cause" {
		t.Errorf("errors.As = %v", ge)
	}
	if ErrorCode(99).String() != "ErrorCode(99)" || ErrorEOF.String() != "eof" {
		t.Errorf("ErrorCode.String")
	}
}
