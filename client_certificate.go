package giotls

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
)

// getClientCertificate answers the server's CertificateRequest (RFC 5246,
// section 7.4.4; RFC 8446, section 4.3.2). It records the accepted CAs,
// asks the interaction when no certificate is set, unlocks the certificate's
// key if it is encrypted, and sends the certificate with its chain.
//
// A certificate without its private key cannot be sent: as GIO's GnuTLS
// backend does, the handshake then fails with ErrorCertificateRequired
// saying so, rather than go on as if no certificate had been set.
func (c *ClientConnection) getClientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	cas := make([][]byte, len(cri.AcceptableCAs))
	for i, dn := range cri.AcceptableCAs {
		cas[i] = slices.Clone(dn)
	}
	c.mu.Lock()
	c.acceptedCAs, c.certRequested = cas, true
	cert, interaction := c.certificate, c.interaction
	c.mu.Unlock()
	ctx := cri.Context()
	if cert == nil && interaction != nil {
		var res InteractionResult
		var err error
		c.callback(func() { res, err = interaction.RequestCertificate(ctx, c) })
		switch res {
		case InteractionFailed:
			if err == nil {
				return nil, newError(ErrorCertificateRequired, nil, "the Interaction failed to provide a client certificate")
			}
			return nil, &interactionError{err}
		case InteractionHandled:
			cert = c.Certificate()
		}
	}
	if cert == nil {
		c.mu.Lock()
		c.storeSessionsFor(nil)
		c.mu.Unlock()
		return &tls.Certificate{}, nil
	}
	if !cert.HasPrivateKey() {
		return nil, newError(ErrorCertificateRequired, nil,
			"the client certificate %q has no private key, so it cannot be sent", cert.SubjectName())
	}
	if cert.privateKey() == nil {
		var err error
		c.callback(func() { _, err = cert.unlock(ctx, c.Interaction()) })
		if err != nil {
			return nil, err
		}
	}
	tc, err := cert.tlsCertificate()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.certificateSent = cert
	c.storeSessionsFor(cert.chain())
	return &tc, nil
}

// interactionError carries the error of an Interaction that returned
// InteractionFailed through crypto/tls, so that the handshake returns that
// error itself, as GIO does.
type interactionError struct{ err error }

func (e *interactionError) Error() string { return e.err.Error() }
func (e *interactionError) Unwrap() error { return e.err }

// storeSessionsFor makes the sessions of this handshake be kept under the
// client certificate chain actually sent, when it is not the one the lookup
// was made with (an Interaction chose it, or it could not be sent). c.mu is
// held.
func (c *ClientConnection) storeSessionsFor(sent []*x509.Certificate) {
	if k := sessionKey(c.hsName, c.base, sent); k != c.startKey {
		c.sessions.StoreUnder(k)
	}
}
