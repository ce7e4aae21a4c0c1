/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_sight.c -- `intelmesh sight` (this node saw an indicator: one, or a
 * list from standard input) and `intelmesh sightings` (who saw one), through
 * the SIGHT and SIGHTINGS control commands (SPEC.md, "Sightings"). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "im_record.h"
#include "im_sight.h"
#include "intelmesh.h"

#define SIGHT_LINE_MAX 256 /* a line of `sight -`: ID [COUNT] */

typedef struct {
    json_t *item; /* count, source, note, first_seen, last_seen */
    int share;
} sight_t;

static int
sight_option (void *ctx, int opt, const char *arg)
{
    sight_t *s = ctx;
    long n;
    switch (opt) {
    case 'c':
        if (cli_number ("sight: --count", arg, 1, IM_SIGHT_COUNT_MAX, &n))
            return -1;
        json_object_set_new (s->item, "count", json_integer (n));
        break;
    case 'n': json_object_set_new (s->item, "note", json_string (arg)); break;
    case 's':
        if (!im_source_from_name (arg)) {
            cli_error ("sight: --source '%s' is not one of sensor, incident, honeypot, "
                       "analyst, other",
                       arg);
            return -1;
        }
        json_object_set_new (s->item, "source", json_string (arg));
        break;
    case 'f': json_object_set_new (s->item, "first_seen", json_string (arg)); break;
    case 'L': json_object_set_new (s->item, "last_seen", json_string (arg)); break;
    case 'S': s->share = 1; break;
    }
    return 0;
}

/* Reads `ID [COUNT]` lines from standard input into ITEMS (each with the
 * options of TEMPLATE). Returns 0, or -1 having said why. */
static int
read_items (json_t *items, const json_t *template)
{
    char line[SIGHT_LINE_MAX + 2];
    for (long no = 1; fgets (line, sizeof line, stdin); no++) {
        size_t len = strlen (line);
        if (len > SIGHT_LINE_MAX && line[len - 1] != '\n') {
            cli_error ("sight: line %ld: longer than %d bytes", no, SIGHT_LINE_MAX);
            return -1;
        }
        char id[SIGHT_LINE_MAX + 1], count[SIGHT_LINE_MAX + 1], extra[2];
        int k = sscanf (line, "%256s %256s %1s", id, count, extra);
        if (k <= 0 || id[0] == '#')
            continue;
        long n = 1;
        if (k == 3
            || (k == 2
                && cli_number ("sight: count", count, 1, IM_SIGHT_COUNT_MAX, &n))) {
            cli_error ("sight: line %ld: expected ID [COUNT]", no);
            return -1;
        }
        if (json_array_size (items) == IM_CONTROL_BATCH_MAX) {
            cli_error ("sight: more than %d lines", IM_CONTROL_BATCH_MAX);
            return -1;
        }
        json_t *item = json_deep_copy (template);
        json_object_set_new (item, "id", json_string (id));
        if (k == 2)
            json_object_set_new (item, "count", json_integer (n));
        json_array_append_new (items, item);
    }
    if (json_array_size (items) == 0) {
        cli_error ("sight: no indicator id on standard input");
        return -1;
    }
    return 0;
}

