/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_export.c -- `intelmesh export`: the stored indicators, paged through
 * LIST over the control socket, written by im_export as a STIX 2.1 bundle, a
 * MISP event or CSV, to standard output or to a file replaced only once the
 * export is whole. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>

#include "im_config.h"
#include "im_ctl.h"
#include "im_dir.h"
#include "im_export.h"
#include "im_identity.h"
#include "im_record.h"
#include "im_time.h"
#include "intelmesh.h"

/* Records left out that are shown one a line on standard error. */
#define SHOWN_LEFT_OUT 10

typedef struct {
    const char *format, *type, *origin, *output;
    int64_t since; /* 0: all */
    int tlp_max;
    int tlp_max_given; /* --tlp-max given: else AMBER, and say what was left out */
    size_t over_tlp;   /* records above the default --tlp-max, left out */
    im_export_t *exp;
    int failed;          /* writing failed */
    size_t skipped;      /* records im_export left out */
    json_t *reports;     /* the reports held (STIX, MISP), written after the records */
    json_t *written;     /* "ORIGIN/ID" of the records written, when there are reports */
    size_t nreports;     /* reports written */
    json_t *sightings;   /* "ORIGIN/ID": [sighting...] of the indicators (STIX, MISP) */
    json_t *members;     /* MISP: "ORIGIN/ID" of the reports' members, written in the
                            reports' events only (one uuid, one event) */
    im_config_t *config; /* names of the nodes that saw */
    const char *own_hex; /* this node's id, when known */
} export_t;

static int
export_option (void *ctx, int opt, const char *arg)
{
    export_t *e = ctx;
    switch (opt) {
    case 'f': e->format = arg; break;
    case 't': e->type = arg; break;
    case 'O': e->origin = arg; break;
    case 'o': e->output = arg; break;
    case 's':
        if (im_time_parse (arg, im_time_now (), &e->since)) {
            cli_error ("export: --since '%s' is not a time (2026-11-01, "
                       "2026-11-01T10:00:00Z)",
                       arg);
            return -1;
        }
        break;
    case 'm':
        e->tlp_max_given = 1;
        if ((e->tlp_max = im_tlp_parse (arg)) < 0) {
            cli_error ("export: --tlp-max '%s' is not clear, green, amber, "
                       "amber+strict or red",
                       arg);
            return -1;
        }
        break;
    }
    return 0;
}

static int
export_check (void *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    export_t *e = ctx;
    if (!e->format
        || (strcmp (e->format, "stix") && strcmp (e->format, "misp")
            && strcmp (e->format, "csv") && strcmp (e->format, "misp-sightings"))) {
        cli_error ("export: --format must be stix, misp, misp-sightings or csv");
        return -1;
    }
    if (e->type && im_type_parse (e->type) < 0) {
        cli_error ("export: --type '%s' is not an indicator type", e->type);
        return -1;
    }
    return 0;
}

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

/* One record of a LIST page: kept out by --since and --tlp-max, else
 * written. Stops the paging when writing fails. */
static int
export_one (json_t *r, void *arg)
{
    export_t *e = arg;
    char err[1024];
    int64_t modified = 0;
    const char *m = json_string_value (json_object_get (r, "modified"));
    int label = im_tlp_parse (json_string_value (json_object_get (r, "tlp")));
    if (e->since && (!m || im_time_parse (m, 0, &modified) || modified < e->since))
        return 0;
    if (label > e->tlp_max) {
        e->over_tlp++;
        return 0;
    }
    char key[160];
    snprintf (key, sizeof key, "%s/%s", json_string_value (json_object_get (r, "origin")),
              json_string_value (json_object_get (r, "id")));
    if (e->members && json_object_get (e->members, key)) {
        /* A report's member: in that report's event (MISP). */
        if (json_object_set_new (e->written, key, json_true ()))
            e->failed = 1;
        return e->failed ? -1 : 0;
    }
    if (im_export_record (e->exp, r, err, sizeof err) == 0) {
        if (e->written && json_object_set_new (e->written, key, json_true ()))
            e->failed = 1; /* out of memory: the reports would lose members */
        return e->failed ? -1 : 0;
    }
    if (errno == EIO) {
        cli_error ("export: %s", err);
        e->failed = 1;
        return -1;
    }
    if (++e->skipped <= SHOWN_LEFT_OUT)
        cli_error ("export: left out %s: %s",
                   json_string_value (json_object_get (r, "id")), err);
    return 0;
}

/* Standard output, or a new file TMP beside OUTPUT that replaces it once
 * whole. */
static FILE *
export_open (const char *output, char *tmp, size_t tmpsz)
{
    if (!output)
        return stdout;
    snprintf (tmp, tmpsz, "%s.tmp.%d", output, (int)getpid ());
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *out = fd >= 0 ? fdopen (fd, "w") : NULL;
    if (!out) {
        cli_error ("export: %s: %s", output, strerror (errno));
        if (fd >= 0)
            close (fd);
    }
    return out;
}

