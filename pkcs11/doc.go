// Package pkcs11 loads client certificates and keys from PKCS#11 tokens
// (smart cards, HSMs, SoftHSM2) for giotls, as GIO's
// g_tls_certificate_new_from_pkcs11_uris does (GIO 2.68): the token is
// named by an RFC 7512 URI, the certificate and its issuers are read from
// it, and the private key stays on it: a [Key] is a crypto.Signer whose
// signatures the token makes.
//
// The PIN is asked when a handshake first needs the key, through the
// connection's Interaction (giotls.Interaction.AskPassword with
// giotls.PasswordPKCS11User), because a [Key] implements
// giotls.KeyUnlocker; a pin-value or pin-source in the URI is used without
// asking.
//
// This is a module of its own, so that giotls itself stays pure Go: it
// uses cgo (through github.com/miekg/pkcs11) to load the token's PKCS#11
// library.
package pkcs11
