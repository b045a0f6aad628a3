//go:build ignore

/*
 * gio_client: the reference GIO client (glib-networking) for bench/compare.
 * It runs the same scenarios as bench/cmd/benchclient, against the same
 * server (bench/cmd/benchserver), speaking the protocol of package bench:
 * after the handshake the server sends one byte, 'R'; a request is an
 * 8-byte header (uint32 request length, uint32 response length, big-endian)
 * and the request bytes, answered with that many bytes.
 *
 *   gio_client MODE SCENARIO HOST PORT CAFILE N BYTES
 *
 * MODE default: what most programs write. A plain GSocketClient connection
 *   and g_tls_client_connection_new, so the default database (the system
 *   trust store); the bench root is not in it, so the accept-certificate
 *   handler accepts exactly G_TLS_CERTIFICATE_UNKNOWN_CA.
 * MODE tuned: a GTlsFileDatabase of CAFILE made once and given to each
 *   connection at construction, and TCP_NODELAY on the socket.
 * SCENARIO connect: N connections, one after the other (handshake, read
 *   'R', close), after one untimed warm-up connection. Sessions are resumed
 *   as GIO does by default.
 * SCENARIO bulk: one connection, then BYTES downloaded through a 64 KiB
 *   buffer.
 *
 * It prints one JSON line, like benchclient: wall and CPU (user + system)
 * nanoseconds for all operations. Build:
 *   cc -O2 -o gio_client gio_client.c $(pkg-config --cflags --libs gio-2.0)
 */
#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static gboolean tuned;
static GTlsDatabase *database;

static gboolean
accept_unknown_ca (GTlsConnection *conn, GTlsCertificate *peer,
                   GTlsCertificateFlags errors, gpointer data)
{
  return errors == G_TLS_CERTIFICATE_UNKNOWN_CA;
}

static void
die (const char *what, GError *error)
{
  fprintf (stderr, "gio_client: %s: %s\n", what, error ? error->message : "failed");
  exit (1);
}

static gint64
cpu_ns (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ((gint64) ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000
         + ((gint64) ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* open_conn connects, handshakes and reads 'R'. */
static GIOStream *
open_conn (GSocketClient *client, const char *host, guint16 port)
{
  GError *error = NULL;
  GSocketConnection *tcp;
  GSocketConnectable *identity;
  GIOStream *tls;
  char ready;
  gsize n;

  tcp = g_socket_client_connect_to_host (client, host, port, NULL, &error);
  if (!tcp)
    die ("connect", error);
  identity = g_network_address_new ("localhost", port);
  if (tuned)
    {
      if (!g_socket_set_option (g_socket_connection_get_socket (tcp), IPPROTO_TCP,
                                TCP_NODELAY, 1, &error))
        die ("TCP_NODELAY", error);
      tls = G_IO_STREAM (g_initable_new (
          g_tls_backend_get_client_connection_type (g_tls_backend_get_default ()),
          NULL, &error, "base-io-stream", tcp, "server-identity", identity,
          "database", database, NULL));
    }
  else
    tls = g_tls_client_connection_new (G_IO_STREAM (tcp), identity, &error);
  if (!tls)
    die ("g_tls_client_connection_new", error);
  g_object_unref (identity);
  g_object_unref (tcp);
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_unknown_ca), NULL);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error))
    die ("handshake", error);
  if (!g_input_stream_read_all (g_io_stream_get_input_stream (tls), &ready, 1, &n, NULL, &error)
      || n != 1 || ready != 'R')
    die ("read ready", error);
  return tls;
}

static void
close_conn (GIOStream *tls)
{
  GError *error = NULL;
  if (!g_io_stream_close (tls, NULL, &error))
    g_clear_error (&error); /* the server may close first */
  g_object_unref (tls);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  GSocketClient *client;
  const char *mode, *scenario, *host, *cafile;
  guint16 port;
  gint64 n, bytes, wall0, cpu0, wall, cpu;
  GIOStream *warm;

  if (argc != 8)
    {
      fprintf (stderr, "usage: gio_client default|tuned connect|bulk HOST PORT CAFILE N BYTES\n");
      return 2;
    }
  mode = argv[1];
  scenario = argv[2];
  host = argv[3];
  port = (guint16) atoi (argv[4]);
  cafile = argv[5];
  n = g_ascii_strtoll (argv[6], NULL, 10);
  bytes = g_ascii_strtoll (argv[7], NULL, 10);
  tuned = strcmp (mode, "tuned") == 0;
  if (!tuned && strcmp (mode, "default") != 0)
    die ("mode must be default or tuned", NULL);
  if (tuned)
    {
      database = g_tls_file_database_new (cafile, &error);
      if (!database)
        die ("g_tls_file_database_new", error);
    }
  client = g_socket_client_new ();

  warm = open_conn (client, host, port);
  if (strcmp (scenario, "connect") == 0)
    {
      close_conn (warm);
      wall0 = g_get_monotonic_time ();
      cpu0 = cpu_ns ();
      for (gint64 i = 0; i < n; i++)
        close_conn (open_conn (client, host, port));
      bytes = 0;
    }
  else if (strcmp (scenario, "bulk") == 0)
    {
      guint8 hdr[8] = { 0, 0, 0, 0, bytes >> 24, bytes >> 16, bytes >> 8, bytes };
      static guint8 buf[64 << 10];
      GInputStream *in = g_io_stream_get_input_stream (warm);
      gint64 left = bytes;

      wall0 = g_get_monotonic_time ();
      cpu0 = cpu_ns ();
      if (!g_output_stream_write_all (g_io_stream_get_output_stream (warm), hdr, sizeof hdr, NULL, NULL, &error))
        die ("write", error);
      while (left > 0)
        {
          gssize r = g_input_stream_read (in, buf, MIN (left, (gint64) sizeof buf), NULL, &error);
          if (r <= 0)
            die ("read", error);
          left -= r;
        }
      n = 1;
    }
  else
    die ("scenario must be connect or bulk", NULL);
  wall = (g_get_monotonic_time () - wall0) * 1000;
  cpu = cpu_ns () - cpu0;
  if (strcmp (scenario, "bulk") == 0)
    close_conn (warm);
  printf ("{\"impl\":\"gio-%s\",\"scenario\":\"%s\",\"endpoint\":\"\",\"ops\":%" G_GINT64_FORMAT
          ",\"bytes\":%" G_GINT64_FORMAT ",\"wall_ns\":%" G_GINT64_FORMAT ",\"cpu_ns\":%" G_GINT64_FORMAT
          ",\"resumed\":-1}\n",
          mode, scenario, n, bytes, wall, cpu);
  g_object_unref (client);
  g_clear_object (&database);
  return 0;
}
