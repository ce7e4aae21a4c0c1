/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_import.c -- `intelmesh import`: STIX 2.1, MISP event JSON and feeds, and
 * CSV read through im_import, then signed and stored by the node in PUBLISH
 * batches over the control socket; prints the counts by reason. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "im_ctl.h"
#include "im_import.h"
#include "im_record.h"
#include "intelmesh.h"

/* Refusals shown one a line on standard error; --json lists up to this. */
#define SHOWN_REFUSALS 10
#define LISTED_REFUSALS 1000
/* Bytes of items in one PUBLISH: half the control socket's limit. */
#define BATCH_BYTES_MAX (IM_CONTROL_MSG_MAX / 2)

/* Adds N to COUNTS[REASON]. */
static void
count_add (json_t *counts, const char *reason, json_int_t n)
{
    json_t *v = json_object_get (counts, reason);
    json_object_set_new (counts, reason, json_integer (json_integer_value (v) + n));
}

static json_int_t
count_total (json_t *counts)
{
    const char *key;
    json_t *v;
    json_int_t n = 0;
    json_object_foreach (counts, key, v) n += json_integer_value (v);
    return n;
}

/* "12: 8 not an indicator (identity), 4 pattern not mappable" */
static void
print_counts (const char *what, json_t *counts)
{
    const char *key;
    json_t *v;
    int first = 1;
    printf ("%-9s %lld", what, (long long)count_total (counts));
    json_object_foreach (counts, key, v)
    {
        printf ("%s %lld %s", first ? ":" : ",", (long long)json_integer_value (v), key);
        first = 0;
    }
    printf ("\n");
}

typedef struct {
    json_int_t imported, updated, revoked, unchanged, warned;
    json_t *reports; /* "new", "updated", "unchanged", "read" (dry run) */
    json_t *members; /* "added", "unchanged" */
    json_t *context; /* context objects taken into reports, by kind */
    json_t *skipped, *refused, *notes, *refusals; /* reason -> count; messages */
    json_t *failures;                             /* files not read */
} tally_t;

static void
refusal (tally_t *t, const char *source, const char *why)
{
    char line[1024];
    snprintf (line, sizeof line, "%s: %s", source ? source : "?", why);
    if (json_array_size (t->refusals) < LISTED_REFUSALS)
        json_array_append_new (t->refusals, json_string (line));
    if (json_array_size (t->refusals) <= SHOWN_REFUSALS)
        cli_error ("import: refused %s", line);
}

typedef struct {
    int format, tlp, dry_run, force, allow_downgrade, json;
} import_opts_t;

/* Sends ITEMS[FROM, TO) in one PUBLISH and counts the results. */
static int
send_batch (im_client_t *client, json_t *items, size_t from, size_t to,
            const import_opts_t *o, tally_t *t)
{
    json_t *batch = json_array ();
    for (size_t i = from; i < to; i++)
        json_array_append (batch, json_array_get (items, i));
    json_t *body
        = json_pack ("{s:o, s:b, s:b, s:b, s:b}", "items", batch, "force", o->force,
                     "dry_run", o->dry_run, "allow_downgrade", o->allow_downgrade,
                     "merge", 1); /* an update changes only what the file gives */
    json_t *reply = cli_call (client, IM_CTL_PUBLISH, body);
    json_decref (body);
    if (!reply)
        return -1;
    json_t *results = json_object_get (reply, "results");
    for (size_t i = 0; i < json_array_size (results) && from + i < to; i++) {
        json_t *r = json_array_get (results, i);
        const char *status = json_string_value (json_object_get (r, "status"));
        const char *reason = json_string_value (json_object_get (r, "reason"));
        const char *source = json_string_value (
            json_object_get (json_array_get (items, from + i), "source"));
        if (!status) {
            const char *why = json_string_value (json_object_get (r, "error"));
            count_add (t->refused, reason ? reason : "refused by the node", 1);
            refusal (t, source, why ? why : "refused");
            continue;
        }
        /* A forced broad prefix, a documentation value: said, as publish does. */
        const char *warning = json_string_value (json_object_get (r, "warning"));
        if (warning && ++t->warned <= SHOWN_REFUSALS)
            cli_error ("import: warning: %s: %s", source ? source : "?", warning);
        if (strcmp (status, "new") == 0)
            t->imported++;
        else if (strcmp (status, "updated") == 0)
            t->updated++;
        else if (strcmp (status, "revoked") == 0) /* with the value's others */
            t->revoked
                += 1 + (json_int_t)json_array_size (json_object_get (r, "also_revoked"));
        else if (strcmp (status, "unchanged") == 0)
            t->unchanged++;
        else
            count_add (t->skipped, reason ? reason : status, 1);
    }
    json_decref (reply);
    return 0;
}

