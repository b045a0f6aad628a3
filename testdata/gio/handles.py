#!/usr/bin/python3
"""GIO's certificate handles (g_tls_database_create_certificate_handle,
g_tls_database_lookup_certificate_for_handle), for comparing giotls with GIO
(glib-networking).

Usage: handles.py ANCHORS CERT SYSTEM_CERT
Prints four lines: the handle the file database of ANCHORS makes for CERT
(an anchor of it); the handle the default (system) database makes for
SYSTEM_CERT (one of its anchors); the handle the file database makes for
SYSTEM_CERT (not in it); the certificate-pem that looking the first handle
up gives, newlines escaped as \\n. "-" for NULL.
"""
import sys

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio


def show(s):
    print('-' if s is None else s.replace('\n', '\\n'))


anchors, cert_path, system_path = sys.argv[1:4]
db = Gio.TlsFileDatabase.new(anchors)
cert = Gio.TlsCertificate.new_from_file(cert_path)
system_cert = Gio.TlsCertificate.new_from_file(system_path)
system = Gio.TlsBackend.get_default().get_default_database()
handle = db.create_certificate_handle(cert)
show(handle)
show(system.create_certificate_handle(system_cert))
show(db.create_certificate_handle(system_cert))
found = db.lookup_certificate_for_handle(handle, None, Gio.TlsDatabaseLookupFlags.NONE, None)
show(None if found is None else found.props.certificate_pem)
