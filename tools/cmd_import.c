/* cmd_import.c -- subcommands that connect the node to a CERT's other tools:
 * import (STIX 2.1, MISP event JSON and feeds, CSV, through im_import) and
 * export (through im_export), both over the control socket. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "im_config.h"
#include "im_export.h"
#include "im_identity.h"
#include "im_import.h"
#include "im_ctl.h"
#include "im_record.h"
#include "im_time.h"
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
    json_object_foreach (counts, key, v)
        n += json_integer_value (v);
    return n;
}

/* "12: 8 not an indicator (identity), 4 pattern not mappable" */
static void
print_counts (const char *what, json_t *counts)
{
    const char *key;
    json_t *v;
    int first = 1;
    printf ("%-9s %lld", what, (long long) count_total (counts));
    json_object_foreach (counts, key, v) {
        printf ("%s %lld %s", first ? ":" : ",", (long long) json_integer_value (v), key);
        first = 0;
    }
    printf ("\n");
}

typedef struct {
    json_int_t imported, updated, revoked, unchanged;
    json_t *skipped, *refused, *notes, *refusals; /* reason -> count; messages */
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

/* Sends ITEMS[FROM, TO) in one PUBLISH and counts the results. */
static int
send_batch (im_client_t *client, json_t *items, size_t from, size_t to, int force,
            int dry_run, tally_t *t)
{
    json_t *batch = json_array ();
    for (size_t i = from; i < to; i++)
        json_array_append (batch, json_array_get (items, i));
    json_t *body = json_pack ("{s:o, s:b, s:b}", "items", batch, "force", force, "dry_run",
                              dry_run);
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
        }
        else if (strcmp (status, "new") == 0)
            t->imported++;
        else if (strcmp (status, "updated") == 0)
            t->updated++;
        else if (strcmp (status, "revoked") == 0)
            t->revoked++;
        else if (strcmp (status, "unchanged") == 0)
            t->unchanged++;
        else
            count_add (t->skipped, reason ? reason : status, 1);
    }
    json_decref (reply);
    return 0;
}

