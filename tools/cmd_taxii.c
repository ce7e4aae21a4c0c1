/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_taxii.c -- the TAXII server's clients: `intelmesh taxii add-client|
 * list|remove`. Clients live in intelmesh.conf (`taxii-client` sections,
 * with a hash of their key, never the key); a change is written there and
 * the running node told to reload, so it takes effect at once. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "im_config.h"
#include "intelmesh.h"

/* Tells a running node, quietly under --json (its answer is not JSON). */
static int
taxii_tell (im_cli_t *cli, int json)
{
    if (!json)
        return cli_tell_daemon (cli);
    if (im_pidfile_holder (cli->dir) == 0)
        return 0;
    json_t *reply = cli_request (cli, IM_CTL_RELOAD, NULL);
    json_decref (reply);
    return reply ? 0 : EXIT_FAIL;
}

static int
add_option (void *ctx, int opt, const char *arg)
{
    if (opt == 'p')
        *(const char **)ctx = arg;
    return 0;
}

static int
add_client (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "policy", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh taxii add-client [-d DIR] [--policy P] [--json] NAME\n"
                 "Gives a TAXII client (OpenCTI, MISP, Sentinel, ...) access to this\n"
                 "node's TAXII server. It sees what policy P (default 'default') lets a\n"
                 "peer see; RED only when a record names it ('publish --to NAME').\n"
                 "Prints its key once: the HTTP Basic password, with NAME as the user.\n"
                 "Only a hash of the key is kept.\n",
        .shortopts = "p:",
        .options = options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 1,
        .args_error = "taxii add-client: give the client's name",
        .option = add_option,
    };
    const char *policy = IM_POLICY_DEFAULT;
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &policy, &json);
    if (rc != CLI_GO_ON)
        return rc;
    const char *name = argv[optind];
    if (!im_name_valid (name)) {
        cli_error ("taxii add-client: '%s' must be 1-64 letters, digits, '.', '_' or '-'",
                   name);
        return EXIT_USAGE;
    }
    im_config_t *cfg = cli_config (cli, "taxii add-client");
    if (!cfg)
        return EXIT_FAIL;
    int known = im_config_taxii_client (cfg, name) != NULL;
    int no_policy = im_config_policy (cfg, policy) == NULL;
    free (cfg);
    if (known || no_policy) {
        if (known)
            cli_error ("taxii add-client: %s is a client already ('taxii remove %s' "
                       "first to give it a new key)",
                       name, name);
        else
            cli_error ("taxii add-client: no policy named '%s' ('intelmesh policy list')",
                       policy);
        return EXIT_FAIL;
    }
    uint8_t key[IM_TAXII_KEY_SIZE], hash[32], id[IM_NODE_ID_SIZE];
    char key_hex[2 * IM_TAXII_KEY_SIZE + 1], hash_hex[65], id_hex[65], err[512];
    randombytes_buf (key, sizeof key);
    randombytes_buf (id, sizeof id);
    im_taxii_key_hash (key, hash);
    sodium_bin2hex (key_hex, sizeof key_hex, key, sizeof key);
    sodium_bin2hex (hash_hex, sizeof hash_hex, hash, sizeof hash);
    sodium_bin2hex (id_hex, sizeof id_hex, id, sizeof id);
    sodium_memzero (key, sizeof key);
    const char *keys[] = { "policy", "key-hash", "id" };
    const char *values[] = { policy, hash_hex, id_hex };
    if (im_config_section_set (cli->dir, "taxii-client", name, 1, keys, values, 3, err,
                               sizeof err)) {
        sodium_memzero (key_hex, sizeof key_hex);
        cli_error ("taxii add-client: %s", err);
        return EXIT_FAIL;
    }
    if (json) {
        json_t *o = json_pack ("{s:s, s:s, s:s, s:s}", "name", name, "policy", policy,
                               "key", key_hex, "id", id_hex);
        cli_print_json (o);
        json_decref (o);
    }
    else
        printf ("added TAXII client %s (policy %s)\n"
                "its key, shown this once (HTTP Basic: user %s, this password):\n"
                "  %s\n",
                name, policy, name, key_hex);
    sodium_memzero (key_hex, sizeof key_hex);
    return taxii_tell (cli, json);
}

static int
list_clients (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh taxii list [-d DIR] [--json]\n"
                                "Shows the TAXII server's address and its clients: "
                                "name, policy,\n"
                                "and the id that names a client as a recipient.\n",
                                0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    im_config_t *cfg = cli_config (cli, "taxii list");
    if (!cfg)
        return EXIT_FAIL;
    json_t *all = json_array ();
    for (size_t i = 0; all && i < cfg->ntaxii_clients; i++) {
        char id[65];
        sodium_bin2hex (id, sizeof id, cfg->taxii_clients[i].id, 32);
        json_array_append_new (all, json_pack ("{s:s, s:s, s:s}", "name",
                                               cfg->taxii_clients[i].name, "policy",
                                               cfg->taxii_clients[i].policy, "id", id));
    }
    if (json) {
        json_t *o
            = json_pack ("{s:s?, s:o}", "listen",
                         *cfg->taxii_listen ? cfg->taxii_listen : NULL, "clients", all);
        cli_print_json (o);
        json_decref (o);
    }
    else {
        printf ("TAXII server: %s\n",
                *cfg->taxii_listen ? cfg->taxii_listen : "off (no taxii section)");
        for (size_t i = 0; i < json_array_size (all); i++) {
            json_t *c = json_array_get (all, i);
            printf ("  %-20s policy %-16s id %s\n",
                    json_string_value (json_object_get (c, "name")),
                    json_string_value (json_object_get (c, "policy")),
                    json_string_value (json_object_get (c, "id")));
        }
        json_decref (all);
    }
    free (cfg);
    return 0;
}

static int
remove_client (im_cli_t *cli, int argc, char **argv)
{
    int rc = cli_basic_options (cli, argc, argv,
                                "Usage: intelmesh taxii remove [-d DIR] NAME\n"
                                "Takes a TAXII client's access away; a running node "
                                "refuses its key at once.\n",
                                1, 1, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    char err[512];
    if (im_config_section_remove (cli->dir, "taxii-client", argv[optind], err,
                                  sizeof err)) {
        cli_error ("taxii remove: %s", err);
        return EXIT_FAIL;
    }
    printf ("removed TAXII client %s\n", argv[optind]);
    return cli_tell_daemon (cli);
}

const cli_command_t cmd_taxii_family[] = {
    { "add-client", add_client, "give a TAXII client a key and a sharing policy", NULL },
    { "list", list_clients, "show the TAXII server and its clients", NULL },
    { "remove", remove_client, "take a TAXII client's access away", NULL },
    { NULL, NULL, NULL, NULL },
};
