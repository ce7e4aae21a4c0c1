/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_publish.c -- publish (one indicator, or many from standard input in
 * batches). Input is validated here with the same code the daemon
 * uses, so that mistakes are caught with a line number before anything is
 * sent; the daemon checks everything again. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "im_config.h"
#include "im_ctl.h"
#include "im_record.h"
#include "im_time.h"
#include "intelmesh.h"

#define PUBLISH_BATCH IM_CONTROL_BATCH_MAX /* one commit, one fsync, a request */
/* A request's items stay under half a request frame (IM_CONTROL_MSG_MAX):
 * 1,000 items of every field at its largest would pass it. */
#define PUBLISH_BYTES (IM_CONTROL_MSG_MAX / 2)
#define PUBLISH_AHEAD 2 /* batches sent beyond the one whose reply is awaited */
#define LINE_MAX_BYTES 65536
#define REFUSALS_SHOWN 20

/* --- publish ----------------------------------------------------------- */

typedef struct {
    json_t *defaults; /* fields given as options, applied to every indicator */
    int json;         /* print results as JSON lines */
    int progress;     /* standard error is a terminal */
    long lines;       /* input lines read */
    long accepted, created, updated, unchanged, refused;
    long revoked, skipped, also; /* "revoke": revoked, not held, more of a value */
    im_client_t *client;
    /* The request being written: each item's JSON is written into it once,
     * as the item is queued (a dump to size it and another of the whole
     * request were a quarter of the CLI's work in a bulk publish). */
    char *text;
    size_t text_len, text_cap;
    size_t queued;                 /* items in it */
    long line_of[PUBLISH_BATCH];   /* their input line numbers */
    long *sent[PUBLISH_AHEAD + 1]; /* those of each batch sent, unanswered */
    size_t nsent[PUBLISH_AHEAD + 1];
    size_t asked, answered;       /* batches sent, and replies taken */
    int failed;                   /* the daemon could not be reached or failed */
    int force, from_stdin;        /* --force (warninglisted values); '-': from stdin */
    json_t *tags, *to;            /* --tag and --to, as given */
    int replace, allow_downgrade; /* --replace (every field anew), --allow-downgrade */
    json_t *changed;              /* publish_one: what its update changed */
    const char *exercise;         /* --exercise: an inject of this exercise */
    im_record_t *rec;             /* scratch, to check each item as the daemon will */
} publish_t;

static void
refusal (publish_t *p, long line, const char *why)
{
    p->refused++;
    if (p->json) {
        json_t *o = json_pack ("{s:I, s:s}", "line", (json_int_t)line, "error", why);
        cli_print_json (o);
        json_decref (o);
    }
    if (p->refused <= REFUSALS_SHOWN) {
        if (line > 0)
            cli_error ("line %ld: refused: %s", line, why);
        else
            cli_error ("refused: %s", why);
    }
}

/* A value this node had revoked, published again: into its JSON line O, or
 * one line on standard output saying so and what it kept of the revoked
 * indicator. */
static void
republished_note (json_t *r, json_t *o)
{
    json_t *rep = json_object_get (r, "republished");
    const char *revoked = json_string_value (json_object_get (rep, "revoked"));
    const char *kept = json_string_value (json_object_get (rep, "kept"));
    if (!revoked)
        return;
    if (o)
        json_object_set (o, "republished", rep);
    else
        printf ("re-publishes revoked indicator %s, keeping %s (a revocation keeps no "
                "tags, description or confidence)\n",
                revoked, kept && *kept ? kept : "nothing of it");
}

/* An accepted item's changes: into its JSON line O, or, when it lowered the
 * protection (allowed), one line a change on standard output. */
