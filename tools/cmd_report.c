/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_report.c -- `intelmesh report create, add, remove, show, list, revoke`:
 * reports that group indicators with their context (SPEC.md, "Reports"),
 * through the REPORT control command (REVOKE for report revoke). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "im_ioc.h"
#include "im_record.h"
#include "intelmesh.h"

typedef struct {
    json_t *report;       /* the REPORT body's "report" */
    json_t *last;         /* the last --mitigation's object */
    json_t *to;           /* --to arguments */
    const char *exercise; /* --exercise: an inject of this exercise */
} create_t;

static void
append (json_t *obj, const char *key, json_t *v)
{
    json_t *a = json_object_get (obj, key);
    if (!a) {
        a = json_array ();
        json_object_set_new (obj, key, a);
    }
    json_array_append_new (a, v);
}

static int
create_option (void *ctx, int opt, const char *arg)
{
    create_t *c = ctx;
    long n;
    switch (opt) {
    case 'l': json_object_set_new (c->report, "tlp", json_string (arg)); break;
    case 'D': json_object_set_new (c->report, "description", json_string (arg)); break;
    case 'a': append (c->report, "attack", json_string (arg)); break;
    case 'A': append (c->report, "actors", json_string (arg)); break;
    case 'M': append (c->report, "malware", json_string (arg)); break;
    case 'r': append (c->report, "refs", json_string (arg)); break;
    case 'T': json_array_append_new (c->to, json_string (arg)); break;
    case 'X': c->exercise = arg; break;
    case 'm':
        c->last = json_pack ("{s:s, s:[]}", "text", arg, "refs");
        append (c->report, "mitigations", c->last);
        break;
    case 'R':
        if (!c->last) {
            cli_error ("report create: --mitigation-ref follows a --mitigation");
            return -1;
        }
        append (c->last, "refs", json_string (arg));
        break;
    case 'n':
        if (cli_number ("report create: --reach", arg, 0, 254, &n))
            return -1;
        json_object_set_new (c->report, "reach", json_integer (n));
        break;
    }
    return 0;
}

/* --to: peer names on the trust list or node ids. */
static int
create_recipients (im_cli_t *cli, create_t *c)
{
    json_t *ids = json_array ();
    int rc = ids ? cli_node_ids (cli, "report create: --to", c->to, ids) : -1;
    if (rc == 0)
        json_object_set (c->report, "recipients", ids);
    json_decref (ids);
    return rc;
}

static int
report_create (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "tlp", required_argument, NULL, 'l' },
        { "description", required_argument, NULL, 'D' },
        { "attack", required_argument, NULL, 'a' },
        { "actor", required_argument, NULL, 'A' },
        { "malware", required_argument, NULL, 'M' },
        { "mitigation", required_argument, NULL, 'm' },
        { "mitigation-ref", required_argument, NULL, 'R' },
        { "ref", required_argument, NULL, 'r' },
        { "reach", required_argument, NULL, 'n' },
        { "to", required_argument, NULL, 'T' },
        { "exercise", required_argument, NULL, 'X' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage
        = "Usage: intelmesh report create [-d DIR] [--json] TITLE [--tlp TLP]\n"
          "         [--description TEXT] [--attack T1566.001]... [--actor NAME]...\n"
          "         [--malware NAME]... [--mitigation TEXT [--mitigation-ref "
          "URL]...]...\n"
          "         [--ref URL]... [--reach N] [--to PEER]... [--exercise NAME]\n"
          "Makes and signs a report (a title and its context) and prints its id.\n"
          "Add indicators to it with 'intelmesh report add'. --exercise NAME makes\n"
          "it an inject of exercise NAME this node hosts (labelled EXERCISE, kept\n"
          "apart from real reports).\n",
        .shortopts = "",
        .options = options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 1,
        .args_error = "give one TITLE (quote it)",
        .option = create_option,
    };
    create_t c = { json_object (), NULL, json_array (), NULL };
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &c, &json);
    if (rc == CLI_GO_ON && json_array_size (c.to) && create_recipients (cli, &c))
        rc = EXIT_USAGE;
    json_t *reply = NULL;
    if (rc == CLI_GO_ON && c.exercise) {
        json_object_set_new (c.report, "title", json_string (argv[optind]));
        rc = cli_exercise_inject (cli, c.exercise, NULL, c.report, json);
        json_decref (c.report);
        json_decref (c.to);
        return rc;
    }
    if (rc == CLI_GO_ON) {
        json_object_set_new (c.report, "title", json_string (argv[optind]));
        json_t *body = json_pack ("{s:s, s:O}", "action", "create", "report", c.report);
        reply = cli_request (cli, IM_CTL_REPORT, body);
        json_decref (body);
        rc = reply ? 0 : EXIT_FAIL;
    }
    if (reply && json)
        cli_print_json (reply);
    else if (reply)
        printf ("%s\n", json_string_value (json_object_get (reply, "id")));
    json_decref (reply);
    json_decref (c.report);
    json_decref (c.to);
    return rc;
}

