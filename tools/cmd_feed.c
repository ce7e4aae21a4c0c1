/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_feed.c -- `intelmesh tail`: subscribes to the node's local PUB feed and
 * prints each message as one JSON line, {"topic": ..., "data": {...}}. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "im_config.h"
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

typedef struct {
    long count, timeout; /* 0: no limit */
} tail_opts_t;

static int
tail_option (void *ctx, int opt, const char *arg)
{
    tail_opts_t *o = ctx;
    if (opt == 'n')
        return cli_number ("--count", arg, 1, 1000000000, &o->count);
    if (opt == 't')
        return cli_number ("--timeout", arg, 1, 86400 * 365, &o->timeout);
    return 0;
}

int
cmd_tail (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "count", required_argument, NULL, 'n' },
        { "timeout", required_argument, NULL, 't' },
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
          "  --timeout SECONDS  stop after that long (exit 1 if --count was not met)\n",
        .shortopts = "n:t:",
        .options = options,
        .max_args = 1,
        .args_error = "tail: at most one TOPIC-PREFIX (see --help)",
        .option = tail_option,
    };
    tail_opts_t o = { 0, 0 };
    int rc = cli_options (cli, argc, argv, &spec, &o, NULL);
    if (rc != CLI_GO_ON)
        return rc;
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
    free (cfg);
    zsock_t *sub = zsock_new_sub (endpoint, prefix);
    if (!sub) {
        cli_error ("tail: cannot connect to %s", endpoint);
        return EXIT_FAIL;
    }
    long seen = tail_messages (cli, sub, count, timeout);
    zsock_destroy (&sub);
    return count && seen < count ? EXIT_FAIL : 0;
}
