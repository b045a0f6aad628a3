package giotls

import "context"

// UnhandledInteraction is an [Interaction] that answers
// [InteractionUnhandled] to everything, as GIO's GTlsInteraction does
// where a subclass overrides nothing. Embed it in a type and implement only
// the requests the program answers:
//
//	type pinEntry struct{ giotls.UnhandledInteraction }
//
//	func (pinEntry) AskPassword(ctx context.Context, p *giotls.Password) (giotls.InteractionResult, error) { ... }
type UnhandledInteraction struct{}

// AskPassword answers InteractionUnhandled: no password, so an encrypted
// key stays locked ([ErrBadCertificatePassword]).
func (UnhandledInteraction) AskPassword(context.Context, *Password) (InteractionResult, error) {
	return InteractionUnhandled, nil
}

// RequestCertificate answers InteractionUnhandled: the handshake goes on
// without a client certificate.
func (UnhandledInteraction) RequestCertificate(context.Context, *ClientConnection) (InteractionResult, error) {
	return InteractionUnhandled, nil
}
