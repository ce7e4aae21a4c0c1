/* cmd_policy.c -- sharing policy from the command line: `intelmesh policy
 * set|list|show|remove`, `intelmesh explain ID PEER`, and the peer settings
 * (`peer set`) and audit trail (`peer sent`) that go with them. Policies live
 * in intelmesh.conf; a change is checked, written, and the running node told. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "im_config.h"
#include "im_time.h"
#include "intelmesh.h"

/* --- Showing policies --------------------------------------------------- */

static json_t *
types_json (uint32_t mask)
{
    json_t *a = json_array ();
    for (int t = 1; t < IM_TYPE_COUNT; t++)
        if (mask & (1u << t))
            json_array_append_new (a, json_string (im_type_name (t)));
    return a;
}

static json_t *
tags_json (size_t n, const char (*tags)[IM_TAG_MAX + 1])
{
    json_t *a = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (a, json_string (tags[i]));
    return a;
}

/* An origin list, with the names of peers where they are known. */
static json_t *
origins_json (const im_config_t *cfg, size_t n, const uint8_t (*ids)[IM_NODE_ID_SIZE])
{
    json_t *a = json_array ();
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL;
        for (size_t j = 0; j < cfg->npeers && !name; j++)
            if (memcmp (cfg->peers[j].card.node, ids[i], IM_NODE_ID_SIZE) == 0)
                name = cfg->peers[j].card.name;
        char hex[IM_NODE_HEX_SIZE];
        im_node_format (ids[i], hex);
        json_array_append_new (a, json_string (name ? name : hex));
    }
    return a;
}

static json_t *
policy_json (const im_config_t *cfg, const im_policy_t *pol)
{
    json_t *peers = json_array ();
    for (size_t i = 0; i < cfg->npeers; i++)
        if (strcmp (cfg->peers[i].policy, pol->name) == 0)
            json_array_append_new (peers, json_string (cfg->peers[i].card.name));
    return json_pack ("{s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:b, s:o, s:o}", "name",
                      pol->name, "max-tlp", im_tlp_name (pol->max_tlp), "types",
                      types_json (pol->types), "deny-types", types_json (pol->deny_types),
                      "tags", tags_json (pol->ntags, pol->tags), "deny-tags",
                      tags_json (pol->ndeny_tags, pol->deny_tags), "min-confidence",
                      (int) pol->min_confidence, "relay", pol->relay, "relay-origins",
                      origins_json (cfg, pol->norigins, pol->origins), "peers", peers);
}

static void
print_list (const char *label, json_t *a)
{
    if (json_array_size (a) == 0)
        return;
    printf ("  %-15s", label);
    for (size_t i = 0; i < json_array_size (a); i++)
        printf ("%s%s", i ? "," : "", json_string_value (json_array_get (a, i)));
    printf ("\n");
}

static void
print_policy (json_t *o)
{
    printf ("policy %s\n", json_string_value (json_object_get (o, "name")));
    printf ("  %-15s%s\n", "max-tlp", json_string_value (json_object_get (o, "max-tlp")));
    print_list ("types", json_object_get (o, "types"));
    print_list ("deny-types", json_object_get (o, "deny-types"));
    print_list ("tags", json_object_get (o, "tags"));
    print_list ("deny-tags", json_object_get (o, "deny-tags"));
    json_int_t conf = json_integer_value (json_object_get (o, "min-confidence"));
    if (conf)
        printf ("  %-15s%lld\n", "min-confidence", (long long) conf);
    printf ("  %-15s%s\n", "relay",
            json_is_true (json_object_get (o, "relay")) ? "yes" : "no");
    print_list ("relay-origins", json_object_get (o, "relay-origins"));
    json_t *peers = json_object_get (o, "peers");
    if (json_array_size (peers))
        print_list ("peers", peers);
    else
        printf ("  %-15s(none)\n", "peers");
}

