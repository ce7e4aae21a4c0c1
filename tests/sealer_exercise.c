/* SPDX-License-Identifier: MPL-2.0 */
/* sealer_exercise.c -- the joint-exercise records tests/sealer crafts for
 * tests/t66-exercise-attacks.sh (SPEC.md, "Exercises"): injects of its own
 * or forged, acknowledgements (good, in versions, skewed, flooded, for
 * nothing) and malformed ones, exercises of its own, and another node's
 * exercise records captured to a file and replayed later. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "im_ioc.h"
#include "im_sight.h"
#include "sealer.h"

#define ACK_DATA_MAX (8 + 9 * (IM_ACK_ACTIONS_MAX + 8)) /* 40 actions at most */

static const char *exercise = "drill";  /* --exercise NAME */
static const char *inject;              /* --inject HOSTHEX/UUID */
static long actions;                    /* --actions N (0 to 40) */
static long versions = 1;               /* --versions N */
static int64_t received;                /* --received EPOCH (0: now) */
static const char *save, *load;         /* --save FILE, --load FILE */
static uint8_t forged[IM_NODE_ID_SIZE]; /* --origin HEX */
static uint8_t buf[IM_RECORD_MAX];

void
sx_usage (void)
{
    fprintf (stderr,
             "Exercise records of its own (--exercise NAME, --to NODE-HEX):\n"
             "  inject        an inject of NAME (it hosts nothing: not the host's)\n"
             "  inject-forged that inject claiming --origin HEX, signed by itself\n"
             "  exercises N   N exercises of its own naming --to\n"
             "  ack           its ack of --inject HOST/UUID: --actions N, --received\n"
             "                EPOCH, --versions N (versions 1..N, the last with N)\n"
             "  ack-missing N acks of N made-up injects of --inject's host\n"
             "  ack-flood N   N acks of --inject under random ids, 32 actions each\n"
             "Malformed (printed: 'sealer: decoder: WHY'):\n"
             "  inject-ackitem  an inject holding an ack item, no exercise item\n"
             "  exercise-extra  an exercise holding an exercise-name item too\n"
             "  exercise-randid  an exercise whose id is not its name's\n"
             "  inject-upper  an inject whose kind is in upper case\n"
             "  ack-noack  ack-33  ack-badkind  ack-disorder  ack-year  ack-randid\n"
             "Another node's: capture (--source, --save FILE: its exercise and\n"
             "  inject records it gives us), replay (--load FILE).\n");
}

int
sx_option (int argc, char **argv, int *i)
{
    const char *o = argv[*i];
    if (*i + 1 >= argc)
        return 0;
    const char *a = argv[*i + 1];
    if (strcmp (o, "--exercise") == 0)
        exercise = a;
    else if (strcmp (o, "--inject") == 0)
        inject = a;
    else if (strcmp (o, "--actions") == 0 && (actions = strtol (a, NULL, 10)) >= 0
             && actions <= IM_ACK_ACTIONS_MAX + 8)
        ;
    else if (strcmp (o, "--versions") == 0 && (versions = strtol (a, NULL, 10)) >= 1
             && versions <= 1000)
        ;
    else if (strcmp (o, "--received") == 0)
        received = strtoll (a, NULL, 10);
    else if (strcmp (o, "--save") == 0)
        save = a;
    else if (strcmp (o, "--load") == 0)
        load = a;
    else if (strcmp (o, "--origin") == 0) {
        if (im_node_parse (a, forged))
            fail (EXIT_SETUP, "--origin: not 64 hex digits");
    }
    else
        return 0;
    (*i)++;
    return 1;
}

/* Keeps LEN bytes of BUF, printing why the decoder refuses them, if it does. */
static void
keep_said (const uint8_t *b, size_t len)
{
    static im_record_t r;
    char why[256];
    if (im_record_decode (b, len, 1, &r, why, sizeof why) != 0)
        printf ("sealer: decoder: %s\n", why);
    keep (b, len);
}

static void
init_own (im_record_t *r, int type, int tlp)
{
    im_record_init (r);
    memcpy (r->origin, me.pk, IM_NODE_ID_SIZE);
    im_id_generate (r->id);
    r->type = (uint8_t)type;
    r->tlp = (uint8_t)tlp;
    r->reach = IM_REACH_UNLIMITED;
    r->no_detect = 1;
    r->created = r->modified = (int64_t)time (NULL);
    if (have_to)
        memcpy (r->recipients[r->nrecipients++], to, IM_NODE_ID_SIZE);
}

