/* cmd_ioc.c -- subcommands about indicators: publish (one, or many from
 * standard input in batches), revoke, lookup and list. Input is validated here
 * with the same code the daemon uses, so that mistakes are caught with a line
 * number before anything is sent; the daemon checks everything again. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "im_config.h"
#include "im_ctl.h"
#include "im_record.h"
#include "im_time.h"
#include "intelmesh.h"

#define PUBLISH_BATCH 500
#define LINE_MAX_BYTES 65536
#define REFUSALS_SHOWN 20

/* --- publish ----------------------------------------------------------- */

typedef struct {
    json_t *defaults; /* fields given as options, applied to every indicator */
    int json;         /* print results as JSON lines */
    int progress;     /* standard error is a terminal */
    long lines;       /* input lines read */
    long accepted, created, updated, unchanged, refused;
    im_client_t *client;
    json_t *batch;    /* items waiting to be sent */
    json_t *lines_of; /* their input line numbers */
    int failed;       /* the daemon could not be reached or failed */
    int force;        /* publish values that are on a warninglist */
} publish_t;

static void
refusal (publish_t *p, long line, const char *why)
{
    p->refused++;
    if (p->json) {
        json_t *o = json_pack ("{s:I, s:s}", "line", (json_int_t) line, "error", why);
        cli_print_json (o);
        json_decref (o);
    }
    if (p->refused <= REFUSALS_SHOWN) {
        if (line > 0)
            fprintf (stderr, "intelmesh: line %ld: refused: %s\n", line, why);
        else
            fprintf (stderr, "intelmesh: refused: %s\n", why);
    }
}

static int
flush_batch (publish_t *p)
{
    if (json_array_size (p->batch) == 0 || p->failed)
        return p->failed ? -1 : 0;
    json_t *body = json_pack ("{s:O, s:b}", "items", p->batch, "force", p->force);
    json_t *reply = body ? cli_call (p->client, IM_CTL_PUBLISH, body) : NULL;
    json_decref (body);
    if (!reply) {
        p->failed = 1;
        return -1;
    }
    json_t *results = json_object_get (reply, "results");
    for (size_t i = 0; i < json_array_size (p->batch); i++) {
        json_t *r = json_array_get (results, i);
        long line = (long) json_integer_value (json_array_get (p->lines_of, i));
        const char *id = json_string_value (json_object_get (r, "id"));
        const char *status = json_string_value (json_object_get (r, "status"));
        if (!id || !status) {
            const char *why = json_string_value (json_object_get (r, "error"));
            refusal (p, line, why ? why : "refused by intelmeshd");
            continue;
        }
        p->accepted++;
        if (strcmp (status, "new") == 0) p->created++;
        else if (strcmp (status, "updated") == 0) p->updated++;
        else p->unchanged++;
        if (p->json) {
            json_t *o = json_pack ("{s:I, s:s, s:s}", "line", (json_int_t) line, "id", id,
                                   "status", status);
            cli_print_json (o);
            json_decref (o);
        }
        else
            printf ("%s\n", id);
    }
    /* Acknowledged ids reach standard output as soon as they are stored. */
    fflush (stdout);
    json_decref (reply);
    json_array_clear (p->batch);
    json_array_clear (p->lines_of);
    if (p->progress)
        fprintf (stderr, "\r%ld lines read, %ld published, %ld refused", p->lines,
                 p->accepted, p->refused);
    return 0;
}

/* Validates ITEM (after applying the defaults) and queues it. */
static int
queue_item (publish_t *p, json_t *item, long line)
{
    const char *key;
    json_t *v;
    json_object_foreach (p->defaults, key, v) {
        if (!json_object_get (item, key))
            json_object_set (item, key, v);
    }
    im_record_t *rec = malloc (sizeof *rec);
    char why[512];
    if (!rec) {
        refusal (p, line, "out of memory");
        return -1;
    }
    im_record_init (rec);
    int rc = im_record_from_json (rec, item, im_time_now (), why, sizeof why);
    free (rec);
    if (rc) {
        refusal (p, line, why);
        return 0;
    }
    json_array_append (p->batch, item);
    json_array_append_new (p->lines_of, json_integer (line));
    if (json_array_size (p->batch) >= PUBLISH_BATCH)
        return flush_batch (p);
    return 0;
}

