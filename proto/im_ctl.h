/* SPDX-License-Identifier: MPL-2.0 */
/* im_ctl.h -- the control protocol's codec (SPEC.md, "The control protocol"):
 * the command table, the two-frame requests and replies, and the limits that
 * the node and the CLI both enforce. */
#ifndef IM_CTL_H
#define IM_CTL_H

#include <stddef.h>

#include <czmq.h>
#include <jansson.h>

#include "im_record.h"

/* The commands, in the order of SPEC.md's sections. */
typedef enum {
    IM_CTL_PUBLISH,
    IM_CTL_REVOKE,
    IM_CTL_LOOKUP,
    IM_CTL_LIST,
    IM_CTL_STATUS,
    IM_CTL_PEERS,
    IM_CTL_EXPLAIN,
    IM_CTL_SENT,
    IM_CTL_CHECK,
    IM_CTL_ROTATE,
    IM_CTL_RELOAD,
    IM_CTL_REPORT,
    IM_CTL_SIGHT,
    IM_CTL_SIGHTINGS,
    IM_CTL_EXERCISE,
    IM_CTL_COUNT
} im_ctl_cmd_t;

#define IM_CONTROL_FILE "control.sock"  /* in the data directory */
#define IM_CONTROL_BATCH_MAX 1000       /* indicators per PUBLISH or REVOKE */
#define IM_CONTROL_LIST_MAX 1000        /* records per LIST reply */
#define IM_CONTROL_LOOKUP_MAX 1000      /* values per batch LOOKUP */
#define IM_CONTROL_MATCHES_MAX 10000    /* matches per batch LOOKUP reply */
#define IM_CONTROL_MSG_MAX (16 << 20)   /* bytes per request frame */
#define IM_CONTROL_REPLY_MAX (64 << 20) /* bytes per reply frame (CLI) */
#define IM_CONTROL_HWM 100              /* messages queued each way */
#define IM_CONTROL_TIMEOUT_MS 120000    /* the CLI waits this long for a reply */
#define IM_CONTROL_NAME_MAX 9           /* longest command name */

/* The wire name of CMD ("PUBLISH"), or NULL when CMD is not a command. */
const char *im_ctl_name (im_ctl_cmd_t cmd);

/* The command named by the LEN bytes at NAME, compared exactly (case
 * included). Returns 0, or -1 with errno EINVAL. */
int im_ctl_lookup (const void *name, size_t len, im_ctl_cmd_t *cmd);

/* A request: [command][JSON object]. Returns a new message, or NULL with
 * errno (EINVAL: CMD unknown or BODY not an object; ENOMEM). */
zmsg_t *im_ctl_request_encode (im_ctl_cmd_t cmd, const json_t *body);

/* Takes a request's frames (any routing envelope already popped) and checks
 * them: exactly two frames, a known command, a body that is one JSON object
 * without duplicated keys. Returns 0 with *CMD and *BODY (the caller's), or
 * -1 with errno EPROTO and the reason in ERR. The command as received, made
 * printable and cut to IM_CONTROL_NAME_MAX + 1 characters, is written to
 * SHOWN (at least IM_CONTROL_NAME_MAX + 2 bytes; "?" when absent) for logs. */
int im_ctl_request_decode (zmsg_t *msg, im_ctl_cmd_t *cmd, json_t **body, char *shown,
                           char *err, size_t errsz);

/* A PUBLISH item's own keys, beside its record's content (SPEC.md,
 * "PUBLISH"): ID when HAS_ID, REVOKE, FORCE (and "source", only checked). */
typedef struct {
    uint8_t id[IM_ID_SIZE];
    int has_id, revoke, force;
} im_ctl_item_t;

/* Checks ITEM's own keys into OUT and returns its content: a new reference
 * to ITEM when it holds none of them, else a copy without them; or NULL
 * with the reason in WHY. The node and the CLI split items alike. */
json_t *im_ctl_item_split (json_t *item, im_ctl_item_t *out, char *why, size_t whysz);

/* The batch form of LOOKUP: BODY's "values", an array of 1 to
 * IM_CONTROL_LOOKUP_MAX objects, without a "value" beside it. Returns how
 * many, 0 when BODY has no "values" (the single form), or -1 with errno
 * EPROTO and the reason in ERR. */
int im_ctl_lookup_values (const json_t *body, char *err, size_t errsz);

/* A reply: ["OK"][object] when OK, else ["ERROR"][{"error": REASON}].
 * Returns a new message, or NULL with errno. */
zmsg_t *im_ctl_reply_encode (const json_t *body, const char *error);

/* Reads a reply. Returns 0 with *BODY (the caller's) for "OK"; -1 with errno
 * EPROTO and the daemon's reason in ERR for "ERROR", or the reason a
 * malformed reply was refused. */
int im_ctl_reply_decode (zmsg_t *msg, json_t **body, char *err, size_t errsz);

/* A JSON text written piece by piece, for the batch LOOKUP's request and
 * reply (no json_t per value): it grows up to MAX bytes. A piece that does
 * not fit (or no memory) marks it failed, with errno ENOSPC (ENOMEM), and
 * later pieces are ignored. */
typedef struct {
    char *data;
    size_t len, cap, max;
    int failed; /* 0, or the errno of the first piece that did not fit */
} im_ctl_text_t;

void im_ctl_text_init (im_ctl_text_t *self, size_t max);
/* Frees the text and makes SELF empty again (NULL-safe). */
void im_ctl_text_free (im_ctl_text_t *self);
/* Appends the N bytes at S as they are. */
void im_ctl_text_raw (im_ctl_text_t *self, const char *s, size_t n);
/* Appends S as a JSON string: quoted, with '"', '\\' and the bytes below
 * 0x20 escaped (S is UTF-8; its other bytes are copied); NULL as null. */
void im_ctl_text_str (im_ctl_text_t *self, const char *s);
/* Appends a whole number. */
void im_ctl_text_int (im_ctl_text_t *self, long long n);
/* Returns 0, or -1 with errno (ENOSPC, ENOMEM) when a piece was lost. */
int im_ctl_text_check (const im_ctl_text_t *self);

/* A request or an OK reply whose body is the JSON object already written in
 * TEXT (LEN bytes; not checked here: the receiver checks as ever). Returns a
 * new message, or NULL with errno (EINVAL: CMD unknown or no text; ENOMEM). */
zmsg_t *im_ctl_request_text (im_ctl_cmd_t cmd, const char *text, size_t len);
zmsg_t *im_ctl_reply_text (const char *text, size_t len);

#endif
