/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_lookup.c -- questions about indicators: lookup (is this value known?),
 * list (everything stored, paged through LIST) and check (which warninglists
 * hold this value?). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "im_ctl.h"
#include "im_guard.h"
#include "im_ioc.h"
#include "im_record.h"
#include "intelmesh.h"

/* --type of lookup, list (with --origin) and check; --exercise of lookup and list. */
typedef struct {
    const char *type, *origin;
    const char *exercise; /* --exercise NAME: its injects, not real records */
} query_opts_t;

static int
query_option (void *ctx, int opt, const char *arg)
{
    query_opts_t *o = ctx;
    if (opt == 't')
        o->type = arg;
    else if (opt == 'o')
        o->origin = arg;
    else if (opt == 'X')
        o->exercise = arg;
    return 0;
}

static const struct option type_option[] = {
    { "type", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
};
static const struct option lookup_options[] = {
    { "type", required_argument, NULL, 't' },
    { "exercise", required_argument, NULL, 'X' },
    { NULL, 0, NULL, 0 },
};

/* --exercise NAME on lookup and list: the injects of that exercise (SPEC.md,
 * "Exercises"), through EXERCISE show, whose VALUE (NULL: all) is "TYPE
 * NORM" (T, NORM). Returns 0 (some shown), EXIT_NOTFOUND or 3. */
static int
exercise_injects (im_cli_t *cli, const char *name, int t, const char *norm, int json)
{
    json_t *body = json_pack ("{s:s, s:s}", "action", "show", "name", name);
    json_t *reply = body ? cli_request (cli, IM_CTL_EXERCISE, body) : NULL;
    json_decref (body);
    if (!reply)
        return 3;
    char want[IM_VALUE_MAX + 40], safe[CLI_SAFE_MAX];
    if (norm)
        snprintf (want, sizeof want, "%s %s", im_type_name (t), norm);
    json_t *o;
    size_t i, shown = 0;
    json_array_foreach (json_object_get (reply, "injects"), i, o)
    {
        const char *v = json_string_value (json_object_get (o, "value"));
        const char *op = json_string_value (json_object_get (o, "op"));
        if (!v || (norm && (strcmp (v, want) || strcmp (op, "put"))))
            continue;
        shown++;
        if (json)
            cli_print_json (o);
        else
            printf ("EXERCISE %s  %s  %-6s %s%s\n", name,
                    json_string_value (json_object_get (o, "id")),
                    json_string_value (json_object_get (o, "tlp")),
                    cli_safe (v, safe, sizeof safe),
                    strcmp (op, "put") ? "  (revoked)" : "");
    }
    json_decref (reply);
    return shown ? 0 : EXIT_NOTFOUND;
}

/* --- lookup -------------------------------------------------------------- */

/* What one line about an indicator shows, from a full record object or a
 * compact match (SPEC.md, "LOOKUP"). */
typedef struct {
    const char *id, *origin, *op, *type, *value, *tlp, *until;
    long long version, confidence;
    int detect;
    json_t *tags;
} shown_t;

/* One indicator on one line, for people. */
static void
print_shown (const shown_t *r, const char *queried)
{
    char upper[32];
    size_t i;
    for (i = 0; r->tlp && r->tlp[i] && i < sizeof upper - 1; i++)
        upper[i]
            = (char)(r->tlp[i] >= 'a' && r->tlp[i] <= 'z' ? r->tlp[i] - 32 : r->tlp[i]);
    upper[i] = 0;
    char safe[CLI_SAFE_MAX], name[IM_NAME_MAX + 16];
    printf ("%s %s", r->type, cli_value (r->type, r->value, safe, sizeof safe));
    if (queried && r->value && strcasecmp (queried, r->value) != 0)
        printf (" (contains %s)", cli_safe (queried, safe, sizeof safe));
    printf ("  TLP:%s  confidence %lld  origin %s  id %s  v%lld", upper, r->confidence,
            cli_origin_name (r->origin, name, sizeof name), r->id, r->version);
    if (r->op && strcmp (r->op, "revoke") == 0)
        printf ("  REVOKED");
    if (!r->detect)
        printf ("  not-for-detection");
    for (i = 0; i < json_array_size (r->tags); i++)
        printf ("%s%s", i ? "," : "  tags ",
                cli_safe (json_string_value (json_array_get (r->tags, i)), safe,
                          sizeof safe));
    if (r->until)
        printf ("  until %s", r->until);
    printf ("\n");
}

#define FIELD(r, name) json_string_value (json_object_get ((r), (name)))
#define ITEM(a, i) json_string_value (json_array_get ((a), (i)))

/* A record object (LIST, the full LOOKUP), or, when COMPACT, a compact
 * match: [id, origin, version, op, type, value, tlp, confidence, detect,
 * valid_until, [tags]]. */
static void
print_record (json_t *r, const char *queried, int compact)
{
    shown_t s;
    if (compact)
        s = (shown_t){ ITEM (r, 0),
                       ITEM (r, 1),
                       ITEM (r, 3),
                       ITEM (r, 4),
                       ITEM (r, 5),
                       ITEM (r, 6),
                       ITEM (r, 9),
                       (long long)json_integer_value (json_array_get (r, 2)),
                       (long long)json_integer_value (json_array_get (r, 7)),
                       !json_is_false (json_array_get (r, 8)),
                       json_array_get (r, 10) };
    else
        s = (shown_t){ FIELD (r, "id"),
                       FIELD (r, "origin"),
                       FIELD (r, "op"),
                       FIELD (r, "type"),
                       FIELD (r, "value"),
                       FIELD (r, "tlp"),
                       FIELD (r, "valid_until"),
                       (long long)json_integer_value (json_object_get (r, "version")),
                       (long long)json_integer_value (json_object_get (r, "confidence")),
                       !json_is_false (json_object_get (r, "detect")),
                       json_object_get (r, "tags") };
    print_shown (&s, queried);
}

/* The revocations of the value looked up, one a line: "TYPE VALUE: revoked
 * by NAME at TIME". REVOKED holds objects, or when COMPACT arrays [id,
 * origin, type, value, modified, revoked_by]. Returns how many. */
static size_t
print_revoked (json_t *revoked, int compact)
{
    char safe[CLI_SAFE_MAX], by[CLI_SAFE_MAX + 16];
    for (size_t i = 0; i < json_array_size (revoked); i++) {
        json_t *r = json_array_get (revoked, i);
        const char *name = compact ? ITEM (r, 5) : FIELD (r, "revoked_by");
        const char *origin = compact ? ITEM (r, 1) : FIELD (r, "origin");
        if (name)
            cli_safe (name, by, sizeof by);
        else
            snprintf (by, sizeof by, "origin %.16s", origin ? origin : "?");
        printf ("%s %s: revoked by %s at %s  id %s\n",
                compact ? ITEM (r, 2) : FIELD (r, "type"),
                cli_value (compact ? ITEM (r, 2) : FIELD (r, "type"),
                           compact ? ITEM (r, 3) : FIELD (r, "value"), safe, sizeof safe),
                by, compact ? ITEM (r, 4) : FIELD (r, "modified"),
                compact ? ITEM (r, 0) : FIELD (r, "id"));
    }
    return json_array_size (revoked);
}

/* The reports a match belongs to, one a line under it: "  in report
 * TITLE  id ID" (the full LOOKUP's "reports"; none in the compact one). */
static void
print_reports (json_t *reports)
{
    char safe[CLI_SAFE_MAX];
    for (size_t i = 0; i < json_array_size (reports); i++) {
        json_t *r = json_array_get (reports, i);
        const char *title = FIELD (r, "title"), *id = FIELD (r, "id");
        printf ("  in report %s  id %s\n",
                cli_safe (title ? title : "", safe, sizeof safe), id ? id : "?");
    }
}

typedef struct {
    query_opts_t o;
    int t;                       /* the value's type */
    char norm[IM_VALUE_MAX + 1]; /* the value, normalised */
} lookup_t;

/* VALUE's type (TYPE, or guessed when NULL) into *T and its normal form into
 * NORM, as the node would. Returns 0, or -1 with the reason in WHY. */
static int
lookup_value (const char *type, const char *value, int *t, char *norm, char *why,
              size_t whysz)
{
    *t = type ? im_type_parse (type) : im_ioc_guess (value);
    if (*t <= 0) {
        char safe[CLI_SAFE_MAX];
        snprintf (why, whysz, "cannot tell the type of '%s': give --type",
                  cli_safe (value, safe, sizeof safe));
        return -1;
    }
    char reason[256];
    if (im_ioc_normalise (*t, value, norm, IM_VALUE_MAX + 1, reason, sizeof reason)) {
        snprintf (why, whysz, "%s", reason);
        return -1;
    }
    return 0;
}

/* The type is guessed when not given; the value is normalised as the node
 * would. "-" reads the values from standard input. */
static int
lookup_check (void *ctx, int argc, char **argv)
{
    (void)argc;
    lookup_t *l = ctx;
    const char *type = l->o.type, *value = argv[0];
    char why[CLI_SAFE_MAX + 64];
    if (type && im_type_parse (type) <= 0) {
        cli_error ("lookup: --type '%s' is not an indicator type", type);
        return -1;
    }
    if (strcmp (value, "-") == 0)
        return 0;
    if (lookup_value (type, value, &l->t, l->norm, why, sizeof why)) {
        cli_error ("lookup: %s", why);
        return -1;
    }
    return 0;
}

/* Prints one value's LOOKUP answer as text or one JSON line: a full
 * answer object, or when COMPACT a compact one, [type, value, [matches],
 * truncated, [tombstones]]. Returns 1 when the value was found, else 0. */
static int
print_lookup (json_t *reply, int json, int compact)
{
    json_t *matches
        = compact ? json_array_get (reply, 2) : json_object_get (reply, "matches");
    json_t *revoked
        = compact ? json_array_get (reply, 4) : json_object_get (reply, "revoked");
    int truncated = json_is_true (compact ? json_array_get (reply, 3)
                                          : json_object_get (reply, "truncated"));
    const char *type = compact ? ITEM (reply, 0) : FIELD (reply, "type");
    const char *norm = compact ? ITEM (reply, 1) : FIELD (reply, "value");
    size_t n = json_array_size (matches);
    int found = n || truncated;
    char safe[CLI_SAFE_MAX];
    if (json)
        cli_print_json (reply);
    else if (n == 0 && !found && print_revoked (revoked, compact) == 0)
        printf ("%s %s: not known\n", type, cli_value (type, norm, safe, sizeof safe));
    else if (found) {
        for (size_t i = 0; i < n; i++) {
            print_record (json_array_get (matches, i), norm, compact);
            print_reports (json_object_get (json_array_get (matches, i), "reports"));
        }
        if (truncated)
            printf ("(only the first %zu matches are shown)\n", n);
        print_revoked (revoked, compact);
    }
    return found;
}

/* `lookup -`: the values read but not yet asked, written into the next
 * request; the batches asked but not yet answered, at most AHEAD of them
 * (the next is asked before the last is printed); the line number of each
 * value, a row a batch in a ring of AHEAD + 1. */
#define AHEAD 2
typedef struct {
    im_client_t *client;
    im_ctl_text_t request;
    size_t n, count[AHEAD + 1]; /* values in the request, in each batch */
    size_t asked, answered;     /* batches */
    long lines[AHEAD + 1][IM_CONTROL_LOOKUP_MAX];
    int json, bad, missing, failed;
} batch_t;

/* Prints the answers to the oldest batch asked, in order. */
static void
batch_answer (batch_t *b)
{
    char err[1024];
    size_t row = b->answered++ % (AHEAD + 1), n = b->count[row];
    json_t *reply = im_client_recv (b->client, IM_CONTROL_TIMEOUT_MS, err, sizeof err);
    json_t *results = json_object_get (reply, "results");
    if (!reply)
        cli_error ("%s", err);
    else if (json_array_size (results) != n)
        cli_error ("lookup: the daemon answered %zu of %zu values",
                   json_array_size (results), n);
    if (json_array_size (results) != n)
        b->failed = 1;
    for (size_t i = 0; !b->failed && i < n; i++) {
        json_t *r = json_array_get (results, i);
        const char *error = FIELD (r, "error");
        if (error) {
            cli_error ("lookup: line %ld: %s", b->lines[row][i], error);
            b->bad = 1;
        }
        /* (a node older than the compact form answers it in the full one) */
        else if (!print_lookup (r, b->json, json_is_array (r)))
            b->missing = 1;
    }
    json_decref (reply);
}

/* Starts the next request: the compact form for text, the full one for
 * --json (whose lines are the full answers). */
static void
batch_open (batch_t *b)
{
    im_ctl_text_free (&b->request);
    b->n = 0;
    if (b->json)
        im_ctl_text_raw (&b->request, "{\"values\":[", 11);
    else
        im_ctl_text_raw (&b->request, "{\"compact\":true,\"values\":[", 26);
}

/* Asks the node about the values held, once fewer than AHEAD batches are
 * on their way (printing the oldest answers meanwhile). */
static void
batch_flush (batch_t *b)
{
    char err[1024];
    if (b->n == 0 || b->failed)
        return;
    im_ctl_text_raw (&b->request, "]}", 2);
    if (b->asked - b->answered == AHEAD)
        batch_answer (b);
    if (b->failed)
        return;
    if (im_ctl_text_check (&b->request)) {
        cli_error ("lookup: %s", strerror (errno));
        b->failed = 1;
    }
    else if (im_client_send (b->client, IM_CTL_LOOKUP, b->request.data, b->request.len,
                             err, sizeof err)) {
        cli_error ("%s", err);
        b->failed = 1;
    }
    else
        b->count[b->asked++ % (AHEAD + 1)] = b->n;
    batch_open (b);
}

/* One line: a value, or nothing (blank, or a # comment). */
static void
batch_line (batch_t *b, const char *type, char *line, size_t len, long number)
{
    char why[CLI_SAFE_MAX + 64], norm[IM_VALUE_MAX + 1];
    int t;
    while (len && strchr ("\n\r \t", line[len - 1]) && line[len - 1])
        line[--len] = 0;
    char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == 0 || *s == '#')
        return;
    if (strlen (line) != len)
        snprintf (why, sizeof why, "line holds a NUL byte");
    else if (len > IM_VALUE_MAX)
        snprintf (why, sizeof why, "longer than %d bytes", IM_VALUE_MAX);
    else if (lookup_value (type, s, &t, norm, why, sizeof why) == 0) {
        b->lines[b->asked % (AHEAD + 1)][b->n] = number;
        if (b->n)
            im_ctl_text_raw (&b->request, ",", 1);
        im_ctl_text_raw (&b->request, "{\"value\":", 9);
        im_ctl_text_str (&b->request, norm);
        im_ctl_text_raw (&b->request, ",\"type\":", 8);
        im_ctl_text_str (&b->request, im_type_name (t));
        im_ctl_text_raw (&b->request, "}", 1);
        if (++b->n == IM_CONTROL_LOOKUP_MAX)
            batch_flush (b);
        return;
    }
    cli_error ("lookup: line %ld: %s", number, why);
    b->bad = 1;
}