/* Closes OUT: the file replaces OUTPUT when RC is 0, else it is removed.
 * Returns RC, or EXIT_FAIL when closing fails. */
static int
export_close (const char *output, FILE *out, const char *tmp, int rc)
{
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
    return rc;
}

/* Names the running node's organisation as the MISP event's creator: its
 * name, and a uuid from its node id (STATUS). Returns 0 or -1 (said). */
static int
export_org (im_client_t *client, export_t *e)
{
    uint8_t node[IM_NODE_ID_SIZE];
    json_t *empty = json_object ();
    json_t *st = empty ? cli_call (client, IM_CTL_STATUS, empty) : NULL;
    json_decref (empty);
    const char *name = json_string_value (json_object_get (st, "name"));
    const char *hex = json_string_value (json_object_get (st, "node"));
    int rc = st && name && hex && im_node_parse (hex, node) == 0
                     && im_export_set_org (e->exp, node, name) == 0
                 ? 0
                 : -1;
    if (st && rc != 0)
        cli_error ("export: the node's status has no usable name and node id");
    json_decref (st);
    return rc;
}

/* The reports held, for a STIX or MISP export: kept in E with a set for the
 * ids of the records written (MISP: then written as a list of events).
 * Returns 0 or -1 (said). */
static int
export_reports_held (im_client_t *client, export_t *e)
{
    if (strcmp (e->format, "stix") != 0 && strcmp (e->format, "misp") != 0)
        return 0;
    json_t *body = json_pack ("{s:s}", "action", "list");
    json_t *reply = body ? cli_call (client, IM_CTL_REPORT, body) : NULL;
    json_decref (body);
    if (!reply)
        return -1;
    e->reports = json_incref (json_object_get (reply, "reports"));
    json_decref (reply);
    if (json_array_size (e->reports)
        && (!(e->written = json_object ()) || im_export_misp_list (e->exp)))
        return -1;
    return 0;
}

/* Whether --origin, --since and --tlp-max keep report R. */
static int
report_kept (const export_t *e, const json_t *r, const char *origin_hex)
{
    const char *m = json_string_value (json_object_get (r, "modified"));
    int64_t modified = 0;
    return !(
        (*origin_hex
         && strcmp (origin_hex, json_string_value (json_object_get (r, "origin"))))
        || im_tlp_parse (json_string_value (json_object_get (r, "tlp"))) > e->tlp_max
        || (e->since && (!m || im_time_parse (m, 0, &modified) || modified < e->since)));
}

/* REPORT show of report R: the reply, or NULL (said). */
static json_t *
report_show (im_client_t *client, const json_t *r)
{
    json_t *body
        = json_pack ("{s:s, s:O}", "action", "show", "id", json_object_get (r, "id"));
    json_t *reply = body ? cli_call (client, IM_CTL_REPORT, body) : NULL;
    json_decref (body);
    return reply;
}

/* The key "ORIGIN/ID" of the record M into KEY. */
static void
member_key (const json_t *m, char key[160])
{
    snprintf (key, 160, "%s/%s", json_string_value (json_object_get (m, "origin")),
              json_string_value (json_object_get (m, "id")));
}

/* MISP: the members of the reports kept, which go in the reports' events
 * and not in the indicators' (MISP refuses one uuid in two events). */
static int
export_members (im_client_t *client, export_t *e, const char *origin_hex)
{
    json_t *r;
    size_t i;
    if (strcmp (e->format, "misp") || !json_array_size (e->reports))
        return 0;
    if (!(e->members = json_object ()))
        return -1;
    json_array_foreach (e->reports, i, r)
    {
        if (!report_kept (e, r, origin_hex))
            continue;
        json_t *reply = report_show (client, r), *mem;
        size_t j;
        json_array_foreach (json_object_get (reply, "members"), j, mem)
        {
            char key[160];
            member_key (mem, key);
            json_object_set_new (e->members, key, json_true ());
        }
        json_decref (reply);
    }
    return 0;
}

/* Writes each report that --origin, --since and --tlp-max keep, naming its
 * live members that were written. Returns 0 or -1 (said). */
