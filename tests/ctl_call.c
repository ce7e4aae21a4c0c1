/* SPDX-License-Identifier: MPL-2.0 */
/* ctl_call.c -- sends one raw control request, for tests that need a request
 * the CLI never makes (tests/t24-lookup-batch.sh): ctl_call DIR COMMAND reads
 * the JSON body from standard input and prints the reply, or the daemon's
 * refusal on standard error (exit 1); 2 on a usage error. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "im_client.h"

int
main (int argc, char **argv)
{
    im_ctl_cmd_t cmd;
    json_error_t jerr;
    char err[1024];
    if (argc != 3 || im_ctl_lookup (argv[2], strlen (argv[2]), &cmd)) {
        fprintf (stderr, "usage: ctl_call DIR COMMAND <BODY.json\n");
        return 2;
    }
    json_t *body = json_loadf (stdin, 0, &jerr);
    if (!json_is_object (body)) {
        fprintf (stderr, "ctl_call: the body is not a JSON object: %s\n", jerr.text);
        return 2;
    }
    im_client_t *client = im_client_new (argv[1], err, sizeof err);
    json_t *reply = client ? im_client_call (client, cmd, body, IM_CONTROL_TIMEOUT_MS,
                                             err, sizeof err)
                           : NULL;
    json_decref (body);
    im_client_destroy (&client);
    if (!reply) {
        fprintf (stderr, "ctl_call: %s\n", err);
        return 1;
    }
    char *text = json_dumps (reply, JSON_COMPACT);
    printf ("%s\n", text ? text : "");
    free (text);
    json_decref (reply);
    return 0;
}
