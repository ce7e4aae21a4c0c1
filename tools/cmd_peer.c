/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_peer.c -- the trust list: `intelmesh peer add|remove|list|set|sent` and
 * `intelmesh reload`. The list and the peers' settings live in
 * intelmesh.conf; a change is written there, then the running node is told
 * to reload, so it takes effect within a second and survives restarts.
 * `peer sent` pages through the audit trail of what went to a peer. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "im_config.h"
#include "im_ctl.h"
#include "im_identity.h"
#include "im_policy.h"
#include "im_time.h"
#include "intelmesh.h"

/* --- peer add ------------------------------------------------------------ */

typedef struct {
    const char *name, *endpoint;
    im_peer_conf_t peer;
} peer_add_t;

static int
peer_add_option (void *ctx, int opt, const char *arg)
{
    peer_add_t *a = ctx;
    if (opt == 'n')
        a->name = arg;
    else if (opt == 'e')
        a->endpoint = arg;
    return 0;
}

/* The card, and what overrides it, make the peer's entry. */
static int
peer_add_check (void *ctx, int argc, char **argv)
{
    (void)argc;
    peer_add_t *a = ctx;
    const char *name = a->name, *endpoint = a->endpoint;
    char err[512];
    if (im_card_parse (argv[0], &a->peer.card, err, sizeof err)) {
        cli_error ("peer add: %s", err);
        return -1;
    }
    if (name) {
        if (!im_name_valid (name)) {
            cli_error (
                "peer add: --name '%s' must be 1-64 letters, digits, '.', '_' or '-'",
                name);
            return -1;
        }
        snprintf (a->peer.card.name, sizeof a->peer.card.name, "%s", name);
    }
    if (endpoint && strcmp (endpoint, "-") != 0
        && (!im_endpoint_valid (endpoint) || strncmp (endpoint, "tcp://", 6) != 0)) {
        cli_error ("peer add: --endpoint '%s' is not tcp://HOST:PORT (or '-')", endpoint);
        return -1;
    }
    snprintf (a->peer.endpoint, sizeof a->peer.endpoint, "%s",
              endpoint ? (strcmp (endpoint, "-") ? endpoint : "")
                       : a->peer.card.endpoint);
    return 0;
}

/* The node's own card (or one with its node id or CURVE key) is refused. */
static int
peer_add_not_self (im_cli_t *cli, const im_card_t *card)
{
    char err[512];
    im_identity_t *id = im_identity_load (cli->dir, err, sizeof err);
    if (!id) {
        cli_error ("peer add: %s", err);
        return -1;
    }
    const char *own = im_identity_owns (id, card->node, card->curve_z85);
    if (own)
        cli_error ("peer add: that card has %s: give a partner's card", own);
    im_identity_destroy (&id);
    return own ? -1 : 0;
}

static int
peer_add (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "name", required_argument, NULL, 'n' },
        { "endpoint", required_argument, NULL, 'e' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh peer add [-d DIR] [--name NAME] [--endpoint ENDPOINT] CARD\n"
          "Puts a partner on the trust list. CARD is the line its 'intelmesh id'\n"
          "prints (quote it). --name overrides the card's name here;\n"
          "--endpoint overrides where to dial it ('-': it only dials in).\n",
        .shortopts = "n:e:",
        .options = options,
        .min_args = 1,
        .max_args = 1,
        .args_error = "peer add: give the partner's card, quoted (see --help)",
        .option = peer_add_option,
        .check = peer_add_check,
    };
    peer_add_t a;
    memset (&a, 0, sizeof a);
    int rc = cli_options (cli, argc, argv, &spec, &a, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    /* The node's own configuration must load first. */
    im_config_t *own = cli_config (cli, NULL);
    if (!own)
        return EXIT_FAIL;
    free (own);
    char err[512];
    if (peer_add_not_self (cli, &a.peer.card))
        return EXIT_FAIL;
    if (im_config_peer_add (cli->dir, &a.peer, err, sizeof err)) {
        cli_error ("peer add: %s", err);
        return EXIT_FAIL;
    }
    printf ("added %s to the trust list%s%s\n", a.peer.card.name,
            *a.peer.endpoint ? ", dialling " : " (it dials in)",
            *a.peer.endpoint ? a.peer.endpoint : "");
    return cli_tell_daemon (cli);
}