static void
add (im_record_t *r, int key, const void *d, size_t n)
{
    char err[256];
    if (im_record_add_ext (r, key, d, n, err, sizeof err))
        fail (EXIT_SETUP, "%s", err);
}

/* Its own inject of --exercise into BUF (R its record); the length. */
static size_t
own_inject (im_record_t *r)
{
    init_own (r, IM_TYPE_INJECT, IM_TLP_GREEN);
    snprintf (r->value, sizeof r->value, "domain i%08x.sealer.example",
              (unsigned)randombytes_random ());
    add (r, IM_EXT_EXERCISE, exercise, strlen (exercise));
    char id[IM_ID_STR_SIZE];
    im_id_format (r->id, id);
    printf ("sealer: inject %s %s\n", r->value + 7, id);
    return sign (r, buf);
}

/* An ack item: the receipt, then N actions of kinds 1..4 a second apart. */
static size_t
ack_data (uint8_t *d, int64_t at, long n)
{
    put64 (d, (uint64_t)at);
    for (long i = 0; i < n; i++) {
        d[8 + 9 * i] = (uint8_t)(1 + i % 4);
        put64 (d + 8 + 9 * i + 1, (uint64_t)(at + 1 + i));
    }
    return 8 + 9 * (size_t)n;
}

/* Its ack of inject VALUE (HOST/UUID), version V, with N actions, into BUF
 * (R its record); the length. */
static size_t
own_ack (im_record_t *r, const char *value, uint64_t v, long n)
{
    uint8_t host[IM_NODE_ID_SIZE], id[IM_ID_SIZE], d[ACK_DATA_MAX];
    char name[8 + IM_SIGHTING_VALUE_SIZE];
    if (!value || im_sighting_parse (value, host, id))
        fail (EXIT_SETUP, "acks need --inject HOSTHEX/UUID (lower case)");
    have_to = 0;
    init_own (r, IM_TYPE_ACK, IM_TLP_RED);
    memcpy (r->recipients[r->nrecipients++], host, IM_NODE_ID_SIZE);
    snprintf (r->value, sizeof r->value, "%s", value);
    snprintf (name, sizeof name, "ack %s", value);
    im_id_from_name (name, strlen (name), r->id);
    r->version = v;
    add (r, IM_EXT_EXERCISE, exercise, strlen (exercise));
    size_t dn = ack_data (d, received ? received : (int64_t)time (NULL),
                          n > IM_ACK_ACTIONS_MAX ? IM_ACK_ACTIONS_MAX : n);
    add (r, IM_EXT_ACK, d, dn);
    return sign (r, buf);
}

/* The items of R (in BUF, LEN bytes) replaced: its exercise item, then an
 * ack item of D (N bytes), or only the exercise item when N is 0. */
static size_t
with_ack (const im_record_t *r, size_t len, const uint8_t *d, size_t n)
{
    uint8_t ext[3 + IM_EXERCISE_NAME_MAX + 3 + ACK_DATA_MAX];
    size_t el = strlen (exercise), at = 0;
    ext[at++] = IM_EXT_EXERCISE;
    ext[at++] = 0;
    ext[at++] = (uint8_t)el;
    memcpy (ext + at, exercise, el);
    at += el;
    if (n) {
        ext[at++] = IM_EXT_ACK;
        ext[at++] = (uint8_t)(n >> 8);
        ext[at++] = (uint8_t)n;
        memcpy (ext + at, d, n);
        at += n;
    }
    return with_ext (r, buf, len, n ? 2 : 1, ext, at);
}

