#!/usr/bin/python3
"""The reference client of the conformance suite: GIO's own TlsClientConnection
(GLib's Gio through python3-gi, glib-networking's GnuTLS backend).

Usage: /usr/bin/python3 gio_client.py < scenario.json

The scenario (written by gio_client_test.go from a Scenario) is one JSON
object:

  ca_file               trust anchors for Gio.TlsFileDatabase; "" means
                        set_database(None)
  cert_file, key_file   client certificate, optional
  bindings              true: report the channel binding data of each kind
  interaction           true: no certificate is set; a TlsInteraction
                        supplies it when the server asks (request_certificate)
  alpn                  advertised protocols
  require_close_notify  bool
  accept                "none" (no accept-certificate handler), "yes", "no"
  priority              G_TLS_GNUTLS_PRIORITY, optional (e.g.
                        "NORMAL:-VERS-ALL:+VERS-TLS1.2"); GIO has no other
                        way to choose versions
  connections           one object per sequential connection:
     address            "127.0.0.1:PORT" to connect to over TCP
     identity           {"kind": "hostname"|"ip"|"inet"|"service"|"none",
                         "host", "port", "service", "protocol", "domain"}
     copy_from          index of an earlier connection to copy_session_state
                        from, or -1
     send               bytes to write after the handshake ("" for none)
     read               "none", "line" (up to a newline) or "all" (to EOF
                        or an error)
     keep_open          close at the end of the scenario rather than at the
                        end of this connection (a copy_session_state source
                        stays open, as an FTP control connection does)
     no_cert            this connection sets no client certificate
  ftp                   instead of connections: an FTPS exchange (see ftp())

It prints one JSON object: {"connections": [...]} with, per connection,
handshake ("ok" or the GTlsError nick), error (domain, code, message),
accept_flags (the errors accept-certificate was last called with, or null when
it was not called), peer_errors, version, ciphersuite, accepted_cas (hex DER
subjects, or null), alpn, data (what was read), read_end ("eof", "error:" and
the nick of the read error, or "" when the read stopped at a line), with
"bindings" the channel binding data by name, with "interaction_calls" how many times
request_certificate was called; an FTP exchange adds "replies", the server's
replies in order.
"""
import ctypes
import json
import os
import socket
import sys

scenario = json.load(sys.stdin)
# The GnuTLS backend reads its priority string when it initialises.
if scenario.get('priority'):
    os.environ['G_TLS_GNUTLS_PRIORITY'] = scenario['priority']

try:
    import gi
    gi.require_version('Gio', '2.0')
    from gi.repository import Gio, GLib
except (ImportError, ValueError) as e:
    sys.exit('gio_client.py: GIO is not available from Python (apt-get install -y python3-gi gir1.2-glib-2.0): %s' % e)
if not Gio.TlsBackend.get_default().supports_tls():
    sys.exit('gio_client.py: GIO has no TLS backend (apt-get install -y glib-networking)')

TLS_ERRORS = ['unavailable', 'misc', 'bad-certificate', 'not-tls', 'handshake',
              'certificate-required', 'eof', 'inappropriate-fallback',
              'bad-certificate-password']
BINDING_ERRORS = ['not-implemented', 'invalid-state', 'not-available', 'not-supported', 'general-error']
BINDINGS = [('tls-unique', int(Gio.TlsChannelBindingType.UNIQUE)),
            ('tls-server-end-point', int(Gio.TlsChannelBindingType.SERVER_END_POINT)),
            ('tls-exporter', int(Gio.TlsChannelBindingType.EXPORTER))]


class _GByteArray(ctypes.Structure):
    _fields_ = [('data', ctypes.POINTER(ctypes.c_ubyte)), ('len', ctypes.c_uint)]


class _GError(ctypes.Structure):
    _fields_ = [('domain', ctypes.c_uint32), ('code', ctypes.c_int), ('message', ctypes.c_char_p)]


def channel_binding(tls, kind):
    """g_tls_connection_get_channel_binding_data, called through ctypes:
    python3-gi's binding of it (a caller-allocated GByteArray) crashes the
    interpreter with SIGFPE. Returns the data in hex, or "error:" and the
    GTlsChannelBindingError nick."""
    libgio = ctypes.CDLL('libgio-2.0.so.0')
    libglib = ctypes.CDLL('libglib-2.0.so.0')
    libglib.g_byte_array_new.restype = ctypes.POINTER(_GByteArray)
    libglib.g_quark_to_string.restype = ctypes.c_char_p
    fn = libgio.g_tls_connection_get_channel_binding_data
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(_GByteArray),
                   ctypes.POINTER(ctypes.POINTER(_GError))]
    fn.restype = ctypes.c_int
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    data = libglib.g_byte_array_new()
    err = ctypes.POINTER(_GError)()
    if fn(get_pointer(tls.__gpointer__, None), kind, data, ctypes.byref(err)):
        return bytes(data.contents.data[:data.contents.len]).hex()
    domain = libglib.g_quark_to_string(err.contents.domain).decode()
    code = err.contents.code
    if domain == 'g-tls-channel-binding-error-quark' and 0 <= code < len(BINDING_ERRORS):
        return 'error:' + BINDING_ERRORS[code]
    return 'error:%s:%d' % (domain, code)