static int
lookup_stdin (im_cli_t *cli, const char *type, int json)
{
    batch_t *b = calloc (1, sizeof *b);
    if (!b || !(b->client = cli_connect (cli))) {
        free (b);
        return 3;
    }
    b->json = json;
    im_ctl_text_init (&b->request, IM_CONTROL_MSG_MAX);
    batch_open (b);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long number = 0;
    while (!b->failed && (len = getline (&line, &cap, stdin)) != -1)
        batch_line (b, type, line, (size_t)len, ++number);
    free (line);
    batch_flush (b);
    while (!b->failed && b->answered < b->asked)
        batch_answer (b);
    int rc = b->failed ? 3 : b->bad ? EXIT_USAGE : b->missing ? EXIT_NOTFOUND : 0;
    im_client_destroy (&b->client);
    im_ctl_text_free (&b->request);
    free (b);
    return rc;
}

int
cmd_lookup (im_cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh lookup [-d DIR] [--type TYPE] [--exercise NAME] [--json] "
          "VALUE|-\n"
          "Is VALUE known, from whom, under which TLP? The type is guessed when\n"
          "not given. An address also finds the CIDR prefixes that contain it.\n"
          "A revoked indicator of the value is shown as \"revoked by NAME at\n"
          "TIME\" and is not found. \"-\" reads one value a line from standard\n"
          "input and answers each in order (with --json, one object a line).\n"
          "--exercise NAME looks among the injects of exercise NAME only (never\n"
          "found otherwise), labelled EXERCISE.\n\n"
          "Exit status: 0 found (all), 1 not found (or revoked; some), 2 bad\n"
          "command line or value (some line), "
          "3 the daemon could not answer.\n",
        .shortopts = "t:",
        .options = lookup_options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 1,
        .args_error = "lookup: give one VALUE, or - (see --help)",
        .option = query_option,
        .check = lookup_check,
    };
    lookup_t l = { { NULL, NULL, NULL }, 0, "" };
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &l, &json);
    if (rc != CLI_GO_ON)
        return rc;
    cli_origin_names (cli);
    if (l.o.exercise && strcmp (argv[optind], "-") == 0) {
        cli_error ("lookup: --exercise takes one VALUE");
        return EXIT_USAGE;
    }
    if (l.o.exercise)
        return exercise_injects (cli, l.o.exercise, l.t, l.norm, json);
    if (strcmp (argv[optind], "-") == 0)
        return lookup_stdin (cli, l.o.type, json);
    json_t *body = json_pack ("{s:s, s:s}", "value", l.norm, "type", im_type_name (l.t));
    json_t *reply = cli_request (cli, IM_CTL_LOOKUP, body);
    json_decref (body);
    if (!reply)
        return 3;
    int found = print_lookup (reply, json, 0);
    json_decref (reply);
    return found ? 0 : EXIT_NOTFOUND;
}

