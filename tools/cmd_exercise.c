/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_exercise.c -- `intelmesh exercise create, join, list, show, inject, act,
 * end` through the EXERCISE control command (SPEC.md, "Exercises"); the
 * scoreboard, the after-action report and scenario runs are in
 * cmd_exercise_run.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "im_record.h"
#include "im_time.h"
#include "intelmesh.h"

typedef struct {
    const char *start, *end, *description;
    json_t *participants;
} create_t;

static int
create_option (void *ctx, int opt, const char *arg)
{
    create_t *c = ctx;
    switch (opt) {
    case 's': c->start = arg; break;
    case 'e': c->end = arg; break;
    case 'D': c->description = arg; break;
    case 'p': json_array_append_new (c->participants, json_string (arg)); break;
    }
    return 0;
}

static int
ex_create (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "start", required_argument, NULL, 's' },
        { "end", required_argument, NULL, 'e' },
        { "participants", required_argument, NULL, 'p' },
        { "description", required_argument, NULL, 'D' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh exercise create [-d DIR] [--json] NAME --start TIME "
                 "--end TIME\n"
                 "         --participants PEER [PEER...] [--description TEXT]\n"
                 "Makes a joint exercise this node hosts and sends it, signed, to its\n"
                 "participants (peers or node ids), sealed to those that are not\n"
                 "peers. TIME: RFC 3339, or +10m from now. Participants join it with\n"
                 "'intelmesh exercise join NAME' (or their peer setting\n"
                 "join-exercises for this node).\n",
        .options = options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 65,
        .args_error = "give the exercise's NAME (and participants after --participants)",
        .option = create_option,
    };
    create_t c = { NULL, NULL, NULL, json_array () };
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &c, &json);
    /* The participants after the first are plain arguments. */
    for (int i = optind + 1; rc == CLI_GO_ON && i < argc; i++)
        json_array_append_new (c.participants, json_string (argv[i]));
    if (rc == CLI_GO_ON && (!c.start || !c.end || !json_array_size (c.participants))) {
        cli_error ("exercise create: --start, --end and --participants are required");
        rc = EXIT_USAGE;
    }
    json_t *ids = json_array ();
    if (rc == CLI_GO_ON && cli_node_ids (cli, "exercise create", c.participants, ids))
        rc = EXIT_USAGE;
    json_t *reply = NULL;
    if (rc == CLI_GO_ON) {
        json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:O, s:s?}", "action", "create",
                                  "name", argv[optind], "start", c.start, "end", c.end,
                                  "participants", ids, "description", c.description);
        reply = cli_request (cli, IM_CTL_EXERCISE, body);
        json_decref (body);
        rc = reply ? 0 : EXIT_FAIL;
    }
    if (reply && json)
        cli_print_json (reply);
    else if (reply)
        printf ("exercise %s created for %lld participant(s)\n",
                json_string_value (json_object_get (reply, "name")),
                (long long)json_integer_value (json_object_get (reply, "participants")));
    json_decref (reply);
    json_decref (ids);
    json_decref (c.participants);
    return rc;
}

/* A request {"action": ACTION, "name": NAME} (with "host" when HOST). */
static json_t *
simple (im_cli_t *cli, const char *action, const char *name, const char *host)
{
    json_t *body
        = json_pack ("{s:s, s:s, s:s?}", "action", action, "name", name, "host", host);
    json_t *reply = body ? cli_request (cli, IM_CTL_EXERCISE, body) : NULL;
    json_decref (body);
    return reply;
}

static int
host_option (void *ctx, int opt, const char *arg)
{
    if (opt == 'H')
        *(const char **)ctx = arg;
    return 0;
}

static const struct option host_options[] = {
    { "host", required_argument, NULL, 'H' },
    { NULL, 0, NULL, 0 },
};

