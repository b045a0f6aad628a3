package pkcs11

import (
	"fmt"
	"strconv"

	"github.com/giotls/giotls"
	"github.com/miekg/pkcs11"
)

// maxObjects bounds what a search reads: a URI that matches more objects
// than this is refused as ambiguous anyway.
const maxObjects = 16

// tokenError is a giotls error for a token, object or module problem
// (GIO's backends report these as G_TLS_ERROR_BAD_CERTIFICATE when a
// certificate cannot be made, or MISC).
func tokenError(code giotls.ErrorCode, cause error, format string, args ...any) error {
	return &giotls.Error{Code: code, Message: "pkcs11: " + fmt.Sprintf(format, args...), Err: cause}
}

// findSlot returns the one slot whose library, slot and token match u's
// path attributes (RFC 7512, section 2.3). An unknown path attribute
// matches nothing; several matching tokens are refused as ambiguous, so
// that a key is never taken from a token the URI did not single out.
func findSlot(m *module, u *URI) (uint, pkcs11.TokenInfo, error) {
	if name := u.unknownPath(); name != "" {
		return 0, pkcs11.TokenInfo{}, tokenError(giotls.ErrorBadCertificate, nil,
			"the URI's path attribute %q is not supported, so it matches no token (RFC 7512, section 2.3)", name)
	}
	info, err := m.ctx.GetInfo()
	if err != nil {
		return 0, pkcs11.TokenInfo{}, tokenError(giotls.ErrorMisc, err, "reading the module %q's information", m.path)
	}
	if !matches(u, map[string]string{
		"library-manufacturer": info.ManufacturerID,
		"library-description":  info.LibraryDescription,
	}) || !matchesVersion(u, info.LibraryVersion) {
		return 0, pkcs11.TokenInfo{}, tokenError(giotls.ErrorBadCertificate, nil, "the module %q does not match the URI's library attributes", m.path)
	}
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return 0, pkcs11.TokenInfo{}, tokenError(giotls.ErrorMisc, err, "listing the slots of %q", m.path)
	}
	var found []uint
	var token pkcs11.TokenInfo
	for _, slot := range slots {
		si, err := m.ctx.GetSlotInfo(slot)
		if err != nil {
			continue
		}
		ti, err := m.ctx.GetTokenInfo(slot)
		if err != nil {
			continue // no token, or it went away
		}
		if ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue // holds nothing to match (SoftHSM2 always offers one such slot)
		}
		if matches(u, map[string]string{
			"slot-manufacturer": si.ManufacturerID, "slot-description": si.SlotDescription,
			"slot-id": strconv.FormatUint(uint64(slot), 10),
			"token":   ti.Label, "manufacturer": ti.ManufacturerID, "serial": ti.SerialNumber, "model": ti.Model,
		}) {
			found = append(found, slot)
			token = ti
		}
	}
	switch len(found) {
	case 0:
		return 0, token, tokenError(giotls.ErrorBadCertificate, nil, "no token of the module %q matches %s", m.path, describe(u))
	case 1:
		return found[0], token, nil
	}
	return 0, token, tokenError(giotls.ErrorBadCertificate, nil,
		"%d tokens of the module %q match %s: add token=, serial= or slot-id=", len(found), m.path, describe(u))
}

// matches reports whether every attribute of u named in have has that
// value.
func matches(u *URI, have map[string]string) bool {
	for name, value := range have {
		if want, ok := u.Get(name); ok && want != value {
			return false
		}
	}
	return true
}

func matchesVersion(u *URI, v pkcs11.Version) bool {
	want, ok := u.Get("library-version")
	if !ok {
		return true
	}
	got := strconv.Itoa(int(v.Major))
	if len(want) > len(got) { // "M.N" (RFC 7512: "M" means "M.0")
		got += "." + strconv.Itoa(int(v.Minor))
	} else if v.Minor != 0 {
		return false
	}
	return want == got
}

// describe names what u's path selects, without its query (which may hold
// a PIN).
func describe(u *URI) string {
	return fmt.Sprintf("%q", (&URI{Path: u.Path}).String())
}

// findObjects returns the objects of class matching u's object (CKA_LABEL)
// and id (CKA_ID) attributes, at most maxObjects+1.
func findObjects(ctx *pkcs11.Ctx, s pkcs11.SessionHandle, class uint, u *URI, extra ...*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	tmpl := append([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class)}, extra...)
	if label, ok := u.Get("object"); ok {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, label))
	}
	if id, ok := u.Get("id"); ok {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(id)))
	}
	if err := ctx.FindObjectsInit(s, tmpl); err != nil {
		return nil, err
	}
	objs, _, err := ctx.FindObjects(s, maxObjects+1)
	if ferr := ctx.FindObjectsFinal(s); err == nil {
		err = ferr
	}
	return objs, err
}

// attribute reads one attribute of an object.
func attribute(ctx *pkcs11.Ctx, s pkcs11.SessionHandle, o pkcs11.ObjectHandle, typ uint) ([]byte, error) {
	attrs, err := ctx.GetAttributeValue(s, o, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
	if err != nil {
		return nil, err
	}
	if len(attrs) != 1 {
		return nil, tokenError(giotls.ErrorMisc, nil, "the module returned %d attributes for one", len(attrs))
	}
	return attrs[0].Value, nil
}