int
cmd_sight (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "count", required_argument, NULL, 'c' },
        { "note", required_argument, NULL, 'n' },
        { "source", required_argument, NULL, 's' },
        { "first-seen", required_argument, NULL, 'f' },
        { "last-seen", required_argument, NULL, 'L' },
        { "share", no_argument, NULL, 'S' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh sight [-d DIR] [--json] ID|- [--count N] [--note TEXT]\n"
          "         [--source sensor|incident|honeypot|analyst|other]\n"
          "         [--first-seen TIME] [--last-seen TIME] [--share]\n"
          "Says this node saw the indicator ID (held here), signed by this node and\n"
          "sent to the indicator's origin only, sealed when the origin is not a\n"
          "direct peer. Sighting the same indicator again adds to its count.\n"
          "With '-', reads lines 'ID [COUNT]' from standard input.\n"
          "--share: every node that may hold the indicator sees the sighting.\n"
          "The note is shared: it must not hold personal data (addresses are "
          "refused).\n",
        .shortopts = "",
        .options = options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 1,
        .args_error = "give one indicator ID, or - to read them from standard input",
        .option = sight_option,
    };
    sight_t s = { json_object (), 0 };
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &s, &json);
    json_t *items = json_array ();
    if (rc == CLI_GO_ON) {
        if (strcmp (argv[optind], "-") == 0) {
            if (read_items (items, s.item))
                rc = EXIT_USAGE;
        }
        else {
            json_object_set_new (s.item, "id", json_string (argv[optind]));
            json_array_append (items, s.item);
        }
    }
    json_t *reply = NULL;
    if (rc == CLI_GO_ON) {
        json_t *body = json_pack ("{s:O, s:b}", "items", items, "share", s.share);
        reply = cli_request (cli, IM_CTL_SIGHT, body);
        json_decref (body);
        rc = reply ? 0 : EXIT_FAIL;
    }
    json_t *results = json_object_get (reply, "results");
    for (size_t i = 0; i < json_array_size (results); i++) {
        json_t *r = json_array_get (results, i);
        const char *error = json_string_value (json_object_get (r, "error"));
        if (json)
            cli_print_json (r);
        else if (!error)
            printf ("%s sighting %s (version %lld)\n",
                    json_string_value (json_object_get (r, "id")),
                    json_string_value (json_object_get (r, "sighting")),
                    (long long)json_integer_value (json_object_get (r, "version")));
        if (error) {
            cli_error ("sight: %s", error);
            rc = EXIT_FAIL;
        }
    }
    json_decref (reply);
    json_decref (items);
    json_decref (s.item);
    return rc;
}

int
cmd_sightings (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh sightings [-d DIR] [--json] ID\n"
        "Shows the sightings of the indicator ID held here: who saw it, how often,\n"
        "when, and by what kind of source. An origin sees those sent to it.\n",
        1, 1, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *body = json_pack ("{s:s}", "id", argv[optind]);
    json_t *reply = cli_request (cli, IM_CTL_SIGHTINGS, body);
    json_decref (body);
    if (!reply)
        return EXIT_FAIL;
    if (json) {
        cli_print_json (reply);
        json_decref (reply);
        return 0;
    }
    json_t *ind = json_object_get (reply, "indicator");
    json_t *list = json_object_get (reply, "sightings");
    char a[CLI_SAFE_MAX], b[CLI_SAFE_MAX];
    printf ("%s %s: %zu sighting(s), seen %lld time(s)\n",
            json_string_value (json_object_get (ind, "type")),
            cli_safe (json_string_value (json_object_get (ind, "value")), a, sizeof a),
            json_array_size (list),
            (long long)json_integer_value (json_object_get (reply, "total")));
    for (size_t i = 0; i < json_array_size (list); i++) {
        json_t *s = json_array_get (list, i);
        const char *name = json_string_value (json_object_get (s, "by_name"));
        const char *by = json_string_value (json_object_get (s, "by"));
        const char *note = json_string_value (json_object_get (s, "note"));
        printf ("  %-16s %6lld  %s .. %s  %-8s %s%s%s\n",
                cli_safe (name ? name : by, a, sizeof a),
                (long long)json_integer_value (json_object_get (s, "count")),
                json_string_value (json_object_get (s, "first_seen")),
                json_string_value (json_object_get (s, "last_seen")),
                json_string_value (json_object_get (s, "source")),
                json_is_true (json_object_get (s, "shared")) ? "shared" : "to origin",
                note && *note ? "  " : "",
                note && *note ? cli_safe (note, b, sizeof b) : "");
    }
    json_decref (reply);
    return 0;
}