/* --- peer remove, peer list ---------------------------------------------- */

static int
peer_remove (im_cli_t *cli, int argc, char **argv)
{
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh peer remove [-d DIR] NAME\n"
        "Takes a partner off the trust list; a running node drops its\n"
        "connection at once and refuses its key from then on.\n",
        1, 1, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    char err[512];
    if (im_config_peer_remove (cli->dir, argv[optind], err, sizeof err)) {
        cli_error ("peer remove: %s", err);
        return EXIT_FAIL;
    }
    printf ("removed %s from the trust list\n", argv[optind]);
    return cli_tell_daemon (cli);
}

/* Why a peer is down, since when, and when it is tried next. */
static void
print_down_cause (json_t *p)
{
    const char *cause = json_string_value (json_object_get (p, "down_cause"));
    const char *since = json_string_value (json_object_get (p, "down_since"));
    const char *next = json_string_value (json_object_get (p, "next_try"));
    const char *key = json_string_value (json_object_get (p, "refused_key"));
    if (json_is_true (json_object_get (p, "connected")))
        return;
    if (cause)
        printf ("  cause         %s, at %s\n", cause, since ? since : "?");
    if (key)
        printf ("                (it came with key %s)\n", key);
    if (next)
        printf ("  next try      %s\n", next);
}

/* Handshakes our node refused lately: a partner whose key is not on our
 * list. */
static void
print_refused_keys (json_t *keys)
{
    if (json_array_size (keys) == 0)
        return;
    printf ("handshakes refused (key not on the trust list), newest first\n");
    for (size_t i = 0; i < json_array_size (keys); i++) {
        json_t *k = json_array_get (keys, i);
        printf ("  key %s from %s, %lld times, last at %s\n",
                json_string_value (json_object_get (k, "key")),
                json_string_value (json_object_get (k, "address")),
                (long long)json_integer_value (json_object_get (k, "count")),
                json_string_value (json_object_get (k, "last")));
    }
}

/* Its outbound policy and what is taken from it. */
static void
print_rules (json_t *p)
{
    json_t *in = json_object_get (p, "inbound");
    printf ("  policy        %s (up to TLP:%s)\n",
            json_string_value (json_object_get (p, "policy")),
            json_string_value (json_object_get (p, "max_tlp")));
    printf ("  inbound       accept %s",
            json_string_value (json_object_get (in, "accept")));
    json_t *types = json_object_get (in, "types");
    for (size_t i = 0; i < json_array_size (types); i++)
        printf ("%s%s", i ? "," : ", types ",
                json_string_value (json_array_get (types, i)));
    json_int_t origins = json_integer_value (json_object_get (in, "origins"));
    json_int_t rate = json_integer_value (json_object_get (in, "rate"));
    if (origins)
        printf (", %lld origins only", (long long)origins);
    if (rate)
        printf (", rate %lld/s", (long long)rate);
    printf ("\n");
}

