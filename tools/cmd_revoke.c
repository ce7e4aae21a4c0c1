/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_revoke.c -- revoke: a signed tombstone for each of this node's
 * indicators named by id, in one REVOKE request. */
#include "config.h"

#include <stdlib.h>

#include "im_ctl.h"
#include "im_record.h"
#include "intelmesh.h"

int
cmd_revoke (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh revoke [-d DIR] [--json] ID...\n"
        "Revokes indicators this node published: a signed tombstone replaces\n"
        "each one and travels like any update. Only an indicator's origin can\n"
        "revoke it.\n",
        1, IM_CONTROL_BATCH_MAX, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *ids = json_array ();
    for (int i = optind; i < argc; i++) {
        uint8_t id[IM_ID_SIZE];
        if (im_id_parse (argv[i], id)) {
            cli_error ("revoke: '%s' is not an indicator id (a UUID)", argv[i]);
            json_decref (ids);
            return EXIT_USAGE;
        }
        json_array_append_new (ids, json_string (argv[i]));
    }
    json_t *body = json_pack ("{s:o}", "ids", ids);
    json_t *reply = cli_request (cli, IM_CTL_REVOKE, body);
    json_decref (body);
    if (!reply)
        return EXIT_FAIL;
    rc = 0;
    json_t *results = json_object_get (reply, "results");
    for (size_t i = 0; i < json_array_size (results); i++) {
        json_t *r = json_array_get (results, i);
        const char *status = json_string_value (json_object_get (r, "status"));
        const char *why = json_string_value (json_object_get (r, "error"));
        if (json)
            cli_print_json (r);
        else if (status)
            printf ("%s %s\n", json_string_value (json_object_get (r, "id")), status);
        if (!status) {
            cli_error ("revoke: %s: %s", argv[optind + (int)i], why ? why : "refused");
            rc = EXIT_FAIL;
        }
    }
    json_decref (reply);
    return rc;
}
