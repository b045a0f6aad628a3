package giotls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
)

// getClientCertificate answers the server's CertificateRequest: it records
// the accepted CAs, asks the interaction when no certificate is set, and
// sends the certificate if it has its private key.
func (c *clientConn) getClientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	cas := make([][]byte, len(cri.AcceptableCAs))
	for i, dn := range cri.AcceptableCAs {
		cas[i] = slices.Clone(dn)
	}
	c.mu.Lock()
	c.acceptedCAs, c.certRequested = cas, true
	cert, interaction := c.certificate, c.interaction
	c.mu.Unlock()
	if cert == nil && interaction != nil {
		res, err := interaction.RequestCertificate(cri.Context(), c)
		switch res {
		case InteractionFailed:
			if err == nil {
				err = fmt.Errorf("interaction failed")
			}
			return nil, newError(ErrorCertificateRequired, err, "could not get a client certificate")
		case InteractionHandled:
			c.mu.Lock()
			cert = c.certificate
			c.mu.Unlock()
		}
	}
	if cert == nil {
		c.mu.Lock()
		c.storeSessionsFor(nil)
		c.mu.Unlock()
		return &tls.Certificate{}, nil
	}
	tc, err := cert.tlsCertificate()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.sentNoKey = true
		c.storeSessionsFor(nil)
		return &tls.Certificate{}, nil
	}
	c.certificateSent = cert
	c.storeSessionsFor(cert.chain())
	return &tc, nil
}

// storeSessionsFor makes the sessions of this handshake be kept under the
// client certificate chain actually sent, when it is not the one the lookup
// was made with (an Interaction chose it, or it could not be sent). c.mu is
// held.
func (c *clientConn) storeSessionsFor(sent []*x509.Certificate) {
	if k := sessionKey(c.hsName, c.base, sent); k != c.startKey {
		c.sessions.StoreUnder(k)
	}
}

// missingCertificate reports whether the server's alert means that it wanted
// a client certificate we did not send. TLS 1.3 servers say
// certificate_required (RFC 8446, section 4.4.2.4); TLS 1.2 servers send
// handshake_failure or bad_certificate after asking for one.
func (c *clientConn) missingCertificate(alert string) bool {
	if alert == "certificate required" {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.certRequested && c.certificateSent == nil &&
		(alert == "handshake failure" || alert == "bad certificate")
}

func (c *clientConn) noKeyNote() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sentNoKey {
		return " (the certificate set has no private key, so it was not sent)"
	}
	return ""
}
