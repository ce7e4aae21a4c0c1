/* SPDX-License-Identifier: MPL-2.0 */
/* sealer.h -- what tests/sealer.c (a hostile trusted peer: links, signing,
 * delivery) shares with tests/sealer_exercise.c (the joint-exercise records
 * it crafts for t66). Test code: a failure ends the program. */
#ifndef IM_SEALER_H
#define IM_SEALER_H

#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "im_msg.h"
#include "im_record.h"
#include "peerkit.h"

#define EXIT_FAILED 1
#define EXIT_SETUP 2
#define RECORDS_MAX 20000              /* records one run sends, at most */
#define VALUE_AT (IM_RECORD_FIXED + 2) /* the value's first byte in a body */
#define ID_AT (4 + IM_NODE_ID_SIZE)    /* the id's first byte */

extern im_msg_t msg;                /* the message last received or to send */
extern keys_t me;                   /* the sealer's keys (--keys) */
extern uint8_t to[IM_NODE_ID_SIZE]; /* --to */
extern int have_to;

void fail (int code, const char *fmt, ...)
    __attribute__ ((noreturn, format (printf, 2, 3)));
/* Adds LEN bytes of BUF to what the run sends (at most RECORDS_MAX). */
void keep (const uint8_t *buf, size_t len);
/* REC signed with the sealer's key into BUF; its length. */
size_t sign (im_record_t *rec, uint8_t *buf);
/* BODY bytes of BUF signed again; the record's length. */
size_t resign (uint8_t *buf, size_t body);
/* REC (encoded in BUF, LEN bytes) with its items replaced, signed again. */
size_t with_ext (const im_record_t *rec, uint8_t *buf, size_t len, uint8_t count,
                 const uint8_t *ext, size_t ext_len);
zsock_t *link_up (const char *endpoint, const char *server_hex);
void send_msg (zsock_t *d);
int next_msg (zsock_t *d, int64_t deadline);
void put64 (uint8_t *p, uint64_t v);

/* The exercise options (argv[*i], and its argument): 1 when taken. */
int sx_option (int argc, char **argv, int *i);
/* Makes the records of exercise KIND (N of a flood); SOURCE for capture
 * (which writes its file and exits). 0, or -1 when KIND is none of them. */
int sx_kind (const char *kind, long n, zsock_t *source);
/* The exercise kinds and options, for the usage. */
void sx_usage (void);

#endif
