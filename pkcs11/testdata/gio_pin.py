# GIO's client (glib-networking) with a client certificate on a PKCS#11
# token: g_tls_certificate_new_from_pkcs11_uris, the PIN answered by a
# GTlsInteraction with the PINs given as arguments. Prints one line
# "ask FLAGS" per PIN request, then "page" and s_server's page, or "error
# CODE MESSAGE". Usage: gio_pin.py PORT CERT-URI PIN...
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib

port, uri, answers = int(sys.argv[1]), sys.argv[2], sys.argv[3:]


class Pins(Gio.TlsInteraction):
    asked = 0

    def do_ask_password(self, password, cancellable):
        print("ask", int(password.get_flags()), flush=True)
        if Pins.asked >= len(answers):
            # GIO asks again and again after UNHANDLED: stop here.
            print("error unanswered", flush=True)
            sys.exit(0)
        password.set_value(answers[Pins.asked].encode())
        Pins.asked += 1
        return Gio.TlsInteractionResult.HANDLED


try:
    cert = Gio.TlsCertificate.new_from_pkcs11_uris(uri, None)
    base = Gio.SocketClient.new().connect_to_host("127.0.0.1", port, None)
    conn = Gio.TlsClientConnection.new(base, Gio.NetworkAddress.new("localhost", port))
    conn.set_certificate(cert)
    conn.set_interaction(Pins())
    conn.connect("accept-certificate", lambda *args: True)  # the server's certificate is not what is tested
    conn.handshake(None)
    conn.get_output_stream().write(b"GET / HTTP/1.0\r\n\r\n", None)
    page = b""
    while True:
        chunk = conn.get_input_stream().read_bytes(65536, None).get_data()
        if not chunk:
            break
        page += chunk
    print("page")
    print(page.decode(errors="replace"))
except GLib.Error as e:
    print("error", e.code, e.message)
