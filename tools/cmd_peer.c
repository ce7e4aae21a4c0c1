/* cmd_peer.c -- the trust list: `intelmesh peer add|remove|list` and
 * `intelmesh reload` (peer set and peer sent are in cmd_policy.c). The list lives in intelmesh.conf; a change is written
 * there, then the running node is told to reload, so it takes effect within
 * a second and survives restarts. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "im_config.h"
#include "intelmesh.h"

int
cli_tell_daemon (im_cli_t *cli)
{
    if (im_pidfile_holder (cli->dir) == 0) {
        printf ("intelmeshd is not running: the change applies when it starts\n");
        return 0;
    }
    im_client_t *client = cli_connect (cli);
    json_t *body = json_object ();
    json_t *reply = client ? cli_call (client, IM_CTL_RELOAD, body) : NULL;
    json_decref (body);
    im_client_destroy (&client);
    if (!reply)
        return EXIT_FAIL;
    const char *note = json_string_value (json_object_get (reply, "note"));
    printf ("the running node now has %lld peers%s%s\n",
            (long long) json_integer_value (json_object_get (reply, "peers")),
            note ? "; " : "", note ? note : "");
    json_decref (reply);
    return 0;
}

static int
peer_add (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' }, { "name", required_argument, NULL, 'n' },
        { "endpoint", required_argument, NULL, 'e' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *name = NULL, *endpoint = NULL;
    int c;
    while ((c = getopt_long (argc, argv, "d:n:e:h", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'n': name = optarg; break;
        case 'e': endpoint = optarg; break;
        case 'h':
            printf ("Usage: intelmesh peer add [-d DIR] [--name NAME] [--endpoint ENDPOINT] CARD\n"
                    "Puts a partner on the trust list. CARD is the line its 'intelmesh id'\n"
                    "prints (quote it). --name overrides the card's name here;\n"
                    "--endpoint overrides where to dial it ('-': it only dials in).\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error ("peer add: give the partner's card, quoted (see --help)");
        return EXIT_USAGE;
    }
    im_peer_conf_t peer;
    char err[512];
    memset (&peer, 0, sizeof peer);
    if (im_card_parse (argv[optind], &peer.card, err, sizeof err)) {
        cli_error ("peer add: %s", err);
        return EXIT_USAGE;
    }
    if (name) {
        if (!im_name_valid (name)) {
            cli_error ("peer add: --name '%s' must be 1-64 letters, digits, '.', '_' or '-'",
                       name);
            return EXIT_USAGE;
        }
        snprintf (peer.card.name, sizeof peer.card.name, "%s", name);
    }
    if (endpoint && strcmp (endpoint, "-") != 0
        && (!im_endpoint_valid (endpoint) || strncmp (endpoint, "tcp://", 6) != 0)) {
        cli_error ("peer add: --endpoint '%s' is not tcp://HOST:PORT (or '-')", endpoint);
        return EXIT_USAGE;
    }
    snprintf (peer.endpoint, sizeof peer.endpoint, "%s",
              endpoint ? (strcmp (endpoint, "-") ? endpoint : "") : peer.card.endpoint);
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    im_config_t *own = malloc (sizeof *own);
    if (!own || im_config_load (cli->dir, own, err, sizeof err)) {
        cli_error ("%s", own ? err : "out of memory");
        free (own);
        return EXIT_FAIL;
    }
    free (own);
    if (im_config_peer_add (cli->dir, &peer, err, sizeof err)) {
        cli_error ("peer add: %s", err);
        return EXIT_FAIL;
    }
    printf ("added %s to the trust list%s%s\n", peer.card.name,
            *peer.endpoint ? ", dialling " : " (it dials in)",
            *peer.endpoint ? peer.endpoint : "");
    return cli_tell_daemon (cli);
}

static int
peer_remove (im_cli_t *cli, int argc, char **argv)
{
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh peer remove [-d DIR] NAME\n"
                                "Takes a partner off the trust list; a running node drops its\n"
                                "connection at once and refuses its key from then on.\n",
                                1, 1, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    char err[512];
    if (im_config_peer_remove (cli->dir, argv[optind], err, sizeof err)) {
        cli_error ("peer remove: %s", err);
        return EXIT_FAIL;
    }
    printf ("removed %s from the trust list\n", argv[optind]);
    return cli_tell_daemon (cli);
}

static void
print_peer (json_t *p)
{
    const char *contact = json_string_value (json_object_get (p, "last_contact"));
    printf ("peer %s\n", json_string_value (json_object_get (p, "name")));
    printf ("  node          %s\n", json_string_value (json_object_get (p, "node")));
    const char *endpoint = json_string_value (json_object_get (p, "endpoint"));
    printf ("  endpoint      %s\n", endpoint && *endpoint ? endpoint : "(it dials in)");
    printf ("  state         %s\n",
            json_is_true (json_object_get (p, "connected")) ? "connected" : "down");
    printf ("  last contact  %s\n", contact ? contact : "never");
    printf ("  lag           %lld changes behind it, it is %lld behind us\n",
            (long long) json_integer_value (json_object_get (p, "lag_in")),
            (long long) json_integer_value (json_object_get (p, "lag_out")));
    printf ("  indicators    %lld received, %lld sent, %lld already held\n",
            (long long) json_integer_value (json_object_get (p, "received")),
            (long long) json_integer_value (json_object_get (p, "sent")),
            (long long) json_integer_value (json_object_get (p, "known")));
    const char *key;
    json_t *v;
    int any = 0;
    printf ("  refused      ");
    json_object_foreach (json_object_get (p, "refused"), key, v) {
        printf ("%s %s %lld", any ? "," : "", key, (long long) json_integer_value (v));
        any = 1;
    }
    printf ("%s\n", any ? "" : " none");
}

static int
peer_list (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh peer list [-d DIR] [--json]\n"
                                "Shows each peer: connected or down, last contact, lag each\n"
                                "way, indicators sent and received, refusals by reason.\n",
                                0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    im_client_t *client = cli_connect (cli);
    json_t *body = json_object ();
    json_t *reply = client ? cli_call (client, IM_CTL_PEERS, body) : NULL;
    json_decref (body);
    im_client_destroy (&client);
    if (!reply)
        return EXIT_FAIL;
    json_t *peers = json_object_get (reply, "peers");
    if (json)
        cli_print_json (peers);
    else if (json_array_size (peers) == 0)
        printf ("no peers: add one with 'intelmesh peer add CARD'\n");
    else
        for (size_t i = 0; i < json_array_size (peers); i++)
            print_peer (json_array_get (peers, i));
    json_decref (reply);
    return 0;
}

int
cmd_peer (im_cli_t *cli, int argc, char **argv)
{
    static const struct {
        const char *name;
        cmd_fn *fn;
    } subs[] = { { "add", peer_add },   { "remove", peer_remove }, { "list", peer_list },
                 { "set", peer_set },   { "sent", peer_sent },     { NULL, NULL } };
    if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
        printf ("Usage: intelmesh peer add|remove|list|set|sent [OPTIONS] (see 'intelmesh "
                "peer add --help')\n");
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (int i = 0; subs[i].name; i++)
        if (strcmp (argv[1], subs[i].name) == 0)
            return subs[i].fn (cli, argc - 1, argv + 1);
    cli_error ("peer: unknown subcommand '%s' (add, remove, list, set or sent)", argv[1]);
    return EXIT_USAGE;
}

int
cmd_reload (im_cli_t *cli, int argc, char **argv)
{
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh reload [-d DIR]\n"
                                "Makes the running node read intelmesh.conf again (as SIGHUP\n"
                                "does). A file that does not load changes nothing.\n",
                                0, 0, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    if (im_pidfile_holder (cli->dir) == 0) {
        cli_error ("intelmeshd is not running on %s (start it with 'intelmeshd -d %s')",
                   cli->dir, cli->dir);
        return EXIT_FAIL;
    }
    return cli_tell_daemon (cli);
}