# GTlsProtocolVersion, by value.
VERSIONS = ['unknown', 'SSL 3.0', 'TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3', 'DTLS 1.0', 'DTLS 1.2']

if scenario.get('ca_file'):
    database = Gio.TlsFileDatabase.new(scenario['ca_file'])
else:
    database = None
certificate = None
if scenario.get('cert_file'):
    certificate = Gio.TlsCertificate.new_from_files(scenario['cert_file'], scenario['key_file'])


def error_dict(e):
    """A GLib.Error as domain, code, nick and message."""
    nick = ''
    if e.domain == 'g-tls-error-quark' and 0 <= e.code < len(TLS_ERRORS):
        nick = TLS_ERRORS[e.code]
    elif e.domain == 'g-io-error-quark':
        nick = 'io:' + Gio.IOErrorEnum(e.code).value_nick
    else:
        nick = '%s:%d' % (e.domain, e.code)
    return {'domain': e.domain, 'code': e.code, 'nick': nick, 'message': e.message}


def identity_of(spec):
    kind = spec['kind']
    if kind in ('hostname', 'ip'):
        return Gio.NetworkAddress.new(spec['host'], spec['port'])
    if kind == 'inet':
        return Gio.InetSocketAddress.new_from_string(spec['host'], spec['port'])
    if kind == 'service':
        return Gio.NetworkService.new(spec['service'], spec['protocol'], spec['domain'])
    return None


