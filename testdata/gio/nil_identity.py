#!/usr/bin/python3
"""GIO's answers where a NULL identity or a NULL trusted CA is allowed, for
comparing giotls with GIO (glib-networking) on the same certificates.

Usage: nil_identity.py DIR
DIR holds anchors.pem (also the trusted CA of g_tls_certificate_verify) and
manifest: one "NAME<TAB>HOST" line per chain, NAME.pem being the chain in
order, an empty HOST meaning no identity (NULL). Prints one line each:
NAME<TAB>DB<TAB>NOCA<TAB>CA, the GTlsCertificateFlags as decimal numbers of
g_tls_database_verify_chain (server purpose), g_tls_certificate_verify with
a NULL trusted CA, and g_tls_certificate_verify with the anchor.
"""
import os
import sys

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio

d = sys.argv[1]
anchors = os.path.join(d, 'anchors.pem')
db = Gio.TlsFileDatabase.new(anchors)
ca = Gio.TlsCertificate.new_from_file(anchors)
with open(os.path.join(d, 'manifest')) as manifest:
    for line in manifest:
        name, host = line.rstrip('\n').split('\t')
        with open(os.path.join(d, name + '.pem')) as f:
            chain = Gio.TlsCertificate.new_from_pem(f.read(), -1)
        identity = Gio.NetworkAddress.new(host, 443) if host else None
        flags = db.verify_chain(chain, Gio.TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                identity, None, Gio.TlsDatabaseVerifyFlags.NONE, None)
        print('%s\t%d\t%d\t%d' % (name, int(flags), int(chain.verify(identity, None)),
                                  int(chain.verify(identity, ca))))
