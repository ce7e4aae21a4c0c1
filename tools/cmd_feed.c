/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_feed.c -- `intelmesh tail`: subscribes to the node's local PUB feed and
 * prints each message as one JSON line, {"topic": ..., "data": {...}}. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
#include "im_identity.h"
#include "intelmesh.h"

/* A bound wildcard address is dialled on loopback. */
static void
connect_endpoint (const char *bound, char *out, size_t outsz)
{
    if (strncmp (bound, "tcp://*:", 8) == 0)
        snprintf (out, outsz, "tcp://127.0.0.1:%.8s", bound + 8);
    else if (strncmp (bound, "tcp://0.0.0.0:", 14) == 0)
        snprintf (out, outsz, "tcp://127.0.0.1:%.8s", bound + 14);
    else
        snprintf (out, outsz, "%s", bound);
}

/* Prints the feed's messages, at most COUNT (0: no limit) and for at most
 * TIMEOUT seconds (0: no limit), until interrupted or the daemon stops.
 * Returns how many were printed. */
static long
tail_messages (im_cli_t *cli, zsock_t *sub, long count, long timeout)
{
    zsock_set_rcvtimeo (sub, 250);
    int64_t deadline = timeout ? zclock_mono () + 1000 * timeout : 0;
    long seen = 0;
    while (!zsys_interrupted && (!count || seen < count)) {
        if (deadline && zclock_mono () >= deadline)
            break;
        char *topic = NULL, *data = NULL;
        if (zstr_recvx (sub, &topic, &data, NULL) < 0) {
            /* A timeout: check that the daemon is still there. */
            if (im_pidfile_holder (cli->dir) == 0) {
                cli_error ("tail: intelmeshd stopped");
                break;
            }
            continue;
        }
        if (!data && topic && strchr (topic, ' ')) {
            /* MISP's format (pub/format = misp): one frame, "TOPIC JSON". */
            char *space = strchr (topic, ' ');
            *space = 0;
            data = strdup (space + 1);
        }
        json_t *payload = data ? json_loads (data, 0, NULL) : NULL;
        json_t *line = json_pack ("{s:s, s:o}", "topic", topic ? topic : "", "data",
                                  payload ? payload : json_null ());
        cli_print_json (line);
        fflush (stdout);
        json_decref (line);
        zstr_free (&topic);
        zstr_free (&data);
        seen++;
    }
    return seen;
}

/* Makes SUB a CURVE client with the certificate in CERT (and CERT_secret)
 * and the server's KEY, or the node's own key from its data directory. */
static int
tail_curve (im_cli_t *cli, zsock_t *sub, const char *cert, const char *key)
{
    char z85[41] = "", err[1024];
    uint8_t bin[32];
    size_t len = key ? strlen (key) : 0;
    if (key && len == 64 && sodium_hex2bin (bin, 32, key, 64, NULL, NULL, NULL) == 0)
        zmq_z85_encode (z85, bin, 32);
    else if (key && len == 40 && zmq_z85_decode (bin, key))
        snprintf (z85, sizeof z85, "%s", key);
    else if (key) {
        cli_error ("tail: --server-key '%s' is not a CURVE key (64 hex digits or 40 Z85 "
                   "characters)",
                   key);
        return -1;
    }
    else {
        im_identity_t *id = im_identity_load (cli->dir, err, sizeof err);
        if (!id) {
            cli_error ("tail: the node's CURVE key: %s (give --server-key KEY)", err);
            return -1;
        }
        snprintf (z85, sizeof z85, "%s", im_identity_curve_public (id));
        im_identity_destroy (&id);
    }
    zcert_t *c = zcert_load (cert);
    if (!c || sodium_is_zero (zcert_secret_key (c), 32)) {
        cli_error (
            "tail: --cert %s: not a czmq certificate with its secret key (%s_secret)",
            cert, cert);
        zcert_destroy (&c);
        return -1;
    }
    zcert_apply (c, sub);
    zsock_set_curve_serverkey (sub, z85);
    zcert_destroy (&c);
    return 0;
}

/* Writes a new czmq certificate: FILE, public, and FILE_secret, 0600.
 * Existing files are not replaced. */
static int
tail_make_cert (const char *file)
{
    char secret[4096];
    if (snprintf (secret, sizeof secret, "%s_secret", file) >= (int)sizeof secret
        || strlen (file) > 200) {
        cli_error ("tail: --make-cert: '%s' is too long a file name", file);
        return EXIT_USAGE;
    }
    if (access (file, F_OK) == 0 || access (secret, F_OK) == 0) {
        cli_error ("tail: --make-cert: %s or %s exists; not replacing it", file, secret);
        return EXIT_FAIL;
    }
    zcert_t *cert = zcert_new ();
    if (cert)
        zcert_set_meta (cert, "created-by", "intelmesh tail --make-cert");
    int rc = cert ? zcert_save (cert, file) : -1;
    if (rc == 0)
        printf ("%s\n", zcert_public_txt (cert));
    else
        cli_error ("tail: --make-cert %s: %s", file, strerror (errno));
    zcert_destroy (&cert);
    return rc == 0 ? 0 : EXIT_FAIL;
}