static int
import_option (void *ctx, int opt, const char *arg)
{
    import_opts_t *o = ctx;
    switch (opt) {
    case 'f':
        if ((o->format = im_format_parse (arg)) < 0) {
            cli_error ("import: --format '%s' is not stix, misp or csv", arg);
            return -1;
        }
        break;
    case 't':
        if ((o->tlp = im_tlp_parse (arg)) < 0) {
            cli_error ("import: --tlp '%s' is not clear, green, amber, amber+strict "
                       "or red",
                       arg);
            return -1;
        }
        break;
    case 'n': o->dry_run = 1; break;
    case 'F': o->force = 1; break;
    case 'D': o->allow_downgrade = 1; break;
    }
    return 0;
}

/* Adds the members MEMBERS (item ids) to report ID, in batches. */
static void
report_members (im_client_t *client, const char *id, json_t *members, tally_t *t)
{
    size_t n = json_array_size (members);
    for (size_t from = 0; from < n; from += IM_CONTROL_BATCH_MAX) {
        json_t *ids = json_array ();
        for (size_t i = from; i < n && i < from + IM_CONTROL_BATCH_MAX; i++)
            json_array_append (ids, json_array_get (members, i));
        json_t *body
            = json_pack ("{s:s, s:s, s:o}", "action", "add", "id", id, "indicators", ids);
        json_t *reply = body ? cli_call (client, IM_CTL_REPORT, body) : NULL;
        json_t *results = json_object_get (reply, "results");
        for (size_t i = 0; i < json_array_size (results); i++) {
            json_t *r = json_array_get (results, i);
            const char *status = json_string_value (json_object_get (r, "status"));
            if (status)
                count_add (t->members, status, 1);
            else
                count_add (t->skipped, "member not held (not stored)", 1);
        }
        json_decref (body);
        json_decref (reply);
    }
}

/* Makes the reports read (REPORT create with the source's uuid: a report
 * imported again is updated) and adds the members the node now holds. */
static int
import_reports (im_cli_t *cli, json_t *reports, const import_opts_t *o, tally_t *t)
{
    size_t n = json_array_size (reports);
    if (o->dry_run) {
        count_add (t->reports, "read", (json_int_t)n);
        return 0;
    }
    im_client_t *client = n ? cli_connect (cli) : NULL;
    if (n && !client)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get (reports, i);
        json_t *body = json_pack ("{s:s, s:O}", "action", "create", "report",
                                  json_object_get (r, "report"));
        json_t *reply = body ? cli_call (client, IM_CTL_REPORT, body) : NULL;
        const char *id = json_string_value (json_object_get (reply, "id"));
        const char *status = json_string_value (json_object_get (reply, "status"));
        json_decref (body);
        if (!id || !status) {
            count_add (t->refused, "report refused by the node", 1);
            refusal (t, json_string_value (json_object_get (r, "source")),
                     "report refused by the node");
        }
        else {
            count_add (t->reports, strcmp (status, "created") ? status : "new", 1);
            report_members (client, id, json_object_get (r, "members"), t);
        }
        json_decref (reply);
    }
    im_client_destroy (&client);
    return 0;
}