static void
report_changes (publish_t *p, json_t *r, json_t *o)
{
    json_t *changed = json_object_get (r, "changed");
    const char *down = json_string_value (json_object_get (r, "downgraded"));
    if (o && changed)
        json_object_set (o, "changed", changed);
    if (o && down)
        json_object_set (o, "downgraded", json_object_get (r, "downgraded"));
    republished_note (r, o);
    json_t *also = json_object_get (r, "also_revoked"); /* of the same value */
    p->also += (long)json_array_size (also);
    for (size_t i = 0; !o && i < json_array_size (also); i++)
        printf ("also revokes %s\n", json_string_value (json_array_get (also, i)));
    if (o && also)
        json_object_set (o, "also_revoked", also);
    if (changed && !p->from_stdin) {
        json_decref (p->changed);
        p->changed = json_incref (changed);
    }
    while (!o && down && *down) {
        size_t n = strcspn (down, ",");
        printf ("%.*s\n", (int)n, down);
        down += n;
        down += strspn (down, ", ");
    }
}

/* The daemon's warning for an accepted item (a documentation value), on
 * standard error like refusals. */
static void
publish_warning (publish_t *p, long line, json_t *result)
{
    const char *warning = json_string_value (json_object_get (result, "warning"));
    if (!warning || p->accepted > REFUSALS_SHOWN)
        return;
    if (line > 0)
        fprintf (stderr, "intelmesh: publish: line %ld: warning: %s\n", line, warning);
    else
        fprintf (stderr, "intelmesh: publish: warning: %s\n", warning);
}

/* Takes the reply to the oldest batch on its way and reports on each of its
 * items. */
static int
take_reply (publish_t *p)
{
    char err[1024];
    size_t slot = p->answered++ % (PUBLISH_AHEAD + 1);
    const long *lines_of = p->sent[slot];
    json_t *reply
        = p->failed ? NULL
                    : im_client_recv (p->client, IM_CONTROL_TIMEOUT_MS, err, sizeof err);
    if (!reply) {
        if (!p->failed)
            cli_error ("%s", err);
        p->failed = 1;
        return -1;
    }
    json_t *results = json_object_get (reply, "results");
    for (size_t i = 0; i < p->nsent[slot]; i++) {
        json_t *r = json_array_get (results, i);
        long line = lines_of[i];
        /* "compact": a plain new indicator's result is its id alone. */
        const char *id = json_is_string (r)
                             ? json_string_value (r)
                             : json_string_value (json_object_get (r, "id"));
        const char *status = json_is_string (r)
                                 ? "new"
                                 : json_string_value (json_object_get (r, "status"));
        if (status && strcmp (status, "skipped") == 0) {
            /* "revoke" of what this node does not hold: nothing to do. */
            const char *reason = json_string_value (json_object_get (r, "reason"));
            if (++p->skipped <= REFUSALS_SHOWN)
                cli_error ("line %ld: nothing to revoke: %s", line, reason ? reason : "");
            json_t *o
                = p->json ? json_pack ("{s:I, s:s?, s:s, s:s?}", "line", (json_int_t)line,
                                       "id", id, "status", status, "reason", reason)
                          : NULL;
            if (o)
                cli_print_json (o);
            json_decref (o);
            continue;
        }
        if (!id || !status) {
            const char *why = json_string_value (json_object_get (r, "error"));
            refusal (p, line, why ? why : "refused by intelmeshd");
            continue;
        }
        p->accepted++;
        publish_warning (p, line, r);
        if (strcmp (status, "new") == 0)
            p->created++;
        else if (strcmp (status, "revoked") == 0)
            p->revoked++;
        else if (strcmp (status, "updated") == 0)
            p->updated++;
        else
            p->unchanged++;
        if (p->json) {
            json_t *o = json_pack ("{s:I, s:s, s:s}", "line", (json_int_t)line, "id", id,
                                   "status", status);
            report_changes (p, r, o);
            cli_print_json (o);
            json_decref (o);
        }
        else {
            printf ("%s\n", id);
            report_changes (p, r, NULL);
        }
    }
    /* Acknowledged ids reach standard output as soon as they are stored. */
    fflush (stdout);
    json_decref (reply);
    if (p->progress)
        fprintf (stderr, "\r%ld lines read, %ld published, %ld refused", p->lines,
                 p->accepted, p->refused);
    return 0;
}

#define TEXT_HEAD "{\"items\":["
#define TEXT_TAIL_MAX 96 /* what flush_batch writes after the items */

