package giotls

import (
	"errors"
	"strconv"
)

// ChannelBindingErrorCode is GIO's GTlsChannelBindingError: the code of a
// channel-binding failure, a domain of its own in GIO, with the same
// values. The errors [ClientConnection.ChannelBindingData] returns are
// *Error values (Code [ErrorMisc]) that carry one: read it with
// [ChannelBindingErrorCodeOf] or errors.As, or match it with errors.Is,
// against the code itself or its sentinel ([ErrBindingNotSupported], ...).
type ChannelBindingErrorCode int

const (
	// ChannelBindingErrorNotImplemented: channel binding, or this binding
	// type, is not implemented (G_TLS_CHANNEL_BINDING_ERROR_NOT_IMPLEMENTED).
	ChannelBindingErrorNotImplemented ChannelBindingErrorCode = iota
	// ChannelBindingErrorInvalidState: the handshake has not completed, or
	// the connection is closed (G_TLS_CHANNEL_BINDING_ERROR_INVALID_STATE).
	ChannelBindingErrorInvalidState
	// ChannelBindingErrorNotAvailable: the handshake completed but the data
	// is not available, such as tls-unique after a resumption without the
	// extended master secret (G_TLS_CHANNEL_BINDING_ERROR_NOT_AVAILABLE).
	ChannelBindingErrorNotAvailable
	// ChannelBindingErrorNotSupported: the binding type is not defined for
	// this connection, such as tls-unique on TLS 1.3
	// (G_TLS_CHANNEL_BINDING_ERROR_NOT_SUPPORTED).
	ChannelBindingErrorNotSupported
	// ChannelBindingErrorGeneralError: any other failure
	// (G_TLS_CHANNEL_BINDING_ERROR_GENERAL_ERROR).
	ChannelBindingErrorGeneralError
)

// String returns GIO's nick for the code, such as "not-supported"; Error
// (the code is an error, for errors.As) says it in a sentence.
func (c ChannelBindingErrorCode) String() string {
	switch c {
	case ChannelBindingErrorNotImplemented:
		return "not-implemented"
	case ChannelBindingErrorInvalidState:
		return "invalid-state"
	case ChannelBindingErrorNotAvailable:
		return "not-available"
	case ChannelBindingErrorNotSupported:
		return "not-supported"
	case ChannelBindingErrorGeneralError:
		return "general-error"
	}
	return "ChannelBindingErrorCode(" + strconv.Itoa(int(c)) + ")"
}

// ChannelBindingErrorCodeOf returns the channel-binding code err carries,
// and false if err is not a channel-binding error.
func ChannelBindingErrorCodeOf(err error) (ChannelBindingErrorCode, bool) {
	var code ChannelBindingErrorCode
	ok := errors.As(err, &code)
	return code, ok
}