/* --- list ---------------------------------------------------------------- */

static int
list_check (void *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    query_opts_t *o = ctx;
    uint8_t node[IM_NODE_ID_SIZE];
    if (o->type && im_type_parse (o->type) < 0) {
        cli_error ("list: --type '%s' is not an indicator type", o->type);
        return -1;
    }
    if (o->origin && im_node_parse (o->origin, node)) {
        cli_error ("list: --origin '%s' is not a node id (64 hex digits)", o->origin);
        return -1;
    }
    return 0;
}

typedef struct {
    int json;
    long total;
} list_t;

static int
list_record (json_t *r, void *arg)
{
    list_t *l = arg;
    if (l->json)
        cli_print_json (r);
    else
        print_record (r, NULL, 0);
    l->total++;
    return 0;
}

int
cmd_list (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "type", required_argument, NULL, 't' },
        { "origin", required_argument, NULL, 'o' },
        { "exercise", required_argument, NULL, 'X' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh list [-d DIR] [--type TYPE] [--origin NODE] [--json]\n"
                 "       intelmesh list [-d DIR] --exercise NAME [--json]\n"
                 "Lists stored indicators, live and revoked, one a line (with --json,\n"
                 "one JSON object a line). NODE is a node id (64 hex digits).\n"
                 "--exercise NAME lists the injects of exercise NAME instead, labelled\n"
                 "EXERCISE (never listed otherwise).\n",
        .shortopts = "t:o:",
        .options = options,
        .json = CLI_JSON,
        .option = query_option,
        .check = list_check,
    };
    query_opts_t o = { NULL, NULL, NULL };
    list_t l = { 0, 0 };
    int rc = cli_options (cli, argc, argv, &spec, &o, &l.json);
    if (rc != CLI_GO_ON)
        return rc;
    if (o.exercise) {
        rc = exercise_injects (cli, o.exercise, 0, NULL, l.json);
        return rc == 3 ? EXIT_FAIL : 0;
    }
    cli_origin_names (cli);
    im_client_t *client = cli_connect (cli);
    if (!client)
        return EXIT_FAIL;
    json_t *body = json_pack ("{s:s?, s:s?}", "type", o.type, "origin", o.origin);
    rc = cli_page (client, IM_CTL_LIST, body, list_record, &l) ? EXIT_FAIL : 0;
    json_decref (body);
    if (!l.json && rc == 0 && isatty (STDOUT_FILENO))
        printf ("%ld indicators\n", l.total);
    im_client_destroy (&client);
    return rc;
}

