#!/usr/bin/python3
"""Verifies chains with GIO's own GTlsFileDatabase (glib-networking), for
comparing giotls's flags with GIO's on the same certificates.

Usage: verify_chain.py DIR
DIR holds anchors.pem and manifest: one "NAME<TAB>HOST" line per chain,
NAME.pem being the chain in order. Prints one "NAME<TAB>FLAGS" line each,
FLAGS the GTlsCertificateFlags as a decimal number.
"""
import os
import sys

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio

d = sys.argv[1]
db = Gio.TlsFileDatabase.new(os.path.join(d, 'anchors.pem'))
with open(os.path.join(d, 'manifest')) as manifest:
    for line in manifest:
        name, host = line.rstrip('\n').split('\t')
        with open(os.path.join(d, name + '.pem')) as f:
            chain = Gio.TlsCertificate.new_from_pem(f.read(), -1)
        identity = Gio.NetworkAddress.new(host, 443)
        flags = db.verify_chain(chain, Gio.TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                identity, None, Gio.TlsDatabaseVerifyFlags.NONE, None)
        print('%s\t%d' % (name, int(flags)))