/* One line of `publish -`: "TYPE VALUE" or a JSON object. */
static int
publish_line (publish_t *p, char *line, size_t len, long number)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = 0;
    char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == 0 || *s == '#')
        return 0;
    if (strlen (s) != (size_t) (len - (size_t) (s - line))) {
        refusal (p, number, "line holds a NUL byte");
        return 0;
    }
    json_t *item;
    if (*s == '{') {
        json_error_t jerr;
        item = json_loads (s, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object (item)) {
            char why[256];
            snprintf (why, sizeof why, "not a JSON object: %s", jerr.text);
            json_decref (item);
            refusal (p, number, why);
            return 0;
        }
    }
    else {
        char *type = s, *value = s + strcspn (s, " \t");
        if (*value)
            *value++ = 0;
        while (*value == ' ' || *value == '\t')
            value++;
        size_t vlen = strlen (value);
        while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
            value[--vlen] = 0;
        if (!*value) {
            refusal (p, number, "want 'TYPE VALUE' or a JSON object");
            return 0;
        }
        item = json_pack ("{s:s, s:s}", "type", type, "value", value);
        if (!item) {
            refusal (p, number, "not UTF-8 text");
            return 0;
        }
    }
    int rc = queue_item (p, item, number);
    json_decref (item);
    return rc;
}

static void
publish_usage (void)
{
    printf (
        "Usage: intelmesh publish [OPTIONS] TYPE VALUE\n"
        "       intelmesh publish [OPTIONS] -\n"
        "Signs and publishes an indicator and prints its id. Publishing a value this\n"
        "node already published updates that indicator (the whole record is\n"
        "replaced). With '-', reads one indicator a line from standard input, either\n"
        "'TYPE VALUE' or a JSON object ({\"type\":..., \"value\":..., \"tlp\":...}),\n"
        "publishes them in batches and prints each accepted id; refusals go to\n"
        "standard error with their line number. The options apply to every line\n"
        "that does not set the field itself.\n\n"
        "Types: ipv4 ipv6 domain url email md5 sha1 sha256 sha512 filename asn\n\n"
        "  --tlp LABEL          clear, green (default), amber, amber+strict or red\n"
        "  --tag TAG            a tag (repeat for more)\n"
        "  --confidence N       0 to 100 (default 50)\n"
        "  --valid-from TIME    RFC 3339 time, date, or duration from now (30d)\n"
        "  --valid-until TIME   likewise\n"
        "  --reach N            links it may cross from this node: 0 local only,\n"
        "                       1 direct peers, ... or 'unlimited' (default)\n"
        "  --description TEXT   free text\n"
        "  --to PEER            a named recipient: a peer's name or a node id (repeat\n"
        "                       for more). Only named nodes may hold the indicator;\n"
        "                       TLP:RED goes only to them, TLP:AMBER to them even when\n"
        "                       their policy's max-tlp is lower\n"
        "  --force              publish values that are on one of the node's\n"
        "                       warninglists (see intelmesh check)\n"
        "  --json               print results as JSON lines\n"
        "  -d, --dir DIR        the node's data directory\n\n"
        "Exit status: 0 when everything was published, 1 when anything was refused\n"
        "or the daemon could not be reached, 2 for a bad command line.\n");
}

