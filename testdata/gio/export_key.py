#!/usr/bin/python3
"""GIO's read-back of certificates (certificate-pem, private-key-pem,
private-key), for comparing giotls with GIO (glib-networking).

Usage: export_key.py FILE...
Each FILE holds a certificate and its private key in PEM. Prints, for each,
one line: FILE<TAB>certificate-pem<TAB>private-key-pem<TAB>private-key, the
PEM texts with their newlines escaped as \\n, the DER in hex; "-" for NULL.
"""
import sys

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio


def esc(s):
    return '-' if s is None else s.replace('\n', '\\n')


for path in sys.argv[1:]:
    cert = Gio.TlsCertificate.new_from_file(path)
    der = cert.props.private_key
    print('\t'.join([path, esc(cert.props.certificate_pem), esc(cert.props.private_key_pem),
                     '-' if der is None else bytes(der).hex()]))