static int
ex_join (im_cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh exercise join [-d DIR] [--host NODE] NAME\n"
                 "Joins the exercise NAME (held here: its host sent it): its injects\n"
                 "are taken from then on, each acknowledged to the host when stored.\n"
                 "--host (a node id) when two hosts hold an exercise of that name.\n",
        .options = host_options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 1,
        .option = host_option,
    };
    const char *host = NULL;
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &host, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *reply = simple (cli, "join", argv[optind], host);
    if (reply && json)
        cli_print_json (reply);
    else if (reply)
        printf ("exercise %s: %s\n", json_string_value (json_object_get (reply, "name")),
                json_string_value (json_object_get (reply, "status")));
    json_decref (reply);
    return reply ? 0 : EXIT_FAIL;
}

static void
print_exercise (const json_t *e)
{
    char a[CLI_SAFE_MAX];
    const char *hn = json_string_value (json_object_get (e, "host_name"));
    printf (
        "EXERCISE %s  %-9s %-11s host %s  %s .. %s  %zu participant(s)%s\n",
        json_string_value (json_object_get (e, "name")),
        json_string_value (json_object_get (e, "status")),
        json_string_value (json_object_get (e, "role")),
        cli_safe (hn ? hn : json_string_value (json_object_get (e, "host")), a, sizeof a),
        json_string_value (json_object_get (e, "start")),
        json_string_value (json_object_get (e, "end")),
        json_array_size (json_object_get (e, "participants")),
        json_is_true (json_object_get (e, "joined")) ? "" : "  (not joined)");
}

static int
ex_list (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh exercise list [-d DIR] [--json]\n"
                                "Lists the exercises held here: hosted, joined or "
                                "offered.\n",
                                0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *body = json_pack ("{s:s}", "action", "list");
    json_t *reply = cli_request (cli, IM_CTL_EXERCISE, body);
    json_decref (body);
    json_t *all = json_object_get (reply, "exercises");
    for (size_t i = 0; i < json_array_size (all); i++)
        if (json)
            cli_print_json (json_array_get (all, i));
        else
            print_exercise (json_array_get (all, i));
    json_decref (reply);
    return reply ? 0 : EXIT_FAIL;
}

static int
ex_show (im_cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh exercise show [-d DIR] [--json] [--host NODE] NAME\n"
                 "Shows the exercise NAME and its injects held here (all labelled\n"
                 "EXERCISE: never real intelligence).\n",
        .options = host_options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 1,
        .option = host_option,
    };
    const char *host = NULL;
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &host, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *reply = simple (cli, "show", argv[optind], host);
    if (reply && json)
        cli_print_json (reply);
    else if (reply) {
        print_exercise (json_object_get (reply, "exercise"));
        json_t *inj = json_object_get (reply, "injects"), *o;
        size_t i;
        char a[CLI_SAFE_MAX];
        json_array_foreach (inj, i, o)
        {
            printf (
                "  EXERCISE inject %s  %-6s %-6s %s\n",
                json_string_value (json_object_get (o, "id")),
                json_string_value (json_object_get (o, "op")),
                json_string_value (json_object_get (o, "tlp")),
                cli_safe (json_string_value (json_object_get (o, "value")), a, sizeof a));
        }
    }
    json_decref (reply);
    return reply ? 0 : EXIT_FAIL;
}

int
cli_exercise_inject (im_cli_t *cli, const char *name, json_t *item, json_t *report,
                     int json)
{
    json_t *target = item ? item : report;
    json_t *to = json_incref (json_object_get (target, "recipients"));
    json_object_del (target, "recipients");
    if (to)
        json_object_set (target, "participants", to);
    json_t *body = item ? json_pack ("{s:s, s:s, s:[O]}", "action", "inject", "name",
                                     name, "items", item)
                        : json_pack ("{s:s, s:s, s:O}", "action", "inject", "name", name,
                                     "report", report);
    json_decref (to);
    json_t *reply = body ? cli_request (cli, IM_CTL_EXERCISE, body) : NULL;
    json_decref (body);
    json_t *results = json_object_get (reply, "results"), *r;
    size_t i;
    json_array_foreach (results, i, r)
    {
        if (json)
            cli_print_json (r);
        else
            printf ("%s\n", json_string_value (json_object_get (r, "id")));
    }
    json_decref (reply);
    return reply ? 0 : EXIT_FAIL;
}