int
cmd_publish (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' },
        { "tlp", required_argument, NULL, 't' },
        { "tag", required_argument, NULL, 'g' },
        { "confidence", required_argument, NULL, 'c' },
        { "valid-from", required_argument, NULL, 'F' },
        { "valid-until", required_argument, NULL, 'U' },
        { "reach", required_argument, NULL, 'r' },
        { "description", required_argument, NULL, 'D' },
        { "to", required_argument, NULL, 'T' },
        { "force", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    publish_t p = { 0 };
    const char *dir_opt = NULL;
    int c, rc = EXIT_USAGE;
    long n;
    p.defaults = json_object ();
    json_t *tags = json_array ();
    json_t *to = json_array ();
    while ((c = getopt_long (argc, argv, "d:jh", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 't': json_object_set_new (p.defaults, "tlp", json_string (optarg)); break;
        case 'g':
            if (json_array_append_new (tags, json_string (optarg))) {
                cli_error ("publish: --tag '%s' is not UTF-8 text", optarg);
                goto done;
            }
            break;
        case 'c':
            if (cli_number ("--confidence", optarg, 0, 100, &n))
                goto done;
            json_object_set_new (p.defaults, "confidence", json_integer (n));
            break;
        case 'F': json_object_set_new (p.defaults, "valid_from", json_string (optarg)); break;
        case 'U': json_object_set_new (p.defaults, "valid_until", json_string (optarg)); break;
        case 'r':
            if (strcmp (optarg, "unlimited") == 0)
                json_object_set_new (p.defaults, "reach", json_string ("unlimited"));
            else if (cli_number ("--reach", optarg, 0, IM_REACH_UNLIMITED - 1, &n))
                goto done;
            else
                json_object_set_new (p.defaults, "reach", json_integer (n));
            break;
        case 'D':
            if (json_object_set_new (p.defaults, "description", json_string (optarg))) {
                cli_error ("publish: --description is not UTF-8 text");
                goto done;
            }
            break;
        case 'T': json_array_append_new (to, json_string (optarg)); break;
        case 'f': p.force = 1; break;
        case 'j': p.json = 1; break;
        case 'h': publish_usage (); rc = 0; goto done;
        default: goto done;
        }
    }
    if (json_array_size (tags))
        json_object_set (p.defaults, "tags", tags);
    int from_stdin = argc - optind == 1 && strcmp (argv[optind], "-") == 0;
    if (!from_stdin && argc - optind != 2) {
        cli_error ("publish: want TYPE VALUE, or '-' to read from standard input "
                   "(see --help)");
        goto done;
    }
    /* Options are checked before the daemon is asked anything. */
    if (json_object_get (p.defaults, "tlp")
        && im_tlp_parse (json_string_value (json_object_get (p.defaults, "tlp"))) < 0) {
        cli_error ("publish: --tlp '%s' is not one of clear, green, amber, amber+strict, red",
                   json_string_value (json_object_get (p.defaults, "tlp")));
        goto done;
    }
    int64_t t;
    const char *time_opts[][2] = { { "valid_from", "--valid-from" },
                                   { "valid_until", "--valid-until" } };
    for (int i = 0; i < 2; i++) {
        const char *text = json_string_value (json_object_get (p.defaults, time_opts[i][0]));
        if (text && im_time_parse (text, im_time_now (), &t)) {
            cli_error ("publish: %s '%s' is not a time (2026-12-31T00:00:00Z, 2026-12-31, "
                       "or a duration like 30d)", time_opts[i][1], text);
            goto done;
        }
    }
    if (cli_resolve_dir (cli, dir_opt))
        goto done;
    if (json_array_size (to)) {
        /* Recipients by peer name (from the trust list) or node id. */
        im_config_t *cfg = malloc (sizeof *cfg);
        char err[512];
        if (!cfg || im_config_load (cli->dir, cfg, err, sizeof err)) {
            cli_error ("publish: %s", cfg ? err : "out of memory");
            free (cfg);
            goto done;
        }
        json_t *recipients = json_array ();
        for (size_t i = 0; i < json_array_size (to); i++) {
            const char *name = json_string_value (json_array_get (to, i));
            const im_peer_conf_t *peer = name ? im_config_peer (cfg, name) : NULL;
            uint8_t node[IM_NODE_ID_SIZE];
            char hex[IM_NODE_HEX_SIZE];
            if (peer)
                im_node_format (peer->card.node, hex);
            else if (name && im_node_parse (name, node) == 0)
                im_node_format (node, hex);
            else {
                cli_error ("publish: --to '%s' is neither a peer on the trust list nor "
                           "a node id (64 hex digits)", name ? name : "?");
                json_decref (recipients);
                free (cfg);
                goto done;
            }
            json_array_append_new (recipients, json_string (hex));
        }
        free (cfg);
        json_object_set_new (p.defaults, "recipients", recipients);
    }
    p.batch = json_array ();
    p.lines_of = json_array ();
    rc = EXIT_FAIL;

    if (!from_stdin) {
        /* One indicator: validate before connecting, so that a typo is
         * reported as such even when the daemon is down. */
        json_t *item = json_pack ("{s:s?, s:s?}", "type", argv[optind], "value",
                                  argv[optind + 1]);
        if (!item) {
            cli_error ("publish: TYPE and VALUE must be UTF-8 text");
            goto done;
        }
        const char *key;
        json_t *v;
        json_object_foreach (p.defaults, key, v)
            json_object_set (item, key, v);
        im_record_t *rec = malloc (sizeof *rec);
        char why[512];
        im_record_init (rec);
        int bad = im_record_from_json (rec, item, im_time_now (), why, sizeof why);
        free (rec);
        if (bad) {
            cli_error ("publish: %s", why);
            json_decref (item);
            goto done;
        }
        p.client = cli_connect (cli);
        if (!p.client) {
            json_decref (item);
            goto done;
        }
        json_array_append_new (p.batch, item);
        json_array_append_new (p.lines_of, json_integer (0));
        if (flush_batch (&p) == 0 && p.refused == 0) {
            rc = 0;
            if (p.updated)
                fprintf (stderr, "intelmesh: this node had published that value already: "
                                 "updated it\n");
            else if (p.unchanged)
                fprintf (stderr, "intelmesh: already published with the same content: "
                                 "nothing changed\n");
        }
        goto done;
    }

    p.client = cli_connect (cli);
    if (!p.client)
        goto done;
    p.progress = isatty (STDERR_FILENO);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (!p.failed && (len = getline (&line, &cap, stdin)) != -1) {
        p.lines++;
        if (len > LINE_MAX_BYTES)
            refusal (&p, p.lines, "line longer than 64 KiB");
        else
            publish_line (&p, line, (size_t) len, p.lines);
    }
    free (line);
    flush_batch (&p);
    if (p.progress)
        fprintf (stderr, "\r\033[K");
    if (p.refused > REFUSALS_SHOWN)
        fprintf (stderr, "intelmesh: ... and %ld more refusals\n", p.refused - REFUSALS_SHOWN);
    fprintf (stderr,
             "intelmesh: %ld lines read: %ld published (%ld new, %ld updated, %ld unchanged), "
             "%ld refused%s\n",
             p.lines, p.accepted, p.created, p.updated, p.unchanged, p.refused,
             p.failed ? "; stopped early: the daemon failed (what was acknowledged is stored)"
                      : "");
    rc = p.failed || p.refused ? EXIT_FAIL : 0;
done:
    im_client_destroy (&p.client);
    json_decref (p.batch);
    json_decref (p.lines_of);
    json_decref (p.defaults);
    json_decref (tags);
    json_decref (to);
    return rc;
}

/* --- revoke ------------------------------------------------------------ */

int
cmd_revoke (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh revoke [-d DIR] [--json] ID...\n"
        "Revokes indicators this node published: a signed tombstone replaces\n"
        "each one and travels like any update. Only an indicator's origin can\n"
        "revoke it.\n",
        1, IM_CONTROL_BATCH_MAX, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *ids = json_array ();
    for (int i = optind; i < argc; i++) {
        uint8_t id[IM_ID_SIZE];
        if (im_id_parse (argv[i], id)) {
            cli_error ("revoke: '%s' is not an indicator id (a UUID)", argv[i]);
            json_decref (ids);
            return EXIT_USAGE;
        }
        json_array_append_new (ids, json_string (argv[i]));
    }
    im_client_t *client = cli_connect (cli);
    json_t *body = json_pack ("{s:o}", "ids", ids);
    json_t *reply = client ? cli_call (client, IM_CTL_REVOKE, body) : NULL;
    json_decref (body);
    im_client_destroy (&client);
    if (!reply)
        return EXIT_FAIL;
    rc = 0;
    json_t *results = json_object_get (reply, "results");
    for (size_t i = 0; i < json_array_size (results); i++) {
        json_t *r = json_array_get (results, i);
        const char *status = json_string_value (json_object_get (r, "status"));
        const char *why = json_string_value (json_object_get (r, "error"));
        if (json)
            cli_print_json (r);
        else if (status)
            printf ("%s %s\n", json_string_value (json_object_get (r, "id")), status);
        if (!status) {
            cli_error ("revoke: %s: %s", argv[optind + (int) i], why ? why : "refused");
            rc = EXIT_FAIL;
        }
    }
    json_decref (reply);
    return rc;
}

/* --- lookup and list --------------------------------------------------- */

/* One indicator on one line, for people. */
static void
print_record (json_t *r, const char *queried)
{
    const char *value = json_string_value (json_object_get (r, "value"));
    const char *tlp = json_string_value (json_object_get (r, "tlp"));
    const char *origin = json_string_value (json_object_get (r, "origin"));
    char upper[32];
    size_t i;
    for (i = 0; tlp && tlp[i] && i < sizeof upper - 1; i++)
        upper[i] = (char) (tlp[i] >= 'a' && tlp[i] <= 'z' ? tlp[i] - 32 : tlp[i]);
    upper[i] = 0;
    printf ("%s %s", json_string_value (json_object_get (r, "type")), value);
    if (queried && value && strcmp (queried, value) != 0)
        printf (" (contains %s)", queried);
    printf ("  TLP:%s  confidence %lld  origin %.16s  id %s  v%lld",
            upper, (long long) json_integer_value (json_object_get (r, "confidence")),
            origin ? origin : "?", json_string_value (json_object_get (r, "id")),
            (long long) json_integer_value (json_object_get (r, "version")));
    if (strcmp (json_string_value (json_object_get (r, "op")), "revoke") == 0)
        printf ("  REVOKED");
    json_t *tags = json_object_get (r, "tags");
    for (i = 0; i < json_array_size (tags); i++)
        printf ("%s%s", i ? "," : "  tags ", json_string_value (json_array_get (tags, i)));
    const char *until = json_string_value (json_object_get (r, "valid_until"));
    if (until)
        printf ("  until %s", until);
    printf ("\n");
}

int
cmd_lookup (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' }, { "type", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },     { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *type = NULL;
    int json = 0, c;
    while ((c = getopt_long (argc, argv, "d:t:jh", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 't': type = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            printf ("Usage: intelmesh lookup [-d DIR] [--type TYPE] [--json] VALUE\n"
                    "Is VALUE known, from whom, under which TLP? The type is guessed when\n"
                    "not given. An address also finds the CIDR prefixes that contain it.\n\n"
                    "Exit status: 0 found, 1 not found, 2 bad command line or value,\n"
                    "3 the daemon could not answer.\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error ("lookup: give one VALUE (see --help)");
        return EXIT_USAGE;
    }
    const char *value = argv[optind];
    int t = type ? im_type_parse (type) : im_ioc_guess (value);
    char norm[IM_VALUE_MAX + 1], why[256];
    if (t <= 0) {
        cli_error (type ? "lookup: --type '%s' is not an indicator type"
                        : "lookup: cannot tell the type of '%s': give --type", type ? type : value);
        return EXIT_USAGE;
    }
    if (im_ioc_normalise (t, value, norm, sizeof norm, why, sizeof why)) {
        cli_error ("lookup: %s", why);
        return EXIT_USAGE;
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    im_client_t *client = cli_connect (cli);
    json_t *body = json_pack ("{s:s, s:s}", "value", norm, "type", im_type_name (t));
    json_t *reply = client ? cli_call (client, IM_CTL_LOOKUP, body) : NULL;
    json_decref (body);
    im_client_destroy (&client);
    if (!reply)
        return 3;
    json_t *matches = json_object_get (reply, "matches");
    size_t n = json_array_size (matches);
    if (json)
        cli_print_json (reply);
    else if (n == 0)
        printf ("%s %s: not known\n", im_type_name (t), norm);
    else {
        for (size_t i = 0; i < n; i++)
            print_record (json_array_get (matches, i), norm);
        if (json_is_true (json_object_get (reply, "truncated")))
            printf ("(only the first %zu matches are shown)\n", n);
    }
    json_decref (reply);
    return n ? 0 : EXIT_NOTFOUND;
}

int
cmd_list (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' }, { "type", required_argument, NULL, 't' },
        { "origin", required_argument, NULL, 'o' }, { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },     { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *type = NULL, *origin = NULL;
    int json = 0, c;
    while ((c = getopt_long (argc, argv, "d:t:o:jh", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 't': type = optarg; break;
        case 'o': origin = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            printf ("Usage: intelmesh list [-d DIR] [--type TYPE] [--origin NODE] [--json]\n"
                    "Lists stored indicators, live and revoked, one a line (with --json,\n"
                    "one JSON object a line). NODE is a node id (64 hex digits).\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error ("list: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    uint8_t node[IM_NODE_ID_SIZE];
    if (type && im_type_parse (type) < 0) {
        cli_error ("list: --type '%s' is not an indicator type", type);
        return EXIT_USAGE;
    }
    if (origin && im_node_parse (origin, node)) {
        cli_error ("list: --origin '%s' is not a node id (64 hex digits)", origin);
        return EXIT_USAGE;
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    im_client_t *client = cli_connect (cli);
    if (!client)
        return EXIT_FAIL;
    int rc = 0;
    char after[2 * IM_NODE_ID_SIZE + 2 * IM_ID_SIZE + 1] = "";
    long total = 0;
    for (;;) {
        json_t *body = json_pack ("{s:s?, s:s?, s:s?, s:i}", "type", type, "origin", origin,
                                  "after", after[0] ? after : NULL, "limit",
                                  IM_CONTROL_LIST_MAX);
        json_t *reply = cli_call (client, IM_CTL_LIST, body);
        json_decref (body);
        if (!reply) {
            rc = EXIT_FAIL;
            break;
        }
        json_t *records = json_object_get (reply, "records");
        for (size_t i = 0; i < json_array_size (records); i++) {
            if (json)
                cli_print_json (json_array_get (records, i));
            else
                print_record (json_array_get (records, i), NULL);
            total++;
        }
        const char *next = json_string_value (json_object_get (reply, "next"));
        if (next)
            snprintf (after, sizeof after, "%s", next);
        json_decref (reply);
        if (!next)
            break;
    }
    if (!json && rc == 0 && isatty (STDOUT_FILENO))
        printf ("%ld indicators\n", total);
    im_client_destroy (&client);
    return rc;
}

int
cmd_check (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' }, { "type", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },     { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *type = NULL;
    int json = 0, c;
    while ((c = getopt_long (argc, argv, "d:t:jh", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 't': type = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            printf ("Usage: intelmesh check VALUE [-d DIR] [--type TYPE] [--json]\n"
                    "Says which of the node's warninglists (MISP's format, loaded from\n"
                    "warninglists/directory) hold VALUE. A value on a list is refused at\n"
                    "publish and import unless forced. Exit status: 0 on no list, 1 on\n"
                    "at least one, 2 on an error (usage, a value that is not of its\n"
                    "type, no running node).\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error ("check: give one VALUE (see intelmesh check --help)");
        return EXIT_USAGE;
    }
    if (type && im_type_parse (type) < 0) {
        cli_error ("check: --type '%s' is not an indicator type", type);
        return EXIT_USAGE;
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    im_client_t *client = cli_connect (cli);
    if (!client)
        return EXIT_USAGE; /* 1 would say "on a list" */
    json_t *body = json_pack ("{s:s, s:s?}", "value", argv[optind], "type", type);
    json_t *reply = cli_call (client, IM_CTL_CHECK, body);
    json_decref (body);
    im_client_destroy (&client);
    if (!reply)
        return EXIT_USAGE; /* a value the node cannot read: not "on a list" */
    json_t *lists = json_object_get (reply, "lists");
    size_t n = json_array_size (lists);
    if (json)
        cli_print_json (reply);
    else if (n == 0)
        printf ("%s %s is on none of the %lld warninglist(s)\n",
                json_string_value (json_object_get (reply, "type")),
                json_string_value (json_object_get (reply, "value")),
                (long long) json_integer_value (json_object_get (reply, "loaded")));
    else
        for (size_t i = 0; i < n; i++) {
            json_t *m = json_array_get (lists, i);
            printf ("%s is on the warninglist '%s' (entry %s)\n",
                    json_string_value (json_object_get (reply, "value")),
                    json_string_value (json_object_get (m, "list")),
                    json_string_value (json_object_get (m, "entry")));
        }
    json_decref (reply);
    return n ? 1 : 0;
}