/* The malformed acks of KIND; 0, or -1 for another kind. */
static int
bad_ack (const char *kind)
{
    static const char *const kinds[] = { "ack-noack",    "ack-33",   "ack-badkind",
                                         "ack-disorder", "ack-year", "ack-randid" };
    static im_record_t r;
    uint8_t d[ACK_DATA_MAX];
    int64_t now = (int64_t)time (NULL);
    size_t i = 0, n;
    while (i < sizeof kinds / sizeof *kinds && strcmp (kind, kinds[i]))
        i++;
    if (i == sizeof kinds / sizeof *kinds)
        return -1;
    size_t len = own_ack (&r, inject, 1, 2);
    if (strcmp (kind, "ack-noack") == 0)
        len = with_ack (&r, len, d, 0);
    else if (strcmp (kind, "ack-33") == 0)
        len = with_ack (&r, len, d, ack_data (d, now, IM_ACK_ACTIONS_MAX + 1));
    else if (strcmp (kind, "ack-badkind") == 0) {
        n = ack_data (d, now, 2);
        d[8] = 7;
        len = with_ack (&r, len, d, n);
    }
    else if (strcmp (kind, "ack-disorder") == 0) {
        n = ack_data (d, now, 2);
        put64 (d + 8 + 9 + 1, (uint64_t)(now - 100));
        len = with_ack (&r, len, d, n);
    }
    else if (strcmp (kind, "ack-year") == 0)
        len = with_ack (&r, len, d, ack_data (d, INT64_C (1) << 40, 2)); /* year 36812 */
    else {
        randombytes_buf (buf + ID_AT, IM_ID_SIZE); /* ack-randid */
        len = resign (buf, len - IM_BATCH_AUTH);
    }
    keep_said (buf, len);
    return 0;
}

/* Another node's exercise and inject records from SOURCE, into --save. */
static void
capture (zsock_t *source)
{
    static im_record_t r;
    FILE *f = save && source ? fopen (save, "wb") : NULL;
    if (!f)
        fail (EXIT_SETUP, "capture needs --source and --save FILE");
    int64_t deadline = zclock_mono () + 30000;
    size_t got = 0;
    int id;
    while ((id = next_msg (source, deadline)) != 0) {
        for (size_t i = 0; id == IM_MSG_RECORDS && i < msg.count; i++) {
            const im_msg_entry_t *e = &msg.entries[i];
            if (im_record_decode (e->record, e->len, 1, &r, NULL, 0) == 0
                && (r.type == IM_TYPE_EXERCISE || r.type == IM_TYPE_INJECT)
                && memcmp (r.origin, me.pk, IM_NODE_ID_SIZE) != 0) {
                uint32_t n = (uint32_t)e->len;
                fwrite (&n, sizeof n, 1, f);
                fwrite (e->record, 1, e->len, f);
                printf ("sealer: captured %s %s\n", im_type_name (r.type), r.value);
                got++;
            }
        }
        if (id == IM_MSG_RECORDS && got && !(msg.more & IM_MSG_MORE))
            break;
        if (id == IM_MSG_HELLO || id == IM_MSG_RECORDS) {
            uint64_t cursor = id == IM_MSG_RECORDS ? msg.cursor : 0;
            memset (&msg, 0, offsetof (im_msg_t, entries));
            msg.id = IM_MSG_PULL;
            msg.cursor = cursor;
            msg.credit = IM_MSG_CREDIT_MAX;
            send_msg (source);
        }
    }
    if (fclose (f) || !got)
        fail (EXIT_FAILED, "capture: the source gave no exercise record");
    printf ("sealer: captured %zu record(s)\n", got);
    exit (0);
}

static void
replay (void)
{
    FILE *f = load ? fopen (load, "rb") : NULL;
    uint32_t n;
    if (!f)
        fail (EXIT_SETUP, "replay needs --load FILE (made by capture)");
    while (fread (&n, sizeof n, 1, f) == 1 && n <= sizeof buf
           && fread (buf, 1, n, f) == n)
        keep (buf, n);
    fclose (f);
}

/* An exercise of its own named NAME, naming --to, from now for an hour,
 * into BUF (R its record); the length. */
static size_t
own_exercise (im_record_t *r, const char *name)
{
    uint8_t w[16];
    char idname[16 + IM_EXERCISE_NAME_MAX + 1];
    int64_t now = (int64_t)time (NULL);
    put64 (w, (uint64_t)now);
    put64 (w + 8, (uint64_t)(now + 3600));
    init_own (r, IM_TYPE_EXERCISE, IM_TLP_AMBER);
    snprintf (r->value, sizeof r->value, "%s", name);
    snprintf (idname, sizeof idname, "exercise %s", name);
    im_id_from_name (idname, strlen (idname), r->id);
    add (r, IM_EXT_WINDOW, w, sizeof w);
    return sign (r, buf);
}