def tcp_connect(address):
    host, port = address.rsplit(':', 1)
    client = Gio.SocketClient.new()
    client.set_timeout(20)
    conn = client.connect(Gio.InetSocketAddress.new_from_string(host.strip('[]'), int(port)), None)
    # Without TCP_NODELAY GIO's last handshake flight waits for Nagle.
    conn.get_socket().set_option(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


interactions = []


class CertificateInteraction(Gio.TlsInteraction):
    """Supplies the client certificate when the server asks for one."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def do_request_certificate(self, connection, flags, cancellable):
        self.calls += 1
        connection.set_certificate(certificate)
        return Gio.TlsInteractionResult.HANDLED


def new_tls(base, identity, with_cert=True):
    """A TlsClientConnection over base set up as the scenario says, and the
    record of what accept-certificate was called with."""
    tls = Gio.TlsClientConnection.new(base, identity)
    tls.set_database(database)
    if scenario.get('interaction'):
        interaction = CertificateInteraction()
        interactions.append(interaction)  # keeps the Python side alive
        tls.set_interaction(interaction)
    elif certificate is not None and with_cert:
        tls.set_certificate(certificate)
    if scenario.get('alpn'):
        tls.set_advertised_protocols(scenario['alpn'])
    tls.set_require_close_notify(scenario.get('require_close_notify', True))
    calls = []
    accept = scenario.get('accept', 'none')
    if accept != 'none':
        def on_accept(_conn, _peer, errors):
            calls.append(int(errors))
            return accept == 'yes'
        tls.connect('accept-certificate', on_accept)
    return tls, calls


def describe(tls, calls, result):
    """Fills result with what the connection says after its handshake."""
    result['accept_flags'] = calls[-1] if calls else None
    result['accept_calls'] = len(calls)
    result['peer_errors'] = int(tls.get_peer_certificate_errors())
    result['version'] = VERSIONS[int(tls.get_protocol_version())]
    result['ciphersuite'] = tls.get_ciphersuite_name() or ''
    cas = tls.get_accepted_cas()
    result['accepted_cas'] = None if cas is None else [bytes(ca).hex() for ca in cas]
    result['alpn'] = tls.get_negotiated_protocol() or ''
    if scenario.get('bindings') and result.get('handshake') == 'ok':
        result['bindings'] = {name: channel_binding(tls, kind) for name, kind in BINDINGS}
    interaction = tls.get_interaction()
    if interaction is not None:
        result['interaction_calls'] = interaction.calls


def read(stream, mode, result):
    """Reads as mode says into result's data and read_end."""
    data = b''
    end = ''
    try:
        while True:
            chunk = stream.read_bytes(4096, None).get_data()
            if not chunk:
                end = 'eof'
                break
            data += chunk
            if mode == 'line' and data.endswith(b'\n'):
                break
    except GLib.Error as e:
        end = 'error:' + error_dict(e)['nick']
        result['read_error'] = error_dict(e)
    result['data'] = data.decode('utf-8', 'replace')
    result['read_end'] = end


def connections():
    results = []
    conns = []
    for spec in scenario['connections']:
        result = {'handshake': 'ok'}
        results.append(result)
        base = tcp_connect(spec['address'])
        tls, calls = new_tls(base, identity_of(spec['identity']), not spec.get('no_cert'))
        if spec.get('copy_from', -1) >= 0:
            tls.copy_session_state(conns[spec['copy_from']])
        conns.append(tls)
        try:
            tls.handshake(None)
        except GLib.Error as e:
            result['handshake'] = error_dict(e)['nick']
            result['error'] = error_dict(e)
        describe(tls, calls, result)
        if result['handshake'] == 'ok':
            try:
                if spec.get('send'):
                    tls.get_output_stream().write_all(spec['send'].encode(), None)
                if spec.get('read', 'none') != 'none':
                    read(tls.get_input_stream(), spec['read'], result)
            except GLib.Error as e:
                result['io_error'] = error_dict(e)
        if not spec.get('keep_open'):
            close(tls, result)
    for tls, result in zip(conns, results):
        close(tls, result)
    return results


def close(tls, result):
    if tls.is_closed():
        return
    try:
        tls.close(None)
    except GLib.Error as e:
        result['close_error'] = error_dict(e)


class LineReader:
    """Reads FTP replies from a plain stream a byte at a time, so that no byte
    after the reply (the TLS handshake, after AUTH TLS) is consumed."""

    def __init__(self, stream):
        self.stream = stream

    def line(self):
        out = b''
        while not out.endswith(b'\n'):
            b = self.stream.read_bytes(1, None).get_data()
            if not b:
                raise EOFError('server closed the control connection')
            out += b
        return out.decode().rstrip('\r\n')

    def reply(self):
        """A whole (possibly multi-line) reply, returned as its last line."""
        first = self.line()
        last = first
        if len(first) > 3 and first[3] == '-':
            while not (last[:3] == first[:3] and last[3:4] == ' '):
                last = self.line()
        return last


def ftp():
    """An FTPS (RFC 4217) exchange: AUTH TLS on the control connection,
    anonymous login, PBSZ 0, PROT P, PASV, then LIST over a TLS data
    connection that copies the control connection's session when
    ftp.copy_session is set (vsftpd's require_ssl_reuse demands it)."""
    spec = scenario['ftp']
    result = {'replies': [], 'connections': []}
    control = tcp_connect(spec['address'])
    plain = LineReader(control.get_input_stream())
    result['replies'].append(plain.reply())
    control.get_output_stream().write_all(b'AUTH TLS\r\n', None)
    result['replies'].append(plain.reply())
    ctl_result = {'handshake': 'ok'}
    result['connections'].append(ctl_result)
    tls, calls = new_tls(control, identity_of(spec['identity']))
    try:
        tls.handshake(None)
    except GLib.Error as e:
        ctl_result['handshake'] = error_dict(e)['nick']
        ctl_result['error'] = error_dict(e)
        describe(tls, calls, ctl_result)
        return result
    describe(tls, calls, ctl_result)
    secure = LineReader(tls.get_input_stream())
    out = tls.get_output_stream()

    def command(line):
        out.write_all((line + '\r\n').encode(), None)
        r = secure.reply()
        result['replies'].append(r)
        return r

    command('USER anonymous')
    command('PASS giotls@example.com')
    command('PBSZ 0')
    command('PROT P')
    pasv = command('PASV')
    numbers = pasv[pasv.index('(') + 1:pasv.index(')')].split(',')
    data_port = int(numbers[4]) * 256 + int(numbers[5])
    host = '.'.join(numbers[:4])
    data_base = tcp_connect('%s:%d' % (host, data_port))
    out.write_all(b'LIST\r\n', None)
    result['replies'].append(secure.reply())  # 150 before the data handshake
    data_result = {'handshake': 'ok'}
    result['connections'].append(data_result)
    data, data_calls = new_tls(data_base, identity_of(spec['identity']))
    if spec.get('copy_session'):
        data.copy_session_state(tls)
    try:
        data.handshake(None)
        describe(data, data_calls, data_result)
        read(data.get_input_stream(), 'all', data_result)
        close(data, data_result)
    except GLib.Error as e:
        data_result['handshake'] = error_dict(e)['nick']
        data_result['error'] = error_dict(e)
        describe(data, data_calls, data_result)
        data_base.close(None)
    result['replies'].append(secure.reply())  # 226, or 522 without reuse
    try:
        command('QUIT')
    except (GLib.Error, EOFError):
        pass
    close(tls, ctl_result)
    return result


if 'ftp' in scenario:
    out = ftp()
else:
    out = {'connections': connections()}
json.dump(out, sys.stdout)
print()