int
cmd_import (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' },  { "format", required_argument, NULL, 'f' },
        { "tlp", required_argument, NULL, 't' },  { "dry-run", no_argument, NULL, 'n' },
        { "force", no_argument, NULL, 'F' },      { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL;
    int format = IM_FORMAT_NONE, tlp = IM_TLP_NONE, dry_run = 0, force = 0, json = 0, c;
    while ((c = getopt_long (argc, argv, "d:f:t:nFjh", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'f':
            if ((format = im_format_parse (optarg)) < 0) {
                cli_error ("import: --format '%s' is not stix, misp or csv", optarg);
                return EXIT_USAGE;
            }
            break;
        case 't':
            if ((tlp = im_tlp_parse (optarg)) < 0) {
                cli_error ("import: --tlp '%s' is not clear, green, amber, amber+strict "
                           "or red", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'n': dry_run = 1; break;
        case 'F': force = 1; break;
        case 'j': json = 1; break;
        case 'h':
            printf (
                "Usage: intelmesh import FILE... [-d DIR] [--format stix|misp|csv]\n"
                "                        [--tlp LABEL] [--dry-run] [--force] [--json]\n"
                "Signs and stores the indicators of STIX 2.1 bundles, MISP event JSON\n"
                "(also {\"response\": [...]} exports and feed directories holding\n"
                "manifest.json) and CSV files with a header naming at least type and\n"
                "value. The format is guessed from the content when not given.\n"
                "  --tlp LABEL  records without a label get LABEL; none is loosened below it\n"
                "  --dry-run    check everything, store nothing\n"
                "  --force      store values that are on a warninglist\n"
                "Importing a file again updates what changed (STIX ids and MISP uuids\n"
                "are kept) and leaves the rest. Prints imported, updated, unchanged,\n"
                "skipped and refused counts by reason. Exit status: 0 when nothing was\n"
                "refused, 1 otherwise, 2 on a usage error.\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error ("import: give at least one FILE (see intelmesh import --help)");
        return EXIT_USAGE;
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    im_import_t *imp = im_import_new ();
    tally_t t = { 0, 0, 0, 0, json_object (), json_object (), json_object (), json_array () };
    if (!imp || !t.skipped || !t.refused || !t.notes || !t.refusals) {
        cli_error ("import: out of memory");
        im_import_destroy (&imp);
        return EXIT_FAIL;
    }
    im_import_set_tlp (imp, tlp);
    int failed_files = 0, rc = 0;
    json_t *failures = json_array ();
    for (int i = optind; i < argc; i++) {
        char err[1024];
        if (im_import_file (imp, argv[i], format, err, sizeof err)) {
            cli_error ("import: %s", err);
            json_array_append_new (failures, json_string (err));
            failed_files++;
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach (im_import_skipped (imp), key, v)
        count_add (t.skipped, key, json_integer_value (v));
    json_object_foreach (im_import_refused (imp), key, v)
        count_add (t.refused, key, json_integer_value (v));
    json_object_foreach (im_import_notes (imp), key, v)
        count_add (t.notes, key, json_integer_value (v));
    json_t *messages = im_import_messages (imp);
    for (size_t i = 0; i < json_array_size (messages); i++) {
        const char *m = json_string_value (json_array_get (messages, i));
        if (json_array_size (t.refusals) < LISTED_REFUSALS)
            json_array_append_new (t.refusals, json_string (m));
        if (json_array_size (t.refusals) <= SHOWN_REFUSALS)
            cli_error ("import: refused %s", m);
    }

    json_t *items = im_import_items (imp);
    size_t n = json_array_size (items);
    im_client_t *client = n ? cli_connect (cli) : NULL;
    if (n && !client)
        rc = EXIT_FAIL;
    int progress = isatty (STDERR_FILENO) && !json && n > IM_CONTROL_BATCH_MAX;
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
        if (send_batch (client, items, from, to, force, dry_run, &t)) {
            rc = EXIT_FAIL;
            cli_error ("import: stopped after %zu of %zu indicators", from, n);
            break;
        }
        if (progress)
            fprintf (stderr, "\rimporting: %zu of %zu indicators (%.0f%%)", to, n,
                     100.0 * (double) to / (double) n);
    }
    if (progress)
        fprintf (stderr, "\n");
    im_client_destroy (&client);

    json_int_t refused = count_total (t.refused);
    if (json) {
        json_t *o = json_pack (
            "{s:b, s:I, s:I, s:I, s:I, s:I, s:O, s:I, s:O, s:O, s:O, s:O}", "dry_run",
            dry_run, "items", (json_int_t) n, "imported", t.imported, "updated", t.updated,
            "revoked", t.revoked, "unchanged", t.unchanged, "skipped", t.skipped,
            "refused_total", refused, "refused", t.refused, "notes", t.notes, "refusals",
            t.refusals, "failed_files", failures);
        cli_print_json (o);
        json_decref (o);
    }
    else {
        if (dry_run)
            printf ("dry run: nothing was stored; this is what an import would do\n");
        printf ("imported  %lld\nupdated   %lld\nrevoked   %lld\nunchanged %lld\n",
                (long long) t.imported, (long long) t.updated, (long long) t.revoked,
                (long long) t.unchanged);
        print_counts ("skipped", t.skipped);
        print_counts ("refused", t.refused);
        if (json_object_size (t.notes))
            print_counts ("notes", t.notes);
        if (json_array_size (t.refusals) > SHOWN_REFUSALS)
            printf ("(%zu refusals shown of %lld; --json lists up to %d)\n",
                    (size_t) SHOWN_REFUSALS, (long long) refused, LISTED_REFUSALS);
        if (failed_files)
            printf ("%d file(s) not read: nothing was taken from them\n", failed_files);
    }
    if (rc == 0 && (refused || failed_files))
        rc = EXIT_FAIL;
    json_decref (failures);
    json_decref (t.skipped);
    json_decref (t.refused);
    json_decref (t.notes);
    json_decref (t.refusals);
    im_import_destroy (&imp);
    return rc;
}

/* --- export ------------------------------------------------------------ */

/* NODE as a node id: 64 hex digits, this node's name, or a peer's name. */
static int
resolve_origin (im_cli_t *cli, const char *text, uint8_t node[IM_NODE_ID_SIZE])
{
    if (im_node_parse (text, node) == 0)
        return 0;
    char err[512];
    im_config_t *cfg = malloc (sizeof *cfg);
    int rc = -1;
    if (cfg && im_config_load (cli->dir, cfg, err, sizeof err) == 0) {
        const im_peer_conf_t *peer = im_config_peer (cfg, text);
        if (peer) {
            memcpy (node, peer->card.node, IM_NODE_ID_SIZE);
            rc = 0;
        }
        else if (strcmp (cfg->name, text) == 0) {
            im_identity_t *id = im_identity_load (cli->dir, err, sizeof err);
            if (id) {
                memcpy (node, im_identity_node (id), IM_NODE_ID_SIZE);
                rc = 0;
            }
            im_identity_destroy (&id);
        }
    }
    free (cfg);
    return rc;
}

int
cmd_export (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' },    { "format", required_argument, NULL, 'f' },
        { "type", required_argument, NULL, 't' },   { "origin", required_argument, NULL, 'O' },
        { "since", required_argument, NULL, 's' },  { "tlp-max", required_argument, NULL, 'm' },
        { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *format = NULL, *type = NULL, *origin = NULL;
    const char *output = NULL;
    int64_t since = 0;
    int tlp_max = IM_TLP_RED, c;
    while ((c = getopt_long (argc, argv, "d:f:t:O:s:m:o:h", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'f': format = optarg; break;
        case 't': type = optarg; break;
        case 'O': origin = optarg; break;
        case 'o': output = optarg; break;
        case 's':
            if (im_time_parse (optarg, im_time_now (), &since)) {
                cli_error ("export: --since '%s' is not a time (2026-11-01, "
                           "2026-11-01T10:00:00Z)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'm':
            if ((tlp_max = im_tlp_parse (optarg)) < 0) {
                cli_error ("export: --tlp-max '%s' is not clear, green, amber, "
                           "amber+strict or red", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            printf (
                "Usage: intelmesh export --format stix|misp|csv [-d DIR] [--type TYPE]\n"
                "                        [--origin NODE] [--since TIME] [--tlp-max LABEL]\n"
                "                        [-o FILE]\n"
                "Writes the stored indicators, live and revoked, as a STIX 2.1 bundle, a\n"
                "MISP event or CSV, to standard output or FILE (made 0600, replaced only\n"
                "once the export is whole). NODE is a node id, this node's name or a\n"
                "peer's name; --since keeps records changed since TIME; --tlp-max keeps\n"
                "out anything more restricted than LABEL (--tlp-max green for a feed\n"
                "that leaves the mesh). Every record carries its label.\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error ("export: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!format || (strcmp (format, "stix") && strcmp (format, "misp")
                    && strcmp (format, "csv"))) {
        cli_error ("export: --format must be stix, misp or csv");
        return EXIT_USAGE;
    }
    if (type && im_type_parse (type) < 0) {
        cli_error ("export: --type '%s' is not an indicator type", type);
        return EXIT_USAGE;
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    uint8_t node[IM_NODE_ID_SIZE];
    char origin_hex[IM_NODE_HEX_SIZE] = "";
    if (origin) {
        if (resolve_origin (cli, origin, node)) {
            cli_error ("export: --origin '%s' is not a node id, this node or a peer",
                       origin);
            return EXIT_USAGE;
        }
        im_node_format (node, origin_hex);
    }
    im_client_t *client = cli_connect (cli);
    if (!client)
        return EXIT_FAIL;
    char tmp[4200] = "";
    FILE *out = stdout;
    if (output) {
        snprintf (tmp, sizeof tmp, "%s.tmp.%d", output, (int) getpid ());
        int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        out = fd >= 0 ? fdopen (fd, "w") : NULL;
        if (!out) {
            cli_error ("export: %s: %s", output, strerror (errno));
            if (fd >= 0)
                close (fd);
            im_client_destroy (&client);
            return EXIT_FAIL;
        }
    }
    char err[1024];
    im_export_t *exp = im_export_new (format, out, im_time_now (), origin);
    int rc = exp ? 0 : EXIT_FAIL;
    char after[2 * IM_NODE_ID_SIZE + 2 * IM_ID_SIZE + 1] = "";
    size_t skipped = 0;
    while (rc == 0) {
        json_t *body = json_pack ("{s:s?, s:s?, s:s?, s:i}", "type", type, "origin",
                                  origin ? origin_hex : NULL, "after",
                                  after[0] ? after : NULL, "limit", IM_CONTROL_LIST_MAX);
        json_t *reply = cli_call (client, IM_CTL_LIST, body);
        json_decref (body);
        if (!reply) {
            rc = EXIT_FAIL;
            break;
        }
        json_t *records = json_object_get (reply, "records");
        for (size_t i = 0; rc == 0 && i < json_array_size (records); i++) {
            json_t *r = json_array_get (records, i);
            int64_t modified = 0;
            const char *m = json_string_value (json_object_get (r, "modified"));
            int label = im_tlp_parse (json_string_value (json_object_get (r, "tlp")));
            if ((since && (!m || im_time_parse (m, 0, &modified) || modified < since))
                || label > tlp_max)
                continue;
            if (im_export_record (exp, r, err, sizeof err)) {
                if (errno == EIO) {
                    cli_error ("export: %s", err);
                    rc = EXIT_FAIL;
                }
                else {
                    if (++skipped <= SHOWN_REFUSALS)
                        cli_error ("export: left out %s: %s",
                                   json_string_value (json_object_get (r, "id")), err);
                }
            }
        }
        const char *next = json_string_value (json_object_get (reply, "next"));
        if (next)
            snprintf (after, sizeof after, "%s", next);
        json_decref (reply);
        if (!next)
            break;
    }
    im_client_destroy (&client);
    if (rc == 0 && im_export_finish (exp, err, sizeof err)) {
        cli_error ("export: %s", err);
        rc = EXIT_FAIL;
    }
    size_t count = im_export_count (exp);
    im_export_destroy (&exp);
    if (output) {
        if (fclose (out) != 0 && rc == 0) {
            cli_error ("export: %s: %s", output, strerror (errno));
            rc = EXIT_FAIL;
        }
        if (rc == 0 && rename (tmp, output) != 0) {
            cli_error ("export: %s: %s", output, strerror (errno));
            rc = EXIT_FAIL;
        }
        if (rc != 0)
            unlink (tmp);
    }
    else if (fflush (stdout) != 0 && rc == 0) {
        cli_error ("export: standard output: %s", strerror (errno));
        rc = EXIT_FAIL;
    }
    if (rc == 0 && (output || !isatty (STDOUT_FILENO)))
        fprintf (stderr, "exported %zu indicator(s) as %s%s%s%s\n", count, format,
                 output ? " to " : "", output ? output : "",
                 skipped ? " (some left out: see above)" : "");
    if (rc == 0 && skipped)
        rc = EXIT_FAIL;
    return rc;
}
