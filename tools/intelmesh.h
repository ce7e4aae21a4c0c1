/* SPDX-License-Identifier: MPL-2.0 */
/* intelmesh.h -- the intelmesh command's table of subcommands: each is
 * cmd_<name> (or a family's table, cmd_<name>_family) in tools/cmd_<file>.c,
 * and uses what im_cli.h shares. */
#ifndef INTELMESH_H
#define INTELMESH_H

#include "im_cli.h"

/* cmd_init.c */
int cmd_init (im_cli_t *cli, int argc, char **argv);
int cmd_id (im_cli_t *cli, int argc, char **argv);
int cmd_rotate_keys (im_cli_t *cli, int argc, char **argv);
/* cmd_status.c */
int cmd_status (im_cli_t *cli, int argc, char **argv);
/* cmd_publish.c */
int cmd_publish (im_cli_t *cli, int argc, char **argv);
int cmd_revoke (im_cli_t *cli, int argc, char **argv);
/* cmd_lookup.c */
int cmd_lookup (im_cli_t *cli, int argc, char **argv);
int cmd_list (im_cli_t *cli, int argc, char **argv);
int cmd_check (im_cli_t *cli, int argc, char **argv);
/* cmd_feed.c */
int cmd_tail (im_cli_t *cli, int argc, char **argv);
/* cmd_peer.c: peer add, remove, list, set, sent */
extern const cli_command_t cmd_peer_family[];
int cmd_reload (im_cli_t *cli, int argc, char **argv);
/* cmd_policy.c: policy set, list, show, remove */
extern const cli_command_t cmd_policy_family[];
int cmd_explain (im_cli_t *cli, int argc, char **argv);
/* cmd_import.c */
int cmd_import (im_cli_t *cli, int argc, char **argv);
/* cmd_export.c */
int cmd_export (im_cli_t *cli, int argc, char **argv);
/* cmd_taxii.c: taxii add-client, list, remove */
extern const cli_command_t cmd_taxii_family[];
extern const cli_command_t cmd_report_family[]; /* cmd_report.c */
/* cmd_exercise.c, cmd_exercise_run.c: exercise create, join, list, show,
 * act, score, report, run, end. cli_exercise_inject sends ITEM (a PUBLISH
 * item; its recipients become the inject's participants) or REPORT (a
 * REPORT create body's report) as an inject of exercise NAME and prints its
 * id. */
extern const cli_command_t cmd_exercise_family[];
int cli_exercise_inject (im_cli_t *cli, const char *name, json_t *item, json_t *report,
                         int json);
/* cmd_sight.c */
int cmd_sight (im_cli_t *cli, int argc, char **argv);
int cmd_sightings (im_cli_t *cli, int argc, char **argv);
/* cmd_stop.c */
int cmd_stop (im_cli_t *cli, int argc, char **argv);

#endif