static im_config_t *
load_config (im_cli_t *cli, const char *what)
{
    im_config_t *cfg = malloc (sizeof *cfg);
    char err[512];
    if (!cfg || im_config_load (cli->dir, cfg, err, sizeof err)) {
        cli_error ("%s: %s", what, cfg ? err : "out of memory");
        free (cfg);
        return NULL;
    }
    return cfg;
}

static int
policy_list (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh policy list [-d DIR] [--json]\n"
                                "Shows every sharing policy in intelmesh.conf (the built-in\n"
                                "'default' included) and the peers that use it.\n",
                                0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    im_config_t *cfg = load_config (cli, "policy list");
    if (!cfg)
        return EXIT_FAIL;
    json_t *all = json_array ();
    for (size_t i = 0; i < cfg->npolicies; i++)
        json_array_append_new (all, policy_json (cfg, &cfg->policies[i]));
    if (json)
        cli_print_json (all);
    else
        for (size_t i = 0; i < json_array_size (all); i++)
            print_policy (json_array_get (all, i));
    json_decref (all);
    free (cfg);
    return 0;
}

static int
policy_show (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh policy show [-d DIR] [--json] NAME\n"
                                "Shows the rules of one sharing policy and its peers.\n",
                                1, 1, &json);
    if (rc != CLI_GO_ON)
        return rc;
    im_config_t *cfg = load_config (cli, "policy show");
    if (!cfg)
        return EXIT_FAIL;
    const im_policy_t *pol = im_config_policy (cfg, argv[optind]);
    if (!pol) {
        cli_error ("policy show: no policy named %s", argv[optind]);
        free (cfg);
        return EXIT_FAIL;
    }
    json_t *o = policy_json (cfg, pol);
    if (json)
        cli_print_json (o);
    else
        print_policy (o);
    json_decref (o);
    free (cfg);
    return 0;
}

/* --- Changing policies -------------------------------------------------- */

static int
policy_set (im_cli_t *cli, int argc, char **argv)
{
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh policy set [-d DIR] NAME KEY=VALUE...\n"
        "Creates the sharing policy NAME or changes its rules; KEY= (empty) puts a\n"
        "rule back to its default. The file is checked before it is written, and a\n"
        "running node applies the change at once: what has become shareable is\n"
        "sent, what no longer is stops being sent (what was sent stays sent).\n\n"
        "  max-tlp=LABEL         clear, green (default), amber or amber+strict: the\n"
        "                        most restricted label sent to a peer not named as a\n"
        "                        recipient (RED goes only to named recipients)\n"
        "  types=T,T...          only these types\n"
        "  deny-types=T,T...     never these types\n"
        "  tags=TAG,...          only indicators carrying one of these tags\n"
        "  deny-tags=TAG,...     never indicators carrying one of these tags\n"
        "  min-confidence=N      0 to 100\n"
        "  relay=yes|no          whether third-party indicators are sent\n"
        "  relay-origins=P,...   relay only these origins (peer names or node ids)\n\n"
        "Example: intelmesh policy set partners max-tlp=amber types=ipv4,domain \\\n"
        "             deny-tags=internal min-confidence=50 relay=no\n",
        2, 64, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    const char *name = argv[optind];
    if (!im_name_valid (name)) {
        cli_error ("policy set: '%s' is not a policy name (1-64 letters, digits, '.', '_' "
                   "or '-')", name);
        return EXIT_USAGE;
    }
    size_t n = (size_t) (argc - optind - 1);
    const char **keys = calloc (n, sizeof *keys), **values = calloc (n, sizeof *values);
    char **copies = calloc (n, sizeof *copies);
    rc = EXIT_USAGE;
    if (!keys || !values || !copies)
        goto done;
    for (size_t i = 0; i < n; i++) {
        copies[i] = strdup (argv[optind + 1 + i]);
        char *eq = copies[i] ? strchr (copies[i], '=') : NULL;
        if (!eq || eq == copies[i]) {
            cli_error ("policy set: '%s' is not KEY=VALUE (see --help)",
                       argv[optind + 1 + i]);
            goto done;
        }
        *eq = 0;
        keys[i] = copies[i];
        values[i] = eq[1] ? eq + 1 : NULL;
        /* The rule is checked alone first, for a message about it alone;
         * origin names are checked when the file loads. */
        im_policy_t probe;
        char why[512];
        im_policy_default (&probe, name);
        if (values[i] && strcmp (keys[i], "relay-origins") != 0
            && im_policy_set (&probe, keys[i], values[i], why, sizeof why)) {
            cli_error ("policy set: %s", why);
            goto done;
        }
        if (!values[i] && im_policy_set (&probe, keys[i], "", why, sizeof why)
            && strcmp (keys[i], "max-tlp") && strcmp (keys[i], "min-confidence")
            && strcmp (keys[i], "relay")) {
            cli_error ("policy set: %s", why);
            goto done;
        }
    }
    char err[1024];
    if (im_config_section_set (cli->dir, "policy", name, 1, keys, values, n, err,
                               sizeof err)) {
        cli_error ("policy set: %s", err);
        rc = EXIT_FAIL;
        goto done;
    }
    printf ("policy %s set\n", name);
    rc = cli_tell_daemon (cli);
done:
    for (size_t i = 0; copies && i < n; i++)
        free (copies[i]);
    free (copies);
    free (keys);
    free (values);
    return rc;
}