typedef struct {
    long count, timeout;           /* 0: no limit */
    const char *cert, *server_key; /* CURVE: our certificate, the node's key */
    const char *make_cert;         /* --make-cert FILE */
} tail_opts_t;

static int
tail_option (void *ctx, int opt, const char *arg)
{
    tail_opts_t *o = ctx;
    if (opt == 'n')
        return cli_number ("--count", arg, 1, 1000000000, &o->count);
    if (opt == 't')
        return cli_number ("--timeout", arg, 1, 86400 * 365, &o->timeout);
    if (opt == 'c')
        o->cert = arg;
    if (opt == 'k')
        o->server_key = arg;
    if (opt == 'm')
        o->make_cert = arg;
    return 0;
}

int
cmd_tail (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "count", required_argument, NULL, 'n' },
        { "timeout", required_argument, NULL, 't' },
        { "cert", required_argument, NULL, 'c' },
        { "server-key", required_argument, NULL, 'k' },
        { "make-cert", required_argument, NULL, 'm' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh tail [-d DIR] [--count N] [--timeout SECONDS] "
          "[TOPIC-PREFIX]\n"
          "Prints the node's local feed as JSON lines, {\"topic\":..., \"data\":...},\n"
          "from now on. Topics: ioc.TYPE.TLP (e.g. ioc.ipv4.green) for every\n"
          "accepted change, node.heartbeat every few seconds. TOPIC-PREFIX picks\n"
          "some (e.g. 'ioc.' or 'ioc.domain.'). With pub/format = misp the topics\n"
          "are MISP's: misp_json_attribute and misp_json_self.\n\n"
          "  --count N          stop after N messages\n"
          "  --timeout SECONDS  stop after that long (exit 1 if --count was not met)\n"
          "  --cert FILE        a CURVE feed (pub/subscribers): our czmq certificate,\n"
          "                     FILE with its secret in FILE_secret\n"
          "  --server-key KEY   the node's CURVE key (hex, as in its card, or Z85;\n"
          "                     default: read from DIR/keys)\n"
          "  --make-cert FILE   make a subscriber certificate, FILE (public: copy it\n"
          "                     into the node's pub/subscribers) and FILE_secret "
          "(0600)\n",
        .shortopts = "n:t:",
        .options = options,
        .max_args = 1,
        .args_error = "tail: at most one TOPIC-PREFIX (see --help)",
        .option = tail_option,
    };
    tail_opts_t o = { 0, 0, NULL, NULL, NULL };
    int rc = cli_options (cli, argc, argv, &spec, &o, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    if (o.make_cert)
        return tail_make_cert (o.make_cert);
    const char *prefix = optind < argc ? argv[optind] : "";
    long count = o.count, timeout = o.timeout;
    char endpoint[IM_ENDPOINT_MAX + 32];
    im_config_t *cfg = cli_config (cli, NULL);
    if (!cfg)
        return EXIT_FAIL;
    if (im_pidfile_holder (cli->dir) == 0) {
        cli_error ("intelmeshd is not running on %s (start it with 'intelmeshd -d %s')",
                   cli->dir, cli->dir);
        free (cfg);
        return EXIT_FAIL;
    }
    connect_endpoint (cfg->pub_endpoint, endpoint, sizeof endpoint);
    int curve = *cfg->pub_subscribers != 0;
    free (cfg);
    if (curve && !o.cert) {
        cli_error ("tail: the feed takes CURVE subscribers only (pub/subscribers): give "
                   "--cert FILE");
        return EXIT_USAGE;
    }
    zsock_t *sub = zsock_new (ZMQ_SUB);
    if (sub && o.cert && tail_curve (cli, sub, o.cert, o.server_key)) {
        zsock_destroy (&sub);
        return EXIT_FAIL;
    }
    if (sub)
        zsock_set_subscribe (sub, prefix);
    if (sub && zsock_connect (sub, "%s", endpoint) != 0)
        zsock_destroy (&sub);
    if (!sub) {
        cli_error ("tail: cannot connect to %s", endpoint);
        return EXIT_FAIL;
    }
    long seen = tail_messages (cli, sub, count, timeout);
    zsock_destroy (&sub);
    return count && seen < count ? EXIT_FAIL : 0;
}