static int
report_members (im_cli_t *cli, int argc, char **argv, int add)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        add ? "Usage: intelmesh report add [-d DIR] [--json] REPORT-ID INDICATOR-ID...\n"
              "Adds indicators held here (of any origin) to this node's report.\n"
            : "Usage: intelmesh report remove [-d DIR] [--json] REPORT-ID "
              "INDICATOR-ID...\n"
              "Takes indicators out of this node's report.\n",
        2, IM_CONTROL_BATCH_MAX + 1, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *ids = json_array ();
    for (int i = optind + 1; i < argc; i++)
        json_array_append_new (ids, json_string (argv[i]));
    json_t *body = json_pack ("{s:s, s:s, s:o}", "action", add ? "add" : "remove", "id",
                              argv[optind], "indicators", ids);
    json_t *reply = cli_request (cli, IM_CTL_REPORT, body);
    json_decref (body);
    if (!reply)
        return EXIT_FAIL;
    json_t *results = json_object_get (reply, "results");
    for (size_t i = 0; i < json_array_size (results); i++) {
        json_t *r = json_array_get (results, i);
        const char *status = json_string_value (json_object_get (r, "status"));
        if (json)
            cli_print_json (r);
        else if (status)
            printf ("%s %s\n", json_string_value (json_object_get (r, "id")), status);
        if (!status) {
            cli_error ("report %s: %s", add ? "add" : "remove",
                       json_string_value (json_object_get (r, "error")));
            rc = EXIT_FAIL;
        }
    }
    json_decref (reply);
    return rc == CLI_GO_ON ? 0 : rc;
}

static int
report_add (im_cli_t *cli, int argc, char **argv)
{
    return report_members (cli, argc, argv, 1);
}

static int
report_remove (im_cli_t *cli, int argc, char **argv)
{
    return report_members (cli, argc, argv, 0);
}

static void
print_strings (const char *label, json_t *a)
{
    for (size_t i = 0; i < json_array_size (a); i++)
        printf ("%-12s %s\n", i ? "" : label, json_string_value (json_array_get (a, i)));
}

static void
print_report (json_t *r, json_t *members)
{
    printf ("%s  %s  %s  %s\n", json_string_value (json_object_get (r, "id")),
            json_string_value (json_object_get (r, "tlp")),
            json_string_value (json_object_get (r, "origin")),
            json_string_value (json_object_get (r, "value")));
    if (!members)
        return;
    const char *desc = json_string_value (json_object_get (r, "description"));
    if (desc && *desc)
        printf ("%-12s %s\n", "description", desc);
    print_strings ("attack", json_object_get (r, "attack"));
    print_strings ("actors", json_object_get (r, "actors"));
    print_strings ("malware", json_object_get (r, "malware"));
    print_strings ("refs", json_object_get (r, "refs"));
    json_t *mit = json_object_get (r, "mitigations");
    for (size_t i = 0; i < json_array_size (mit); i++) {
        json_t *m = json_array_get (mit, i);
        printf ("%-12s %s\n", "mitigation",
                json_string_value (json_object_get (m, "text")));
        print_strings ("  ref", json_object_get (m, "refs"));
    }
    printf ("members      %zu held here\n", json_array_size (members));
    for (size_t i = 0; i < json_array_size (members); i++) {
        json_t *m = json_array_get (members, i);
        printf ("  %s  %s %s  %s\n", json_string_value (json_object_get (m, "id")),
                json_string_value (json_object_get (m, "type")),
                json_string_value (json_object_get (m, "value")),
                json_string_value (json_object_get (m, "tlp")));
    }
}

static int
report_show (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh report show [-d DIR] [--json] ID\n"
                                "Shows a report held here and the member indicators "
                                "held here.\n",
                                1, 1, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *body = json_pack ("{s:s, s:s}", "action", "show", "id", argv[optind]);
    json_t *reply = cli_request (cli, IM_CTL_REPORT, body);
    json_decref (body);
    if (!reply)
        return EXIT_FAIL;
    if (json)
        cli_print_json (reply);
    else
        print_report (json_object_get (reply, "report"),
                      json_object_get (reply, "members"));
    json_decref (reply);
    return 0;
}

static int
report_list (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh report list [-d DIR] [--json]\n"
                                "Lists the live reports held here, of every origin.\n",
                                0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *body = json_pack ("{s:s}", "action", "list");
    json_t *reply = cli_request (cli, IM_CTL_REPORT, body);
    json_decref (body);
    if (!reply)
        return EXIT_FAIL;
    json_t *all = json_object_get (reply, "reports");
    for (size_t i = 0; i < json_array_size (all); i++)
        if (json)
            cli_print_json (json_array_get (all, i));
        else
            print_report (json_array_get (all, i), NULL);
    json_decref (reply);
    return 0;
}

static int
report_revoke (im_cli_t *cli, int argc, char **argv)
{
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh report revoke [-d DIR] ID\n"
                                "Revokes this node's report (its members stay until "
                                "removed).\n",
                                1, 1, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *body = json_pack ("{s:[s], s:s}", "ids", argv[optind], "type", "report");
    json_t *reply = cli_request (cli, IM_CTL_REVOKE, body);
    json_decref (body);
    json_t *r = json_array_get (json_object_get (reply, "results"), 0);
    const char *status = json_string_value (json_object_get (r, "status"));
    if (status)
        printf ("%s %s\n", argv[optind], status);
    else if (reply)
        cli_error ("report revoke: %s", json_string_value (json_object_get (r, "error")));
    json_decref (reply);
    return status ? 0 : EXIT_FAIL;
}

const cli_command_t cmd_report_family[] = {
    { "create", report_create, "make and sign a report; prints its id", NULL },
    { "add", report_add, "add indicators to this node's report", NULL },
    { "remove", report_remove, "take indicators out of this node's report", NULL },
    { "show", report_show, "show a report and its members held here", NULL },
    { "list", report_list, "list the reports held here", NULL },
    { "revoke", report_revoke, "revoke this node's report", NULL },
    { NULL, NULL, NULL, NULL },
};