static int
export_reports (im_client_t *client, export_t *e, const char *origin_hex)
{
    json_t *r;
    size_t i;
    json_array_foreach (e->reports, i, r)
    {
        if (!report_kept (e, r, origin_hex))
            continue;
        json_t *reply = report_show (client, r);
        json_t *kept = json_array (), *mem;
        size_t j;
        json_array_foreach (json_object_get (reply, "members"), j, mem)
        {
            char key[160];
            member_key (mem, key);
            if (json_object_get (e->written, key))
                json_array_append (kept, mem);
        }
        char err[512];
        int rc = reply && kept ? im_export_report (
                     e->exp, json_object_get (reply, "report"), kept, err, sizeof err)
                               : -1;
        json_decref (kept);
        json_decref (reply);
        if (rc) {
            cli_error ("export: report %s: %s",
                       json_string_value (json_object_get (r, "id")),
                       reply ? err : "not read");
            return -1;
        }
        e->nreports++;
    }
    return 0;
}

/* A sighting LIST gave: kept under its indicator's key when --tlp-max
 * allows its label, with the name of the node that saw when known. */
static int
sighting_one (json_t *rec, void *arg)
{
    export_t *e = arg;
    const char *value = json_string_value (json_object_get (rec, "value"));
    const char *hex = json_string_value (json_object_get (rec, "origin"));
    uint8_t node[IM_NODE_ID_SIZE];
    if (!value || !hex || im_node_parse (hex, node)
        || im_tlp_parse (json_string_value (json_object_get (rec, "tlp"))) > e->tlp_max
        || strcmp (json_string_value (json_object_get (rec, "op")), "put"))
        return 0;
    const char *name = NULL;
    for (size_t i = 0; e->config && i < e->config->npeers && !name; i++)
        if (memcmp (e->config->peers[i].card.node, node, IM_NODE_ID_SIZE) == 0)
            name = e->config->peers[i].card.name;
    if (!name && e->config && e->own_hex && strcmp (e->own_hex, hex) == 0)
        name = e->config->name;
    if (name)
        json_object_set_new (rec, "by_name", json_string (name));
    json_t *list = json_object_get (e->sightings, value);
    if (!list) {
        list = json_array ();
        if (json_object_set_new (e->sightings, value, list))
            return -1;
    }
    return json_array_append (list, rec);
}

/* The sightings held, for a STIX or MISP export (SPEC.md, "Sightings"),
 * given to the exporter. Returns 0 or -1 (said). */
static int
export_sightings_held (im_client_t *client, export_t *e)
{
    if (strcmp (e->format, "stix") != 0 && strcmp (e->format, "misp") != 0)
        return 0;
    json_t *body = json_pack ("{s:s}", "type", "sighting");
    e->sightings = json_object ();
    int rc = body && e->sightings ? cli_page (client, IM_CTL_LIST, body, sighting_one, e)
                                  : -1;
    json_decref (body);
    if (rc == 0 && im_export_set_sightings (e->exp, e->sightings))
        rc = -1;
    return rc;
}

/* --format misp-sightings: the sightings held, as a JSON array of MISP
 * sightings (MISP's sightings API). Returns the exit status. */
static int
export_misp_sightings (im_client_t *client, export_t *e, FILE *out, size_t *count)
{
    json_t *body = json_pack ("{s:s}", "type", "sighting");
    e->sightings = json_object ();
    int rc = body && e->sightings ? cli_page (client, IM_CTL_LIST, body, sighting_one, e)
                                  : -1;
    json_decref (body);
    json_t *all = json_array (), *list;
    const char *key;
    json_object_foreach (e->sightings, key, list)
    {
        json_t *m = im_export_misp_sightings (list);
        if (!m || json_array_extend (all, m))
            rc = -1;
        json_decref (m);
    }
    *count = json_array_size (all);
    if (rc == 0
        && (json_dumpf (all, out, JSON_COMPACT) || fputc ('\n', out) == EOF
            || fflush (out))) {
        cli_error ("export: write failed");
        rc = -1;
    }
    json_decref (all);
    return rc ? EXIT_FAIL : 0;
}

/* Pages through LIST into the exporter. Returns the exit status. */
static int
export_records (im_client_t *client, export_t *e, const char *origin_hex)
{
    char err[1024];
    if (strcmp (e->format, "misp") == 0 && export_org (client, e) != 0)
        return EXIT_FAIL;
    json_t *body = json_pack ("{s:s?, s:s?}", "type", e->type, "origin",
                              e->origin ? origin_hex : NULL);
    int rc = export_reports_held (client, e) || export_members (client, e, origin_hex)
                 ? EXIT_FAIL
                 : 0;
    if (rc == 0 && export_sightings_held (client, e))
        rc = EXIT_FAIL;
    if (rc == 0 && cli_page (client, IM_CTL_LIST, body, export_one, e))
        rc = EXIT_FAIL;
    if (rc == 0 && export_reports (client, e, origin_hex))
        rc = EXIT_FAIL;
    json_decref (body);
    if (rc == 0 && im_export_finish (e->exp, err, sizeof err)) {
        cli_error ("export: %s", err);
        rc = EXIT_FAIL;
    }
    return rc;
}