static int
policy_remove (im_cli_t *cli, int argc, char **argv)
{
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh policy remove [-d DIR] NAME\n"
                                "Removes a sharing policy no peer uses.\n",
                                1, 1, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    char err[512];
    if (im_config_policy_remove (cli->dir, argv[optind], err, sizeof err)) {
        cli_error ("policy remove: %s", err);
        return EXIT_FAIL;
    }
    printf ("policy %s removed\n", argv[optind]);
    return cli_tell_daemon (cli);
}

int
cmd_policy (im_cli_t *cli, int argc, char **argv)
{
    static const struct {
        const char *name;
        cmd_fn *fn;
    } subs[] = { { "set", policy_set }, { "list", policy_list }, { "show", policy_show },
                 { "remove", policy_remove }, { NULL, NULL } };
    if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
        printf ("Usage: intelmesh policy set|list|show|remove [OPTIONS] (see 'intelmesh "
                "policy set --help')\n");
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (int i = 0; subs[i].name; i++)
        if (strcmp (argv[1], subs[i].name) == 0)
            return subs[i].fn (cli, argc - 1, argv + 1);
    cli_error ("policy: unknown subcommand '%s' (set, list, show or remove)", argv[1]);
    return EXIT_USAGE;
}

/* --- Peers: settings and audit trail ------------------------------------ */