static void
print_peer (json_t *p)
{
    const char *contact = json_string_value (json_object_get (p, "last_contact"));
    printf ("peer %s\n", json_string_value (json_object_get (p, "name")));
    printf ("  node          %s\n", json_string_value (json_object_get (p, "node")));
    const char *endpoint = json_string_value (json_object_get (p, "endpoint"));
    printf ("  endpoint      %s\n", endpoint && *endpoint ? endpoint : "(it dials in)");
    printf ("  state         %s\n",
            json_is_true (json_object_get (p, "connected")) ? "connected" : "down");
    print_down_cause (p);
    printf ("  last contact  %s\n", contact ? contact : "never");
    json_int_t rtt = json_integer_value (json_object_get (p, "rtt_ms"));
    if (rtt)
        printf ("  round trip    %lld ms (PING to PONG, smoothed)\n", (long long)rtt);
    const char *restarted = json_string_value (json_object_get (p, "store_restarted"));
    if (restarted)
        printf ("  store         restarted at %s (lost or restored): its changes are "
                "pulled again\n",
                restarted);
    printf ("  lag           %lld changes behind it, it is %lld behind us\n",
            (long long)json_integer_value (json_object_get (p, "lag_in")),
            (long long)json_integer_value (json_object_get (p, "lag_out")));
    printf ("  indicators    %lld received, %lld sent, %lld already held\n",
            (long long)json_integer_value (json_object_get (p, "received")),
            (long long)json_integer_value (json_object_get (p, "sent")),
            (long long)json_integer_value (json_object_get (p, "known")));
    json_int_t wanted = json_integer_value (json_object_get (p, "wanted"));
    json_int_t dropped = json_integer_value (json_object_get (p, "notes_dropped"));
    if (wanted || dropped) {
        printf ("  noted         %lld it holds and we lack, to fetch from it",
                (long long)wanted);
        if (dropped)
            printf (" (%lld more dropped: no room)", (long long)dropped);
        printf ("\n");
    }
    print_rules (p);
    const char *key;
    json_t *v;
    int any = 0;
    printf ("  refused      ");
    json_object_foreach (json_object_get (p, "refused"), key, v)
    {
        printf ("%s %s %lld", any ? "," : "", key, (long long)json_integer_value (v));
        any = 1;
    }
    printf ("%s\n", any ? "" : " none");
}

static int
peer_list (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh peer list [-d DIR] [--json]\n"
        "Shows each peer: connected or down, last contact, lag each\n"
        "way, indicators sent and received, refusals by reason.\n",
        0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *reply = cli_request (cli, IM_CTL_PEERS, NULL);
    if (!reply)
        return EXIT_FAIL;
    json_t *peers = json_object_get (reply, "peers");
    if (json)
        cli_print_json (peers);
    else if (json_array_size (peers) == 0)
        printf ("no peers: add one with 'intelmesh peer add CARD'\n");
    else
        for (size_t i = 0; i < json_array_size (peers); i++)
            print_peer (json_array_get (peers, i));
    if (!json)
        print_refused_keys (json_object_get (reply, "refused_keys"));
    json_int_t grace = json_integer_value (json_object_get (reply, "fetch_grace_ms"));
    im_config_t *cfg = json ? NULL : cli_config (cli, "peer list");
    if (cfg && grace > cfg->fetch_grace * 1000)
        printf ("fetch grace   %.1f s, stretched from node/fetch-grace %lld s while the "
                "peers are slow or bring copies\n",
                grace / 1000.0, (long long)cfg->fetch_grace);
    free (cfg);
    json_decref (reply);
    return 0;
}

/* --- peer set ------------------------------------------------------------ */

#define PEER_SETTINGS 7

typedef struct {
    const char *keys[PEER_SETTINGS], *values[PEER_SETTINGS];
    size_t n;
} peer_set_t;

static int
peer_set_option (void *ctx, int opt, const char *arg)
{
    peer_set_t *s = ctx;
    const char *key = NULL;
    switch (opt) {
    case 'p': key = "policy"; break;
    case 'a': key = "accept"; break;
    case 't': key = "accept-types"; break;
    case 'o': key = "accept-origins"; break;
    case 'r': key = "rate"; break;
    case 'e': key = "endpoint"; break;
    case 'J': key = "join-exercises"; break;
    default: return 0;
    }
    for (size_t i = 0; i < s->n; i++)
        if (strcmp (s->keys[i], key) == 0) {
            cli_error ("peer set: --%s given twice", key);
            return -1;
        }
    s->keys[s->n] = key;
    s->values[s->n++] = strcmp (key, "endpoint") == 0 && strcmp (arg, "-") == 0 ? ""
                        : *arg                                                  ? arg
                                                                                : NULL;
    return 0;
}