/* N exercises of its own naming --to. */
static void
exercises (long n)
{
    static im_record_t r;
    char name[IM_EXERCISE_NAME_MAX + 1];
    unsigned tag = (unsigned)randombytes_random ();
    for (long i = 0; i < n; i++) {
        snprintf (name, sizeof name, "offer-%08x-%ld", tag, i);
        keep (buf, own_exercise (&r, name));
    }
}

/* An inject of its own (forged: claiming --origin) or one holding an ack
 * item instead of its exercise item, or an exercise holding a name item. */
static int
injects (const char *kind)
{
    static im_record_t r;
    size_t len;
    if (strcmp (kind, "inject") == 0)
        keep (buf, own_inject (&r));
    else if (strcmp (kind, "inject-forged") == 0) {
        len = own_inject (&r);
        memcpy (buf + 4, forged, IM_NODE_ID_SIZE); /* the signature stays its own */
        keep_said (buf, len);
    }
    else if (strcmp (kind, "inject-ackitem") == 0) {
        uint8_t ext[3 + 8];
        len = own_inject (&r);
        ext[0] = IM_EXT_ACK;
        ext[1] = 0;
        ext[2] = 8;
        put64 (ext + 3, (uint64_t)time (NULL));
        keep_said (buf, with_ext (&r, buf, len, 1, ext, sizeof ext));
    }
    else if (strcmp (kind, "inject-upper") == 0) {
        len = own_inject (&r); /* "domain X": "DOMAIN X", signed again */
        memcpy (buf + VALUE_AT, "DOMAIN", 6);
        keep_said (buf, resign (buf, len - IM_BATCH_AUTH));
    }
    else if (strcmp (kind, "exercise-randid") == 0) {
        len = own_exercise (&r, exercise);
        randombytes_buf (buf + ID_AT, IM_ID_SIZE);
        keep_said (buf, resign (buf, len - IM_BATCH_AUTH));
    }
    else if (strcmp (kind, "exercise-extra") == 0) {
        len = own_exercise (&r, exercise);
        /* Its window item, after an exercise-name item. */
        uint8_t ext[3 + IM_EXERCISE_NAME_MAX + 3 + 16];
        size_t el = strlen (exercise), at = 0;
        ext[at++] = IM_EXT_EXERCISE;
        ext[at++] = 0;
        ext[at++] = (uint8_t)el;
        memcpy (ext + at, exercise, el);
        at += el;
        memcpy (ext + at, r.ext, r.ext_len);
        at += r.ext_len;
        keep_said (buf, with_ext (&r, buf, len, 2, ext, at));
    }
    else
        return -1;
    return 0;
}

int
sx_kind (const char *kind, long n, zsock_t *source)
{
    static im_record_t r;
    if (strcmp (kind, "capture") == 0)
        capture (source);
    if (strcmp (kind, "replay") == 0) {
        replay ();
        return 0;
    }
    if (strcmp (kind, "exercises") == 0) {
        exercises (n);
        return 0;
    }
    if (injects (kind) == 0)
        return 0;
    if (strcmp (kind, "ack") == 0) {
        for (long v = 1; v <= versions; v++)
            keep (buf, own_ack (&r, inject, (uint64_t)v,
                                v == versions ? actions : (v - 1) % (actions + 1)));
        return 0;
    }
    if (strcmp (kind, "ack-missing") == 0 || strcmp (kind, "ack-flood") == 0) {
        int missing = kind[4] == 'm';
        char value[IM_SIGHTING_VALUE_SIZE];
        uint8_t host[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
        if (!inject || im_sighting_parse (inject, host, id))
            fail (EXIT_SETUP, "acks need --inject HOSTHEX/UUID (lower case)");
        for (long i = 0; i < n; i++) {
            if (missing)
                im_id_generate (id);
            im_sighting_value (host, id, value);
            size_t len = own_ack (&r, value, 1, missing ? 1 : IM_ACK_ACTIONS_MAX);
            if (!missing) {
                randombytes_buf (buf + ID_AT, IM_ID_SIZE);
                len = resign (buf, len - IM_BATCH_AUTH);
            }
            keep (buf, len);
        }
        return 0;
    }
    return bad_ack (kind);
}