/* Reads the files into IMP, and what it skipped, refused and noted into T. */
static void
import_read (im_import_t *imp, int nfiles, char **files, int format, tally_t *t)
{
    for (int i = 0; i < nfiles; i++) {
        char err[1024];
        if (im_import_file (imp, files[i], format, err, sizeof err)) {
            cli_error ("import: %s", err);
            json_array_append_new (t->failures, json_string (err));
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach (im_import_skipped (imp), key, v)
        count_add (t->skipped, key, json_integer_value (v));
    json_object_foreach (im_import_refused (imp), key, v)
        count_add (t->refused, key, json_integer_value (v));
    json_object_foreach (im_import_notes (imp), key, v)
        count_add (t->notes, key, json_integer_value (v));
    json_object_foreach (im_import_context (imp), key, v)
        count_add (t->context, key, json_integer_value (v));
    json_t *messages = im_import_messages (imp);
    for (size_t i = 0; i < json_array_size (messages); i++) {
        const char *m = json_string_value (json_array_get (messages, i));
        if (json_array_size (t->refusals) < LISTED_REFUSALS)
            json_array_append_new (t->refusals, json_string (m));
        if (json_array_size (t->refusals) <= SHOWN_REFUSALS)
            cli_error ("import: refused %s", m);
    }
}

/* Sends ITEMS in batches, with progress on a terminal. Returns 0, or -1 when
 * the node could not be reached or failed. */
static int
import_send (im_cli_t *cli, json_t *items, const import_opts_t *o, tally_t *t)
{
    size_t n = json_array_size (items);
    im_client_t *client = n ? cli_connect (cli) : NULL;
    int rc = n && !client ? -1 : 0;
    int progress = isatty (STDERR_FILENO) && !o->json && n > IM_CONTROL_BATCH_MAX;
    for (size_t from = 0, to; client && from < n; from = to) {
        /* At most IM_CONTROL_BATCH_MAX items, and well within the control
         * socket's message limit however long their values are. */
        size_t bytes = 0;
        for (to = from; to < n && to - from < IM_CONTROL_BATCH_MAX; to++) {
            size_t size = json_dumpb (json_array_get (items, to), NULL, 0, JSON_COMPACT);
            if (to > from && bytes + size > BATCH_BYTES_MAX)
                break;
            bytes += size + 1;
        }
        if (send_batch (client, items, from, to, o, t)) {
            rc = -1;
            cli_error ("import: stopped after %zu of %zu indicators", from, n);
            break;
        }
        if (progress)
            fprintf (stderr, "\rimporting: %zu of %zu indicators (%.0f%%)", to, n,
                     100.0 * (double)to / (double)n);
    }
    if (progress)
        fprintf (stderr, "\n");
    im_client_destroy (&client);
    return rc;
}

static void
import_summary (const import_opts_t *o, size_t n, tally_t *t)
{
    json_int_t refused = count_total (t->refused);
    size_t failed_files = json_array_size (t->failures);
    if (o->json) {
        json_t *obj = json_pack (
            "{s:b, s:I, s:I, s:I, s:I, s:I, s:O, s:I, s:O, s:O, s:O, s:O}", "dry_run",
            o->dry_run, "items", (json_int_t)n, "imported", t->imported, "updated",
            t->updated, "revoked", t->revoked, "unchanged", t->unchanged, "skipped",
            t->skipped, "refused_total", refused, "refused", t->refused, "notes",
            t->notes, "refusals", t->refusals, "failed_files", t->failures);
        json_object_set (obj, "reports", t->reports);
        json_object_set (obj, "context", t->context);
        json_object_set (obj, "members", t->members);
        cli_print_json (obj);
        json_decref (obj);
        return;
    }
    if (o->dry_run)
        printf ("dry run: nothing was stored; this is what an import would do\n");
    printf ("imported  %lld\nupdated   %lld\nrevoked   %lld\nunchanged %lld\n",
            (long long)t->imported, (long long)t->updated, (long long)t->revoked,
            (long long)t->unchanged);
    if (json_object_size (t->reports) || json_object_size (t->context)) {
        print_counts ("reports", t->reports);
        print_counts ("members", t->members);
        print_counts ("context", t->context);
    }
    print_counts ("skipped", t->skipped);
    print_counts ("refused", t->refused);
    if (json_object_size (t->notes))
        print_counts ("notes", t->notes);
    if (json_array_size (t->refusals) > SHOWN_REFUSALS)
        printf ("(%zu refusals shown of %lld; --json lists up to %d)\n",
                (size_t)SHOWN_REFUSALS, (long long)refused, LISTED_REFUSALS);
    if (failed_files)
        printf ("%d file(s) not read: nothing was taken from them\n", (int)failed_files);
}

int
cmd_import (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "format", required_argument, NULL, 'f' },
        { "tlp", required_argument, NULL, 't' },
        { "dry-run", no_argument, NULL, 'n' },
        { "force", no_argument, NULL, 'F' },
        { "allow-downgrade", no_argument, NULL, 'D' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh import FILE... [-d DIR] [--format stix|misp|csv]\n"
          "                        [--tlp LABEL] [--dry-run] [--force]\n"
          "                        [--allow-downgrade] [--json]\n"
          "Signs and stores the indicators of STIX 2.1 bundles, MISP event JSON\n"
          "(also {\"response\": [...]} exports and feed directories holding\n"
          "manifest.json) and CSV files with a header naming at least type and\n"
          "value. The format is guessed from the content when not given.\n"
          "  --tlp LABEL  records without a label get LABEL; none is loosened below it\n"
          "  --dry-run    check everything, store nothing\n"
          "  --force      store values that are on a warninglist or a built-in\n"
          "               list, and prefixes broader than /8 or /16 (GUARDS in\n"
          "               intelmesh(1)); logged by the node\n"
          "  --allow-downgrade  an update may lower the TLP label, widen the reach\n"
          "               or drop recipients (refused and counted otherwise)\n"
          "Importing a file again updates what changed (STIX ids and MISP uuids\n"
          "are kept) and leaves the rest. Prints imported, updated, unchanged,\n"
          "skipped and refused counts by reason. Exit status: 0 when nothing was\n"
          "refused, 1 otherwise, 2 on a usage error.\n",
        .shortopts = "f:t:nF",
        .options = options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = INT_MAX,
        .args_error = "import: give at least one FILE (see intelmesh import --help)",
        .option = import_option,
    };
    import_opts_t o = { .format = IM_FORMAT_NONE, .tlp = IM_TLP_NONE };
    int rc = cli_options (cli, argc, argv, &spec, &o, &o.json);
    if (rc != CLI_GO_ON)
        return rc;
    im_import_t *imp = im_import_new ();
    tally_t t = { 0,
                  0,
                  0,
                  0,
                  0,
                  json_object (),
                  json_object (),
                  json_object (),
                  json_object (),
                  json_object (),
                  json_object (),
                  json_array (),
                  json_array () };
    rc = 0;
    if (!imp || !t.reports || !t.members || !t.context || !t.skipped || !t.refused
        || !t.notes || !t.refusals || !t.failures) {
        cli_error ("import: out of memory");
        rc = EXIT_FAIL;
    }
    else {
        im_import_set_tlp (imp, o.tlp);
        import_read (imp, argc - optind, argv + optind, o.format, &t);
        json_t *items = im_import_items (imp);
        if (import_send (cli, items, &o, &t)
            || import_reports (cli, im_import_reports (imp), &o, &t))
            rc = EXIT_FAIL;
        import_summary (&o, json_array_size (items), &t);
        if (rc == 0 && (count_total (t.refused) || json_array_size (t.failures)))
            rc = EXIT_FAIL;
    }
    json_decref (t.failures);
    json_decref (t.reports);
    json_decref (t.context);
    json_decref (t.members);
    json_decref (t.skipped);
    json_decref (t.refused);
    json_decref (t.notes);
    json_decref (t.refusals);
    im_import_destroy (&imp);
    return rc;
}