/* Makes room for N more bytes of the request's text (and its tail). */
static int
text_room (publish_t *p, size_t n)
{
    size_t want = p->text_len + n + TEXT_TAIL_MAX;
    if (want <= p->text_cap)
        return 0;
    size_t cap = p->text_cap ? p->text_cap : PUBLISH_BYTES / 4;
    while (cap < want)
        cap *= 2;
    char *text = realloc (p->text, cap);
    if (!text)
        return -1;
    p->text = text;
    p->text_cap = cap;
    return 0;
}

/* Writes ITEM's JSON at AT in the request's text. Returns its length, or 0
 * when it cannot be written. */
static size_t
text_item (publish_t *p, const json_t *item, size_t at)
{
    p->text_len = at;
    if (text_room (p, 256))
        return 0;
    size_t room = p->text_cap - at - TEXT_TAIL_MAX;
    size_t n = json_dumpb (item, p->text + at, room, JSON_COMPACT);
    if (n > room) { /* too long for the room left: written again */
        if (text_room (p, n))
            return 0;
        n = json_dumpb (item, p->text + at, n, JSON_COMPACT);
    }
    return n;
}

/* Sends the batch queued, keeping at most PUBLISH_AHEAD more on their way
 * than the one whose reply is awaited, so that the daemon stores one batch
 * while this side reads and checks the next (the daemon answers in order). */
static int
flush_batch (publish_t *p)
{
    char err[1024];
    if (p->queued == 0 || p->failed)
        return p->failed ? -1 : 0;
    /* A plain new indicator's result is its id alone ("compact"). */
    int n = snprintf (p->text + p->text_len, TEXT_TAIL_MAX,
                      "],\"force\":%s,\"merge\":%s,\"allow_downgrade\":%s,"
                      "\"compact\":true}",
                      p->force ? "true" : "false", p->replace ? "false" : "true",
                      p->allow_downgrade ? "true" : "false");
    if (im_client_send (p->client, IM_CTL_PUBLISH, p->text, p->text_len + (size_t)n, err,
                        sizeof err)) {
        cli_error ("%s", err);
        p->failed = 1;
        return -1;
    }
    size_t slot = p->asked++ % (PUBLISH_AHEAD + 1);
    memcpy (p->sent[slot], p->line_of, p->queued * sizeof p->line_of[0]);
    p->nsent[slot] = p->queued;
    p->queued = 0;
    p->text_len = strlen (TEXT_HEAD);
    while (p->asked - p->answered > PUBLISH_AHEAD)
        if (take_reply (p))
            return -1;
    return 0;
}

/* Adds ITEM, from input line LINE, to the request being written; sends the
 * request first when the item would take it over PUBLISH_BYTES, and after
 * it when it is full. */
static int
batch_add (publish_t *p, const json_t *item, long line)
{
    size_t at = p->text_len + (p->queued ? 1 : 0);
    size_t n = text_item (p, item, at);
    if (n == 0) {
        refusal (p, line, "out of memory");
        return -1;
    }
    if (p->queued && at + n > PUBLISH_BYTES) {
        /* It goes into the next request: the one before is sent without it. */
        char *copy = malloc (n);
        if (!copy) {
            refusal (p, line, "out of memory");
            return -1;
        }
        memcpy (copy, p->text + at, n);
        p->text_len = at - 1;
        int rc = flush_batch (p);
        if (rc == 0)
            memcpy (p->text + p->text_len, copy, n);
        free (copy);
        if (rc)
            return -1;
        at = p->text_len;
    }
    else if (p->queued)
        p->text[at - 1] = ',';
    p->text_len = at + n;
    p->line_of[p->queued++] = line;
    return p->queued >= PUBLISH_BATCH ? flush_batch (p) : 0;
}

/* The request's text and the line numbers of the batches on their way. */
static int
publish_start (publish_t *p)
{
    for (size_t i = 0; i <= PUBLISH_AHEAD; i++)
        if (!(p->sent[i] = malloc (PUBLISH_BATCH * sizeof *p->sent[i]))) {
            cli_error ("publish: out of memory");
            return -1;
        }
    if (text_room (p, strlen (TEXT_HEAD))) {
        cli_error ("publish: out of memory");
        return -1;
    }
    memcpy (p->text, TEXT_HEAD, strlen (TEXT_HEAD));
    p->text_len = strlen (TEXT_HEAD);
    return 0;
}