int
peer_set (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' },
        { "policy", required_argument, NULL, 'p' },
        { "accept", required_argument, NULL, 'a' },
        { "accept-types", required_argument, NULL, 't' },
        { "accept-origins", required_argument, NULL, 'o' },
        { "rate", required_argument, NULL, 'r' },
        { "endpoint", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *keys[6], *values[6], *dir_opt = NULL;
    size_t n = 0;
    int c;
    while ((c = getopt_long (argc, argv, "d:h", options, NULL)) != -1) {
        const char *key = NULL;
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'p': key = "policy"; break;
        case 'a': key = "accept"; break;
        case 't': key = "accept-types"; break;
        case 'o': key = "accept-origins"; break;
        case 'r': key = "rate"; break;
        case 'e': key = "endpoint"; break;
        case 'h':
            printf ("Usage: intelmesh peer set [-d DIR] PEER [OPTIONS]\n"
                    "Changes how this node shares with a peer; a running node applies it\n"
                    "at once. An empty value puts a setting back to its default.\n\n"
                    "  --policy NAME           the outbound sharing policy (default 'default')\n"
                    "  --accept relayed|own    take third-party indicators from it, or only\n"
                    "                          its own\n"
                    "  --accept-types T,...    take only these types from it\n"
                    "  --accept-origins O,...  take only these origins (peer names or node ids)\n"
                    "  --rate N                ask it for at most N indicators a second (0: no\n"
                    "                          limit)\n"
                    "  --endpoint ENDPOINT     where to dial it ('-': it dials in)\n");
            return 0;
        default: return EXIT_USAGE;
        }
        if (key) {
            for (size_t i = 0; i < n; i++)
                if (strcmp (keys[i], key) == 0) {
                    cli_error ("peer set: --%s given twice", key);
                    return EXIT_USAGE;
                }
            keys[n] = key;
            values[n++] = strcmp (key, "endpoint") == 0 && strcmp (optarg, "-") == 0
                              ? ""
                              : *optarg ? optarg : NULL;
        }
    }
    if (argc - optind != 1) {
        cli_error ("peer set: give one peer's name (see --help)");
        return EXIT_USAGE;
    }
    if (n == 0) {
        cli_error ("peer set: nothing to set (see --help)");
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        im_inbound_t probe;
        char why[512];
        im_inbound_default (&probe);
        if (values[i] && strncmp (keys[i], "accept", 6) == 0
            && strcmp (keys[i], "accept-origins") != 0
            && im_inbound_set (&probe, keys[i], values[i], why, sizeof why)) {
            cli_error ("peer set: %s", why);
            return EXIT_USAGE;
        }
        if (values[i] && strcmp (keys[i], "rate") == 0
            && im_inbound_set (&probe, keys[i], values[i], why, sizeof why)) {
            cli_error ("peer set: %s", why);
            return EXIT_USAGE;
        }
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    char err[1024];
    if (im_config_section_set (cli->dir, "peer", argv[optind], 0, keys, values, n, err,
                               sizeof err)) {
        cli_error ("peer set: %s", err);
        return EXIT_FAIL;
    }
    printf ("peer %s set\n", argv[optind]);
    return cli_tell_daemon (cli);
}

int
peer_sent (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' }, { "since", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },     { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *since_text = NULL;
    int c, json = 0;
    while ((c = getopt_long (argc, argv, "d:s:jh", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 's': since_text = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            printf ("Usage: intelmesh peer sent [-d DIR] [--since TIME] [--json] PEER\n"
                    "Lists what this node sent to PEER and when, oldest first: the audit\n"
                    "trail that answers 'did we ever give X to Y?'. PEER is a name on the\n"
                    "trust list, or the node id of a removed peer. TIME is RFC 3339, a date,\n"
                    "or a duration back from now (7d). --json prints one object a line.\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error ("peer sent: give one peer's name (see --help)");
        return EXIT_USAGE;
    }
    int64_t since = 0, now = im_time_now ();
    if (since_text) {
        /* A bare duration means that long ago. */
        char back[64];
        const char *text = since_text;
        if (since_text[0] >= '0' && since_text[0] <= '9' && strlen (since_text) < 20
            && strchr ("smhdw", since_text[strlen (since_text) - 1])) {
            snprintf (back, sizeof back, "+%s", since_text);
            text = back;
        }
        if (im_time_parse (text, now, &since)) {
            cli_error ("peer sent: --since '%s' is not a time (2026-11-01, "
                       "2026-11-01T12:00:00Z, or 7d for seven days ago)", since_text);
            return EXIT_USAGE;
        }
        if (text == back)
            since = now - (since - now);
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    im_client_t *client = cli_connect (cli);
    if (!client)
        return EXIT_FAIL;
    int64_t from = since > 0 ? since * 1000 : 0;
    int rc = 0;
    size_t total = 0;
    for (;;) {
        json_t *body = json_pack ("{s:s, s:I}", "peer", argv[optind], "since",
                                  (json_int_t) from);
        json_t *reply = cli_call (client, IM_CTL_SENT, body);
        json_decref (body);
        if (!reply) {
            rc = EXIT_FAIL;
            break;
        }
        json_t *list = json_object_get (reply, "sent");
        for (size_t i = 0; i < json_array_size (list); i++) {
            json_t *e = json_array_get (list, i);
            total++;
            if (json) {
                json_object_del (e, "time_ms");
                cli_print_json (e);
                continue;
            }
            const char *type = json_string_value (json_object_get (e, "type"));
            printf ("%s  %s %s  v%lld  %s  %s  origin %.16s...\n",
                    json_string_value (json_object_get (e, "time")), type ? type : "?",
                    type ? json_string_value (json_object_get (e, "value")) : "(no longer held)",
                    (long long) json_integer_value (json_object_get (e, "version")),
                    type ? json_string_value (json_object_get (e, "tlp")) : "-",
                    json_string_value (json_object_get (e, "id")),
                    json_string_value (json_object_get (e, "origin")));
        }
        json_t *next = json_object_get (reply, "next");
        int more = json_is_integer (next);
        if (more)
            from = json_integer_value (next);
        json_decref (reply);
        if (!more)
            break;
    }
    im_client_destroy (&client);
    if (rc == 0 && !json && total == 0)
        printf ("nothing was sent to %s%s%s\n", argv[optind], since_text ? " since " : "",
                since_text ? since_text : "");
    return rc;
}

/* --- Explain ------------------------------------------------------------ */

int
cmd_explain (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' }, { "origin", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },     { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *origin = NULL;
    int c, json = 0;
    while ((c = getopt_long (argc, argv, "d:jh", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'o': origin = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            printf ("Usage: intelmesh explain [-d DIR] [--origin NODE] [--json] ID PEER\n"
                    "Says whether the indicator ID held here goes to PEER, and the first\n"
                    "sharing rule that decided it, in plain words; and whether it was ever\n"
                    "sent there (the sent log). --origin picks among indicators of several\n"
                    "origins with one id.\n\n"
                    "Exit status: 0 when it goes to PEER, 1 when it does not (or on an\n"
                    "error), 2 for a bad command line.\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        cli_error ("explain: want ID PEER (see --help)");
        return EXIT_USAGE;
    }
    uint8_t id[IM_ID_SIZE], node[IM_NODE_ID_SIZE];
    if (im_id_parse (argv[optind], id)) {
        cli_error ("explain: '%s' is not an indicator id (a UUID)", argv[optind]);
        return EXIT_USAGE;
    }
    if (origin && im_node_parse (origin, node)) {
        cli_error ("explain: --origin '%s' is not a node id (64 hex digits)", origin);
        return EXIT_USAGE;
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    im_client_t *client = cli_connect (cli);
    json_t *body = json_pack ("{s:s, s:s}", "id", argv[optind], "peer", argv[optind + 1]);
    if (origin)
        json_object_set_new (body, "origin", json_string (origin));
    json_t *reply = client ? cli_call (client, IM_CTL_EXPLAIN, body) : NULL;
    json_decref (body);
    im_client_destroy (&client);
    if (!reply)
        return EXIT_FAIL;
    int shared = json_is_true (json_object_get (reply, "shared"));
    if (json)
        cli_print_json (reply);
    else {
        json_t *sent = json_object_get (reply, "sent");
        printf ("%s\n", json_string_value (json_object_get (reply, "why")));
        if (json_is_object (sent))
            printf ("sent to %s: version %lld at %s\n", argv[optind + 1],
                    (long long) json_integer_value (json_object_get (sent, "version")),
                    json_string_value (json_object_get (sent, "time")));
        else
            printf ("never sent to %s\n", argv[optind + 1]);
    }
    json_decref (reply);
    return shared ? 0 : EXIT_FAIL;
}
