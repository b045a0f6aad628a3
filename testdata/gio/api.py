#!/usr/bin/python3
"""The names of GIO's TLS client API, from the installed GIO's
introspection data, for checking that README.md's parity table covers them.

Usage: api.py
Prints one line per name: "function C_SYMBOL", "property TYPE NAME" or
"signal TYPE NAME", for the calls, own properties and own signals of the
types below (their GType queries, *_get_type, left out).
"""
import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GObject

TYPES = ['TlsConnection', 'TlsClientConnection', 'TlsCertificate', 'TlsDatabase',
         'TlsFileDatabase', 'TlsInteraction', 'TlsPassword', 'TlsBackend', 'SocketClient',
         'NetworkAddress', 'NetworkService', 'InetSocketAddress', 'SocketConnectable']
PREFIXES = ('g_tls_', 'g_socket_client_', 'g_network_', 'g_inet_socket_address_', 'g_socket_connectable_')

names = set()
for name in TYPES:
    cls = getattr(Gio, name)
    for attr in dir(cls):
        try:
            v = getattr(cls, attr)
        except Exception:
            continue
        if hasattr(v, 'get_symbol'):
            sym = v.get_symbol()
            if sym.startswith(PREFIXES) and not sym.endswith('_get_type'):
                names.add('function ' + sym)
    gtype = cls.__gtype__
    if gtype.is_interface():
        continue
    for spec in cls.list_properties():
        if spec.owner_type == gtype:
            names.add('property %s %s' % (name, spec.name))
    for sig in GObject.signal_list_names(gtype):
        names.add('signal %s %s' % (name, sig))
for n in sorted(names):
    print(n)