/* Sends what is queued and waits for every reply. */
static int
publish_drain (publish_t *p)
{
    int rc = flush_batch (p);
    while (p->answered < p->asked)
        if (take_reply (p))
            rc = -1;
    return rc;
}

/* Validates ITEM (after applying the defaults) and queues it. */
static int
queue_item (publish_t *p, json_t *item, long line)
{
    const char *key;
    json_t *v;
    json_object_foreach (p->defaults, key, v)
    {
        if (!json_object_get (item, key))
            json_object_set (item, key, v);
    }
    /* One record for every item: a malloc and free of 24 KiB each was a
     * tenth of a bulk publish here. */
    char why[512];
    if (!p->rec && !(p->rec = malloc (sizeof *p->rec))) {
        refusal (p, line, "out of memory");
        return -1;
    }
    /* Split as the node splits it: its own keys (an importer's id, revoke,
     * force, source) checked, the rest checked as a record. */
    im_ctl_item_t own;
    json_t *content = im_ctl_item_split (item, &own, why, sizeof why);
    im_record_init (p->rec);
    int rc = !content
             || im_record_from_json (p->rec, content, im_time_now (), why, sizeof why);
    json_decref (content);
    if (rc) {
        refusal (p, line, why);
        return 0;
    }
    return batch_add (p, item, line);
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
    if (strlen (s) != (size_t)(len - (size_t)(s - line))) {
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

/* Options: the fields they give go to P's defaults. */
static int
publish_option (void *ctx, int opt, const char *arg)
{
    publish_t *p = ctx;
    long n;
    switch (opt) {
    case 't': json_object_set_new (p->defaults, "tlp", json_string (arg)); break;
    case 'g':
        if (json_array_append_new (p->tags, json_string (arg))) {
            cli_error ("publish: --tag '%s' is not UTF-8 text", arg);
            return -1;
        }
        break;
    case 'c':
        if (cli_number ("--confidence", arg, 0, 100, &n))
            return -1;
        json_object_set_new (p->defaults, "confidence", json_integer (n));
        break;
    case 'F': json_object_set_new (p->defaults, "valid_from", json_string (arg)); break;
    case 'U': json_object_set_new (p->defaults, "valid_until", json_string (arg)); break;
    case 'r':
        if (strcmp (arg, "unlimited") == 0)
            json_object_set_new (p->defaults, "reach", json_string ("unlimited"));
        else if (cli_number ("--reach", arg, 0, IM_REACH_UNLIMITED - 1, &n))
            return -1;
        else
            json_object_set_new (p->defaults, "reach", json_integer (n));
        break;
    case 'D':
        if (json_object_set_new (p->defaults, "description", json_string (arg))) {
            cli_error ("publish: --description is not UTF-8 text");
            return -1;
        }
        break;
    case 'T': json_array_append_new (p->to, json_string (arg)); break;
    case 'X': p->exercise = arg; break;
    case 'f': p->force = 1; break;
    case 'R': p->replace = 1; break;
    case 'A': p->allow_downgrade = 1; break;
    case 'N': json_object_set_new (p->defaults, "detect", json_false ()); break;
    case 'Y': json_object_set_new (p->defaults, "detect", json_true ()); break;
    }
    return 0;
}

/* --valid-until must be later than --valid-from, or than now when that is
 * not given: a bad command line. */
static int
publish_window (publish_t *p)
{
    int64_t now = im_time_now (), from = now, until;
    char a[IM_TIME_STR_SIZE], b[IM_TIME_STR_SIZE];
    const char *u = json_string_value (json_object_get (p->defaults, "valid_until"));
    const char *f = json_string_value (json_object_get (p->defaults, "valid_from"));
    if (!u || im_time_parse (u, now, &until) || (f && im_time_parse (f, now, &from))
        || until > from)
        return 0;
    cli_error ("publish: --valid-until %s is not later than valid_from %s%s: the "
               "indicator would never be valid",
               im_time_format (until, a), im_time_format (from, b),
               f ? "" : " (now: --valid-from not given)");
    return -1;
}

/* The arguments, and the options, are checked before the daemon is asked
 * anything. */
static int
publish_check (void *ctx, int argc, char **argv)
{
    publish_t *p = ctx;
    if (json_array_size (p->tags))
        json_object_set (p->defaults, "tags", p->tags);
    p->from_stdin = argc == 1 && strcmp (argv[0], "-") == 0;
    if (!p->from_stdin && argc != 2) {
        cli_error ("publish: want TYPE VALUE, or '-' to read from standard input "
                   "(see --help)");
        return -1;
    }
    if (json_object_get (p->defaults, "tlp")
        && im_tlp_parse (json_string_value (json_object_get (p->defaults, "tlp"))) < 0) {
        cli_error (
            "publish: --tlp '%s' is not one of clear, green, amber, amber+strict, red",
            json_string_value (json_object_get (p->defaults, "tlp")));
        return -1;
    }
    int64_t t;
    const char *time_opts[][2]
        = { { "valid_from", "--valid-from" }, { "valid_until", "--valid-until" } };
    for (int i = 0; i < 2; i++) {
        const char *text
            = json_string_value (json_object_get (p->defaults, time_opts[i][0]));
        if (text && im_time_parse (text, im_time_now (), &t)) {
            cli_error (
                "publish: %s '%s' is not a time (2026-12-31T00:00:00Z, 2026-12-31, "
                "or a duration like 30d)",
                time_opts[i][1], text);
            return -1;
        }
    }
    return publish_window (p);
}

/* Recipients by peer name (from the trust list) or node id, into P's
 * defaults. */
static int
publish_recipients (im_cli_t *cli, publish_t *p)
{
    im_config_t *cfg = cli_config (cli, "publish");
    if (!cfg)
        return -1;
    json_t *recipients = json_array ();
    for (size_t i = 0; i < json_array_size (p->to); i++) {
        const char *name = json_string_value (json_array_get (p->to, i));
        const im_peer_conf_t *peer = name ? im_config_peer (cfg, name) : NULL;
        const im_taxii_client_t *client
            = name ? im_config_taxii_client (cfg, name) : NULL;
        uint8_t node[IM_NODE_ID_SIZE];
        char hex[IM_NODE_HEX_SIZE];
        if (peer)
            im_node_format (peer->card.node, hex);
        else if (client)
            im_node_format (client->id, hex);
        else if (name && im_node_parse (name, node) == 0)
            im_node_format (node, hex);
        else {
            cli_error ("publish: --to '%s' is neither a peer on the trust list, a "
                       "TAXII client nor a node id (64 hex digits)",
                       name ? name : "?");
            json_decref (recipients);
            free (cfg);
            return -1;
        }
        json_array_append_new (recipients, json_string (hex));
    }
    free (cfg);
    json_object_set_new (p->defaults, "recipients", recipients);
    return 0;
}

/* What an update changed, on standard error: "updated it (tlp, tags)". */
static void
updated_note (const publish_t *p)
{
    char fields[256] = "";
    const char *key;
    json_t *v;
    json_object_foreach (p->changed, key, v)
    {
        size_t len = strlen (fields);
        snprintf (fields + len, sizeof fields - len, "%s%s", len ? ", " : "", key);
    }
    fprintf (stderr,
             "intelmesh: publish: this node had published that value already: updated "
             "it%s%s%s\n",
             *fields ? " (" : "", fields, *fields ? ")" : "");
}

/* One indicator: validate before connecting, so that a typo is reported as
 * such even when the daemon is down. Returns the exit status. */
static int
publish_one (im_cli_t *cli, publish_t *p, const char *type, const char *value)
{
    if (type && im_type_parse (type) < 0) {
        cli_error (
            "publish: '%s' is not an indicator type (see intelmesh publish --help)",
            type);
        return EXIT_USAGE;
    }
    json_t *item = json_pack ("{s:s?, s:s?}", "type", type, "value", value);
    if (!item) {
        cli_error ("publish: TYPE and VALUE must be UTF-8 text");
        return EXIT_FAIL;
    }
    const char *key;
    json_t *v;
    json_object_foreach (p->defaults, key, v) json_object_set (item, key, v);
    im_record_t *rec = malloc (sizeof *rec);
    char why[512];
    im_record_init (rec);
    int bad = im_record_from_json (rec, item, im_time_now (), why, sizeof why);
    free (rec);
    if (bad) {
        cli_error ("publish: %s", why);
        json_decref (item);
        return EXIT_FAIL;
    }
    p->client = cli_connect (cli);
    if (!p->client) {
        json_decref (item);
        return EXIT_FAIL;
    }
    int rc = batch_add (p, item, 0);
    json_decref (item);
    if (rc || publish_drain (p) != 0 || p->refused != 0)
        return EXIT_FAIL;
    if (p->updated)
        updated_note (p);
    else if (p->unchanged)
        fprintf (stderr, "intelmesh: publish: already published with the same content: "
                         "nothing changed\n");
    return 0;
}

/* `publish -`: reads, validates and sends in batches, then sums up on
 * standard error. Returns the exit status. */
static int
publish_stdin (im_cli_t *cli, publish_t *p)
{
    p->client = cli_connect (cli);
    if (!p->client)
        return EXIT_FAIL;
    p->progress = isatty (STDERR_FILENO);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (!p->failed && (len = getline (&line, &cap, stdin)) != -1) {
        p->lines++;
        if (len > LINE_MAX_BYTES)
            refusal (p, p->lines, "line longer than 64 KiB");
        else
            publish_line (p, line, (size_t)len, p->lines);
    }
    free (line);
    publish_drain (p);
    if (p->progress)
        fprintf (stderr, "\r\033[K");
    if (p->refused > REFUSALS_SHOWN)
        cli_error ("... and %ld more refusals", p->refused - REFUSALS_SHOWN);
    /* Said only when the input asked to revoke anything. */
    char revokes[80] = "", not_held[64] = "";
    if (p->revoked || p->skipped)
        snprintf (revokes, sizeof revokes, ", %ld revoked", p->revoked);
    if (p->also) /* the others of a value revoked by value */
        snprintf (revokes, sizeof revokes, ", %ld revoked and %ld more of the same value",
                  p->revoked, p->also);
    if (p->skipped)
        snprintf (not_held, sizeof not_held, ", %ld not held (nothing to revoke)",
                  p->skipped);
    fprintf (stderr,
             "intelmesh: publish: %ld lines read: %ld published (%ld new, %ld updated, "
             "%ld unchanged%s)%s, "
             "%ld refused%s\n",
             p->lines, p->accepted, p->created, p->updated, p->unchanged, revokes,
             not_held, p->refused,
             p->failed
                 ? "; stopped early: the daemon failed (what was acknowledged is stored)"
                 : "");
    return p->failed || p->refused ? EXIT_FAIL : 0;
}

int
cmd_publish (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "tlp", required_argument, NULL, 't' },
        { "tag", required_argument, NULL, 'g' },
        { "confidence", required_argument, NULL, 'c' },
        { "valid-from", required_argument, NULL, 'F' },
        { "valid-until", required_argument, NULL, 'U' },
        { "reach", required_argument, NULL, 'r' },
        { "description", required_argument, NULL, 'D' },
        { "to", required_argument, NULL, 'T' },
        { "force", no_argument, NULL, 'f' },
        { "replace", no_argument, NULL, 'R' },
        { "allow-downgrade", no_argument, NULL, 'A' },
        { "no-detect", no_argument, NULL, 'N' },
        { "detect", no_argument, NULL, 'Y' },
        { "exercise", required_argument, NULL, 'X' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh publish [OPTIONS] TYPE VALUE\n"
          "       intelmesh publish [OPTIONS] -\n"
          "Signs and publishes an indicator and prints its id. Publishing a value this\n"
          "node already published updates that indicator: the fields not given keep\n"
          "their values (--replace: every field not given takes its default). An\n"
          "update that lowers the TLP label, widens the reach, turns detection off or\n"
          "drops a recipient is refused unless --allow-downgrade is given; then each "
          "such change is\n"
          "printed after the id (\"tlp: RED -> GREEN\"). With '-', reads one indicator a "
          "line from standard input, either\n"
          "'TYPE VALUE' or a JSON object ({\"type\":..., \"value\":..., \"tlp\":...}),\n"
          "publishes them in batches and prints each accepted id; refusals go to\n"
          "standard error with their line number. The options apply to every line\n"
          "that does not set the field itself. A JSON line may also hold \"id\" (a\n"
          "UUID of yours: the same id updates), \"revoke\", \"force\" and \"source\".\n\n"
          "Types: ipv4 ipv6 domain url email md5 sha1 sha256 sha512 filename asn\n\n"
          "  --tlp LABEL          clear, green (default), amber, amber+strict or red\n"
          "  --tag TAG            a tag (repeat for more)\n"
          "  --confidence N       0 to 100 (default 50)\n"
          "  --valid-from TIME    RFC 3339 time, date, or duration from now (30d)\n"
          "  --valid-until TIME   likewise\n"
          "  --reach N            links it may cross from this node: 0 local only,\n"
          "                       1 direct peers, ... or 'unlimited' (default)\n"
          "  --description TEXT   free text\n"
          "  --to PEER            a named recipient: a peer's name, a TAXII client's\n"
          "                       name or a node id (repeat for more). Only named\n"
          "                       nodes and clients may hold the indicator;\n"
          "                       TLP:RED goes only to them, TLP:AMBER to them even "
          "when\n"
          "                       their policy's max-tlp is lower\n"
          "  --force              publish values on one of the node's warninglists\n"
          "                       or built-in lists, and prefixes broader than /8\n"
          "                       or /16 (kept on this node: partners refuse them;\n"
          "                       GUARDS in intelmesh(1)); the node logs each use\n"
          "  --no-detect          not meant for automatic detection (MISP to_ids\n"
          "                       false): kept, shown and shared, left out of IDS use\n"
          "  --detect             meant for automatic detection (the default)\n"
          "  --exercise NAME      an inject of exercise NAME, which this node hosts,\n"
          "                       to its participants (--to: some of them): kept\n"
          "                       apart from real indicators, labelled EXERCISE\n"
          "  --replace            an update replaces the whole record: fields not\n"
          "                       given take their defaults\n"
          "  --allow-downgrade    an update may lower the TLP label, widen the reach,\n"
          "                       turn detection off or drop recipients\n"
          "  --json               print results as JSON lines\n"
          "  -d, --dir DIR        the node's data directory\n\n"
          "Exit status: 0 when everything was published, 1 when anything was refused\n"
          "or the daemon could not be reached, 2 for a bad command line.\n",
        .options = options,
        .json = CLI_JSON,
        .max_args = INT_MAX,
        .option = publish_option,
        .check = publish_check,
    };
    publish_t p = { 0 };
    p.defaults = json_object ();
    p.tags = json_array ();
    p.to = json_array ();
    int rc = cli_options (cli, argc, argv, &spec, &p, &p.json);
    if (rc == CLI_GO_ON && json_array_size (p.to) && publish_recipients (cli, &p))
        rc = EXIT_USAGE;
    if (rc == CLI_GO_ON && p.exercise) {
        if (p.from_stdin) {
            cli_error ("publish: --exercise takes one TYPE VALUE (a scenario file: "
                       "intelmesh exercise run)");
            rc = EXIT_USAGE;
        }
        else {
            json_t *item = json_pack ("{s:s, s:s}", "type", argv[optind], "value",
                                      argv[optind + 1]);
            const char *key;
            json_t *v;
            json_object_foreach (p.defaults, key, v) json_object_set (item, key, v);
            rc = cli_exercise_inject (cli, p.exercise, item, NULL, p.json);
            json_decref (item);
        }
    }
    else if (rc == CLI_GO_ON) {
        rc = publish_start (&p) ? EXIT_FAIL
             : p.from_stdin     ? publish_stdin (cli, &p)
                                : publish_one (cli, &p, argv[optind], argv[optind + 1]);
    }
    im_client_destroy (&p.client);
    free (p.text);
    for (size_t i = 0; i <= PUBLISH_AHEAD; i++)
        free (p.sent[i]);
    json_decref (p.defaults);
    json_decref (p.tags);
    json_decref (p.to);
    json_decref (p.changed);
    free (p.rec);
    return rc;
}