/* Each setting is checked alone first, for a message about it alone. */
static int
peer_set_check (void *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    peer_set_t *s = ctx;
    if (s->n == 0) {
        cli_error ("peer set: nothing to set (see --help)");
        return -1;
    }
    for (size_t i = 0; i < s->n; i++) {
        im_inbound_t probe;
        char why[512];
        im_inbound_default (&probe);
        if (s->values[i] && strncmp (s->keys[i], "accept", 6) == 0
            && strcmp (s->keys[i], "accept-origins") != 0
            && im_inbound_set (&probe, s->keys[i], s->values[i], why, sizeof why)) {
            cli_error ("peer set: %s", why);
            return -1;
        }
        if (s->values[i]
            && (strcmp (s->keys[i], "rate") == 0
                || strcmp (s->keys[i], "join-exercises") == 0)
            && im_inbound_set (&probe, s->keys[i], s->values[i], why, sizeof why)) {
            cli_error ("peer set: %s", why);
            return -1;
        }
    }
    return 0;
}

static int
peer_set (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "policy", required_argument, NULL, 'p' },
        { "accept", required_argument, NULL, 'a' },
        { "accept-types", required_argument, NULL, 't' },
        { "accept-origins", required_argument, NULL, 'o' },
        { "rate", required_argument, NULL, 'r' },
        { "endpoint", required_argument, NULL, 'e' },
        { "join-exercises", required_argument, NULL, 'J' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh peer set [-d DIR] PEER [OPTIONS]\n"
          "Changes how this node shares with a peer; a running node applies it\n"
          "at once. An empty value puts a setting back to its default.\n\n"
          "  --policy NAME           the outbound sharing policy (default 'default')\n"
          "  --accept relayed|own    take third-party indicators from it, or only\n"
          "                          its own\n"
          "  --accept-types T,...    take only these types from it\n"
          "  --accept-origins O,...  take only these origins (peer names or node ids)\n"
          "  --rate N                ask it for at most N indicators a second (0: no\n"
          "                          limit)\n"
          "  --endpoint ENDPOINT     where to dial it ('-': it dials in)\n"
          "  --join-exercises yes|no join the exercises it hosts when they come\n",
        .options = options,
        .min_args = 1,
        .max_args = 1,
        .args_error = "peer set: give one peer's name (see --help)",
        .option = peer_set_option,
        .check = peer_set_check,
    };
    peer_set_t s;
    memset (&s, 0, sizeof s);
    int rc = cli_options (cli, argc, argv, &spec, &s, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    char err[1024];
    if (im_config_section_set (cli->dir, "peer", argv[optind], 0, s.keys, s.values, s.n,
                               err, sizeof err)) {
        cli_error ("peer set: %s", err);
        return EXIT_FAIL;
    }
    printf ("peer %s set\n", argv[optind]);
    return cli_tell_daemon (cli);
}

/* --- peer sent ----------------------------------------------------------- */

typedef struct {
    const char *since_text;
    int64_t since; /* seconds; 0: from the start */
    int json;
    size_t total;
} peer_sent_t;

static int
peer_sent_option (void *ctx, int opt, const char *arg)
{
    if (opt == 's')
        ((peer_sent_t *)ctx)->since_text = arg;
    return 0;
}

static int
peer_sent_check (void *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    peer_sent_t *s = ctx;
    const char *since_text = s->since_text;
    int64_t now = im_time_now ();
    if (!since_text)
        return 0;
    /* A bare duration means that long ago. */
    char back[64];
    const char *text = since_text;
    if (since_text[0] >= '0' && since_text[0] <= '9' && strlen (since_text) < 20
        && strchr ("smhdw", since_text[strlen (since_text) - 1])) {
        snprintf (back, sizeof back, "+%s", since_text);
        text = back;
    }
    if (im_time_parse (text, now, &s->since)) {
        cli_error ("peer sent: --since '%s' is not a time (2026-11-01, "
                   "2026-11-01T12:00:00Z, or 7d for seven days ago)",
                   since_text);
        return -1;
    }
    if (text == back)
        s->since = now - (s->since - now);
    return 0;
}