/* --- check --------------------------------------------------------------- */

static int
check_check (void *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    query_opts_t *o = ctx;
    if (o->type && im_type_parse (o->type) < 0) {
        cli_error ("check: --type '%s' is not an indicator type", o->type);
        return -1;
    }
    return 0;
}

/* " (the 6to4 address of 10.0.0.1, RFC 3056)" when the CHECK reply's
 * BUILTIN names the IPv4 address an IPv6 value embeds, else "". */
static const char *
embedded_form (json_t *builtin, char *buf, size_t bufsz)
{
    im_guard_hit_t hit = {
        .form = json_string_value (json_object_get (builtin, "form")),
        .form_rfc = json_string_value (json_object_get (builtin, "form_rfc")),
    };
    const char *ipv4 = json_string_value (json_object_get (builtin, "ipv4"));
    snprintf (hit.ipv4, sizeof hit.ipv4, "%s", ipv4 ? ipv4 : "");
    if (!hit.form_rfc)
        hit.form = NULL;
    return im_guard_form (&hit, buf, bufsz);
}

int
cmd_check (im_cli_t *cli, int argc, char **argv)
{
    char form[96];
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh check VALUE [-d DIR] [--type TYPE] [--json]\n"
                 "Says which of the node's warninglists (MISP's format, loaded from\n"
                 "warninglists/directory) and built-in lists (GUARDS in intelmesh(1))\n"
                 "hold VALUE. A value on a list is refused at publish and import\n"
                 "unless forced (documentation values only warn). Exit status: 0 on no "
                 "list, 1 on\n"
                 "at least one, 2 on an error (usage, a value that is not of its\n"
                 "type, no running node).\n",
        .shortopts = "t:",
        .options = type_option,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 1,
        .args_error = "check: give one VALUE (see intelmesh check --help)",
        .option = query_option,
        .check = check_check,
    };
    query_opts_t o = { NULL, NULL, NULL };
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &o, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *body = json_pack ("{s:s, s:s?}", "value", argv[optind], "type", o.type);
    json_t *reply = cli_request (cli, IM_CTL_CHECK, body);
    json_decref (body);
    /* No running node, or a value the node cannot read: 1 would say "on a
     * list". */
    if (!reply)
        return EXIT_USAGE;
    json_t *lists = json_object_get (reply, "lists");
    json_t *builtin = json_object_get (reply, "builtin");
    size_t n = json_array_size (lists);
    const char *value = json_string_value (json_object_get (reply, "value"));
    if (json)
        cli_print_json (reply);
    else if (builtin)
        printf ("%s%s is on the built-in list '%s' (%s, entry %s): %s\n", value,
                embedded_form (builtin, form, sizeof form),
                json_string_value (json_object_get (builtin, "list")),
                json_string_value (json_object_get (builtin, "rfc")),
                json_string_value (json_object_get (builtin, "entry")),
                json_is_true (json_object_get (builtin, "documentation"))
                    ? "publishing it only warns"
                    : "publishing it needs --force");
    else if (n == 0)
        printf ("%s %s is on none of the %lld warninglist(s) nor a built-in list\n",
                json_string_value (json_object_get (reply, "type")), value,
                (long long)json_integer_value (json_object_get (reply, "loaded")));
    for (size_t i = 0; !json && i < n; i++) {
        json_t *m = json_array_get (lists, i);
        printf ("%s is on the warninglist '%s' (entry %s)\n", value,
                json_string_value (json_object_get (m, "list")),
                json_string_value (json_object_get (m, "entry")));
    }
    int on = n || builtin;
    json_decref (reply);
    return on ? 1 : 0;
}
