/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_policy.c -- sharing policy from the command line: `intelmesh policy
 * set|list|show|remove` and `intelmesh explain ID PEER` (the peer settings
 * that go with them, `peer set`, are in cmd_peer.c). Policies live in
 * intelmesh.conf; a change is checked, written, and the running node told. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "im_config.h"
#include "im_ctl.h"
#include "im_ioc.h"
#include "im_policy.h"
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
                      (int)pol->min_confidence, "relay", pol->relay, "relay-origins",
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
        printf ("  %-15s%lld\n", "min-confidence", (long long)conf);
    printf ("  %-15s%s\n", "relay",
            json_is_true (json_object_get (o, "relay")) ? "yes" : "no");
    print_list ("relay-origins", json_object_get (o, "relay-origins"));
    json_t *peers = json_object_get (o, "peers");
    if (json_array_size (peers))
        print_list ("peers", peers);
    else
        printf ("  %-15s(none)\n", "peers");
}

static int
policy_list (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh policy list [-d DIR] [--json]\n"
        "Shows every sharing policy in intelmesh.conf (the built-in\n"
        "'default' included) and the peers that use it.\n",
        0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    im_config_t *cfg = cli_config (cli, "policy list");
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
    im_config_t *cfg = cli_config (cli, "policy show");
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
        cli_error (
            "policy set: '%s' is not a policy name (1-64 letters, digits, '.', '_' "
            "or '-')",
            name);
        return EXIT_USAGE;
    }
    size_t n = (size_t)(argc - optind - 1);
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

const cli_command_t cmd_policy_family[] = {
    { "set", policy_set, "create a sharing policy or change its rules", NULL },
    { "list", policy_list, "show every sharing policy and its peers", NULL },
    { "show", policy_show, "show one sharing policy and its peers", NULL },
    { "remove", policy_remove, "remove a sharing policy no peer uses", NULL },
    { NULL, NULL, NULL, NULL },
};

/* --- Explain ------------------------------------------------------------ */

typedef struct {
    const char *origin;
    const char *type; /* --type, for a VALUE */
    int by_value;     /* the first argument is a value, not an id */
} explain_opts_t;

static int
explain_option (void *ctx, int opt, const char *arg)
{
    if (opt == 'o')
        ((explain_opts_t *)ctx)->origin = arg;
    else if (opt == 't')
        ((explain_opts_t *)ctx)->type = arg;
    return 0;
}

/* explain VALUE PEER: the value's type is guessed unless given; --origin
 * goes with an id. */
static int
explain_value_check (explain_opts_t *o, const char *value)
{
    o->by_value = 1;
    int t = o->type ? im_type_parse (o->type) : im_ioc_guess (value);
    if (t <= 0) {
        cli_error (o->type ? "explain: --type '%s' is not an indicator type"
                           : "explain: '%s' is neither an indicator id (a UUID) nor a "
                             "value whose type can be told: give --type",
                   o->type ? o->type : value);
        return -1;
    }
    if (o->origin) {
        cli_error ("explain: --origin goes with an indicator id, not a value");
        return -1;
    }
    char norm[IM_VALUE_MAX + 1], why[256];
    if (im_ioc_normalise (t, value, norm, sizeof norm, why, sizeof why)) {
        cli_error ("explain: %s", why);
        return -1;
    }
    return 0;
}

static int
explain_check (void *ctx, int argc, char **argv)
{
    (void)argc;
    const char *origin = ((explain_opts_t *)ctx)->origin;
    uint8_t id[IM_ID_SIZE], node[IM_NODE_ID_SIZE];
    if (im_id_parse (argv[0], id))
        return explain_value_check (ctx, argv[0]);
    if (origin && im_node_parse (origin, node)) {
        cli_error ("explain: --origin '%s' is not a node id (64 hex digits)", origin);
        return -1;
    }
    return 0;
}

/* The origin of the indicator explained, by name. */
static void
print_explain_origin (im_cli_t *cli, json_t *reply)
{
    char name[IM_NAME_MAX + 16];
    cli_origin_names (cli);
    printf ("origin %s\n",
            cli_origin_name (json_string_value (json_object_get (reply, "origin")), name,
                             sizeof name));
}

int
cmd_explain (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "origin", required_argument, NULL, 'o' },
        { "type", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh explain [-d DIR] [--origin NODE] [--json] ID PEER\n"
                 "       intelmesh explain [-d DIR] [--type TYPE] [--json] VALUE PEER\n"
                 "Says whether the indicator ID held here goes to PEER, and the first\n"
                 "sharing rule that decided it, in plain words; and whether it was ever\n"
                 "sent there (the sent log). --origin picks among indicators of several\n"
                 "origins with one id. By VALUE (its type guessed unless given), the\n"
                 "indicator is this node's own of that value if there is one, else\n"
                 "another origin's; a live one before a revoked one.\n\n"
                 "Exit status: 0 when it goes to PEER, 1 when it does not (or on an\n"
                 "error), 2 for a bad command line.\n",
        .options = options,
        .json = CLI_JSON,
        .min_args = 2,
        .max_args = 2,
        .args_error = "explain: want ID PEER or VALUE PEER (see --help)",
        .option = explain_option,
        .check = explain_check,
    };
    explain_opts_t o = { NULL, NULL, 0 };
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &o, &json);
    if (rc != CLI_GO_ON)
        return rc;
    const char *origin = o.origin;
    json_t *body = json_pack ("{s:s, s:s}", o.by_value ? "value" : "id", argv[optind],
                              "peer", argv[optind + 1]);
    if (o.by_value && o.type)
        json_object_set_new (body, "type", json_string (o.type));
    if (origin)
        json_object_set_new (body, "origin", json_string (origin));
    json_t *reply = cli_request (cli, IM_CTL_EXPLAIN, body);
    json_decref (body);
    if (!reply)
        return EXIT_FAIL;
    int shared = json_is_true (json_object_get (reply, "shared"));
    if (json)
        cli_print_json (reply);
    else {
        json_t *sent = json_object_get (reply, "sent");
        char safe[CLI_SAFE_MAX];
        printf ("%s\n", cli_safe (json_string_value (json_object_get (reply, "why")),
                                  safe, sizeof safe));
        print_explain_origin (cli, reply);
        json_int_t hops = json_integer_value (json_object_get (reply, "hops"));
        const char *from = json_string_value (json_object_get (reply, "from"));
        if (hops > 0 && from && *from)
            printf ("held %lld link(s) from its origin, as %s said (hop counts are not "
                    "signed: a relay can lie about them)\n",
                    (long long)hops, cli_safe (from, safe, sizeof safe));
        if (json_is_object (sent))
            printf ("sent to %s: version %lld at %s\n", argv[optind + 1],
                    (long long)json_integer_value (json_object_get (sent, "version")),
                    json_string_value (json_object_get (sent, "time")));
        else
            printf ("never sent to %s\n", argv[optind + 1]);
        json_t *sealed = json_object_get (reply, "sealed");
        if (sealed)
            printf ("%s\n", cli_safe (json_string_value (json_object_get (sealed, "why")),
                                      safe, sizeof safe));
    }
    json_decref (reply);
    return shared ? 0 : EXIT_FAIL;
}