typedef struct {
    const char *action, *note, *host;
} act_t;

static int
act_option (void *ctx, int opt, const char *arg)
{
    act_t *a = ctx;
    if (opt == 'a')
        a->action = arg;
    else if (opt == 'n')
        a->note = arg;
    else if (opt == 'H')
        a->host = arg;
    return 0;
}

static int
ex_act (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "action", required_argument, NULL, 'a' },
        { "note", required_argument, NULL, 'n' },
        { "host", required_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh exercise act [-d DIR] [--json] NAME INJECT-ID\n"
                 "         --action detected|blocked|mitigated|escalated [--note TEXT]\n"
                 "Records what this node's analysts did about an inject; the host sees\n"
                 "it in its scoreboard (sealed to it when it is no peer).\n",
        .options = options,
        .json = CLI_JSON,
        .min_args = 2,
        .max_args = 2,
        .option = act_option,
    };
    act_t a = { NULL, NULL, NULL };
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &a, &json);
    if (rc == CLI_GO_ON && !a.action) {
        cli_error ("exercise act: --action detected|blocked|mitigated|escalated is "
                   "required");
        rc = EXIT_USAGE;
    }
    if (rc != CLI_GO_ON)
        return rc;
    json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "action", "act", "name",
                              argv[optind], "inject", argv[optind + 1], "kind", a.action,
                              "note", a.note, "host", a.host);
    json_t *reply = cli_request (cli, IM_CTL_EXERCISE, body);
    json_decref (body);
    if (reply && json)
        cli_print_json (reply);
    else if (reply)
        printf ("%s recorded (acknowledgement version %lld)\n", a.action,
                (long long)json_integer_value (json_object_get (reply, "version")));
    json_decref (reply);
    return reply ? 0 : EXIT_FAIL;
}

static int
ex_end (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh exercise end [-d DIR] [--json] NAME\n"
        "Ends the exercise NAME this node hosts: every inject and the exercise\n"
        "itself are revoked everywhere; every node purges them once its\n"
        "exercise/retention (intelmesh.conf(5)) has passed.\n",
        1, 1, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *reply = simple (cli, "end", argv[optind], NULL);
    if (reply && json)
        cli_print_json (reply);
    else if (reply)
        printf (
            "exercise %s ended: %lld inject(s) revoked; purged after %lld s\n",
            json_string_value (json_object_get (reply, "name")),
            (long long)json_integer_value (json_object_get (reply, "injects_revoked")),
            (long long)json_integer_value (json_object_get (reply, "purge_after")));
    json_decref (reply);
    return reply ? 0 : EXIT_FAIL;
}

int cmd_exercise_score (im_cli_t *cli, int argc, char **argv);
int cmd_exercise_report (im_cli_t *cli, int argc, char **argv);
int cmd_exercise_run (im_cli_t *cli, int argc, char **argv);

const cli_command_t cmd_exercise_family[] = {
    { "create", ex_create, "make an exercise this node hosts", NULL },
    { "join", ex_join, "join an exercise held here", NULL },
    { "list", ex_list, "list the exercises held here", NULL },
    { "show", ex_show, "show an exercise and its injects", NULL },
    { "act", ex_act, "record what was done about an inject", NULL },
    { "score", cmd_exercise_score, "the scoreboard of an exercise this node hosts",
      NULL },
    { "report", cmd_exercise_report, "write the after-action report (MD, CSV, SVG)",
      NULL },
    { "run", cmd_exercise_run, "play a scenario file's injects at their times", NULL },
    { "end", ex_end, "end an exercise: revoke its injects everywhere", NULL },
    { NULL, NULL, NULL, NULL },
};