/* One entry of the sent log. */
static int
peer_sent_entry (json_t *e, void *arg)
{
    peer_sent_t *s = arg;
    s->total++;
    if (s->json) {
        json_object_del (e, "time_ms");
        cli_print_json (e);
        return 0;
    }
    const char *type = json_string_value (json_object_get (e, "type"));
    char safe[CLI_SAFE_MAX];
    printf ("%s  %s %s  v%lld  %s  %s  origin %.16s...\n",
            json_string_value (json_object_get (e, "time")), type ? type : "?",
            type ? cli_safe (json_string_value (json_object_get (e, "value")), safe,
                             sizeof safe)
                 : "(no longer held)",
            (long long)json_integer_value (json_object_get (e, "version")),
            type ? json_string_value (json_object_get (e, "tlp")) : "-",
            json_string_value (json_object_get (e, "id")),
            json_string_value (json_object_get (e, "origin")));
    return 0;
}

static int
peer_sent (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "since", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh peer sent [-d DIR] [--since TIME] [--json] PEER\n"
          "Lists what this node sent to PEER and when, oldest first: the audit\n"
          "trail that answers 'did we ever give X to Y?'. PEER is a name on the\n"
          "trust list, or the node id of a removed peer. TIME is RFC 3339, a date,\n"
          "or a duration back from now (7d). --json prints one object a line.\n",
        .shortopts = "s:",
        .options = options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 1,
        .args_error = "peer sent: give one peer's name (see --help)",
        .option = peer_sent_option,
        .check = peer_sent_check,
    };
    peer_sent_t s = { NULL, 0, 0, 0 };
    int rc = cli_options (cli, argc, argv, &spec, &s, &s.json);
    if (rc != CLI_GO_ON)
        return rc;
    im_client_t *client = cli_connect (cli);
    if (!client)
        return EXIT_FAIL;
    int64_t from = s.since > 0 ? s.since * 1000 : 0;
    json_t *body
        = json_pack ("{s:s, s:I}", "peer", argv[optind], "since", (json_int_t)from);
    rc = cli_page (client, IM_CTL_SENT, body, peer_sent_entry, &s) ? EXIT_FAIL : 0;
    json_decref (body);
    im_client_destroy (&client);
    if (rc == 0 && !s.json && s.total == 0)
        printf ("nothing was sent to %s%s%s\n", argv[optind],
                s.since_text ? " since " : "", s.since_text ? s.since_text : "");
    return rc;
}

/* --- The family, and reload ---------------------------------------------- */

const cli_command_t cmd_peer_family[] = {
    { "add", peer_add, "put a partner on the trust list", NULL },
    { "remove", peer_remove, "take a partner off the trust list", NULL },
    { "list", peer_list, "show each peer's state and counts", NULL },
    { "set", peer_set, "change how this node shares with a peer", NULL },
    { "sent", peer_sent, "what this node sent to a peer, and when", NULL },
    { NULL, NULL, NULL, NULL },
};

int
cmd_reload (im_cli_t *cli, int argc, char **argv)
{
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh reload [-d DIR]\n"
        "Makes the running node read intelmesh.conf again (as SIGHUP\n"
        "does). A file that does not load changes nothing.\n",
        0, 0, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    if (im_pidfile_holder (cli->dir) == 0) {
        cli_error ("intelmeshd is not running on %s (start it with 'intelmeshd -d %s')",
                   cli->dir, cli->dir);
        return EXIT_FAIL;
    }
    return cli_tell_daemon (cli);
}