int
cmd_export (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "format", required_argument, NULL, 'f' },
        { "type", required_argument, NULL, 't' },
        { "origin", required_argument, NULL, 'O' },
        { "since", required_argument, NULL, 's' },
        { "tlp-max", required_argument, NULL, 'm' },
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh export --format stix|misp|misp-sightings|csv [-d DIR]\n"
          "                        [--type TYPE]\n"
          "                        [--origin NODE] [--since TIME] [--tlp-max LABEL]\n"
          "                        [-o FILE]\n"
          "Writes the stored indicators, live and revoked, as a STIX 2.1 bundle, a\n"
          "MISP event or CSV, to standard output or FILE (made 0600, replaced only\n"
          "once the export is whole). NODE is a node id, this node's name or a\n"
          "peer's name; --since keeps records changed since TIME; --tlp-max keeps\n"
          "out anything more restricted than LABEL (default amber: AMBER+STRICT\n"
          "and RED only with --tlp-max red; --tlp-max green for a feed that\n"
          "leaves the mesh). Every record carries its label. A STIX bundle holds\n"
          "the sightings of its indicators held here; misp-sightings writes them\n"
          "as MISP sightings (a JSON array for MISP's sightings API), whose\n"
          "attribute_uuid is the attribute's uuid in a MISP export.\n",
        .shortopts = "f:t:O:s:m:o:",
        .options = options,
        .option = export_option,
        .check = export_check,
    };
    export_t e = { .tlp_max = IM_TLP_AMBER };
    int rc = cli_options (cli, argc, argv, &spec, &e, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    uint8_t node[IM_NODE_ID_SIZE];
    char origin_hex[IM_NODE_HEX_SIZE] = "";
    if (e.origin) {
        if (resolve_origin (cli, e.origin, node)) {
            cli_error ("export: --origin '%s' is not a node id, this node or a peer",
                       e.origin);
            return EXIT_USAGE;
        }
        im_node_format (node, origin_hex);
    }
    e.config = cli_config (cli, NULL);
    /* This node's id, from its public keys (nothing secret is read). */
    char path[PATH_MAX + 32], own[IM_NODE_HEX_SIZE] = "";
    zconfig_t *pub = im_dir_path (cli->dir, IM_PUBLIC_FILE, path, sizeof path) == 0
                         ? zconfig_load (path)
                         : NULL;
    snprintf (own, sizeof own, "%s", pub ? zconfig_get (pub, "sign-public", "") : "");
    zconfig_destroy (&pub);
    e.own_hex = own;
    im_client_t *client = cli_connect (cli);
    if (!client) {
        free (e.config);
        return EXIT_FAIL;
    }
    char tmp[4200] = "";
    FILE *out = export_open (e.output, tmp, sizeof tmp);
    if (!out) {
        im_client_destroy (&client);
        free (e.config);
        return EXIT_FAIL;
    }
    size_t nsightings = 0;
    int sightings_only = strcmp (e.format, "misp-sightings") == 0;
    e.exp
        = sightings_only ? NULL : im_export_new (e.format, out, im_time_now (), e.origin);
    rc = sightings_only ? export_misp_sightings (client, &e, out, &nsightings)
         : e.exp        ? export_records (client, &e, origin_hex)
                        : EXIT_FAIL;
    im_client_destroy (&client);
    size_t count = im_export_count (e.exp);
    char note[256];
    size_t notes = im_export_notes (e.exp, note, sizeof note);
    im_export_destroy (&e.exp);
    json_decref (e.reports);
    json_decref (e.written);
    json_decref (e.sightings);
    json_decref (e.members);
    free (e.config);
    rc = export_close (e.output, out, tmp, rc);
    if (rc == 0 && sightings_only && (e.output || !isatty (STDOUT_FILENO)))
        fprintf (stderr, "exported %zu sighting(s) as misp-sightings%s%s\n", nsightings,
                 e.output ? " to " : "", e.output ? e.output : "");
    else if (rc == 0 && (e.output || !isatty (STDOUT_FILENO)))
        fprintf (stderr, "exported %zu indicator(s)%s%.0zu%s as %s%s%s%s\n", count,
                 e.nreports ? " and " : "", e.nreports, e.nreports ? " report(s)" : "",
                 e.format, e.output ? " to " : "", e.output ? e.output : "",
                 e.skipped ? " (some left out: see above)" : "");
    if (rc == 0 && notes)
        fprintf (stderr, "export: %zu indicator(s) written with a note, the last: %s\n",
                 notes, note);
    if (rc == 0 && e.over_tlp && !e.tlp_max_given)
        fprintf (stderr,
                 "export: left out %zu AMBER+STRICT or RED indicator(s); --tlp-max red "
                 "includes them\n",
                 e.over_tlp);
    if (rc == 0 && e.skipped)
        rc = EXIT_FAIL;
    return rc;
}
