/* SPDX-License-Identifier: MPL-2.0 */
/* test_store.c -- unit tests for lib/im_store*.c: argument checks, versions, revocation,
 * look-ups (CIDR, long values), listing, the change log, counters, reopening, growth,
 * the size limit and a full disk. */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "im_report.h"
#include "im_store.h"
#include "im_store_int.h" /* store_error: LMDB's and the system's codes */
#include "im_time.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))
#define HITS_MAX 64

/* An origin: an Ed25519 key pair whose public half is the node id. */
typedef struct {
    uint8_t pk[IM_NODE_ID_SIZE];
    uint8_t sk[IM_SECRET_KEY_SIZE];
} origin_t;

/* A record, decoded and signed. */
typedef struct {
    im_record_t rec;
    uint8_t blob[IM_RECORD_MAX];
    size_t len;
} signed_t;

/* What a walk (look-up, list, changes) handed to its callback. */
typedef struct {
    size_t calls;
    size_t stop_after; /* stop the walk after this many calls; 0: never */
    size_t bad_blobs;  /* blobs that do not verify or do not match the record */
    struct {
        uint8_t origin[IM_NODE_ID_SIZE];
        uint8_t id[IM_ID_SIZE];
        uint64_t version;
        int op, type, tlp;
    } hit[HITS_MAX];
    char first_value[IM_VALUE_MAX + 1];
} found_t;

/* --- Helpers ------------------------------------------------------------ */

static void
origin_new (origin_t *o)
{
    crypto_sign_keypair (o->pk, o->sk);
}

static signed_t *
signed_alloc (size_t n)
{
    signed_t *s = calloc (n, sizeof *s);
    if (!s)
        BAIL_OUT ("out of memory");
    return s;
}

/* Fills S with a record of origin O: ID at VERSION with OP, TYPE, TLP, a
 * canonical VALUE and DESC, signed. A record that cannot be signed is a fault
 * of the test itself: bail out. */
static signed_t *
make (signed_t *s, const origin_t *o, const uint8_t id[IM_ID_SIZE], uint64_t version,
      int op, int type, int tlp, const char *value, const char *desc)
{
    char err[256];
    im_record_init (&s->rec);
    memcpy (s->rec.origin, o->pk, IM_NODE_ID_SIZE);
    memcpy (s->rec.id, id, IM_ID_SIZE);
    s->rec.version = version;
    s->rec.op = (uint8_t)op;
    s->rec.type = (uint8_t)type;
    s->rec.tlp = (uint8_t)tlp;
    s->rec.created = 1700000000;
    s->rec.modified = 1700000000 + (int64_t)version;
    snprintf (s->rec.value, sizeof s->rec.value, "%s", value);
    snprintf (s->rec.description, sizeof s->rec.description, "%s", desc ? desc : "");
    if (im_record_sign (&s->rec, o->sk, s->blob, sizeof s->blob, &s->len, err,
                        sizeof err))
        BAIL_OUT ("cannot sign a test record (%s '%.60s'): %s", im_type_name (type),
                  value, err);
    return s;
}

/* Stores the N records of S in one batch. */
static int
put_n (im_store_t *store, const signed_t *s, size_t n, int *results)
{
    im_store_item_t *items = calloc (n ? n : 1, sizeof *items);
    if (!items)
        BAIL_OUT ("out of memory");
    for (size_t i = 0; i < n; i++) {
        items[i].blob = s[i].blob;
        items[i].len = s[i].len;
        items[i].rec = &s[i].rec;
    }
    char err[256] = "";
    int rc = im_store_put_batch (store, items, n, results, err, sizeof err);
    if (rc < 0)
        diag ("put_batch: %s", err);
    free (items);
    return rc;
}

/* Stores one record; *RESULT gets what became of it. */
static int
put1 (im_store_t *store, const signed_t *s, int *result)
{
    *result = -1;
    return put_n (store, s, 1, result);
}

static int
collect (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    static im_record_t check;
    found_t *f = arg;
    /* Look-ups and lists hand the record without its bytes (im_store.h). */
    if (!blob ? len != 0
              : im_record_decode (blob, len, 1, &check, NULL, 0) != 0
                    || memcmp (check.origin, rec->origin, IM_NODE_ID_SIZE) != 0
                    || memcmp (check.id, rec->id, IM_ID_SIZE) != 0
                    || check.version != rec->version
                    || strcmp (check.value, rec->value) != 0)
        f->bad_blobs++;
    if (f->calls == 0)
        snprintf (f->first_value, sizeof f->first_value, "%s", rec->value);
    if (f->calls < HITS_MAX) {
        memcpy (f->hit[f->calls].origin, rec->origin, IM_NODE_ID_SIZE);
        memcpy (f->hit[f->calls].id, rec->id, IM_ID_SIZE);
        f->hit[f->calls].version = rec->version;
        f->hit[f->calls].op = rec->op;
        f->hit[f->calls].type = rec->type;
        f->hit[f->calls].tlp = rec->tlp;
    }
    f->calls++;
    return f->stop_after && f->calls >= f->stop_after;
}

/* How many times the walk in F handed over record ORIGIN/ID. */
static int
found_times (const found_t *f, const uint8_t *origin, const uint8_t *id)
{
    int n = 0;
    for (size_t i = 0; i < f->calls && i < HITS_MAX; i++)
        if (memcmp (f->hit[i].origin, origin, IM_NODE_ID_SIZE) == 0
            && memcmp (f->hit[i].id, id, IM_ID_SIZE) == 0)
            n++;
    return n;
}

/* Looks VALUE up as TYPE into F (reset first). */
static int
lookup (im_store_t *store, int type, const char *value, found_t *f, size_t stop_after)
{
    memset (f, 0, sizeof *f);
    f->stop_after = stop_after;
    return im_store_lookup (store, type, value, collect, f);
}

static int
stats_same (const im_store_stats_t *a, const im_store_stats_t *b)
{
    return memcmp (a->live, b->live, sizeof a->live) == 0 && a->revoked == b->revoked
           && a->records == b->records && a->origins == b->origins
           && a->last_seq == b->last_seq;
}

static im_store_t *
open_store (const char *path, size_t map, const uint8_t *node)
{
    char err[256] = "";
    im_store_t *s = im_store_new (path, map, node, err, sizeof err);
    if (!s)
        BAIL_OUT ("cannot open a store in %s: %s", path, err);
    return s;
}

/* Copies S into BUF for a test name, cut after 40 bytes. */
static const char *
shorten (const char *s, char *buf, size_t bufsz)
{
    size_t len = strlen (s);
    if (len <= 40)
        snprintf (buf, bufsz, "%s", s);
    else
        snprintf (buf, bufsz, "%.30s...(%zu bytes)", s, len);
    return buf;
}

/* --- Tests -------------------------------------------------------------- */

/* im_store_purge: records taken out for good, their indexes and counters
 * with them, across a reopening; bad arguments first. */
static void
test_purge (void)
{
    char dir[64], path[128], err[256] = "";
    uint8_t node[IM_NODE_ID_SIZE], ids[4][IM_ID_SIZE], keys[4][IM_STORE_KEY_SIZE];
    origin_t o;
    signed_t *s = signed_alloc (4);
    found_t *f = malloc (sizeof *f);
    im_store_stats_t st;
    if (!f)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "purge");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);
    ok (im_store_purge (NULL, keys, 1, err, sizeof err) == -1 && errno == EINVAL,
        "purge refuses no store");
    ok (im_store_purge (store, NULL, 1, err, sizeof err) == -1 && errno == EINVAL,
        "purge refuses no keys");
    ok (im_store_purge (store, NULL, 0, err, sizeof err) == 0, "purging nothing is 0");
    static const char *const values[]
        = { "purge-a.example", "purge-b.example", "purge-c.example", "purge-d.example" };
    for (int i = 0; i < 4; i++) {
        randombytes_buf (ids[i], IM_ID_SIZE);
        make (&s[i], &o, ids[i], 1, i == 3 ? IM_OP_REVOKE : IM_OP_PUT, IM_TYPE_DOMAIN,
              IM_TLP_GREEN, values[i], NULL);
        memcpy (keys[i], o.pk, IM_NODE_ID_SIZE);
        memcpy (keys[i] + IM_NODE_ID_SIZE, ids[i], IM_ID_SIZE);
    }
    int res[4];
    ok (put_n (store, s, 4, res) == 4, "four records are stored (one a tombstone)");
    uint8_t stranger[IM_STORE_KEY_SIZE];
    randombytes_buf (stranger, sizeof stranger);
    uint8_t gone[3][IM_STORE_KEY_SIZE];
    memcpy (gone[0], keys[0], IM_STORE_KEY_SIZE);
    memcpy (gone[1], keys[3], IM_STORE_KEY_SIZE);
    memcpy (gone[2], stranger, IM_STORE_KEY_SIZE);
    ok (im_store_purge (store, (const uint8_t (*)[IM_STORE_KEY_SIZE])gone, 3, err,
                        sizeof err)
            == 2,
        "a live record and a tombstone are purged, a key not held is passed over");
    ok (im_store_get (store, o.pk, ids[0], NULL) == -1 && errno == ENOENT
            && im_store_get (store, o.pk, ids[3], NULL) == -1,
        "neither is held any more");
    ok (lookup (store, IM_TYPE_DOMAIN, values[0], f, 0) == 0 && f->calls == 0,
        "the purged value is found no more");
    ok (lookup (store, IM_TYPE_DOMAIN, values[1], f, 0) == 1 && f->calls == 1,
        "another value still is");
    ok (im_store_stats (store, &st) == 0 && st.live[IM_TYPE_DOMAIN][IM_TLP_GREEN] == 2
            && st.revoked == 0 && st.records == 2,
        "the counters say 2 live, no tombstone, 2 records");
    im_store_destroy (&store);
    store = open_store (path, 0, node);
    ok (im_store_stats (store, &st) == 0 && st.live[IM_TYPE_DOMAIN][IM_TLP_GREEN] == 2
            && st.revoked == 0 && im_store_get (store, o.pk, ids[0], NULL) == -1,
        "and so they do once the store is opened again");
    int r;
    ok (put1 (store, &s[0], &r) == 1 && r == IM_STORE_NEW,
        "a purged record given again is new again");
    im_store_destroy (&store);
    free (s);
    free (f);
    remove_dir (dir);
}

/* A store of N records of O in PATH, its ids in IDS, closed; its size in
 * use. */
static uint64_t
purge_store_make (const char *path, const uint8_t *node, origin_t *o, signed_t *s,
                  uint8_t (*ids)[IM_ID_SIZE], int n)
{
    im_store_stats_t st;
    im_store_t *store = open_store (path, 0, node);
    for (int i = 0; i < n; i++) {
        char value[64];
        snprintf (value, sizeof value, "retried-%d.example", i);
        randombytes_buf (ids[i], IM_ID_SIZE);
        make (&s[i], o, ids[i], 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, value, NULL);
    }
    if (put_n (store, s, (size_t)n, NULL) != n || im_store_stats (store, &st))
        BAIL_OUT ("cannot store %d records", n);
    im_store_destroy (&store);
    return st.used_bytes;
}

/* A purge whose transaction is run again (the map was full, and grown)
 * takes each record off the counters once, in memory and on disk, wherever
 * in the transaction the map filled: the map is made just large enough to
 * open the store, then a page larger each time. */
static void
test_purge_retried (void)
{
    enum { N = 300, GONE = 4, TRIES = 40 };
    char dir[64], path[128], err[256] = "";
    uint8_t node[IM_NODE_ID_SIZE], keys[GONE][IM_STORE_KEY_SIZE];
    uint8_t (*ids)[IM_ID_SIZE] = malloc (N * sizeof *ids);
    origin_t o;
    signed_t *s = signed_alloc (N);
    if (!ids)
        BAIL_OUT ("out of memory");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    int retried = 0, wrong = 0, failed = 0;
    for (int pages = 1; pages <= TRIES; pages++) {
        im_store_stats_t before, after;
        make_dir (dir, sizeof dir, "purge-retried");
        sub_path (path, sizeof path, dir, "store");
        uint64_t used = purge_store_make (path, node, &o, s, ids, N);
        im_store_t *store
            = im_store_new (path, used + (uint64_t)pages * 4096, node, err, sizeof err);
        if (store && im_store_stats (store, &before) == 0) {
            for (int i = 0; i < GONE; i++) {
                memcpy (keys[i], o.pk, IM_NODE_ID_SIZE);
                memcpy (keys[i] + IM_NODE_ID_SIZE, ids[i * 7], IM_ID_SIZE);
            }
            failed += im_store_purge (store, (const uint8_t (*)[IM_STORE_KEY_SIZE])keys,
                                      GONE, err, sizeof err)
                      != GONE;
            if (im_store_stats (store, &after) == 0 && after.map_size > before.map_size) {
                retried++;
                wrong += after.records != N - GONE
                         || after.live[IM_TYPE_DOMAIN][IM_TLP_GREEN] != N - GONE;
                im_store_destroy (&store);
                store = open_store (path, 0, node);
                wrong += im_store_stats (store, &after) != 0 || after.records != N - GONE
                         || after.live[IM_TYPE_DOMAIN][IM_TLP_GREEN] != N - GONE;
            }
        }
        im_store_destroy (&store);
        remove_dir (dir);
    }
    cmp_ok (failed, "==", 0, "each of the purges of %d records succeeds", GONE);
    cmp_ok (retried, ">=", 3, "the map filled in %d of them, and grew", retried);
    cmp_ok (wrong, "==", 0,
            "each record is taken off the counters once in all of those, in memory "
            "and on disk once the store is opened again");
    free (s);
    free (ids);
}

static void
test_bad_arguments (void)
{
    char dir[64], path[128], err[256];
    uint8_t node[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
    im_store_t *store;
    im_store_stats_t st;
    uint64_t last = 0;
    int rc;

    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    im_id_generate (id);

    errno = 0;
    err[0] = '\0';
    store = im_store_new (NULL, 0, NULL, err, sizeof err);
    ok (store == NULL && errno == EINVAL,
        "a store without a path is refused with EINVAL");
    ok (strstr (err, "no path") != NULL, "the error for a missing path says so");

    FILE *f = fopen (sub_path (path, sizeof path, dir, "plain"), "w");
    if (!f)
        BAIL_OUT ("cannot create %s", path);
    fputs ("not a directory\n", f);
    fclose (f);
    errno = 0;
    err[0] = '\0';
    store = im_store_new (path, 0, NULL, err, sizeof err);
    ok (store == NULL && errno == ENOTDIR,
        "a store whose path is a regular file is refused with ENOTDIR");
    ok (err[0] != '\0', "the error for a regular file is not empty");

    errno = 0;
    store = im_store_new (sub_path (path, sizeof path, dir, "missing/store"), 0, NULL,
                          err, sizeof err);
    ok (store == NULL && errno == ENOENT,
        "a store whose parent directory is missing is refused with ENOENT");

    errno = EDOM;
    im_store_destroy (NULL);
    ok (errno == EDOM, "destroying NULL is safe and keeps errno");
    store = NULL;
    im_store_destroy (&store);
    ok (store == NULL && errno == EDOM,
        "destroying a NULL store is safe and keeps errno");

    store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);
    struct stat sb;
    ok (stat (path, &sb) == 0 && S_ISDIR (sb.st_mode) && (sb.st_mode & 0777) == 0700,
        "a new store's directory is created with mode 0700");

    origin_t o;
    origin_new (&o);
    signed_t *s = signed_alloc (1);
    make (s, &o, id, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "arg.example", NULL);
    im_store_item_t item = { s->blob, s->len, &s->rec, 0, NULL };
    int result = -1;

    errno = 0;
    rc = im_store_put_batch (NULL, &item, 1, &result, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "put_batch refuses a NULL store with EINVAL");
    errno = 0;
    rc = im_store_put_batch (store, NULL, 1, &result, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "put_batch refuses NULL items with EINVAL");
    rc = im_store_put_batch (store, NULL, 0, NULL, err, sizeof err);
    ok (rc == 0, "put_batch of no items stores nothing and succeeds");
    ok (im_store_stats (store, &st) == 0 && st.records == 0 && st.last_seq == 0,
        "the refused and empty batches left the store empty");

    errno = 0;
    ok (im_store_get (NULL, o.pk, id, NULL) == -1 && errno == EINVAL,
        "get refuses a NULL store with EINVAL");
    errno = 0;
    ok (im_store_get (store, NULL, id, NULL) == -1 && errno == EINVAL,
        "get refuses a NULL origin with EINVAL");
    errno = 0;
    ok (im_store_get (store, o.pk, NULL, NULL) == -1 && errno == EINVAL,
        "get refuses a NULL id with EINVAL");
    errno = 0;
    ok (im_store_get (store, o.pk, id, NULL) == -1 && errno == ENOENT,
        "get of a record never stored fails with ENOENT");

    found_t fd;
    memset (&fd, 0, sizeof fd);
    errno = 0;
    ok (im_store_lookup (NULL, IM_TYPE_DOMAIN, "arg.example", collect, &fd) == -1
            && errno == EINVAL,
        "lookup refuses a NULL store with EINVAL");
    errno = 0;
    ok (im_store_lookup (store, IM_TYPE_DOMAIN, NULL, collect, &fd) == -1
            && errno == EINVAL,
        "lookup refuses a NULL value with EINVAL");
    static const int bad_types[] = { IM_TYPE_NONE, IM_TYPE_COUNT, -1, 255 };
    for (size_t i = 0; i < COUNT (bad_types); i++) {
        errno = 0;
        ok (im_store_lookup (store, bad_types[i], "arg.example", collect, &fd) == -1
                && errno == EINVAL,
            "lookup refuses type %d with EINVAL", bad_types[i]);
    }

    errno = 0;
    ok (im_store_list (NULL, IM_TYPE_NONE, NULL, NULL, 10, collect, &fd, NULL) == -1
            && errno == EINVAL,
        "list refuses a NULL store with EINVAL");
    static const int bad_list_types[] = { IM_TYPE_COUNT, -1, 255 };
    for (size_t i = 0; i < COUNT (bad_list_types); i++) {
        errno = 0;
        ok (im_store_list (store, bad_list_types[i], NULL, NULL, 10, collect, &fd, NULL)
                    == -1
                && errno == EINVAL,
            "list refuses type %d with EINVAL", bad_list_types[i]);
    }
    memset (&fd, 0, sizeof fd);
    ok (im_store_list (store, IM_TYPE_NONE, NULL, NULL, 10, collect, &fd, NULL) == 0
            && fd.calls == 0,
        "list of an empty store visits nothing");

    errno = 0;
    ok (im_store_changes (NULL, 0, 10, collect, &fd, &last) == -1 && errno == EINVAL,
        "changes refuses a NULL store with EINVAL");
    memset (&fd, 0, sizeof fd);
    ok (im_store_changes (store, 0, 10, collect, &fd, &last) == 0 && fd.calls == 0,
        "changes of an empty store visits nothing");

    errno = 0;
    ok (im_store_stats (NULL, &st) == -1 && errno == EINVAL,
        "stats refuses a NULL store with EINVAL");
    errno = 0;
    ok (im_store_stats (store, NULL) == -1 && errno == EINVAL,
        "stats refuses a NULL result with EINVAL");

    errno = EDOM;
    im_store_destroy (&store);
    ok (store == NULL && errno == EDOM,
        "destroying a store sets the pointer to NULL and keeps errno");

    free (s);
    remove_dir (dir);
}

static void
test_node_identity (void)
{
    char dir[64], path[128], err[256];
    uint8_t mine[IM_NODE_ID_SIZE], other[IM_NODE_ID_SIZE];
    im_store_t *store;

    make_dir (dir, sizeof dir, "store");
    randombytes_buf (mine, sizeof mine);
    randombytes_buf (other, sizeof other);
    sub_path (path, sizeof path, dir, "store");

    store = im_store_new (path, 0, mine, err, sizeof err);
    ok (store != NULL, "a new store opens for its node");
    im_store_destroy (&store);

    errno = 0;
    err[0] = '\0';
    store = im_store_new (path, 0, other, err, sizeof err);
    ok (store == NULL && errno == EPERM,
        "reopening with another node id is refused with EPERM");
    ok (strstr (err, "another node") != NULL,
        "the error says the store belongs to another node");
    im_store_destroy (&store);

    store = im_store_new (path, 0, mine, err, sizeof err);
    ok (store != NULL, "reopening with the same node id works");
    im_store_destroy (&store);
    store = im_store_new (path, 0, NULL, err, sizeof err);
    ok (store != NULL, "reopening without a node id works");
    im_store_destroy (&store);

    /* A store first opened without a node id belongs to the first one given. */
    sub_path (path, sizeof path, dir, "anonymous");
    store = im_store_new (path, 0, NULL, err, sizeof err);
    ok (store != NULL, "a new store opens without a node id");
    im_store_destroy (&store);
    store = im_store_new (path, 0, other, err, sizeof err);
    ok (store != NULL, "a store without a node id takes the first node id given");
    im_store_destroy (&store);
    errno = 0;
    store = im_store_new (path, 0, mine, err, sizeof err);
    ok (store == NULL && errno == EPERM, "it then refuses any other node id with EPERM");
    im_store_destroy (&store);

    remove_dir (dir);
}

static void
test_versions (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], x[IM_ID_SIZE], y[IM_ID_SIZE], z[IM_ID_SIZE];
    im_record_t *got = malloc (sizeof *got);
    signed_t *s = signed_alloc (3);
    origin_t o;
    int r[3], rc;

    if (!got)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    im_id_generate (x);
    im_id_generate (y);
    im_id_generate (z);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);

    make (&s[0], &o, x, 2, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "v.example",
          "second");
    rc = put1 (store, &s[0], &r[0]);
    ok (rc == 1 && r[0] == IM_STORE_NEW, "a new record is stored as NEW");
    ok (im_store_get (store, o.pk, x, got) == 0 && got->version == 2,
        "get returns the new record");
    ok (im_store_get (store, o.pk, x, NULL) == 0, "get without a record buffer finds it");

    rc = put1 (store, &s[0], &r[0]);
    ok (rc == 0 && r[0] == IM_STORE_STALE, "the same version again is ignored as STALE");

    make (&s[1], &o, x, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_RED, "v.example", "first");
    rc = put1 (store, &s[1], &r[0]);
    ok (rc == 0 && r[0] == IM_STORE_STALE, "an older version is ignored as STALE");
    ok (im_store_get (store, o.pk, x, got) == 0 && got->version == 2
            && strcmp (got->description, "second") == 0,
        "the older version did not replace the record");

    make (&s[2], &o, x, 3, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_RED, "v.example", "third");
    rc = put1 (store, &s[2], &r[0]);
    ok (rc == 1 && r[0] == IM_STORE_NEWER, "a newer version is stored as NEWER");
    ok (im_store_get (store, o.pk, x, got) == 0 && got->version == 3
            && got->tlp == IM_TLP_RED && strcmp (got->description, "third") == 0,
        "get returns the newer content");

    /* Several versions of one record in a batch: the highest stays. */
    make (&s[0], &o, y, 5, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "y.example", "5");
    make (&s[1], &o, y, 7, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "y.example", "7");
    make (&s[2], &o, y, 6, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "y.example", "6");
    rc = put_n (store, s, 3, r);
    ok (rc == 2 && r[0] == IM_STORE_NEW && r[1] == IM_STORE_NEWER
            && r[2] == IM_STORE_STALE,
        "versions 5, 7, 6 in one batch are NEW, NEWER and STALE");
    ok (im_store_get (store, o.pk, y, got) == 0 && got->version == 7,
        "after a batch of 5, 7, 6 the record is at version 7");

    make (&s[0], &o, z, 9, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "z.example", "9");
    make (&s[1], &o, z, 4, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "z.example", "4");
    rc = put_n (store, s, 2, r);
    ok (rc == 1 && r[0] == IM_STORE_NEW && r[1] == IM_STORE_STALE,
        "versions 9, 4 in one batch are NEW and STALE");
    ok (im_store_get (store, o.pk, z, got) == 0 && got->version == 9,
        "after a batch of 9, 4 the record is at version 9");

    im_store_stats_t st;
    ok (im_store_stats (store, &st) == 0 && st.records == 3
            && st.live[IM_TYPE_DOMAIN][IM_TLP_RED] == 1
            && st.live[IM_TYPE_DOMAIN][IM_TLP_GREEN] == 2 && st.origins == 1,
        "three records are counted once each, under their newest TLP");
    found_t f;
    ok (lookup (store, IM_TYPE_DOMAIN, "y.example", &f, 0) == 1 && f.hit[0].version == 7,
        "a look-up finds one record, at its newest version");

    im_store_destroy (&store);
    free (s);
    free (got);
    remove_dir (dir);
}

static void
test_update_moves_index (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], x[IM_ID_SIZE], p[IM_ID_SIZE];
    signed_t *s = signed_alloc (1);
    origin_t o;
    found_t f;
    int r;

    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    im_id_generate (x);
    im_id_generate (p);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);

    put1 (
        store,
        make (s, &o, x, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "old.example", NULL),
        &r);
    ok (lookup (store, IM_TYPE_DOMAIN, "old.example", &f, 0) == 1,
        "the first value finds the record");
    put1 (
        store,
        make (s, &o, x, 2, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "new.example", NULL),
        &r);
    ok (r == IM_STORE_NEWER, "the version with a new value is NEWER");
    ok (lookup (store, IM_TYPE_DOMAIN, "old.example", &f, 0) == 0 && f.calls == 0,
        "the old value no longer finds the record");
    ok (lookup (store, IM_TYPE_DOMAIN, "new.example", &f, 0) == 1
            && found_times (&f, o.pk, x) == 1,
        "the new value finds the record");

    /* A prefix that moves: the old network no longer contains it. */
    put1 (store,
          make (s, &o, p, 1, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_AMBER, "10.0.0.0/8", NULL),
          &r);
    ok (lookup (store, IM_TYPE_IPV4, "10.1.2.3", &f, 0) == 1,
        "an address in 10.0.0.0/8 finds the prefix");
    put1 (
        store,
        make (s, &o, p, 2, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_AMBER, "172.16.0.0/12", NULL),
        &r);
    ok (lookup (store, IM_TYPE_IPV4, "10.1.2.3", &f, 0) == 0,
        "after moving to 172.16.0.0/12 an address in 10/8 finds nothing");
    ok (lookup (store, IM_TYPE_IPV4, "10.0.0.0/8", &f, 0) == 0,
        "after moving the old prefix itself finds nothing");
    ok (lookup (store, IM_TYPE_IPV4, "172.20.5.5", &f, 0) == 1
            && found_times (&f, o.pk, p) == 1,
        "an address in 172.16.0.0/12 finds the moved prefix");

    /* A record whose type changes leaves its old type's index and counter. */
    put1 (store,
          make (s, &o, p, 3, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_CLEAR, "moved.example",
                NULL),
          &r);
    ok (lookup (store, IM_TYPE_IPV4, "172.20.5.5", &f, 0) == 0,
        "after changing type the address no longer finds the record");
    ok (lookup (store, IM_TYPE_DOMAIN, "moved.example", &f, 0) == 1,
        "after changing type the new domain finds it");
    im_store_stats_t st;
    ok (im_store_stats (store, &st) == 0 && st.live[IM_TYPE_IPV4][IM_TLP_AMBER] == 0
            && st.live[IM_TYPE_DOMAIN][IM_TLP_CLEAR] == 1
            && st.live[IM_TYPE_DOMAIN][IM_TLP_GREEN] == 1 && st.records == 2,
        "the counters follow the records to their new type and TLP");

    im_store_destroy (&store);
    free (s);
    remove_dir (dir);
}

static void
test_revocation (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], x[IM_ID_SIZE], g[IM_ID_SIZE];
    im_record_t *got = malloc (sizeof *got);
    signed_t *s = signed_alloc (1);
    im_store_stats_t st;
    origin_t o;
    found_t f;
    int r, rc;

    if (!got)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    im_id_generate (x);
    im_id_generate (g);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);

    put1 (store,
          make (s, &o, x, 1, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_AMBER, "198.51.100.7", NULL),
          &r);
    ok (im_store_stats (store, &st) == 0 && st.live[IM_TYPE_IPV4][IM_TLP_AMBER] == 1
            && st.revoked == 0,
        "a put is counted live");

    rc = put1 (store,
               make (s, &o, x, 2, IM_OP_REVOKE, IM_TYPE_IPV4, IM_TLP_AMBER,
                     "198.51.100.7", NULL),
               &r);
    ok (rc == 1 && r == IM_STORE_NEWER, "a revocation at a higher version is NEWER");
    ok (im_store_get (store, o.pk, x, got) == 0 && got->op == IM_OP_REVOKE
            && got->version == 2,
        "get returns the tombstone with op revoke");
    ok (lookup (store, IM_TYPE_IPV4, "198.51.100.7", &f, 0) == 0 && f.calls == 0,
        "a look-up of the revoked value finds nothing live");
    memset (&f, 0, sizeof f);
    ok (im_store_lookup_revoked (store, IM_TYPE_IPV4, "198.51.100.7", collect, &f) == 1
            && f.hit[0].op == IM_OP_REVOKE && f.hit[0].version == 2 && f.bad_blobs == 0,
        "lookup_revoked finds its tombstone by value");
    memset (&f, 0, sizeof f);
    ok (im_store_lookup_revoked (store, IM_TYPE_IPV4, "198.51.100.0/24", collect, &f) == 0
            && im_store_lookup_revoked (store, IM_TYPE_DOMAIN, "198.51.100.7", collect,
                                        &f)
                   == 0,
        "lookup_revoked finds no other value or type");
    ok (im_store_lookup_revoked (store, IM_TYPE_NONE, "x", collect, &f) == -1
            && errno == EINVAL,
        "lookup_revoked refuses an unknown type");
    ok (im_store_stats (store, &st) == 0 && st.live[IM_TYPE_IPV4][IM_TLP_AMBER] == 0
            && st.revoked == 1 && st.records == 1,
        "stats count the tombstone as revoked, not live");

    rc = put1 (
        store,
        make (s, &o, x, 1, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_AMBER, "198.51.100.7", NULL),
        &r);
    ok (rc == 0 && r == IM_STORE_STALE, "an older put after the tombstone is STALE");
    rc = put1 (
        store,
        make (s, &o, x, 2, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_AMBER, "198.51.100.7", NULL),
        &r);
    ok (rc == 0 && r == IM_STORE_STALE, "a put at the tombstone's version is STALE");
    ok (lookup (store, IM_TYPE_IPV4, "198.51.100.7", &f, 0) == 0,
        "the stale puts did not bring the value back");

    /* A revocation of a record never seen is kept as a tombstone. */
    rc = put1 (store,
               make (s, &o, g, 4, IM_OP_REVOKE, IM_TYPE_DOMAIN, IM_TLP_GREEN,
                     "ghost.example", NULL),
               &r);
    ok (rc == 1 && r == IM_STORE_NEW, "a revocation of an unknown record is NEW");
    ok (im_store_get (store, o.pk, g, got) == 0 && got->op == IM_OP_REVOKE,
        "its tombstone is kept");
    ok (lookup (store, IM_TYPE_DOMAIN, "ghost.example", &f, 0) == 0,
        "its value finds nothing live");
    rc = put1 (store,
               make (s, &o, g, 3, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
                     "ghost.example", NULL),
               &r);
    ok (rc == 0 && r == IM_STORE_STALE, "a put older than that tombstone is STALE");

    /* A put newer than the tombstone brings the record back. */
    rc = put1 (
        store,
        make (s, &o, x, 3, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_RED, "198.51.100.7", NULL),
        &r);
    ok (rc == 1 && r == IM_STORE_NEWER, "a put newer than the tombstone is NEWER");
    ok (lookup (store, IM_TYPE_IPV4, "198.51.100.7", &f, 0) == 1 && f.hit[0].version == 3,
        "the value finds the record again");
    memset (&f, 0, sizeof f);
    ok (im_store_lookup_revoked (store, IM_TYPE_IPV4, "198.51.100.7", collect, &f) == 0,
        "and lookup_revoked no longer finds a tombstone for it");
    memset (&f, 0, sizeof f);
    ok (im_store_lookup_revoked (store, IM_TYPE_DOMAIN, "ghost.example", collect, &f)
            == 1,
        "a tombstone of a record never seen is found by value");
    ok (im_store_stats (store, &st) == 0 && st.live[IM_TYPE_IPV4][IM_TLP_RED] == 1
            && st.revoked == 1 && st.records == 2,
        "stats count it live again and keep the other tombstone");

    /* lookup_value: live records and tombstones of exactly the value, one
     * walk (a publisher's), and never a prefix that contains it. */
    uint8_t y[IM_ID_SIZE], z[IM_ID_SIZE];
    im_id_generate (y);
    im_id_generate (z);
    put1 (store,
          make (s, &o, y, 5, IM_OP_REVOKE, IM_TYPE_IPV4, IM_TLP_AMBER, "198.51.100.7",
                NULL),
          &r);
    put1 (store,
          make (s, &o, z, 1, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_AMBER, "198.51.100.0/24",
                NULL),
          &r);
    memset (&f, 0, sizeof f);
    rc = im_store_lookup_value (store, IM_TYPE_IPV4, "198.51.100.7", collect, &f);
    ok (rc == 2 && f.calls == 2
            && ((f.hit[0].op == IM_OP_PUT && f.hit[1].op == IM_OP_REVOKE)
                || (f.hit[0].op == IM_OP_REVOKE && f.hit[1].op == IM_OP_PUT)),
        "lookup_value finds the live record and the tombstone of the value (%d)", rc);
    memset (&f, 0, sizeof f);
    ok (lookup (store, IM_TYPE_IPV4, "198.51.100.7", &f, 0) == 2,
        "while lookup finds the live one and the prefix that contains it");
    memset (&f, 0, sizeof f);
    ok (im_store_lookup_value (store, IM_TYPE_IPV4, "198.51.100.8", collect, &f) == 0
            && f.calls == 0,
        "lookup_value finds nothing for a value held only through a prefix");
    ok (im_store_lookup_value (store, IM_TYPE_NONE, "x", collect, &f) == -1
            && errno == EINVAL
            && im_store_lookup_value (NULL, IM_TYPE_IPV4, "198.51.100.7", collect, &f)
                   == -1
            && errno == EINVAL,
        "lookup_value refuses an unknown type and a missing store");

    im_store_destroy (&store);
    free (s);
    free (got);
    remove_dir (dir);
}

/* im_store_versions gives what im_store_version gives key by key, for held
 * keys, missing ones between them, past the last and of an unknown origin. */
static void
test_versions_at_once (void)
{
    enum { HELD = 300, KEY = IM_STORE_KEY_SIZE + 8 }; /* a HAVE key's stride */
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE];
    origin_t o, stranger;
    signed_t *s = signed_alloc (HELD);
    uint8_t *keys = calloc (3 * HELD + 2, KEY);
    uint64_t *got = calloc (3 * HELD + 2, sizeof *got);
    int *results = calloc (HELD, sizeof *results);
    if (!keys || !got || !results)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    origin_new (&stranger);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);
    size_t n = 0;
    for (size_t i = 0; i < HELD; i++) {
        uint8_t id[IM_ID_SIZE];
        char value[64];
        im_id_generate (id);
        snprintf (value, sizeof value, "v%zu.example", i);
        make (&s[i], &o, id, 1 + i % 3, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, value,
              NULL);
        /* Each held key, then a missing one just after it (its id's last
         * byte turned), in the order a HAVE brings them. */
        memcpy (keys + n++ * KEY, s[i].rec.origin, IM_STORE_KEY_SIZE);
        memcpy (keys + n * KEY, s[i].rec.origin, IM_STORE_KEY_SIZE);
        keys[n++ * KEY + IM_STORE_KEY_SIZE - 1] ^= 0x5a;
        memcpy (keys + n * KEY, stranger.pk, IM_NODE_ID_SIZE);
        memcpy (keys + n++ * KEY + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
    }
    memset (keys + n++ * KEY, 0xff, IM_STORE_KEY_SIZE); /* past the last key */
    memset (keys + n++ * KEY, 0x00, IM_STORE_KEY_SIZE); /* before the first */
    ok (put_n (store, s, HELD, results) == HELD, "%d records are stored", HELD);
    ok (im_store_versions (store, keys, KEY, n, got) == 0, "versions reads %zu keys", n);
    size_t same = 0, held = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t one = 99;
        if (im_store_version (store, keys + i * KEY, keys + i * KEY + IM_NODE_ID_SIZE,
                              &one)
                == 0
            && one == got[i])
            same++;
        held += got[i] != 0;
    }
    ok (same == n && held == HELD,
        "versions agrees with version for each key (%zu of %zu; %zu held)", same, n,
        held);
    ok (got[0] == s[0].rec.version && got[1] == 0 && got[2] == 0 && got[n - 1] == 0
            && got[n - 2] == 0,
        "a held key gives its version; a missing, unknown or outlying one 0");
    ok (im_store_versions (store, keys, KEY, 0, NULL) == 0, "versions of no key is 0");
    ok (im_store_versions (NULL, keys, KEY, 1, got) == -1 && errno == EINVAL
            && im_store_versions (store, NULL, KEY, 1, got) == -1 && errno == EINVAL
            && im_store_versions (store, keys, KEY, 1, NULL) == -1 && errno == EINVAL
            && im_store_versions (store, keys, IM_STORE_KEY_SIZE - 1, 1, got) == -1
            && errno == EINVAL,
        "versions refuses a missing store, keys or room, and a stride shorter than a "
        "key");
    im_store_destroy (&store);
    free (s);
    free (keys);
    free (got);
    free (results);
    remove_dir (dir);
}

/* The versions of records lately looked up or written are answered from
 * memory (im_store_vcache.c): what they say is what the store holds, after a
 * look-up that found nothing, a newer version, a purge, and a look-up made
 * in a read begun before a write. */
static void
test_versions_remembered (void)
{
    char dir[64], path[128], err[256] = "";
    uint8_t node[IM_NODE_ID_SIZE], ids[2][IM_ID_SIZE], keys[2][IM_STORE_KEY_SIZE];
    origin_t o;
    signed_t *s = signed_alloc (3);
    make_dir (dir, sizeof dir, "remembered");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);
    for (int i = 0; i < 2; i++) {
        im_id_generate (ids[i]);
        memcpy (keys[i], o.pk, IM_NODE_ID_SIZE);
        memcpy (keys[i] + IM_NODE_ID_SIZE, ids[i], IM_ID_SIZE);
    }
    make (&s[0], &o, ids[0], 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "a.example",
          NULL);
    make (&s[1], &o, ids[0], 2, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "a.example",
          NULL);
    make (&s[2], &o, ids[1], 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "b.example",
          NULL);
    uint64_t v = 99;
    int r;
    ok (im_store_versions (store, keys[0], IM_STORE_KEY_SIZE, 1, &v) == 0 && v == 0,
        "a record not stored yet is not held");
    ok (put1 (store, &s[0], &r) == 1
            && im_store_versions (store, keys[0], IM_STORE_KEY_SIZE, 1, &v) == 0
            && v == 1,
        "stored after it was looked up, it is held at version 1");
    ok (put1 (store, &s[1], &r) == 1 && im_store_version (store, o.pk, ids[0], &v) == 0
            && v == 2,
        "a newer version is held at version 2");
    ok (im_store_purge (store, (const uint8_t (*)[IM_STORE_KEY_SIZE])keys, 1, err,
                        sizeof err)
                == 1
            && im_store_versions (store, keys[0], IM_STORE_KEY_SIZE, 1, &v) == 0 && v == 0
            && im_store_version (store, o.pk, ids[0], &v) == 0 && v == 0,
        "purged, it is not held any more");
    /* A read begun before a write sees the store as it was: what it finds
     * is not remembered as held now. The purge of a key not held is a
     * write, and it forgets what was remembered. */
    ok (im_store_read_begin (store) == 0 && put1 (store, &s[2], &r) == 1
            && im_store_purge (store, (const uint8_t (*)[IM_STORE_KEY_SIZE])keys, 1, err,
                               sizeof err)
                   == 0,
        "a record is stored, and a purge made, while a read is open");
    im_store_versions (store, keys[1], IM_STORE_KEY_SIZE, 1, &v);
    im_store_version (store, o.pk, ids[1], &v); /* the single look-up too */
    im_store_read_end (store);
    ok (im_store_version (store, o.pk, ids[1], &v) == 0 && v == 1,
        "once that read ends, the single look-up finds it held too");
    ok (im_store_versions (store, keys[1], IM_STORE_KEY_SIZE, 1, &v) == 0 && v == 1
            && im_store_version (store, o.pk, ids[1], &v) == 0 && v == 1,
        "once that read ends, the record is found held (the older read was not kept)");
    im_store_destroy (&store);
    store = open_store (path, 0, node);
    ok (im_store_versions (store, keys[1], IM_STORE_KEY_SIZE, 1, &v) == 0 && v == 1,
        "reopened, it is still held");
    im_store_destroy (&store);
    free (s);
    remove_dir (dir);
}

/* A value of LEN bytes: an http URL padded with C, its last byte LAST. */
static char *
long_url (char *buf, size_t len, char c, char last)
{
    static const char head[] = "http://long.example/";
    size_t h = sizeof head - 1;
    memcpy (buf, head, h);
    memset (buf + h, c, len - h);
    buf[len - 1] = last;
    buf[len] = '\0';
    return buf;
}

typedef struct {
    int type;
    const char *value;
} value_t;

typedef struct {
    int type;
    const char *query;
    unsigned want; /* bit I: record I of the network table is found */
} query_t;

static void
test_lookup (void)
{
    static const value_t exact[] = {
        { IM_TYPE_IPV4, "192.0.2.44" },
        { IM_TYPE_IPV6, "2001:db8:ffff::44" },
        { IM_TYPE_DOMAIN, "exact.example" },
        { IM_TYPE_URL, "http://exact.example/path?q=1" },
        { IM_TYPE_EMAIL, "Phish@exact.example" },
        { IM_TYPE_MD5, "d41d8cd98f00b204e9800998ecf8427e" },
        { IM_TYPE_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
        { IM_TYPE_SHA256,
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { IM_TYPE_SHA512,
          "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
          "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
        { IM_TYPE_FILENAME, "exact.example" },
        { IM_TYPE_ASN, "AS64496" },
    };
    /* Networks and addresses; the queries below name them by their index. */
    static const value_t nets[] = {
        { IM_TYPE_IPV4, "10.0.0.0/8" },      /* 0 */
        { IM_TYPE_IPV4, "10.1.0.0/16" },     /* 1 */
        { IM_TYPE_IPV4, "10.1.2.3" },        /* 2 */
        { IM_TYPE_IPV4, "10.2.0.0/16" },     /* 3 */
        { IM_TYPE_IPV4, "10.1.2.4" },        /* 4 */
        { IM_TYPE_IPV4, "198.18.0.0/31" },   /* 5 */
        { IM_TYPE_IPV6, "2001:db8::/32" },   /* 6 */
        { IM_TYPE_IPV6, "2001:db8:1::/48" }, /* 7 */
        { IM_TYPE_IPV6, "2001:db8::1" },     /* 8 */
        { IM_TYPE_IPV6, "2001:db8::a/127" }, /* 9 */
        { IM_TYPE_IPV6, "2001:db9::/32" },   /* 10 */
    };
    static const query_t queries[] = {
        { IM_TYPE_IPV4, "10.1.2.3", 1u << 0 | 1u << 1 | 1u << 2 },
        { IM_TYPE_IPV4, "10.1.200.9", 1u << 0 | 1u << 1 },
        { IM_TYPE_IPV4, "10.9.9.9", 1u << 0 },
        { IM_TYPE_IPV4, "10.2.0.1", 1u << 0 | 1u << 3 },
        { IM_TYPE_IPV4, "192.0.2.1", 0 },
        { IM_TYPE_IPV4, "11.0.0.0", 0 },
        { IM_TYPE_IPV4, "9.255.255.255", 0 },
        { IM_TYPE_IPV4, "10.1.0.0/16", 1u << 0 | 1u << 1 },
        { IM_TYPE_IPV4, "10.1.2.0/24", 1u << 0 | 1u << 1 },
        { IM_TYPE_IPV4, "10.0.0.0/8", 1u << 0 },
        { IM_TYPE_IPV4, "10.0.0.0/7", 0 },
        { IM_TYPE_IPV4, "198.18.0.1", 1u << 5 },
        { IM_TYPE_IPV4, "198.18.0.2", 0 },
        { IM_TYPE_IPV6, "2001:db8::1", 1u << 6 | 1u << 8 },
        { IM_TYPE_IPV6, "2001:db8:1::5", 1u << 6 | 1u << 7 },
        { IM_TYPE_IPV6, "2001:db8:1::/64", 1u << 6 | 1u << 7 },
        { IM_TYPE_IPV6, "2001:db8::b", 1u << 6 | 1u << 9 },
        { IM_TYPE_IPV6, "2001:db8::c", 1u << 6 },
        { IM_TYPE_IPV6, "2001:db9:0:1::1", 1u << 10 },
        { IM_TYPE_IPV6, "2001:dba::1", 0 },
        { IM_TYPE_IPV6, "::ffff:10.1.2.3", 0 },
        { IM_TYPE_IPV6, "2001:db8::/31", 0 },
    };
    char dir[64], path[128], name[80];
    uint8_t node[IM_NODE_ID_SIZE];
    uint8_t exact_id[COUNT (exact)][IM_ID_SIZE], net_id[COUNT (nets)][IM_ID_SIZE];
    signed_t *s
        = signed_alloc (COUNT (exact) > COUNT (nets) ? COUNT (exact) : COUNT (nets));
    int r[16], rc;
    origin_t a, b, c;
    found_t *f = malloc (sizeof *f);

    if (!f)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&a);
    origin_new (&b);
    origin_new (&c);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);

    /* Exact values of every type. */
    for (size_t i = 0; i < COUNT (exact); i++) {
        im_id_generate (exact_id[i]);
        make (&s[i], &a, exact_id[i], 1, IM_OP_PUT, exact[i].type, IM_TLP_GREEN,
              exact[i].value, NULL);
    }
    rc = put_n (store, s, COUNT (exact), r);
    cmp_ok (rc, "==", COUNT (exact), "one value of every type is stored");
    for (size_t i = 0; i < COUNT (exact); i++) {
        const char *tn = im_type_name (exact[i].type);
        rc = lookup (store, exact[i].type, exact[i].value, f, 0);
        ok (rc == 1 && f->calls == 1 && found_times (f, a.pk, exact_id[i]) == 1
                && f->hit[0].type == exact[i].type,
            "%s look-up of '%s' finds exactly its record", tn,
            shorten (exact[i].value, name, sizeof name));
        ok (f->bad_blobs == 0, "the %s look-up hands over the record, without its bytes",
            tn);
    }
    ok (lookup (store, IM_TYPE_DOMAIN, "exact.example", f, 0) == 1
            && f->hit[0].type == IM_TYPE_DOMAIN,
        "a domain look-up does not return the filename with the same text");
    ok (lookup (store, IM_TYPE_DOMAIN, "exact.example.org", f, 0) == 0,
        "a longer domain is not matched by its prefix");
    ok (lookup (store, IM_TYPE_DOMAIN, "xact.example", f, 0) == 0,
        "a shorter domain is not matched");
    ok (lookup (store, IM_TYPE_ASN, "AS6449", f, 0) == 0,
        "an AS number is not matched by its prefix");
    rc = im_store_lookup (store, IM_TYPE_MD5, exact[5].value, NULL, NULL);
    ok (rc == 1, "a look-up without a callback still counts its matches");

    /* One value from several origins: each is returned. */
    uint8_t same_id[3][IM_ID_SIZE];
    const origin_t *who[3] = { &a, &b, &c };
    for (size_t i = 0; i < 3; i++) {
        im_id_generate (same_id[i]);
        make (&s[i], who[i], same_id[i], 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
              "shared.example", NULL);
    }
    ok (put_n (store, s, 3, r) == 3, "three origins store the same value");
    rc = lookup (store, IM_TYPE_DOMAIN, "shared.example", f, 0);
    ok (rc == 3 && f->calls == 3 && found_times (f, a.pk, same_id[0]) == 1
            && found_times (f, b.pk, same_id[1]) == 1
            && found_times (f, c.pk, same_id[2]) == 1,
        "a look-up of the shared value returns each origin's record once");

    /* Stopping early. */
    rc = lookup (store, IM_TYPE_DOMAIN, "shared.example", f, 1);
    ok (f->calls == 1 && rc == 1,
        "a callback that stops at the first match ends the walk");
    rc = lookup (store, IM_TYPE_DOMAIN, "shared.example", f, 2);
    ok (f->calls == 2 && rc == 2,
        "a callback that stops at the second match ends the walk");

    /* Networks: exact entries and the prefixes that contain a query. */
    for (size_t i = 0; i < COUNT (nets); i++) {
        im_id_generate (net_id[i]);
        make (&s[i], i % 2 ? &b : &a, net_id[i], 1, IM_OP_PUT, nets[i].type, IM_TLP_AMBER,
              nets[i].value, NULL);
    }
    cmp_ok (put_n (store, s, COUNT (nets), r), "==", COUNT (nets),
            "the networks and addresses are stored");
    for (size_t q = 0; q < COUNT (queries); q++) {
        size_t want = 0;
        int right = 1;
        rc = lookup (store, queries[q].type, queries[q].query, f, 0);
        for (size_t i = 0; i < COUNT (nets); i++) {
            int times = found_times (f, s[i].rec.origin, net_id[i]);
            if (queries[q].want & (1u << i)) {
                want++;
                right = right && times == 1;
            }
            else
                right = right && times == 0;
        }
        ok (rc == (int)want && f->calls == want && right,
            "%s look-up of %s finds %zu record%s, the right ones",
            im_type_name (queries[q].type), queries[q].query, want, want == 1 ? "" : "s");
    }

    /* The prefix phase of a walk stops as well. */
    rc = lookup (store, IM_TYPE_IPV4, "10.1.2.3", f, 2);
    ok (f->calls == 2 && rc == 2,
        "a callback that stops among the prefixes ends the walk");

    /* 0.0.0.0/0 and ::/0 (held from before the guards, im_guard.h) are found
     * by their own value only: no address is matched by a prefix broader than
     * /8 or /16. */
    uint8_t all4[IM_ID_SIZE], all6[IM_ID_SIZE];
    im_id_generate (all4);
    im_id_generate (all6);
    make (&s[0], &c, all4, 1, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_CLEAR, "0.0.0.0/0", NULL);
    make (&s[1], &c, all6, 1, IM_OP_PUT, IM_TYPE_IPV6, IM_TLP_CLEAR, "::/0", NULL);
    ok (put_n (store, s, 2, r) == 2, "0.0.0.0/0 and ::/0 are stored");
    ok (lookup (store, IM_TYPE_IPV4, "192.0.2.1", f, 0) == 0,
        "an address outside the others does not find 0.0.0.0/0");
    ok (lookup (store, IM_TYPE_IPV4, "10.1.2.3", f, 0) == 3
            && found_times (f, c.pk, all4) == 0,
        "10.1.2.3 finds its three prefixes, not 0.0.0.0/0");
    ok (lookup (store, IM_TYPE_IPV4, "8.0.0.0/7", f, 0) == 0,
        "neither does a /7 (broader than /8)");
    ok (lookup (store, IM_TYPE_IPV6, "2001:dba::1", f, 0) == 0,
        "an IPv6 address outside the others does not find ::/0");
    ok (lookup (store, IM_TYPE_IPV4, "0.0.0.0/0", f, 0) == 1
            && found_times (f, c.pk, all4) == 1,
        "0.0.0.0/0 finds itself");
    ok (lookup (store, IM_TYPE_IPV6, "::/0", f, 0) == 1
            && found_times (f, c.pk, all6) == 1,
        "::/0 finds itself");

    /* A prefix length used once and then removed breaks nothing. */
    uint8_t gone[IM_ID_SIZE];
    im_id_generate (gone);
    make (&s[0], &a, gone, 1, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_GREEN, "172.20.0.0/14",
          NULL);
    put1 (store, &s[0], &r[0]);
    ok (lookup (store, IM_TYPE_IPV4, "172.21.0.1", f, 0) == 1
            && found_times (f, a.pk, gone) == 1,
        "an address in a /14 finds it");
    make (&s[0], &a, gone, 2, IM_OP_REVOKE, IM_TYPE_IPV4, IM_TLP_GREEN, "172.20.0.0/14",
          NULL);
    put1 (store, &s[0], &r[0]);
    ok (lookup (store, IM_TYPE_IPV4, "172.21.0.1", f, 0) == 0
            && found_times (f, a.pk, gone) == 0,
        "once the /14 is revoked it is no longer found");
    ok (lookup (store, IM_TYPE_IPV4, "10.1.2.3", f, 0) == 3,
        "other look-ups still work after the /14 went");
    ok (lookup (store, IM_TYPE_IPV4, "172.20.0.0/14", f, 0) == 0
            && found_times (f, a.pk, gone) == 0,
        "the revoked prefix does not find itself");

    /* Long values: inline keys up to 479 bytes, hashed beyond. */
    static char v[8][IM_VALUE_MAX + 1];
    long_url (v[0], 479, 'a', 'a');
    long_url (v[1], 480, 'a', 'a'); /* shares v[0]'s 479 bytes */
    long_url (v[2], 500, 'b', 'x');
    long_url (v[3], 500, 'b', 'y'); /* differs from v[2] in its last byte */
    long_url (v[4], IM_VALUE_MAX, 'c', 'x');
    long_url (v[5], IM_VALUE_MAX, 'c', 'y');
    long_url (v[6], 449, 'd', 'd');
    long_url (v[7], 449, 'd', 'e');
    uint8_t long_id[COUNT (v)][IM_ID_SIZE];
    ok (memcmp (v[4], v[5], 448) == 0 && memcmp (v[2], v[3], 448) == 0,
        "the long test URLs share their first 448 bytes");
    for (size_t i = 0; i < COUNT (v); i++) {
        im_id_generate (long_id[i]);
        make (&s[i], &a, long_id[i], 1, IM_OP_PUT, IM_TYPE_URL, IM_TLP_GREEN, v[i], NULL);
    }
    cmp_ok (put_n (store, s, COUNT (v), r), "==", COUNT (v),
            "URLs of 449 to %d bytes are stored", IM_VALUE_MAX);
    for (size_t i = 0; i < COUNT (v); i++) {
        size_t len = strlen (v[i]);
        rc = lookup (store, IM_TYPE_URL, v[i], f, 0);
        ok (rc == 1 && found_times (f, a.pk, long_id[i]) == 1
                && strcmp (f->first_value, v[i]) == 0,
            "a URL of %zu bytes (ending '%c') finds exactly its own record", len,
            v[i][len - 1]);
    }
    char *other = malloc (IM_VALUE_MAX + 1);
    if (!other)
        BAIL_OUT ("out of memory");
    long_url (other, IM_VALUE_MAX, 'c', 'z');
    ok (lookup (store, IM_TYPE_URL, other, f, 0) == 0,
        "an unstored URL sharing 448 bytes with stored ones finds nothing");
    long_url (other, IM_VALUE_MAX - 1, 'c', 'c');
    ok (lookup (store, IM_TYPE_URL, other, f, 0) == 0,
        "a URL one byte shorter than a stored one finds nothing");
    long_url (other, 478, 'a', 'a');
    ok (lookup (store, IM_TYPE_URL, other, f, 0) == 0,
        "a 478-byte prefix of a stored URL finds nothing");

    /* Updating a long value moves its hashed key. */
    make (&s[0], &a, long_id[4], 2, IM_OP_PUT, IM_TYPE_URL, IM_TLP_GREEN, other, NULL);
    put1 (store, &s[0], &r[0]);
    ok (lookup (store, IM_TYPE_URL, v[4], f, 0) == 0,
        "a long URL that was replaced no longer finds its record");
    ok (lookup (store, IM_TYPE_URL, v[5], f, 0) == 1
            && found_times (f, a.pk, long_id[5]) == 1,
        "its sibling sharing 448 bytes is still found");
    ok (lookup (store, IM_TYPE_URL, other, f, 0) == 1
            && found_times (f, a.pk, long_id[4]) == 1,
        "the replacement value finds the record");

    free (other);
    im_store_destroy (&store);
    free (s);
    free (f);
    remove_dir (dir);
}

/* Collects the keys a list walk visits, in order. */
typedef struct {
    size_t n;
    uint8_t key[256][IM_STORE_KEY_SIZE];
    int type[256];
} keys_t;

static int
collect_key (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob;
    (void)len;
    keys_t *k = arg;
    if (k->n < COUNT (k->key)) {
        memcpy (k->key[k->n], rec->origin, IM_NODE_ID_SIZE);
        memcpy (k->key[k->n] + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
        k->type[k->n] = rec->type;
    }
    k->n++;
    return 0;
}

static int
cmp_key (const void *a, const void *b)
{
    return memcmp (a, b, IM_STORE_KEY_SIZE);
}

/* Pages through the store LIMIT at a time. Returns the pages taken. */
static int
page_through (im_store_t *store, int type, const uint8_t *origin, size_t limit, keys_t *k)
{
    uint8_t next[IM_STORE_KEY_SIZE], after[IM_STORE_KEY_SIZE];
    int pages = 0, rc, first = 1;
    memset (k, 0, sizeof *k);
    do {
        size_t before = k->n;
        rc = im_store_list (store, type, origin, first ? NULL : after, limit, collect_key,
                            k, next);
        if (rc < 0 || (size_t)rc != k->n - before || (size_t)rc > limit)
            return -1;
        memcpy (after, next, sizeof after);
        first = 0;
        pages++;
    } while (rc > 0 && pages < 1000);
    return pages;
}

static void
test_list (void)
{
    enum { N = 30 };
    static const int types[] = { IM_TYPE_DOMAIN, IM_TYPE_IPV4, IM_TYPE_MD5 };
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE];
    uint8_t want[N][IM_STORE_KEY_SIZE];
    int want_type[N], r[N];
    origin_t o[3];
    signed_t *s = signed_alloc (N);
    keys_t *k = malloc (sizeof *k);

    if (!k)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    for (size_t i = 0; i < COUNT (o); i++)
        origin_new (&o[i]);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);

    for (int i = 0; i < N; i++) {
        uint8_t id[IM_ID_SIZE];
        char value[64];
        int type = types[i % 3];
        im_id_generate (id);
        if (type == IM_TYPE_DOMAIN)
            snprintf (value, sizeof value, "list-%d.example", i);
        else if (type == IM_TYPE_IPV4)
            snprintf (value, sizeof value, "192.0.2.%d", i);
        else
            snprintf (value, sizeof value, "%032x", (unsigned)i + 1);
        make (&s[i],
              &o[i % 4 == 0   ? 0
                 : i % 4 == 1 ? 1
                              : 2],
              id, 1, i == 7 ? IM_OP_REVOKE : IM_OP_PUT, type, IM_TLP_GREEN, value, NULL);
        memcpy (want[i], s[i].rec.origin, IM_NODE_ID_SIZE);
        memcpy (want[i] + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
        want_type[i] = type;
    }
    cmp_ok (put_n (store, s, N, r), "==", N, "%d records from three origins are stored",
            N);
    /* The expected order: by key; the types follow their keys. */
    uint8_t sorted[N][IM_STORE_KEY_SIZE];
    memcpy (sorted, want, sizeof sorted);
    qsort (sorted, N, IM_STORE_KEY_SIZE, cmp_key);

    static const size_t limits[] = { 1, 4, 7, N, 1000 };
    for (size_t l = 0; l < COUNT (limits); l++) {
        int pages = page_through (store, IM_TYPE_NONE, NULL, limits[l], k);
        int inorder = k->n == N;
        for (size_t i = 0; inorder && i < N; i++)
            inorder = memcmp (k->key[i], sorted[i], IM_STORE_KEY_SIZE) == 0;
        ok (pages > 0 && inorder,
            "paging %zu at a time visits each of the %d records once, in key order",
            limits[l], N);
        cmp_ok (pages, "==", (int)((N + limits[l] - 1) / limits[l]) + 1,
                "paging %zu at a time takes full pages and one empty one", limits[l]);
    }

    /* Filtered by type. */
    for (size_t t = 0; t < COUNT (types); t++) {
        size_t expect = 0;
        for (int i = 0; i < N; i++)
            expect += want_type[i] == types[t];
        int pages = page_through (store, types[t], NULL, 3, k);
        int right = pages > 0 && k->n == expect;
        for (size_t i = 0; right && i < k->n; i++)
            right
                = k->type[i] == types[t]
                  && (i == 0 || memcmp (k->key[i - 1], k->key[i], IM_STORE_KEY_SIZE) < 0);
        ok (right, "listing type %s, 3 at a time, gives its %zu records in order",
            im_type_name (types[t]), expect);
    }
    ok (im_store_list (store, IM_TYPE_SHA512, NULL, NULL, 100, NULL, NULL, NULL) == 0,
        "listing a type with no records gives none");

    /* Filtered by origin. */
    for (size_t j = 0; j < COUNT (o); j++) {
        size_t expect = 0;
        for (int i = 0; i < N; i++)
            expect += memcmp (want[i], o[j].pk, IM_NODE_ID_SIZE) == 0;
        int pages = page_through (store, IM_TYPE_NONE, o[j].pk, 2, k);
        int right = pages > 0 && k->n == expect;
        for (size_t i = 0; right && i < k->n; i++)
            right = memcmp (k->key[i], o[j].pk, IM_NODE_ID_SIZE) == 0;
        ok (right, "listing origin %zu, 2 at a time, gives its %zu records", j, expect);
    }
    origin_t stranger;
    origin_new (&stranger);
    ok (im_store_list (store, IM_TYPE_NONE, stranger.pk, NULL, 100, NULL, NULL, NULL)
            == 0,
        "listing an origin with no records gives none");
    size_t both = 0;
    for (int i = 0; i < N; i++)
        both += memcmp (want[i], o[1].pk, IM_NODE_ID_SIZE) == 0
                && want_type[i] == IM_TYPE_IPV4;
    ok (page_through (store, IM_TYPE_IPV4, o[1].pk, 1, k) > 0 && k->n == both,
        "listing by type and origin together gives the %zu records that match both",
        both);

    /* A callback that stops early; NEXT names the last record it saw. */
    found_t *f = calloc (1, sizeof *f);
    uint8_t next[IM_STORE_KEY_SIZE];
    if (!f)
        BAIL_OUT ("out of memory");
    f->stop_after = 3;
    int rc = im_store_list (store, IM_TYPE_NONE, NULL, NULL, 100, collect, f, next);
    ok (f->calls == 3 && rc == 3,
        "a list callback that stops at the third record ends the walk");
    ok (memcmp (next, sorted[2], IM_STORE_KEY_SIZE) == 0,
        "after stopping, next is the key of the third record");
    ok (im_store_list (store, IM_TYPE_NONE, NULL, NULL, 0, NULL, NULL, NULL) == 0,
        "a limit of 0 lists nothing");
    ok (im_store_list (store, IM_TYPE_NONE, NULL, sorted[N - 1], 10, NULL, NULL, NULL)
            == 0,
        "listing after the last key gives nothing");

    free (f);
    im_store_destroy (&store);
    free (s);
    free (k);
    remove_dir (dir);
}

static void
test_changes (void)
{
    enum { N = 6 };
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], id[N][IM_ID_SIZE];
    signed_t *s = signed_alloc (N);
    found_t *f = malloc (sizeof *f);
    origin_t o;
    uint64_t last;
    int r[N], rc;

    if (!f)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);

    for (int i = 0; i < N; i++) {
        char value[64];
        im_id_generate (id[i]);
        snprintf (value, sizeof value, "change-%d.example", i + 1);
        make (&s[i], &o, id[i], 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, value, NULL);
        put1 (store, &s[i], &r[i]);
    }
    /* One step at a time, the log numbers the changes 1..N in order. */
    int numbered = 1;
    for (int i = 0; i < N; i++) {
        memset (f, 0, sizeof *f);
        last = 0;
        rc = im_store_changes (store, (uint64_t)i, 1, collect, f, &last);
        numbered = numbered && rc == 1 && last == (uint64_t)i + 1
                   && memcmp (f->hit[0].id, id[i], IM_ID_SIZE) == 0;
        if (!numbered)
            diag ("since %d: rc %d, last %llu", i, rc, (unsigned long long)last);
    }
    ok (numbered, "the change log numbers the %d changes 1..%d in order", N, N);
    memset (f, 0, sizeof *f);
    rc = im_store_changes (store, 0, 100, collect, f, &last);
    ok (rc == N && last == N && f->bad_blobs == 0,
        "all changes from 0 are visited and last is %d", N);

    /* Record 2 changes again: its first change is superseded. */
    make (&s[1], &o, id[1], 2, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_RED, "change-2b.example",
          NULL);
    put1 (store, &s[1], &r[0]);
    memset (f, 0, sizeof *f);
    last = 0;
    rc = im_store_changes (store, 0, 100, collect, f, &last);
    int order = rc == N && f->calls == N;
    static const int expect[N] = { 0, 2, 3, 4, 5, 1 };
    for (int i = 0; order && i < N; i++)
        order = memcmp (f->hit[i].id, id[expect[i]], IM_ID_SIZE) == 0;
    ok (order, "a superseded change is skipped and the newer one comes in its place");
    ok (last == N + 1, "last is the newest change number, %d", N + 1);
    ok (f->hit[N - 1].version == 2, "the change is handed over as the record now held");

    memset (f, 0, sizeof *f);
    last = 0;
    rc = im_store_changes (store, 1, 1, collect, f, &last);
    ok (rc == 1 && last == 3 && memcmp (f->hit[0].id, id[2], IM_ID_SIZE) == 0,
        "from change 1, the superseded change 2 is passed over and last advances to 3");

    memset (f, 0, sizeof *f);
    f->stop_after = 2;
    last = 0;
    rc = im_store_changes (store, 0, 100, collect, f, &last);
    ok (f->calls == 2 && rc == 2 && last == 3,
        "a changes callback that stops at the second change ends the walk there");

    /* Nothing after the end. */
    static const uint64_t beyond[] = { N + 1, N + 2, 1000, UINT64_MAX - 1, UINT64_MAX };
    for (size_t i = 0; i < COUNT (beyond); i++) {
        memset (f, 0, sizeof *f);
        rc = im_store_changes (store, beyond[i], 100, collect, f, &last);
        ok (rc == 0 && f->calls == 0, "changes since %llu returns nothing",
            (unsigned long long)beyond[i]);
    }
    ok (im_store_changes (store, 0, 0, collect, f, &last) == 0,
        "a limit of 0 visits nothing");

    im_store_stats_t st;
    ok (im_store_stats (store, &st) == 0 && st.last_seq == N + 1,
        "stats report the newest change number");
    im_store_destroy (&store);

    /* The log goes on from where it was after reopening. */
    store = open_store (path, 0, node);
    uint8_t more[IM_ID_SIZE];
    im_id_generate (more);
    put1 (store,
          make (&s[0], &o, more, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
                "after-reopen.example", NULL),
          &r[0]);
    memset (f, 0, sizeof *f);
    rc = im_store_changes (store, N + 1, 100, collect, f, &last);
    ok (rc == 1 && last == N + 2 && memcmp (f->hit[0].id, more, IM_ID_SIZE) == 0,
        "after reopening the next change is numbered %d", N + 2);

    im_store_destroy (&store);
    free (s);
    free (f);
    remove_dir (dir);
}

typedef struct {
    int origin;
    int type;
    int tlp;
    int op;
    const char *value;
} stat_rec_t;

static const stat_rec_t stat_recs[] = {
    { 0, IM_TYPE_IPV4, IM_TLP_CLEAR, IM_OP_PUT, "192.0.2.10" },
    { 0, IM_TYPE_IPV4, IM_TLP_CLEAR, IM_OP_PUT, "192.0.2.11" },
    { 0, IM_TYPE_IPV4, IM_TLP_RED, IM_OP_PUT, "10.0.0.0/8" },
    { 1, IM_TYPE_IPV6, IM_TLP_AMBER, IM_OP_PUT, "2001:db8::/32" },
    { 1, IM_TYPE_DOMAIN, IM_TLP_GREEN, IM_OP_PUT, "stats.example" },
    { 1, IM_TYPE_DOMAIN, IM_TLP_AMBER_STRICT, IM_OP_PUT, "strict.example" },
    { 2, IM_TYPE_SHA256, IM_TLP_GREEN, IM_OP_PUT,
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { 2, IM_TYPE_ASN, IM_TLP_CLEAR, IM_OP_PUT, "AS64500" },
    { 2, IM_TYPE_URL, IM_TLP_RED, IM_OP_REVOKE, "http://revoked.example/" },
    { 0, IM_TYPE_EMAIL, IM_TLP_AMBER, IM_OP_REVOKE, "x@revoked.example" },
};

/* Stores the stat_recs table into STORE; IDS gets their ids. */
static void
store_stat_recs (im_store_t *store, const origin_t *o, uint8_t ids[][IM_ID_SIZE])
{
    signed_t *s = signed_alloc (COUNT (stat_recs));
    int r[COUNT (stat_recs)];
    for (size_t i = 0; i < COUNT (stat_recs); i++) {
        const stat_rec_t *t = &stat_recs[i];
        im_id_generate (ids[i]);
        make (&s[i], &o[t->origin], ids[i], 1, t->op, t->type, t->tlp, t->value, NULL);
    }
    cmp_ok (put_n (store, s, COUNT (stat_recs), r), "==", COUNT (stat_recs),
            "the %zu records of the counter table are stored", COUNT (stat_recs));
    free (s);
}

static void
test_stats (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], ids[COUNT (stat_recs)][IM_ID_SIZE];
    origin_t o[3];
    im_store_stats_t st, empty;

    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    for (size_t i = 0; i < COUNT (o); i++)
        origin_new (&o[i]);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);
    ok (im_store_stats (store, &empty) == 0 && empty.records == 0 && empty.origins == 0
            && empty.last_seq == 0 && empty.revoked == 0,
        "a new store counts nothing");
    cmp_ok (empty.map_size, "==", (uint64_t)1 << 30, "a map size of 0 means 1 GiB");
    cmp_ok (empty.used_bytes, ">", 0, "even a new store uses some bytes");

    store_stat_recs (store, o, ids);
    ok (im_store_stats (store, &st) == 0, "stats succeed");
    uint64_t live[IM_TYPE_COUNT][IM_TLP_COUNT] = { { 0 } };
    uint64_t revoked = 0;
    for (size_t i = 0; i < COUNT (stat_recs); i++) {
        if (stat_recs[i].op == IM_OP_PUT)
            live[stat_recs[i].type][stat_recs[i].tlp]++;
        else
            revoked++;
    }
    for (int t = IM_TYPE_NONE; t < IM_TYPE_COUNT; t++)
        for (int l = IM_TLP_NONE; l < IM_TLP_COUNT; l++)
            if (live[t][l] || st.live[t][l])
                cmp_ok (st.live[t][l], "==", live[t][l],
                        "%llu live %s record%s at TLP %s", (unsigned long long)live[t][l],
                        im_type_name (t) ? im_type_name (t) : "?",
                        live[t][l] == 1 ? "" : "s",
                        im_tlp_name (l) ? im_tlp_name (l) : "?");
    uint64_t total = 0;
    for (int t = IM_TYPE_NONE; t < IM_TYPE_COUNT; t++)
        for (int l = IM_TLP_NONE; l < IM_TLP_COUNT; l++)
            total += st.live[t][l];
    cmp_ok (total, "==", COUNT (stat_recs) - revoked, "the live counts add up to %llu",
            (unsigned long long)(COUNT (stat_recs) - revoked));
    cmp_ok (st.revoked, "==", revoked, "the revoked count is %llu",
            (unsigned long long)revoked);
    cmp_ok (st.records, "==", COUNT (stat_recs), "records counts live and revoked");
    cmp_ok (st.origins, "==", 3, "origins counts the three distinct origins");
    cmp_ok (st.last_seq, "==", COUNT (stat_recs), "last_seq is the number of changes");
    cmp_ok (st.used_bytes, ">", 0, "used_bytes is above 0");
    cmp_ok (st.used_bytes, "<=", st.map_size, "used_bytes fits in the map");

    im_store_destroy (&store);
    remove_dir (dir);
}

static void
test_persistence (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], ids[COUNT (stat_recs)][IM_ID_SIZE];
    origin_t o[3];
    im_store_stats_t before, after;
    im_record_t *got = malloc (sizeof *got);
    found_t *f = malloc (sizeof *f);
    signed_t *s = signed_alloc (1);
    int r;

    if (!got || !f)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    for (size_t i = 0; i < COUNT (o); i++)
        origin_new (&o[i]);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);
    store_stat_recs (store, o, ids);
    /* One update, so that the log holds a superseded change. */
    make (s, &o[0], ids[0], 2, IM_OP_PUT, IM_TYPE_IPV4, IM_TLP_GREEN, "192.0.2.10", "v2");
    put1 (store, s, &r);
    ok (im_store_stats (store, &before) == 0, "stats before closing succeed");
    im_store_destroy (&store);

    store = open_store (path, 0, node);
    ok (im_store_stats (store, &after) == 0 && stats_same (&before, &after),
        "after reopening every counter is as it was");
    cmp_ok (after.last_seq, "==", before.last_seq,
            "after reopening last_seq is still %llu",
            (unsigned long long)before.last_seq);
    int all = 1;
    for (size_t i = 0; i < COUNT (stat_recs); i++) {
        int found = im_store_get (store, o[stat_recs[i].origin].pk, ids[i], got) == 0
                    && got->op == stat_recs[i].op && got->type == stat_recs[i].type
                    && strcmp (got->value, stat_recs[i].value) == 0
                    && got->version == (i == 0 ? 2u : 1u);
        if (!found)
            diag ("record %zu (%s) is missing or changed", i, stat_recs[i].value);
        all = all && found;
    }
    ok (all, "after reopening every record is there at its version");
    ok (lookup (store, IM_TYPE_IPV4, "10.200.1.1", f, 0) == 1,
        "after reopening an address finds its IPv4 prefix");
    ok (lookup (store, IM_TYPE_IPV6, "2001:db8::99", f, 0) == 1,
        "after reopening an address finds its IPv6 prefix");
    ok (lookup (store, IM_TYPE_DOMAIN, "stats.example", f, 0) == 1,
        "after reopening a domain is found");
    ok (lookup (store, IM_TYPE_URL, "http://revoked.example/", f, 0) == 0,
        "after reopening a revoked value is still not found");
    ok (im_store_list (store, IM_TYPE_NONE, NULL, NULL, 100, NULL, NULL, NULL)
            == (int)COUNT (stat_recs),
        "after reopening every record is listed");
    memset (f, 0, sizeof *f);
    uint64_t last = 0;
    ok (im_store_changes (store, 0, 100, collect, f, &last) == (int)COUNT (stat_recs)
            && last == before.last_seq,
        "after reopening the change log is intact");

    /* The counters go on from the stored ones. */
    uint8_t more[IM_ID_SIZE];
    im_id_generate (more);
    put1 (store,
          make (s, &o[1], more, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
                "stats.example", NULL),
          &r);
    ok (im_store_stats (store, &after) == 0 && after.records == before.records + 1
            && after.live[IM_TYPE_DOMAIN][IM_TLP_GREEN]
                   == before.live[IM_TYPE_DOMAIN][IM_TLP_GREEN] + 1
            && after.origins == before.origins && after.last_seq == before.last_seq + 1,
        "a put after reopening adds to the stored counters");
    im_store_destroy (&store);
    store = open_store (path, 0, NULL);
    ok (im_store_stats (store, &before) == 0 && stats_same (&before, &after),
        "after a second reopening the counters are still right");

    im_store_destroy (&store);
    free (s);
    free (f);
    free (got);
    remove_dir (dir);
}

static void
test_map_growth (void)
{
    enum { N = 4000, BATCH = 250 };
    char dir[64], path[128], err[256];
    uint8_t node[IM_NODE_ID_SIZE];
    uint8_t (*ids)[IM_ID_SIZE] = malloc ((size_t)N * IM_ID_SIZE);
    signed_t *s = signed_alloc (BATCH);
    im_record_t *got = malloc (sizeof *got);
    im_store_stats_t st;
    int r[BATCH];
    origin_t o;
    size_t map = (size_t)1 << 16;
    im_store_t *store = NULL;

    if (!ids || !got)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    sub_path (path, sizeof path, dir, "store");
    for (; !store && map <= ((size_t)1 << 22); map *= 2)
        if (!(store = im_store_new (path, map, node, err, sizeof err)))
            diag ("a map of %zu bytes is refused: %s", map, err);
    if (!store)
        BAIL_OUT ("cannot open a store with a small map");
    map /= 2;
    diag ("opened with a map of %zu bytes", map);
    ok (im_store_stats (store, &st) == 0 && st.map_size == map,
        "a store opens with a map of %zu bytes", map);

    int failed = 0, not_new = 0;
    for (int b = 0; b < N / BATCH; b++) {
        for (int i = 0; i < BATCH; i++) {
            int n = b * BATCH + i;
            char value[64];
            im_id_generate (ids[n]);
            if (n % 2)
                snprintf (value, sizeof value, "host-%d.growth.example", n);
            else
                snprintf (value, sizeof value, "10.%d.%d.%d", n >> 16, (n >> 8) & 255,
                          n & 255);
            make (&s[i], &o, ids[n], 1, IM_OP_PUT, n % 2 ? IM_TYPE_DOMAIN : IM_TYPE_IPV4,
                  IM_TLP_GREEN, value, "a record to fill the map with some description");
        }
        if (put_n (store, s, BATCH, r) != BATCH)
            failed++;
        for (int i = 0; i < BATCH; i++)
            not_new += r[i] != IM_STORE_NEW;
    }
    ok (failed == 0 && not_new == 0, "every one of %d batches of %d puts succeeds",
        N / BATCH, BATCH);
    ok (im_store_stats (store, &st) == 0, "stats after filling succeed");
    cmp_ok (st.used_bytes, ">", map, "the records need more than the first map");
    cmp_ok (st.map_size, ">", map, "the map has grown");
    cmp_ok (st.map_size, ">=", st.used_bytes, "the grown map holds what is used");
    cmp_ok (st.records, "==", N, "the store counts %d records", N);
    cmp_ok (st.last_seq, "==", N, "the change log has %d changes", N);

    int missing = 0;
    for (int n = 0; n < N; n++)
        missing += im_store_get (store, o.pk, ids[n], got) != 0;
    cmp_ok (missing, "==", 0, "every record can be read back after the map grew");
    ok (im_store_lookup (store, IM_TYPE_DOMAIN, "host-3999.growth.example", NULL, NULL)
                == 1
            && im_store_lookup (store, IM_TYPE_IPV4, "10.0.0.0", NULL, NULL) == 1,
        "the first and last values are found after the map grew");
    cmp_ok (im_store_list (store, IM_TYPE_NONE, NULL, NULL, N + 10, NULL, NULL, NULL),
            "==", N, "every record is listed after the map grew");
    im_store_destroy (&store);

    /* Reopened with the small map asked again, the store keeps its data and grows on. */
    store = open_store (path, map, node);
    missing = 0;
    for (int n = 0; n < N; n++)
        missing += im_store_get (store, o.pk, ids[n], NULL) != 0;
    cmp_ok (missing, "==", 0, "after reopening with a small map every record is there");
    for (int i = 0; i < BATCH; i++) {
        uint8_t id[IM_ID_SIZE];
        char value[64];
        im_id_generate (id);
        snprintf (value, sizeof value, "again-%d.growth.example", i);
        make (&s[i], &o, id, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_RED, value, NULL);
    }
    cmp_ok (put_n (store, s, BATCH, r), "==", BATCH,
            "after reopening with a small map a batch of %d is stored", BATCH);

    im_store_destroy (&store);
    free (got);
    free (s);
    free (ids);
    remove_dir (dir);
}

/* A batch that fails inside its transaction must leave nothing behind. The
 * failure is real: another process (which the daemon's pid lock normally
 * keeps out) writes to the same store, so this handle's next change number is
 * taken and LMDB refuses to append it. */
static void
test_failed_batch (void)
{
    char dir[64], path[128], err[256];
    uint8_t node[IM_NODE_ID_SIZE], a[IM_ID_SIZE], x[IM_ID_SIZE], c[IM_ID_SIZE];
    im_record_t *got = malloc (sizeof *got);
    signed_t *s = signed_alloc (3);
    im_store_stats_t before, after;
    origin_t o;
    found_t f;
    int r[2];

    if (!got)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    im_id_generate (a);
    im_id_generate (x);
    im_id_generate (c);
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);
    put1 (store,
          make (&s[0], &o, a, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "kept.example",
                NULL),
          &r[0]);
    make (&s[2], &o, c, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "child.example",
          NULL);

    fflush (stdout);
    pid_t pid = fork ();
    if (pid < 0)
        BAIL_OUT ("fork: %s", strerror (errno));
    if (pid == 0) {
        im_store_t *mine = im_store_new (path, 0, node, NULL, 0);
        im_store_item_t item = { s[2].blob, s[2].len, &s[2].rec, 0, NULL };
        int rc = mine ? im_store_put_batch (mine, &item, 1, NULL, NULL, 0) : -1;
        im_store_destroy (&mine);
        _exit (rc == 1 ? 0 : 1);
    }
    int status = 0;
    waitpid (pid, &status, 0);
    ok (WIFEXITED (status) && WEXITSTATUS (status) == 0,
        "another process stores a record in the same store");

    ok (im_store_stats (store, &before) == 0, "stats before the failing batch succeed");
    make (&s[0], &o, a, 2, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_RED, "changed.example",
          NULL);
    make (&s[1], &o, x, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "lost.example", NULL);
    im_store_item_t items[2] = { { s[0].blob, s[0].len, &s[0].rec, 0, NULL },
                                 { s[1].blob, s[1].len, &s[1].rec, 0, NULL } };
    errno = 0;
    err[0] = '\0';
    int rc = im_store_put_batch (store, items, 2, r, err, sizeof err);
    ok (rc == -1 && errno != 0,
        "a batch whose change number is taken fails with errno set");
    ok (err[0] != '\0', "the failed batch explains itself");
    diag ("the failure: %s (%s)", err, strerror (errno));
    ok (im_store_get (store, o.pk, a, got) == 0 && got->version == 1
            && strcmp (got->value, "kept.example") == 0,
        "the update in the failed batch was not stored");
    errno = 0;
    ok (im_store_get (store, o.pk, x, NULL) == -1 && errno == ENOENT,
        "the new record in the failed batch was not stored");
    ok (lookup (store, IM_TYPE_DOMAIN, "kept.example", &f, 0) == 1
            && lookup (store, IM_TYPE_DOMAIN, "changed.example", &f, 0) == 0
            && lookup (store, IM_TYPE_DOMAIN, "lost.example", &f, 0) == 0,
        "the index is as it was before the failed batch");
    ok (im_store_stats (store, &after) == 0 && stats_same (&before, &after),
        "the counters are as they were before the failed batch");
    ok (im_store_get (store, o.pk, c, NULL) == 0,
        "the other process's record is readable");

    im_store_destroy (&store);
    free (s);
    free (got);
    remove_dir (dir);
}

/* --- A full disk --------------------------------------------------------- */

/* What the store's one error function makes of a code. */
typedef struct {
    const char *what;
    int rc;        /* LMDB's code, or the system's */
    int in_dir;    /* the store's directory is given (a filesystem with room) */
    int code;      /* the errno it becomes */
    int disk_full; /* the message says "disk full" */
} store_error_case_t;

static const store_error_case_t store_error_cases[] = {
    { "MDB_MAP_FULL (the map at its limit)", MDB_MAP_FULL, 1, ENOSPC, 1 },
    { "ENOSPC (a write to a full disk)", ENOSPC, 1, ENOSPC, 1 },
    { "ENOSPC, no directory known", ENOSPC, 0, ENOSPC, 1 },
#ifdef EDQUOT
    { "EDQUOT (a full quota)", EDQUOT, 1, ENOSPC, 1 },
#endif
    { "MDB_NOTFOUND", MDB_NOTFOUND, 1, ENOENT, 0 },
    { "MDB_CORRUPTED", MDB_CORRUPTED, 1, EIO, 0 },
    { "MDB_READERS_FULL", MDB_READERS_FULL, 1, EAGAIN, 0 },
    { "EACCES", EACCES, 1, EACCES, 0 },
    { "EIO on a filesystem with room", EIO, 1, EIO, 0 },
    { "EIO, no directory known", EIO, 0, EIO, 0 },
};

static void
test_store_error (void)
{
    char dir[64];
    make_dir (dir, sizeof dir, "store");
    ok (!store_fs_full (dir) && !store_fs_full (NULL) && !store_fs_full ("/proc"),
        "a filesystem with room, no directory, and one with no blocks at all are not "
        "full");
    for (size_t i = 0; i < COUNT (store_error_cases); i++) {
        const store_error_case_t *c = &store_error_cases[i];
        char err[256] = "";
        errno = 0;
        int rc = store_error (c->in_dir ? dir : NULL, c->rc, "writing", err, sizeof err);
        int code = errno;
        ok (rc == -1 && code == c->code, "%s becomes errno %s", c->what,
            strerror (c->code));
        ok ((strstr (err, "disk full") != NULL) == c->disk_full
                && strncmp (err, "store: writing: ", 16) == 0,
            "%s is %sworded as disk full: %s", c->what, c->disk_full ? "" : "not ", err);
        if (c->code == ENOSPC && c->rc != MDB_MAP_FULL && c->in_dir)
            ok (strstr (err, dir) != NULL, "%s names the store's directory", c->what);
    }
    remove_dir (dir);
}

/* Room for N ids. */
static uint8_t (*ids_alloc (size_t n))[IM_ID_SIZE]
{
    uint8_t (*ids)[IM_ID_SIZE] = malloc (n * IM_ID_SIZE);
    if (!ids)
        BAIL_OUT ("out of memory");
    return ids;
}

/* Fills STORE with batches of BATCH new records of O until one fails or
 * MAX_BATCHES went in; the ids into IDS. Returns the batches stored; *ERRNO_P
 * and ERR tell how the failing one failed (0: none did). */
static int
fill (im_store_t *store, const origin_t *o, signed_t *s, size_t batch, int max_batches,
      uint8_t (*ids)[IM_ID_SIZE], int *errno_p, char *err, size_t errsz)
{
    im_store_item_t *items = calloc (batch, sizeof *items);
    if (!items)
        BAIL_OUT ("out of memory");
    *errno_p = 0;
    int b;
    for (b = 0; b < max_batches; b++) {
        for (size_t i = 0; i < batch; i++) {
            size_t n = (size_t)b * batch + i;
            char value[64];
            im_id_generate (ids[n]);
            snprintf (value, sizeof value, "full-%zu.disk.example", n);
            make (&s[i], o, ids[n], 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, value,
                  "a record to fill a limited store with, and some words more");
            items[i] = (im_store_item_t){ s[i].blob, s[i].len, &s[i].rec, 0, NULL };
        }
        errno = 0;
        if (im_store_put_batch (store, items, batch, NULL, err, errsz) != (int)batch) {
            *errno_p = errno;
            break;
        }
    }
    free (items);
    return b;
}

/* How many of the first N ids of O are not held. */
static int
missing_of (im_store_t *store, const origin_t *o, uint8_t (*ids)[IM_ID_SIZE], size_t n)
{
    int missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += im_store_get (store, o->pk, ids[i], NULL) != 0;
    return missing;
}

/* After a batch refused for want of room: the first N ids of O are held,
 * the next one (the refused batch's first) is not. */
static void
check_kept (im_store_t *store, const origin_t *o, uint8_t (*ids)[IM_ID_SIZE], size_t n)
{
    cmp_ok (missing_of (store, o, ids, n), "==", 0,
            "every record stored before the disk was full is there");
    errno = 0;
    ok (im_store_get (store, o->pk, ids[n], NULL) == -1 && errno == ENOENT,
        "nothing of the refused batch is stored");
    /* Nor is it remembered as held (im_store_vcache.c): a "held" here would
     * skip the record as known when the pull is answered again. */
    uint8_t key[IM_STORE_KEY_SIZE];
    uint64_t v1 = 99, v2 = 99;
    memcpy (key, o->pk, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, ids[n], IM_ID_SIZE);
    ok (im_store_version (store, o->pk, ids[n], &v1) == 0 && v1 == 0
            && im_store_versions (store, key, IM_STORE_KEY_SIZE, 1, &v2) == 0 && v2 == 0,
        "and its version is not held");
}

static void
test_size_limit (void)
{
    enum { BATCH = 200, MAX_BATCHES = 60 };
    const size_t mib = (size_t)1 << 20;
    char dir[64], path[128], err[256];
    uint8_t node[IM_NODE_ID_SIZE];
    uint8_t (*ids)[IM_ID_SIZE] = ids_alloc ((size_t)BATCH * (MAX_BATCHES + 1));
    signed_t *s = signed_alloc (BATCH);
    im_store_stats_t st;
    origin_t o;
    int code;

    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);

    errno = 0;
    ok (im_store_set_max (NULL, mib) == -1 && errno == EINVAL,
        "a size limit for no store is refused with EINVAL");
    errno = 0;
    ok (im_store_set_max (store, mib - 1) == -1 && errno == EINVAL,
        "a size limit one byte under 1 MiB is refused with EINVAL");
    ok (im_store_set_max (store, mib) == 0, "a size limit of 1 MiB is taken");
    ok (im_store_stats (store, &st) == 0 && st.map_size == mib && st.max_size == mib
            && st.full_since == 0 && st.full_refused == 0,
        "the 1 GiB map is made 1 MiB, the limit is shown, the disk is not full");

    int stored = fill (store, &o, s, BATCH, MAX_BATCHES, ids, &code, err, sizeof err);
    diag ("%d batches of %d fit in 1 MiB; then: %s", stored, BATCH, err);
    ok (stored > 0 && stored < MAX_BATCHES, "some batches fit under the limit, not all");
    ok (code == ENOSPC, "the batch over the limit fails with errno ENOSPC");
    ok (strstr (err, "disk full") != NULL, "and says disk full: %s", err);
    ok (im_store_stats (store, &st) == 0 && st.map_size == mib
            && st.records == (uint64_t)stored * BATCH && st.full_since > 0
            && st.full_since <= im_time_now () && st.full_refused == 1,
        "the map stayed at 1 MiB, %d records are counted, one write refused since a time",
        stored * BATCH);
    check_kept (store, &o, ids, (size_t)stored * BATCH);
    int again = fill (store, &o, s, BATCH, 1, ids + (size_t)stored * BATCH, &code, err,
                      sizeof err);
    ok (again == 0 && code == ENOSPC && im_store_stats (store, &st) == 0
            && st.full_refused == 2,
        "the next batch is refused too, and counted: 2 writes refused");

    ok (im_store_set_max (store, 4 * mib) == 0, "the limit is raised to 4 MiB");
    again = fill (store, &o, s, BATCH, 1, ids + (size_t)stored * BATCH, &code, err,
                  sizeof err);
    ok (again == 1 && code == 0, "after raising the limit the batch is stored");
    stored++;
    ok (im_store_stats (store, &st) == 0 && st.full_since == 0 && st.full_refused == 0
            && st.map_size > mib && st.map_size <= 4 * mib,
        "the disk is no longer shown full; the map grew within the new limit");
    ok (im_store_set_max (store, 0) == 0, "the limit is lifted (0)");
    again = fill (store, &o, s, BATCH, MAX_BATCHES - stored, ids + (size_t)stored * BATCH,
                  &code, err, sizeof err);
    ok (again == MAX_BATCHES - stored && code == 0,
        "without a limit the store takes every batch, %d records in all",
        MAX_BATCHES * BATCH);
    im_store_destroy (&store);

    /* Reopened with a limit under what is used: the map keeps what is in use,
     * and grows no further. */
    store = open_store (path, 0, node);
    ok (im_store_set_max (store, mib) == 0 && im_store_stats (store, &st) == 0
            && st.map_size >= st.used_bytes && st.map_size < ((size_t)1 << 30),
        "a limit under what is used keeps the map at what is in use (%llu bytes)",
        (unsigned long long)st.map_size);
    again = fill (store, &o, s, BATCH, 1, ids + (size_t)MAX_BATCHES * BATCH, &code, err,
                  sizeof err);
    ok (again == 0 && code == ENOSPC && strstr (err, "disk full"),
        "a store over its limit refuses a new batch as disk full");
    cmp_ok (missing_of (store, &o, ids, (size_t)MAX_BATCHES * BATCH), "==", 0,
            "every record stored before is still there");

    im_store_destroy (&store);
    free (s);
    free (ids);
    remove_dir (dir);
}

/* Mounts a tmpfs of SIZE on DIR, in a mount namespace of this process (gone
 * with it). Needs CAP_SYS_ADMIN. Returns 0, or -1 with errno. */
static int
small_disk (const char *dir, const char *size)
{
    char opts[64];
    snprintf (opts, sizeof opts, "size=%s,mode=0700", size);
    if (unshare (CLONE_NEWNS) != 0
        || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -1;
    return mount ("tmpfs", dir, "tmpfs", 0, opts);
}

/* Writes zeros to PATH until the disk is full. Returns the bytes written. */
static off_t
ballast (const char *path)
{
    static const char zeros[4096];
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    off_t total = 0;
    ssize_t n;
    while (fd >= 0 && (n = write (fd, zeros, sizeof zeros)) > 0)
        total += n;
    if (fd >= 0)
        close (fd);
    return total;
}

static void
test_full_filesystem (void)
{
    enum { BATCH = 100, MAX_BATCHES = 40 };
    char dir[64], path[128], path2[128], weight[128], err[512] = "";
    im_store_stats_t st;
    uint8_t node[IM_NODE_ID_SIZE];
    int code;
    make_dir (dir, sizeof dir, "fullfs");
    if (small_disk (dir, "1m") != 0) {
        ok (1, "# SKIP no tmpfs of our own (%s): needs root", strerror (errno));
        remove_dir (dir);
        return;
    }
    uint8_t (*ids)[IM_ID_SIZE] = ids_alloc ((size_t)BATCH * (MAX_BATCHES + 2));
    signed_t *s = signed_alloc (BATCH);
    origin_t o;
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    sub_path (weight, sizeof weight, dir, "ballast");
    sub_path (path, sizeof path, dir, "store");
    sub_path (path2, sizeof path2, dir, "new-store");

    /* A new store on a full disk: an error, not SIGBUS in LMDB's lock file. */
    ballast (weight);
    ok (store_fs_full (dir), "the 1 MiB tmpfs is full");
    errno = 0;
    im_store_t *store = im_store_new (path2, 0, node, err, sizeof err);
    code = errno;
    ok (!store && code == ENOSPC && strstr (err, "disk full") && strstr (err, path2),
        "a new store on a full disk fails as disk full, naming it: %s", err);
    errno = 0;
    ok (store_error (dir, EIO, "writing", err, sizeof err) == -1 && errno == ENOSPC
            && strstr (err, "disk full") && strstr (err, dir),
        "EIO on a filesystem with no free blocks is a full disk: %s", err);
    unlink (weight);
    remove_dir (path2);

    /* A store that fills the disk: its writes fail as disk full, and are
     * counted; what was stored stays; freed space takes writes again. */
    store = open_store (path, 0, node);
    off_t filled = ballast (weight);
    ok (filled > 0 && truncate (weight, filled - 256 * 1024) == 0,
        "the disk is filled, then 256 KiB of it freed");
    int stored = fill (store, &o, s, BATCH, MAX_BATCHES, ids, &code, err, sizeof err);
    diag ("%d batches of %d fit in 256 KiB; then: %s", stored, BATCH, err);
    ok (stored > 0 && stored < MAX_BATCHES, "some batches fit, not all");
    ok (code == ENOSPC && strstr (err, "disk full") && strstr (err, path),
        "the batch that does not fit fails with ENOSPC, disk full, naming the store");
    ok (im_store_stats (store, &st) == 0 && st.full_since > 0 && st.full_refused == 1
            && st.records == (uint64_t)stored * BATCH,
        "the store counts a write refused since a time, and %d records", stored * BATCH);
    check_kept (store, &o, ids, (size_t)stored * BATCH);
    ok (unlink (weight) == 0, "the ballast is removed");
    int again = fill (store, &o, s, BATCH, 1, ids + (size_t)stored * BATCH, &code, err,
                      sizeof err);
    ok (again == 1 && code == 0 && im_store_stats (store, &st) == 0 && st.full_since == 0
            && st.full_refused == 0,
        "with space again the batch is stored, and the disk is no longer shown full");
    stored++;
    im_store_destroy (&store);
    store = open_store (path, 0, node);
    cmp_ok (missing_of (store, &o, ids, (size_t)stored * BATCH), "==", 0,
            "reopened, the store holds all %d records", stored * BATCH);
    im_store_destroy (&store);
    umount2 (dir, MNT_DETACH);
    remove_dir (dir);
    free (s);
    free (ids);
}

/* The key with a version of REC at VERSION, as the sent log takes it. */
static void
version_key (uint8_t key[IM_STORE_WANT_KEY], const im_record_t *rec, uint64_t version)
{
    memcpy (key, rec->origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
    for (int i = 0; i < 8; i++)
        key[IM_STORE_KEY_SIZE + i] = (uint8_t)(version >> (56 - 8 * i));
}

/* get_raw: the signed bytes of a record, as held. */
static void
test_get_raw (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
    signed_t *s = signed_alloc (2);
    origin_t o;
    int r;

    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);
    im_id_generate (id);
    make (&s[0], &o, id, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "raw.example", NULL);
    make (&s[1], &o, id, 2, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "raw.example", NULL);

    put1 (store, &s[0], &r);
    put1 (store, &s[1], &r);
    uint8_t id2[IM_ID_SIZE];
    im_id_generate (id2);
    signed_t *t = signed_alloc (1);
    make (t, &o, id2, 3, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "other.example", NULL);

    uint8_t buf[IM_RECORD_MAX];
    size_t len = 0;
    ok (im_store_get_raw (store, s[1].rec.origin, id, buf, sizeof buf, &len) == 0
            && len == s[1].len && memcmp (buf, s[1].blob, len) == 0,
        "get_raw copies the signed bytes held");
    ok (im_store_get_raw (store, s[1].rec.origin, id, buf, 10, &len) == -1
            && errno == ENOSPC,
        "get_raw refuses a buffer too small");
    ok (im_store_get_raw (store, t->rec.origin, id2, buf, sizeof buf, &len) == -1
            && errno == ENOENT,
        "get_raw of a record never stored fails with ENOENT");
    im_store_destroy (&store);
    free (s);
    free (t);
    remove_dir (dir);
}

/* --- Cursors, the sent log, hops ---------------------------------------- */

/* Signs S again with reach REACH (O is its origin). */
static signed_t *
with_reach (signed_t *s, const origin_t *o, int reach)
{
    char err[256];
    s->rec.reach = (uint8_t)reach;
    if (im_record_sign (&s->rec, o->sk, s->blob, sizeof s->blob, &s->len, err,
                        sizeof err))
        BAIL_OUT ("cannot sign a test record of reach %d: %s", reach, err);
    return s;
}

/* Stores S as it came from peer FROM (NULL: this node's own) at HOPS. */
static int
put_from (im_store_t *store, const signed_t *s, uint8_t hops, const uint8_t *from,
          int *result)
{
    im_store_item_t item = { s->blob, s->len, &s->rec, hops, from };
    char err[256] = "";
    *result = -1;
    int rc = im_store_put_batch (store, &item, 1, result, err, sizeof err);
    if (rc < 0)
        diag ("put_batch: %s", err);
    return rc;
}

static void
test_set_cursor (void)
{
    char dir[64], path[128], err[256];
    uint8_t node[IM_NODE_ID_SIZE], p[IM_NODE_ID_SIZE], q[IM_NODE_ID_SIZE];
    uint64_t c = 99;

    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    randombytes_buf (p, sizeof p);
    randombytes_buf (q, sizeof q);
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);

    errno = 0;
    ok (im_store_set_cursor (NULL, p, 1) == -1 && errno == EINVAL,
        "set_cursor refuses a NULL store with EINVAL");
    errno = 0;
    ok (im_store_set_cursor (store, NULL, 1) == -1 && errno == EINVAL,
        "set_cursor refuses a NULL peer with EINVAL");
    errno = 0;
    ok (im_store_cursor (NULL, p, &c) == -1 && errno == EINVAL,
        "cursor refuses a NULL store with EINVAL");
    errno = 0;
    ok (im_store_cursor (store, NULL, &c) == -1 && errno == EINVAL,
        "cursor refuses a NULL peer with EINVAL");
    errno = 0;
    ok (im_store_cursor (store, p, NULL) == -1 && errno == EINVAL,
        "cursor refuses a NULL result with EINVAL");
    ok (im_store_cursor (store, p, &c) == 0 && c == 0,
        "the cursor of a peer never pulled from is 0");

    ok (im_store_put_batch_cursor (store, NULL, 0, NULL, p, 50, err, sizeof err) == 0,
        "an empty batch moves the cursor of peer P to 50");
    ok (im_store_cursor (store, p, &c) == 0 && c == 50, "cursor reads 50 for P");
    ok (im_store_set_cursor (store, q, 7) == 0 && im_store_cursor (store, q, &c) == 0
            && c == 7,
        "set_cursor sets the cursor of a peer that had none");
    ok (im_store_set_cursor (store, p, 10) == 0,
        "set_cursor moves P's cursor back to 10");
    ok (im_store_cursor (store, p, &c) == 0 && c == 10, "cursor then reads 10 for P");
    ok (im_store_cursor (store, q, &c) == 0 && c == 7,
        "moving P's cursor leaves Q's as it was");
    ok (im_store_set_cursor (store, p, 0) == 0 && im_store_cursor (store, p, &c) == 0
            && c == 0,
        "set_cursor moves P's cursor back to 0");
    ok (im_store_set_cursor (store, p, UINT64_MAX) == 0
            && im_store_cursor (store, p, &c) == 0 && c == UINT64_MAX,
        "set_cursor takes the largest change number");
    ok (im_store_set_cursor (store, p, 3) == 0, "set_cursor moves P's cursor to 3");
    im_store_destroy (&store);
    store = open_store (path, 0, node);
    ok (im_store_cursor (store, p, &c) == 0 && c == 3
            && im_store_cursor (store, q, &c) == 0 && c == 7,
        "after reopening the cursors set are still 3 and 7");

    im_store_destroy (&store);
    remove_dir (dir);
}

/* Writes KLEN bytes of KEY with LEN bytes of VALUE (NULL: deletes it) into
 * database DB of the store at PATH, past the store's own code. Returns an
 * LMDB code. */
static int
db_edit (const char *path, const char *db, const void *key, size_t klen,
         const void *value, size_t len)
{
    MDB_env *env;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    MDB_val k = { klen, (void *)key }, v = { len, (void *)value };
    int rc = mdb_env_create (&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (env, 16);
    if (rc == 0)
        rc = mdb_env_open (env, path, 0, 0600);
    if (rc == 0)
        rc = mdb_txn_begin (env, NULL, 0, &txn);
    if (rc == 0 && (rc = mdb_dbi_open (txn, db, 0, &dbi)) == 0)
        rc = value ? mdb_put (txn, dbi, &k, &v, 0) : mdb_del (txn, dbi, &k, NULL);
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else if (txn)
        mdb_txn_abort (txn);
    mdb_env_close (env);
    return rc;
}

/* Writes metadata NAME (LEN bytes of VALUE; NULL: deletes it) into the store
 * at PATH, as an older version would have left it. Returns an LMDB code. */
static int
meta_edit (const char *path, const char *name, const void *value, size_t len)
{
    return db_edit (path, "meta", name, strlen (name), value, len);
}

/* A store as made by a version without the served table: its marker gone. */
static void
drop_served_marker (const char *path)
{
    ok (meta_edit (path, "served", NULL, 0) == 0,
        "the served marker is removed, as in a store of the previous schema");
}

/* A store made when there were 12 types (before cve and the others) keeps
 * its counters; counters of a size no version wrote are refused. */
static void
test_counts_of_fewer_types (void)
{
    char dir[64], path[128], err[256];
    uint8_t node[IM_NODE_ID_SIZE];
    enum { OLD_TYPES = 12 };
    uint8_t old[8 * (OLD_TYPES * IM_TLP_COUNT + 3)];
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);
    im_store_destroy (&store);
    memset (old, 0, sizeof old);
    old[8 * (IM_TYPE_IPV4 * IM_TLP_COUNT + IM_TLP_GREEN) + 7] = 3;
    old[8 * (IM_TYPE_ASN * IM_TLP_COUNT + IM_TLP_AMBER) + 7] = 2;
    old[sizeof old - 24 + 7] = 1; /* revoked */
    old[sizeof old - 16 + 7] = 6; /* records */
    old[sizeof old - 8 + 7] = 4;  /* origins */
    ok (meta_edit (path, "counts", old, sizeof old) == 0,
        "the counters are written as a store of 12 types kept them");
    store = im_store_new (path, 0, node, err, sizeof err);
    ok (store != NULL, "a store whose counters hold 12 types opens (%s)",
        store ? "" : err);
    im_store_stats_t st;
    ok (store && im_store_stats (store, &st) == 0
            && st.live[IM_TYPE_IPV4][IM_TLP_GREEN] == 3
            && st.live[IM_TYPE_ASN][IM_TLP_AMBER] == 2
            && st.live[IM_TYPE_CVE][IM_TLP_GREEN] == 0 && st.revoked == 1
            && st.records == 6 && st.origins == 4,
        "its counters are read as they were, the later types at 0");
    im_store_destroy (&store);
    ok (meta_edit (path, "counts", old, sizeof old - 8) == 0
            && (store = im_store_new (path, 0, node, err, sizeof err)) == NULL,
        "counters of a size no version wrote are refused: %s", err);
    im_store_destroy (&store);
    remove_dir (dir);
}

/* A peer's batch is committed lazily (its meta page not waited for); sync
 * makes it durable, and says when there is nothing to do. */
static void
test_lazy_sync (void)
{
    char dir[64], path[128], err[256];
    uint8_t node[IM_NODE_ID_SIZE], p[IM_NODE_ID_SIZE];
    uint64_t c = 0;

    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    randombytes_buf (p, sizeof p);
    sub_path (path, sizeof path, dir, "store");
    errno = 0;
    ok (im_store_sync (NULL) == -1 && errno == EINVAL, "sync refuses a NULL store");
    ok (im_store_lazy (NULL) == 0, "no store made no lazy commit");
    im_store_t *store = open_store (path, 0, node);
    ok (im_store_lazy (store) == 0 && im_store_sync (store) == 0,
        "a store just opened has nothing lazy to sync");
    ok (im_store_put_batch_cursor (store, NULL, 0, NULL, p, 50, err, sizeof err) == 0
            && im_store_lazy (store) == 1,
        "a peer's batch with its cursor is committed lazily");
    ok (im_store_sync (store) == 0 && im_store_lazy (store) == 0,
        "sync makes it durable, and nothing is left lazy");
    ok (im_store_sync (store) == 0, "a second sync has nothing to do");
    ok (im_store_put_batch_cursor (store, NULL, 0, NULL, p, 20, err, sizeof err) == 0
            && im_store_lazy (store) == 1 && im_store_sync (store) == 0,
        "a cursor moved back (a restart answer) is lazy until synced");
    im_store_destroy (&store);
    store = open_store (path, 0, node);
    ok (im_store_cursor (store, p, &c) == 0 && c == 20 && im_store_lazy (store) == 0,
        "reopened, the cursor is 20 and nothing is lazy");
    im_store_destroy (&store);
    remove_dir (dir);
}

static void
test_served (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], p[IM_NODE_ID_SIZE], q[IM_NODE_ID_SIZE];
    im_store_served_t s = { 1, 1, 1, 1, 1 };

    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    randombytes_buf (p, sizeof p);
    randombytes_buf (q, sizeof q);
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);
    ok (im_store_created (store), "a store made by this open says it was created");
    errno = 0;
    ok (im_store_served (NULL, p, &s) == -1 && errno == EINVAL,
        "served refuses a NULL store with EINVAL");
    errno = 0;
    ok (im_store_set_served (store, NULL, &s) == -1 && errno == EINVAL,
        "set_served refuses a NULL peer with EINVAL");
    ok (im_store_served (store, p, &s) == 0 && s.served == 0 && s.own_until == 0
            && s.restarted == 0,
        "in a new store nothing was served to a peer: all 0");
    im_store_served_t w = { 400, 500, 1700000000, 1500, 150 };
    ok (im_store_set_served (store, p, &w) == 0, "set_served writes P's entry");
    ok (im_store_served (store, p, &s) == 0 && s.served == 400 && s.own_until == 500
            && s.restarted == 1700000000 && s.old_cursor == 1500 && s.old_from == 150,
        "served reads it back, with a restart answered and not yet taken");
    uint8_t r[IM_NODE_ID_SIZE];
    randombytes_buf (r, sizeof r);
    const uint8_t *both[2] = { p, r };
    im_store_served_t two[2] = { { 410, 500, 1700000000, 0, 0 }, { 20, 0, 0, 0, 0 } };
    errno = 0;
    ok (im_store_set_served_many (store, 0, both, two) == -1 && errno == EINVAL
            && im_store_set_served_many (store, 2, NULL, two) == -1 && errno == EINVAL
            && im_store_set_served_many (store, 2, both, NULL) == -1 && errno == EINVAL,
        "set_served_many refuses no peer, no peers and no entries with EINVAL");
    const uint8_t *holed[2] = { p, NULL };
    ok (im_store_set_served_many (store, 2, holed, two) == -1 && errno == EINVAL
            && im_store_served (store, p, &s) == 0 && s.served == 400,
        "and a NULL among the peers, writing nothing");
    ok (im_store_set_served_many (store, 2, both, two) == 0
            && im_store_served (store, p, &s) == 0 && s.served == 410 && s.old_cursor == 0
            && im_store_served (store, r, &s) == 0 && s.served == 20,
        "set_served_many writes both entries");
    ok (im_store_set_served (store, p, &w) == 0, "and set_served puts P's back");
    im_store_destroy (&store);
    store = open_store (path, 0, node);
    ok (!im_store_created (store), "reopened, the store was not created");
    ok (im_store_served (store, p, &s) == 0 && s.served == 400 && s.own_until == 500
            && im_store_served (store, q, &s) == 0 && s.served == 0,
        "after reopening P's entry is kept and Q's is still 0");
    im_store_destroy (&store);
    drop_served_marker (path);
    store = open_store (path, 0, node);
    ok (im_store_served (store, q, &s) == 0 && s.served == IM_STORE_SERVED_UNKNOWN,
        "in a store of the previous schema, what was served to Q is unknown");
    ok (im_store_served (store, p, &s) == 0 && s.served == 400,
        "and an entry written is read as written");
    im_store_destroy (&store);
    remove_dir (dir);
}

/* What im_store_sent_list handed to its callback. */
typedef struct {
    size_t calls;
    size_t stop_after; /* stop after this many; 0: never */
    struct {
        uint8_t origin[IM_NODE_ID_SIZE];
        uint8_t id[IM_ID_SIZE];
        uint64_t version;
        int64_t when;
    } hit[HITS_MAX];
} sent_seen_t;

static int
sent_seen_fn (const uint8_t *origin, const uint8_t *id, uint64_t version, int64_t when,
              void *arg)
{
    sent_seen_t *s = arg;
    if (s->calls < HITS_MAX) {
        memcpy (s->hit[s->calls].origin, origin, IM_NODE_ID_SIZE);
        memcpy (s->hit[s->calls].id, id, IM_ID_SIZE);
        s->hit[s->calls].version = version;
        s->hit[s->calls].when = when;
    }
    s->calls++;
    return s->stop_after && s->calls >= s->stop_after;
}

/* One note of the sent log: record KEY (of the table's keys) at VERSION went
 * to peer PEER (0: P, 1: Q) at WHEN; LOGGED: it makes a history entry (not
 * when that version, or a newer one, went to the peer before). */
typedef struct {
    int peer;
    int key;
    uint64_t version;
    int64_t when;
    int logged;
} sent_note_t;

static const sent_note_t sent_notes[] = {
    { 0, 0, 1, 1000, 1 }, { 0, 1, 1, 1000, 1 }, { 1, 0, 1, 2000, 1 },
    { 0, 0, 3, 3000, 1 }, { 0, 2, 1, 3000, 1 }, { 0, 0, 2, 4000, 0 }, /* lower, later */
    { 0, 3, 1, 5000, 1 }, { 0, 1, 1, 5500, 0 }, /* the same version again */
};

/* Whether the walk S saw exactly the notes of SENT_NOTES for PEER at or after
 * SINCE, each once, oldest first. */
static int
sent_seen_right (const sent_seen_t *s, uint8_t keys[][IM_STORE_WANT_KEY], int peer,
                 int64_t since)
{
    size_t want = 0;
    for (size_t i = 0; i < COUNT (sent_notes); i++) {
        const sent_note_t *n = &sent_notes[i];
        if (n->peer != peer || n->when < since || !n->logged)
            continue;
        want++;
        int times = 0;
        for (size_t j = 0; j < s->calls && j < HITS_MAX; j++)
            times += memcmp (s->hit[j].origin, keys[n->key], IM_NODE_ID_SIZE) == 0
                     && memcmp (s->hit[j].id, keys[n->key] + IM_NODE_ID_SIZE, IM_ID_SIZE)
                            == 0
                     && s->hit[j].version == n->version && s->hit[j].when == n->when;
        if (times != 1) {
            diag ("note %zu (key %d version %llu at %lld) seen %d times", i, n->key,
                  (unsigned long long)n->version, (long long)n->when, times);
            return 0;
        }
    }
    for (size_t j = 1; j < s->calls && j < HITS_MAX; j++)
        if (s->hit[j].when < s->hit[j - 1].when) {
            diag ("entry %zu (at %lld) comes after one at %lld", j,
                  (long long)s->hit[j].when, (long long)s->hit[j - 1].when);
            return 0;
        }
    return s->calls == want;
}

static void
test_sent_log (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], peers[2][IM_NODE_ID_SIZE], stranger[IM_NODE_ID_SIZE];
    uint8_t keys[4][IM_STORE_WANT_KEY];
    uint8_t origin_a[IM_NODE_ID_SIZE], origin_b[IM_NODE_ID_SIZE];
    uint64_t v = 99;
    int64_t when = 99;
    sent_seen_t *s = calloc (1, sizeof *s);

    if (!s)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    randombytes_buf (peers, sizeof peers);
    randombytes_buf (stranger, sizeof stranger);
    randombytes_buf (origin_a, sizeof origin_a);
    randombytes_buf (origin_b, sizeof origin_b);
    for (int i = 0; i < 4; i++) {
        memcpy (keys[i], i % 2 ? origin_b : origin_a, IM_NODE_ID_SIZE);
        im_id_generate (keys[i] + IM_NODE_ID_SIZE);
        memset (keys[i] + IM_STORE_KEY_SIZE, 0, 8);
    }
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);
    const uint8_t *p = peers[0], *q = peers[1];
    const uint8_t *k0o = keys[0], *k0i = keys[0] + IM_NODE_ID_SIZE;

    /* Bad arguments. */
    uint8_t key[IM_STORE_WANT_KEY];
    memcpy (key, keys[0], IM_STORE_KEY_SIZE);
    memset (key + IM_STORE_KEY_SIZE, 0, 8);
    key[IM_STORE_WANT_KEY - 1] = 1;
    errno = 0;
    ok (im_store_sent_note (NULL, p, key, 1, 1000) == -1 && errno == EINVAL,
        "sent_note refuses a NULL store");
    errno = 0;
    ok (im_store_sent_note (store, NULL, key, 1, 1000) == -1 && errno == EINVAL,
        "sent_note refuses a NULL peer");
    errno = 0;
    ok (im_store_sent_note (store, p, NULL, 1, 1000) == -1 && errno == EINVAL,
        "sent_note refuses NULL keys");
    errno = 0;
    ok (im_store_sent_version (NULL, p, k0o, k0i, &v, &when) == -1 && errno == EINVAL,
        "sent_version refuses a NULL store");
    errno = 0;
    ok (im_store_sent_version (store, NULL, k0o, k0i, &v, &when) == -1 && errno == EINVAL,
        "sent_version refuses a NULL peer");
    errno = 0;
    ok (im_store_sent_version (store, p, NULL, k0i, &v, &when) == -1 && errno == EINVAL,
        "sent_version refuses a NULL origin");
    errno = 0;
    ok (im_store_sent_version (store, p, k0o, NULL, &v, &when) == -1 && errno == EINVAL,
        "sent_version refuses a NULL id");
    errno = 0;
    ok (im_store_sent_version (store, p, k0o, k0i, NULL, &when) == -1 && errno == EINVAL,
        "sent_version refuses a NULL version");
    errno = 0;
    ok (im_store_sent_list (NULL, p, 0, 10, sent_seen_fn, s) == -1 && errno == EINVAL,
        "sent_list refuses a NULL store");
    errno = 0;
    ok (im_store_sent_list (store, NULL, 0, 10, sent_seen_fn, s) == -1 && errno == EINVAL,
        "sent_list refuses a NULL peer");
    errno = 0;
    ok (im_store_sent_list (store, p, 0, 10, NULL, s) == -1 && errno == EINVAL,
        "sent_list refuses a NULL callback");
    ok (im_store_sent_note (store, p, NULL, 0, 1000) == 0,
        "sent_note of no keys succeeds");
    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, p, 0, 10, sent_seen_fn, s) == 0 && s->calls == 0,
        "the refused notes and the empty one left the log empty");
    ok (im_store_sent_version (store, p, k0o, k0i, &v, &when) == 0 && v == 0,
        "sent_version of a record never sent is 0");

    /* Notes for two peers at different times. */
    int noted = 1;
    for (size_t i = 0; i < COUNT (sent_notes); i++) {
        const sent_note_t *n = &sent_notes[i];
        memcpy (key, keys[n->key], IM_STORE_KEY_SIZE);
        for (int b = 0; b < 8; b++)
            key[IM_STORE_KEY_SIZE + b] = (uint8_t)(n->version >> (56 - 8 * b));
        noted = noted && im_store_sent_note (store, peers[n->peer], key, 1, n->when) == 0;
    }
    ok (noted, "%zu notes for two peers at five times are written", COUNT (sent_notes));
    /* Two keys in one note. */
    uint8_t two[2 * IM_STORE_WANT_KEY];
    memcpy (two, keys[1], IM_STORE_KEY_SIZE);
    memset (two + IM_STORE_KEY_SIZE, 0, 8);
    two[IM_STORE_WANT_KEY - 1] = 5;
    memcpy (two + IM_STORE_WANT_KEY, keys[2], IM_STORE_KEY_SIZE);
    memset (two + IM_STORE_WANT_KEY + IM_STORE_KEY_SIZE, 0, 8);
    two[2 * IM_STORE_WANT_KEY - 1] = 6;

    ok (im_store_sent_version (store, p, k0o, k0i, &v, &when) == 0 && v == 3
            && when == 3000,
        "sent_version for P is the newest version sent (3) and when (3000)");
    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, p, 4000, 1, sent_seen_fn, s) == 1
            && s->hit[0].version == 1 && s->hit[0].when == 5000
            && im_store_sent_version (store, p, k0o, k0i, &v, &when) == 0 && v == 3
            && when == 3000,
        "a lower version (2) noted later adds no entry and does not lower it");
    ok (im_store_sent_version (store, q, k0o, k0i, &v, &when) == 0 && v == 1
            && when == 2000,
        "sent_version for Q is its own: version 1 at 2000");
    ok (im_store_sent_version (store, p, keys[3], keys[3] + IM_NODE_ID_SIZE, &v, &when)
                == 0
            && v == 1 && when == 5000,
        "sent_version for P of another record: version 1 at 5000");
    ok (im_store_sent_version (store, q, keys[1], keys[1] + IM_NODE_ID_SIZE, &v, &when)
                == 0
            && v == 0,
        "sent_version for Q of a record sent only to P is 0");
    ok (im_store_sent_version (store, stranger, k0o, k0i, &v, NULL) == 0 && v == 0,
        "sent_version for a peer never sent anything is 0 (WHEN may be NULL)");

    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, p, 0, 100, sent_seen_fn, s) == 5
            && sent_seen_right (s, keys, 0, 0),
        "sent_list for P gives its 5 entries, each once, oldest first (a version "
        "sent again adds none)");
    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, q, 0, 100, sent_seen_fn, s) == 1
            && sent_seen_right (s, keys, 1, 0),
        "sent_list for Q gives its one entry only");
    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, stranger, 0, 100, sent_seen_fn, s) == 0
            && s->calls == 0,
        "sent_list for a peer never sent anything gives nothing");

    static const struct {
        int64_t since;
        int want;
    } sinces[] = {
        { 0, 5 },    { 999, 5 },  { 1000, 5 }, { 1001, 3 }, { 3000, 3 },
        { 3001, 1 }, { 4000, 1 }, { 5000, 1 }, { 5001, 0 }, { INT64_MAX, 0 },
    };
    for (size_t i = 0; i < COUNT (sinces); i++) {
        memset (s, 0, sizeof *s);
        int rc = im_store_sent_list (store, p, sinces[i].since, 100, sent_seen_fn, s);
        ok (rc == sinces[i].want && sent_seen_right (s, keys, 0, sinces[i].since),
            "sent_list for P since %lld gives the %d entries at or after it",
            (long long)sinces[i].since, sinces[i].want);
    }

    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, p, 0, 2, sent_seen_fn, s) == 2 && s->calls == 2
            && s->hit[0].when == 1000 && s->hit[1].when == 1000,
        "sent_list with a limit of 2 gives the two oldest entries");
    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, p, 0, 0, sent_seen_fn, s) == 0 && s->calls == 0,
        "sent_list with a limit of 0 gives nothing");
    memset (s, 0, sizeof *s);
    s->stop_after = 3;
    ok (im_store_sent_list (store, p, 0, 100, sent_seen_fn, s) == 3 && s->calls == 3
            && s->hit[2].when == 3000,
        "a sent_list callback that stops at the third entry ends the walk there");

    ok (im_store_sent_note (store, q, two, 2, 6000) == 0,
        "one note of two keys is written");
    ok (im_store_sent_version (store, q, keys[1], keys[1] + IM_NODE_ID_SIZE, &v, &when)
                == 0
            && v == 5 && when == 6000
            && im_store_sent_version (store, q, keys[2], keys[2] + IM_NODE_ID_SIZE, &v,
                                      &when)
                   == 0
            && v == 6 && when == 6000,
        "both keys of the note are sent to Q, at their versions");
    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, q, 6000, 100, sent_seen_fn, s) == 2 && s->calls == 2,
        "sent_list for Q since 6000 gives the note's two entries");

    im_store_destroy (&store);
    store = open_store (path, 0, node);
    ok (im_store_sent_version (store, p, k0o, k0i, &v, &when) == 0 && v == 3
            && when == 3000,
        "after reopening sent_version for P is still version 3 at 3000");
    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, p, 0, 100, sent_seen_fn, s) == 5
            && sent_seen_right (s, keys, 0, 0),
        "after reopening sent_list for P still gives its 5 entries in order");
    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, q, 0, 100, sent_seen_fn, s) == 3,
        "after reopening sent_list for Q still gives its 3 entries");

    im_store_destroy (&store);
    free (s);
    remove_dir (dir);
}

/* The file of the sent log's fault switch (IM_TEST_SENTLOG_FAIL). */
static char sent_fault_path[64];

/* Writes N notes to PEER, record I at version 1 at time WHEN0 + I. */
static int
sent_many (im_store_t *store, const uint8_t *peer, size_t n, int64_t when0)
{
    uint8_t key[IM_STORE_WANT_KEY];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        randombytes_buf (key, IM_STORE_KEY_SIZE);
        memset (key + IM_STORE_KEY_SIZE, 0, 8);
        key[IM_STORE_WANT_KEY - 1] = 1;
        rc = im_store_sent_note (store, peer, key, 1, when0 + (int64_t)i);
    }
    return rc;
}

static void
test_sent_once (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], peer[IM_NODE_ID_SIZE];
    enum { N = 300 };
    uint8_t *keys = malloc (N * IM_STORE_WANT_KEY);
    sent_seen_t *s = calloc (1, sizeof *s);
    if (!keys || !s)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    randombytes_buf (peer, sizeof peer);
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);
    randombytes_buf (keys, N * IM_STORE_WANT_KEY);
    for (size_t i = 0; i < N; i++) {
        memset (keys + i * IM_STORE_WANT_KEY + IM_STORE_KEY_SIZE, 0, 8);
        keys[i * IM_STORE_WANT_KEY + IM_STORE_WANT_KEY - 1] = 1;
    }
    int rc = 0;
    for (int round = 0; rc == 0 && round < 50; round++)
        rc = im_store_sent_note (store, peer, keys, N, 1000 + round);
    memset (s, 0, sizeof *s);
    ok (rc == 0 && im_store_sent_list (store, peer, 0, 1000, sent_seen_fn, s) == N,
        "the same %d records noted 50 times at version 1 make %d entries", N, N);
    for (size_t i = 0; i < N; i++)
        keys[i * IM_STORE_WANT_KEY + IM_STORE_WANT_KEY - 1] = 2;
    rc = im_store_sent_note (store, peer, keys, N, 2000);
    memset (s, 0, sizeof *s);
    ok (rc == 0 && im_store_sent_list (store, peer, 0, 1000, sent_seen_fn, s) == 2 * N
            && im_store_sent_list (store, peer, 2000, 1000, sent_seen_fn, s) == N,
        "version 2 of each adds one entry each (%d in all)", 2 * N);

    /* Each key at its own time. */
    int64_t whens[N];
    for (size_t i = 0; i < N; i++) {
        keys[i * IM_STORE_WANT_KEY + IM_STORE_WANT_KEY - 1] = 4;
        whens[i] = 2500 + (int64_t)(i % 3);
    }
    errno = 0;
    ok (im_store_sent_note_at (store, peer, keys, N, NULL) == -1 && errno == EINVAL,
        "sent_note_at refuses NULL times");
    whens[7] = -1;
    errno = 0;
    ok (im_store_sent_note_at (store, peer, keys, N, whens) == -1 && errno == EINVAL,
        "sent_note_at refuses a negative time");
    whens[7] = 2500 + 7 % 3;
    memset (s, 0, sizeof *s);
    ok (im_store_sent_note_at (store, peer, keys, N, whens) == 0
            && im_store_sent_list (store, peer, 2502, 1000, sent_seen_fn, s) == N / 3
            && s->hit[0].when == 2502 && s->hit[0].version == 4,
        "sent_note_at writes each key at its own time (%d at 2502)", N / 3);

    /* The test hook (set by main): while the file it names exists, notes
     * fail and write nothing. */
    FILE *f = fopen (sent_fault_path, "w");
    if (f)
        fclose (f);
    for (size_t i = 0; i < N; i++)
        keys[i * IM_STORE_WANT_KEY + IM_STORE_WANT_KEY - 1] = 5;
    errno = 0;
    rc = im_store_sent_note (store, peer, keys, N, 3000);
    int err = errno;
    uint64_t v = 0;
    ok (f && rc == -1 && err == EIO
            && im_store_sent_version (store, peer, keys, keys + IM_NODE_ID_SIZE, &v, NULL)
                   == 0
            && v == 4,
        "with the fault switch on, a note fails with EIO and writes nothing");
    remove (sent_fault_path);
    memset (s, 0, sizeof *s);
    ok (im_store_sent_note (store, peer, keys, N, 3000) == 0
            && im_store_sent_list (store, peer, 3000, 1000, sent_seen_fn, s) == N,
        "with the switch off again the same note is written (%d entries)", N);
    im_store_destroy (&store);
    free (keys);
    free (s);
    remove_dir (dir);
}

/* Several peers' logs in one transaction: bad arguments first, then all
 * written, or with the fault switch on none. */
static void
test_sent_peers (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], peers[3][IM_NODE_ID_SIZE];
    enum { N = 40 };
    uint8_t keys[3][N * IM_STORE_WANT_KEY];
    int64_t whens[3][N];
    sent_seen_t *s = calloc (1, sizeof *s);
    if (!s)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    randombytes_buf (peers, sizeof peers);
    randombytes_buf (keys, sizeof keys);
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < N; i++) {
            memset (keys[p] + i * IM_STORE_WANT_KEY + IM_STORE_KEY_SIZE, 0, 8);
            keys[p][i * IM_STORE_WANT_KEY + IM_STORE_WANT_KEY - 1] = 3;
            whens[p][i] = 5000 + p;
        }
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);
    im_store_sent_t logs[3];
    for (int p = 0; p < 3; p++)
        logs[p] = (im_store_sent_t){ peers[p], keys[p], N, whens[p] };

    errno = 0;
    ok (im_store_sent_note_peers (NULL, logs, 3) == -1 && errno == EINVAL,
        "sent_note_peers refuses a NULL store");
    errno = 0;
    ok (im_store_sent_note_peers (store, NULL, 3) == -1 && errno == EINVAL,
        "sent_note_peers refuses NULL logs");
    logs[1].peer = NULL;
    errno = 0;
    ok (im_store_sent_note_peers (store, logs, 3) == -1 && errno == EINVAL,
        "sent_note_peers refuses a log without its peer");
    logs[1].peer = peers[1];
    logs[2].whens = NULL;
    errno = 0;
    ok (im_store_sent_note_peers (store, logs, 3) == -1 && errno == EINVAL,
        "sent_note_peers refuses a log of keys without times");
    logs[2].whens = whens[2];
    whens[0][N - 1] = -5;
    errno = 0;
    ok (im_store_sent_note_peers (store, logs, 3) == -1 && errno == EINVAL,
        "sent_note_peers refuses a negative time in any log");
    whens[0][N - 1] = 5000;
    int listed = 0;
    for (int p = 0; p < 3; p++) {
        memset (s, 0, sizeof *s);
        listed += im_store_sent_list (store, peers[p], 0, 1000, sent_seen_fn, s);
    }
    ok (listed == 0, "a refused call writes nothing for any peer");
    ok (im_store_sent_note_peers (store, logs, 0) == 0
            && im_store_sent_note_peers (store, NULL, 0) == 0,
        "no logs is nothing to write");

    /* With the switch on: none of the three is written. */
    FILE *f = fopen (sent_fault_path, "w");
    if (f)
        fclose (f);
    errno = 0;
    int rc = im_store_sent_note_peers (store, logs, 3);
    int err = errno;
    remove (sent_fault_path);
    listed = 0;
    for (int p = 0; p < 3; p++) {
        memset (s, 0, sizeof *s);
        listed += im_store_sent_list (store, peers[p], 0, 1000, sent_seen_fn, s);
    }
    ok (f && rc == -1 && err == EIO && listed == 0,
        "with the fault switch on, no peer's log is written (EIO)");

    logs[1].n = 0; /* a peer with nothing among them */
    ok (im_store_sent_note_peers (store, logs, 3) == 0,
        "three peers' logs are written in one call");
    int each[3];
    uint64_t v0 = 0, v2 = 0;
    int64_t w2 = 0;
    for (int p = 0; p < 3; p++) {
        memset (s, 0, sizeof *s);
        each[p] = im_store_sent_list (store, peers[p], 0, 1000, sent_seen_fn, s);
    }
    ok (each[0] == N && each[1] == 0 && each[2] == N,
        "each peer's log holds its own keys (%d, %d, %d)", each[0], each[1], each[2]);
    ok (im_store_sent_version (store, peers[2], keys[2], keys[2] + IM_NODE_ID_SIZE, &v2,
                               &w2)
                == 0
            && v2 == 3 && w2 == 5002
            && im_store_sent_version (store, peers[0], keys[2], keys[2] + IM_NODE_ID_SIZE,
                                      &v0, NULL)
                   == 0
            && v0 == 0,
        "a key is logged for the peer it went to, at its time, and not for another");
    /* All or none: a store held to 1 MiB has room for a small log, not for
     * a large one after it in the same call, and then keeps neither. */
    enum { BIG = 20000 };
    uint8_t *big = malloc ((size_t)BIG * IM_STORE_WANT_KEY);
    int64_t *bigw = malloc (BIG * sizeof *bigw);
    uint8_t fresh[IM_NODE_ID_SIZE];
    if (!big || !bigw)
        BAIL_OUT ("out of memory");
    randombytes_buf (big, (size_t)BIG * IM_STORE_WANT_KEY);
    randombytes_buf (fresh, sizeof fresh);
    for (size_t i = 0; i < BIG; i++)
        bigw[i] = 7000;
    ok (im_store_set_max (store, 1 << 20) == 0, "the store is held to 1 MiB");
    im_store_sent_t two[2]
        = { { fresh, keys[0], N, whens[0] }, { peers[1], big, BIG, bigw } };
    errno = 0;
    rc = im_store_sent_note_peers (store, two, 2);
    err = errno;
    memset (s, 0, sizeof *s);
    listed = im_store_sent_list (store, fresh, 0, 1000, sent_seen_fn, s);
    ok (rc == -1 && err == ENOSPC && listed == 0,
        "a second log over the limit fails the call (ENOSPC), and the first, which fit, "
        "is not written either (%d entries)",
        listed);
    ok (im_store_sent_note_peers (store, two, 1) == 0
            && im_store_sent_list (store, fresh, 0, 1000, sent_seen_fn, s) == N,
        "alone, the first log is written");
    free (big);
    free (bigw);
    im_store_destroy (&store);
    free (s);
    remove_dir (dir);
}

static void
test_sent_prune (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], peers[3][IM_NODE_ID_SIZE];
    sent_seen_t *s = calloc (1, sizeof *s);
    if (!s)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    randombytes_buf (peers, sizeof peers);
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);

    errno = 0;
    ok (im_store_sent_prune (NULL, 1000, 10) == -1 && errno == EINVAL,
        "sent_prune refuses a NULL store");
    errno = 0;
    ok (im_store_sent_prune (store, -1, 10) == -1 && errno == EINVAL,
        "sent_prune refuses a negative time");
    errno = 0;
    ok (im_store_sent_prune (store, 1000, 0) == -1 && errno == EINVAL,
        "sent_prune refuses a limit of 0");
    ok (im_store_sent_prune (store, INT64_MAX, 10) == 0,
        "sent_prune of an empty log is 0");
    /* Each peer: 100 entries at 1000..1099 and 50 at 5000..5049. */
    int rc = 0;
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = sent_many (store, peers[i], 100, 1000)
             || sent_many (store, peers[i], 50, 5000);
    ok (rc == 0, "150 entries for each of 3 peers are written");
    uint8_t key[IM_STORE_WANT_KEY];
    uint64_t v = 0;
    memset (s, 0, sizeof *s);
    s->stop_after = 1;
    im_store_sent_list (store, peers[0], 0, 1, sent_seen_fn, s);
    memcpy (key, s->hit[0].origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, s->hit[0].id, IM_ID_SIZE);

    /* Batches of 120 of the 300 older ones: 120, 120, 60, then 0. */
    static const int batches[] = { 120, 120, 60, 0 };
    for (size_t i = 0; i < COUNT (batches); i++)
        ok (im_store_sent_prune (store, 5000, 120) == batches[i],
            "pruning before 5000 in batches of 120: batch %zu removes %d", i + 1,
            batches[i]);
    int right = 1;
    for (int i = 0; i < 3; i++) {
        memset (s, 0, sizeof *s);
        right = right
                && im_store_sent_list (store, peers[i], 0, 1000, sent_seen_fn, s) == 50
                && s->hit[0].when == 5000;
    }
    ok (right, "each peer keeps its 50 entries from 5000 on, and nothing older");
    ok (im_store_sent_version (store, peers[0], key, key + IM_NODE_ID_SIZE, &v, NULL) == 0
            && v == 1,
        "the newest version sent of a pruned entry's record is still known (1)");
    ok (im_store_sent_prune (store, 5025, 1000) == 75,
        "pruning before 5025 removes 25 entries of each peer (75)");
    im_store_destroy (&store);
    store = open_store (path, 0, node);
    memset (s, 0, sizeof *s);
    ok (im_store_sent_list (store, peers[2], 0, 1000, sent_seen_fn, s) == 25
            && s->hit[0].when == 5025,
        "after reopening the last peer has 25 entries, from 5025 on");
    im_store_destroy (&store);
    free (s);
    remove_dir (dir);
}

static void
test_held (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], p[IM_NODE_ID_SIZE], q[IM_NODE_ID_SIZE];
    uint8_t own_id[IM_ID_SIZE], id[IM_ID_SIZE], unknown[IM_ID_SIZE];
    uint8_t from[IM_NODE_ID_SIZE], hops = 99;
    signed_t *s = signed_alloc (1);
    origin_t me, o;
    int r;

    make_dir (dir, sizeof dir, "store");
    origin_new (&me);
    origin_new (&o);
    memcpy (node, me.pk, sizeof node);
    randombytes_buf (p, sizeof p);
    randombytes_buf (q, sizeof q);
    im_id_generate (own_id);
    im_id_generate (id);
    im_id_generate (unknown);
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);

    errno = 0;
    ok (im_store_held (NULL, o.pk, id, &hops, from) == -1 && errno == EINVAL,
        "held refuses a NULL store");
    errno = 0;
    ok (im_store_held (store, NULL, id, &hops, from) == -1 && errno == EINVAL,
        "held refuses a NULL origin");
    errno = 0;
    ok (im_store_held (store, o.pk, NULL, &hops, from) == -1 && errno == EINVAL,
        "held refuses a NULL id");
    errno = 0;
    ok (im_store_held (store, o.pk, id, NULL, from) == -1 && errno == EINVAL,
        "held refuses a NULL hops");

    put_from (store,
              make (s, &me, own_id, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
                    "own.example", NULL),
              0, NULL, &r);
    ok (r == IM_STORE_NEW, "an own record (from NULL) is stored");
    errno = 0;
    ok (im_store_held (store, me.pk, own_id, &hops, from) == -1 && errno == ENOENT,
        "held of an own record fails with ENOENT");
    errno = 0;
    ok (im_store_held (store, o.pk, unknown, &hops, from) == -1 && errno == ENOENT,
        "held of a record never stored fails with ENOENT");

    put_from (store,
              make (s, &o, id, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
                    "relayed.example", NULL),
              2, p, &r);
    ok (r == IM_STORE_NEW, "a record from peer P at hops 2 is stored");
    memset (from, 0, sizeof from);
    ok (im_store_held (store, o.pk, id, &hops, from) == 0 && hops == 2
            && memcmp (from, p, IM_NODE_ID_SIZE) == 0,
        "held of it says hops 2, from P");
    hops = 99;
    ok (im_store_held (store, o.pk, id, &hops, NULL) == 0 && hops == 2,
        "held without FROM still gives the hops");

    put_from (store,
              make (s, &o, id, 2, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
                    "relayed.example", NULL),
              4, q, &r);
    ok (r == IM_STORE_NEWER, "a newer version from peer Q at hops 4 is stored");
    ok (im_store_held (store, o.pk, id, &hops, from) == 0 && hops == 4
            && memcmp (from, q, IM_NODE_ID_SIZE) == 0,
        "held of it now says hops 4, from Q (the version held came that way)");

    im_store_destroy (&store);
    store = open_store (path, 0, node);
    ok (im_store_held (store, o.pk, id, &hops, from) == 0 && hops == 4
            && memcmp (from, q, IM_NODE_ID_SIZE) == 0,
        "after reopening held still says hops 4, from Q");
    errno = 0;
    ok (im_store_held (store, me.pk, own_id, &hops, from) == -1 && errno == ENOENT,
        "after reopening held of the own record still fails with ENOENT");

    im_store_destroy (&store);
    free (s);
    remove_dir (dir);
}

/* What im_store_feed handed to its callback. */
typedef struct {
    size_t calls;
    struct {
        uint64_t seq;
        uint8_t origin[IM_NODE_ID_SIZE];
        uint8_t id[IM_ID_SIZE];
        uint64_t version;
        uint8_t hops;
        uint8_t from[IM_NODE_ID_SIZE];
        size_t len;
        int64_t added_ms;
    } hit[HITS_MAX];
    /* For reads inside the walk. */
    im_store_t *store;
    const uint8_t *peer;
    size_t reads_failed;
} feed_seen_t;

/* feed_skip's question: passes over the changes from SKIP_FROM, checking
 * that it is asked with the key and source only. */
static const uint8_t *skip_from;
static size_t skip_asked, skip_bad;

static void
skip_fn (const im_store_change_t *cs, size_t n, uint8_t *skip, void *arg)
{
    (void)arg;
    if (n == 0 || n > IM_STORE_SKIP_CHUNK)
        skip_bad++;
    for (size_t i = 0; i < n && i < IM_STORE_SKIP_CHUNK; i++) {
        const im_store_change_t *c = &cs[i];
        skip_asked++;
        if (c->rec || c->blob || !c->key || c->seq == 0 || skip[i] != 0)
            skip_bad++;
        skip[i] = memcmp (c->from, skip_from, IM_NODE_ID_SIZE) == 0;
    }
}

static int
feed_seen_fn (const im_store_change_t *c, void *arg)
{
    feed_seen_t *f = arg;
    if (f->calls < HITS_MAX) {
        f->hit[f->calls].seq = c->seq;
        memcpy (f->hit[f->calls].origin, c->rec->origin, IM_NODE_ID_SIZE);
        memcpy (f->hit[f->calls].id, c->rec->id, IM_ID_SIZE);
        f->hit[f->calls].version = c->rec->version;
        f->hit[f->calls].hops = c->hops;
        memcpy (f->hit[f->calls].from, c->from, IM_NODE_ID_SIZE);
        f->hit[f->calls].len = c->len;
        f->hit[f->calls].added_ms = c->added_ms;
    }
    f->calls++;
    return 0;
}

/* The feed callback that reads the store for each change, as the mesh does
 * when it decides what to send. */
static int
feed_reading_fn (const im_store_change_t *c, void *arg)
{
    feed_seen_t *f = arg;
    static im_record_t got;
    uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
    uint64_t version = 0, sent = 0;
    int64_t when = 0;
    memcpy (origin, c->rec->origin, sizeof origin);
    memcpy (id, c->rec->id, sizeof id);
    uint64_t want = c->rec->version;
    if (im_store_get (f->store, origin, id, &got) != 0 || got.version != want
        || im_store_version (f->store, origin, id, &version) != 0 || version != want
        || im_store_sent_version (f->store, f->peer, origin, id, &sent, &when) != 0)
        f->reads_failed++;
    return feed_seen_fn (c, arg);
}

static void
test_closer (void)
{
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], p[IM_NODE_ID_SIZE], q[IM_NODE_ID_SIZE];
    uint8_t rid[IM_ID_SIZE], uid[IM_ID_SIZE], from[IM_NODE_ID_SIZE], hops = 99;
    signed_t *s = signed_alloc (2);
    feed_seen_t *f = calloc (1, sizeof *f);
    im_store_stats_t st;
    origin_t o;
    uint64_t last = 0;
    int r, rc;

    if (!f)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    randombytes_buf (p, sizeof p);
    randombytes_buf (q, sizeof q);
    origin_new (&o);
    im_id_generate (rid);
    im_id_generate (uid);
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, node);

    /* R: reach 3, from P at hops 3 (change 1). U: unlimited, from P at hops 3
     * (change 2). */
    with_reach (make (&s[0], &o, rid, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
                      "reach3.example", NULL),
                &o, 3);
    make (&s[1], &o, uid, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "unlimited.example",
          NULL);
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    int64_t before = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    put_from (store, &s[0], 3, p, &r);
    ok (r == IM_STORE_NEW, "a record of reach 3 from P at hops 3 is NEW");
    put_from (store, &s[1], 3, p, &r);
    ok (r == IM_STORE_NEW, "a record of unlimited reach from P at hops 3 is NEW");
    ok (im_store_held (store, o.pk, rid, &hops, from) == 0 && hops == 3
            && memcmp (from, p, IM_NODE_ID_SIZE) == 0,
        "held says the reach-3 record is at hops 3, from P");

    /* The same signed bytes, from Q over one link. */
    rc = put_from (store, &s[0], 1, q, &r);
    ok (r == IM_STORE_CLOSER, "the same version again from Q at hops 1 is CLOSER");
    if (rc != 0)
        diag ("put_batch returned %d for a CLOSER item (im_store.h: \"the number of "
              "records stored (new or newer)\")",
              rc);
    ok (im_store_held (store, o.pk, rid, &hops, from) == 0 && hops == 1
            && memcmp (from, q, IM_NODE_ID_SIZE) == 0,
        "held now says hops 1, from Q");
    memset (f, 0, sizeof *f);
    rc = im_store_feed (store, 0, 100, 100, feed_seen_fn, f, &last);
    ok (rc == 2 && f->calls == 2, "the feed from 0 hands over two changes");
    ok (f->calls == 2 && memcmp (f->hit[0].id, uid, IM_ID_SIZE) == 0 && f->hit[0].seq == 2
            && f->hit[0].hops == 3,
        "the first is the unlimited record, at change 2, hops 3");
    ok (f->calls == 2 && memcmp (f->hit[1].id, rid, IM_ID_SIZE) == 0 && f->hit[1].seq == 3
            && f->hit[1].hops == 1 && memcmp (f->hit[1].from, q, IM_NODE_ID_SIZE) == 0
            && f->hit[1].version == 1 && f->hit[1].len == s[0].len,
        "the reach-3 record comes once, at the new change 3, hops 1, from Q");
    cmp_ok (last, "==", 3, "the feed's last change is 3");
    clock_gettime (CLOCK_REALTIME, &ts);
    int64_t after = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    ok (f->hit[0].added_ms >= before && f->hit[1].added_ms >= f->hit[0].added_ms
            && f->hit[1].added_ms <= after,
        "each change says when it was stored (TAXII's date_added), in ms, not the "
        "record's modified time");
    ok (im_store_stats (store, &st) == 0 && st.last_seq == 3 && st.records == 2,
        "stats count 2 records and 3 changes");
    memset (f, 0, sizeof *f);
    rc = im_store_feed (store, 0, 100, 1, feed_seen_fn, f, &last);
    ok (rc == 1 && f->calls == 1 && f->hit[0].seq == 2 && last == 2,
        "scanning one change from 0 reads change 2: the old change 1 is gone");
    /* feed_skip: the changes from Q are passed over unread. */
    memset (f, 0, sizeof *f);
    skip_from = q;
    skip_asked = skip_bad = 0;
    rc = im_store_feed_skip (store, 0, 100, 100, skip_fn, feed_seen_fn, f, &last);
    ok (rc == 1 && f->calls == 1 && memcmp (f->hit[0].id, uid, IM_ID_SIZE) == 0
            && last == 3,
        "feed_skip hands over only the change from P; its last change is still 3");
    ok (skip_asked == 2 && skip_bad == 0,
        "skip is asked of both, with the key and the source but no record (%zu, %zu)",
        skip_asked, skip_bad);
    ok (im_store_feed_skip (store, 0, 100, 100, skip_fn, NULL, f, &last) == -1
            && errno == EINVAL,
        "feed_skip refuses a missing callback");

    /* The same version again: at hops 2 and 1 it is not closer. */
    put_from (store, &s[0], 2, p, &r);
    ok (r == IM_STORE_STALE, "the same version again at hops 2 is STALE");
    put_from (store, &s[0], 1, p, &r);
    ok (r == IM_STORE_STALE, "the same version again at hops 1 (no fewer) is STALE");
    ok (im_store_held (store, o.pk, rid, &hops, from) == 0 && hops == 1
            && memcmp (from, q, IM_NODE_ID_SIZE) == 0,
        "held still says hops 1, from Q");

    /* Unlimited reach: fewer hops change nothing. */
    put_from (store, &s[1], 1, q, &r);
    ok (r == IM_STORE_STALE, "a record of unlimited reach again at fewer hops is STALE");
    ok (im_store_held (store, o.pk, uid, &hops, from) == 0 && hops == 3
            && memcmp (from, p, IM_NODE_ID_SIZE) == 0,
        "held of the unlimited record still says hops 3, from P");
    ok (im_store_stats (store, &st) == 0 && st.last_seq == 3,
        "the stale copies added no change");

    /* This node's own record of a limited reach is held at 0: nothing is closer. */
    origin_t me;
    uint8_t mid[IM_ID_SIZE];
    origin_new (&me);
    im_id_generate (mid);
    with_reach (make (&s[1], &me, mid, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
                      "own-reach.example", NULL),
                &me, 2);
    put_from (store, &s[1], 0, NULL, &r);
    ok (r == IM_STORE_NEW, "an own record of reach 2 is stored at hops 0");
    put_from (store, &s[1], 1, q, &r);
    ok (r == IM_STORE_STALE, "the own record coming back from Q at hops 1 is STALE");
    ok (im_store_stats (store, &st) == 0 && st.last_seq == 4, "it added no change");

    im_store_destroy (&store);
    store = open_store (path, 0, node);
    memset (f, 0, sizeof *f);
    rc = im_store_feed (store, 0, 100, 100, feed_seen_fn, f, &last);
    ok (rc == 3 && f->hit[1].seq == 3 && f->hit[1].hops == 1
            && memcmp (f->hit[1].from, q, IM_NODE_ID_SIZE) == 0 && last == 4,
        "after reopening the feed still hands the reach-3 record at change 3, hops 1");

    im_store_destroy (&store);
    free (f);
    free (s);
    remove_dir (dir);
}

static void
test_read_in_walk (void)
{
    enum { N = 8 };
    char dir[64], path[128];
    uint8_t node[IM_NODE_ID_SIZE], peer[IM_NODE_ID_SIZE], id[N][IM_ID_SIZE];
    uint8_t key[IM_STORE_WANT_KEY];
    signed_t *s = signed_alloc (N);
    feed_seen_t *f = calloc (1, sizeof *f);
    origin_t o;
    uint64_t last = 0;
    int r[N];

    if (!f)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "store");
    randombytes_buf (node, sizeof node);
    randombytes_buf (peer, sizeof peer);
    origin_new (&o);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);
    for (int i = 0; i < N; i++) {
        char value[64];
        im_id_generate (id[i]);
        snprintf (value, sizeof value, "walk-%d.example", i);
        make (&s[i], &o, id[i], 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, value, NULL);
    }
    cmp_ok (put_n (store, s, N, r), "==", N, "%d records are stored", N);
    version_key (key, &s[2].rec, 1);
    ok (im_store_sent_note (store, peer, key, 1, 1000) == 0, "one of them is noted sent");

    memset (f, 0, sizeof *f);
    f->store = store;
    f->peer = peer;
    int rc = im_store_feed (store, 0, 100, 100, feed_reading_fn, f, &last);
    ok (rc == N && f->calls == N,
        "a feed whose callback reads the store still visits all %d changes", N);
    int in_order = f->calls == N;
    for (size_t i = 0; in_order && i < N; i++)
        in_order
            = f->hit[i].seq == i + 1 && memcmp (f->hit[i].id, id[i], IM_ID_SIZE) == 0;
    ok (in_order, "it visits them in order, 1 to %d", N);
    cmp_ok (last, "==", N, "its last change is %d", N);
    cmp_ok (f->reads_failed, "==", 0, "every read inside the walk succeeds");

    /* The same from the middle, with a limit, and a second time. */
    memset (f, 0, sizeof *f);
    f->store = store;
    f->peer = peer;
    rc = im_store_feed (store, 3, 4, 100, feed_reading_fn, f, &last);
    ok (rc == 4 && f->calls == 4 && f->hit[0].seq == 4 && f->hit[3].seq == 7 && last == 7
            && f->reads_failed == 0,
        "a reading feed from 3 with a limit of 4 visits changes 4 to 7");

    im_store_destroy (&store);
    free (f);
    free (s);
    remove_dir (dir);
}

/* --- A store made before records of format 2 ---------------------------- */

/* Makes S's record a record of format 1: the same body with format byte 1,
 * signed alone, as versions before format 2 signed. */
static void
to_format1 (signed_t *s, const origin_t *o)
{
    size_t body = s->len - IM_BATCH_AUTH;
    s->blob[3] = 1;
    crypto_sign_detached (s->blob + body, NULL, s->blob, body, o->sk);
    s->len = body + IM_SIG_SIZE;
}

/* Writes schema SCHEMA into the metadata of the store at PATH. */
static int
set_schema (const char *path, uint8_t schema)
{
    uint8_t v[4] = { 0, 0, 0, schema };
    return meta_edit (path, "schema", v, sizeof v);
}

typedef struct {
    const origin_t *o;
    size_t calls, most;
    int fail; /* the seal fails */
} seal_arg_t;

static int
seal_fn (uint8_t *const *recs, const size_t *lens, size_t n, void *arg, char *err,
         size_t errsz)
{
    seal_arg_t *a = arg;
    a->calls++;
    if (n > a->most)
        a->most = n;
    if (a->fail) {
        snprintf (err, errsz, "the test's seal fails");
        errno = EIO;
        return -1;
    }
    return im_record_seal (recs, lens, n, a->o->sk, err, errsz);
}

/* How many of the N records of S the store holds in format FORMAT, with the
 * version of S and verifying; BYTES_SAME: how many have S's bytes still. */
static size_t
held_in_format (im_store_t *store, const signed_t *s, size_t n, int format,
                size_t *bytes_same)
{
    size_t good = 0;
    *bytes_same = 0;
    static uint8_t buf[IM_RECORD_MAX];
    static im_record_t rec;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        if (im_store_get_raw (store, s[i].rec.origin, s[i].rec.id, buf, sizeof buf, &len))
            continue;
        *bytes_same += len == s[i].len && memcmp (buf, s[i].blob, len) == 0;
        good += buf[3] == format && im_record_decode (buf, len, 1, &rec, NULL, 0) == 0
                && rec.version == s[i].rec.version;
    }
    return good;
}

static void
test_reseal (void)
{
    char dir[64], path[128], err[256] = "";
    origin_t own, other;
    origin_new (&own);
    origin_new (&other);
    seal_arg_t a = { &own, 0, 0, 0 };
    size_t n = 99;

    make_dir (dir, sizeof dir, "reseal");
    sub_path (path, sizeof path, dir, "store");
    im_store_t *store = open_store (path, 0, own.pk);
    errno = 0;
    ok (im_store_reseal (NULL, own.pk, seal_fn, &a, &n, err, sizeof err) == -1
            && errno == EINVAL,
        "reseal refuses a NULL store with EINVAL");
    errno = 0;
    ok (im_store_reseal (store, own.pk, NULL, &a, &n, err, sizeof err) == -1
            && errno == EINVAL,
        "reseal refuses a NULL seal function with EINVAL");
    ok (!im_store_reseal_pending (store) && !im_store_reseal_pending (NULL),
        "a new store has nothing to sign again");
    ok (im_store_reseal (store, own.pk, seal_fn, &a, &n, err, sizeof err) == 0 && n == 0
            && a.calls == 0,
        "reseal of a new store signs nothing");

    /* 70 own records of format 1 (one at version 3), 5 of another origin of
     * format 1, and 3 own of format 2. */
    enum { OWN1 = 70, OTHER1 = 5, OWN2 = 3 };
    signed_t *s = signed_alloc (OWN1 + OTHER1 + OWN2);
    for (size_t i = 0; i < OWN1 + OTHER1 + OWN2; i++) {
        uint8_t id[IM_ID_SIZE];
        char value[64];
        const origin_t *o = i >= OWN1 && i < OWN1 + OTHER1 ? &other : &own;
        im_id_generate (id);
        snprintf (value, sizeof value, "r%zu.reseal.example.org", i);
        make (&s[i], o, id, i == 0 ? 3 : 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
              value, NULL);
        if (i < OWN1 + OTHER1)
            to_format1 (&s[i], o);
    }
    int results[OWN1 + OTHER1 + OWN2];
    ok (put_n (store, s, OWN1 + OTHER1 + OWN2, results) == OWN1 + OTHER1 + OWN2,
        "78 records are stored, 75 of them of format 1");
    im_store_stats_t before, after;
    im_store_stats (store, &before);
    im_store_destroy (&store);
    ok (set_schema (path, 4) == 0
            && im_store_new (path, 0, own.pk, err, sizeof err) == NULL && errno == EPROTO
            && strstr (err, "schema version 4") != NULL,
        "a store of schema 4 is refused: %s", err);
    ok (set_schema (path, 1) == 0, "the store is made schema 1, as before format 2");

    store = open_store (path, 0, own.pk);
    ok (im_store_reseal_pending (store),
        "opened, a store of schema 1 has records to sign again");
    a.fail = 1;
    ok (im_store_reseal (store, own.pk, seal_fn, &a, &n, err, sizeof err) == -1
            && strstr (err, "the test's seal fails") != NULL,
        "a seal that fails fails the reseal: %s", err);
    size_t same;
    ok (held_in_format (store, s, OWN1, 1, &same) == OWN1 && same == OWN1,
        "after a failed reseal the 70 own records keep their bytes of format 1");
    ok (im_store_reseal_pending (store), "and they are still to be signed again");
    im_store_destroy (&store);

    store = open_store (path, 0, own.pk);
    ok (im_store_reseal_pending (store), "reopened, the store still has records to sign");
    a.fail = 0;
    a.calls = a.most = 0;
    ok (im_store_reseal (store, own.pk, seal_fn, &a, &n, err, sizeof err) == 0,
        "reseal succeeds: %s", err);
    cmp_ok (n, "==", OWN1, "it signed again the 70 own records of format 1");
    ok (a.calls == 3 && a.most == IM_BATCH_MAX,
        "in 3 batches of at most 32 (%zu calls, at most %zu)", a.calls, a.most);
    ok (held_in_format (store, s, OWN1, 2, &same) == OWN1 && same == 0,
        "each is now of format 2, at its version, and verifies");
    ok (held_in_format (store, s + OWN1, OTHER1, 1, &same) == OTHER1 && same == OTHER1,
        "the 5 records of another origin keep their bytes of format 1");
    ok (held_in_format (store, s + OWN1 + OTHER1, OWN2, 2, &same) == OWN2 && same == OWN2,
        "the 3 own records of format 2 keep their bytes");
    im_store_stats (store, &after);
    ok (after.records == before.records && after.last_seq == before.last_seq,
        "records (%llu) and the change log (%llu) are as before",
        (unsigned long long)after.records, (unsigned long long)after.last_seq);
    ok (!im_store_reseal_pending (store), "nothing is left to sign again");
    im_store_destroy (&store);
    store = open_store (path, 0, own.pk);
    a.calls = 0;
    ok (!im_store_reseal_pending (store)
            && im_store_reseal (store, own.pk, seal_fn, &a, &n, err, sizeof err) == 0
            && n == 0 && a.calls == 0,
        "reopened, nothing is signed again");
    im_store_destroy (&store);
    free (s);
    remove_dir (dir);
}

/* --- Records of format 2 kept compact (schema 3) ------------------------ */

/* Makes N records of O (values NAME-i) into S, sealed as batches of up to
 * BATCH records (format 2), or signed one by one of format 1 when BATCH is 0. */
static void
make_batches (signed_t *s, size_t n, const origin_t *o, size_t batch, const char *name)
{
    char err[256], value[64];
    for (size_t i = 0; i < n; i++) {
        uint8_t id[IM_ID_SIZE];
        im_id_generate (id);
        snprintf (value, sizeof value, "%s-%zu.compact.example.org", name, i);
        make (&s[i], o, id, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, value, NULL);
        if (batch == 0)
            to_format1 (&s[i], o);
        else if (im_record_encode (&s[i].rec, s[i].blob, sizeof s[i].blob, &s[i].len, err,
                                   sizeof err))
            BAIL_OUT ("encode: %s", err);
    }
    for (size_t at = 0; batch && at < n; at += batch) {
        uint8_t *recs[IM_BATCH_MAX];
        size_t lens[IM_BATCH_MAX], k = n - at < batch ? n - at : batch;
        for (size_t j = 0; j < k; j++)
            recs[j] = s[at + j].blob, lens[j] = s[at + j].len;
        if (im_record_seal (recs, lens, k, o->sk, err, sizeof err))
            BAIL_OUT ("seal: %s", err);
    }
}

/* How many bytes handed out by a walk differ from those put (S, N). */
typedef struct {
    const signed_t *s;
    size_t n, seen, differ;
} same_t;

static int
same_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    same_t *a = arg;
    a->seen++;
    for (size_t i = 0; i < a->n; i++)
        if (memcmp (a->s[i].rec.id, rec->id, IM_ID_SIZE) == 0) {
            im_record_t r;
            if (!blob) {
                /* A look-up or a list: the record, whose body must be the
                 * one put. */
                static uint8_t b[IM_RECORD_MAX];
                size_t l, body = a->s[i].len
                                 - (a->s[i].blob[3] == 1 ? IM_SIG_SIZE : IM_BATCH_AUTH);
                if (len != 0 || im_record_encode (rec, b, sizeof b, &l, NULL, 0)
                    || l - IM_BATCH_AUTH != body
                    || memcmp (b + 4, a->s[i].blob + 4, body - 4) != 0)
                    a->differ++;
            }
            else if (len != a->s[i].len || memcmp (blob, a->s[i].blob, len) != 0
                     || im_record_decode (blob, len, 1, &r, NULL, 0) != 0)
                a->differ++;
            return 0;
        }
    a->differ++;
    return 0;
}

/* Every reader hands out the bytes put, verifiable. Returns how many differ. */
static size_t
bytes_differ (im_store_t *store, const signed_t *s, size_t n)
{
    same_t a = { s, n, 0, 0 };
    uint8_t buf[IM_RECORD_MAX];
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        im_record_t rec;
        uint64_t version = 0;
        if (im_store_get_raw (store, s[i].rec.origin, s[i].rec.id, buf, sizeof buf, &len)
            || len != s[i].len || memcmp (buf, s[i].blob, len) != 0
            || im_store_get (store, s[i].rec.origin, s[i].rec.id, &rec)
            || rec.version != s[i].rec.version
            || im_store_version (store, s[i].rec.origin, s[i].rec.id, &version)
            || version != s[i].rec.version)
            a.differ++;
        im_store_lookup (store, IM_TYPE_DOMAIN, s[i].rec.value, same_fn, &a);
    }
    uint64_t last;
    im_store_list (store, IM_TYPE_NONE, NULL, NULL, 100000, same_fn, &a, NULL);
    im_store_changes (store, 0, 100000, same_fn, &a, &last);
    return a.differ + (a.seen != 3 * n);
}

/* The statistics of the store's database NAME (the store closed), into
 * *ST. Returns an LMDB code. */
static int
db_stat (const char *path, const char *name, MDB_stat *st)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    memset (st, 0, sizeof *st);
    int rc = mdb_env_create (&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (env, 16);
    if (rc == 0)
        rc = mdb_env_open (env, path, MDB_RDONLY, 0600);
    if (rc == 0 && (rc = mdb_txn_begin (env, NULL, MDB_RDONLY, &txn)) == 0) {
        if (mdb_dbi_open (txn, name, 0, &dbi) == 0)
            mdb_stat (txn, dbi, st);
        mdb_txn_abort (txn);
    }
    mdb_env_close (env);
    return rc;
}

/* How full the leaf pages of the store's database NAME are (the store
 * closed): the bytes its entries take in them (LMDB's node header of 8 bytes,
 * key and value, rounded up to even, and a 2-byte pointer each) against the
 * room of its leaf pages (a page less its 16-byte header); -1 on error. */
static double
db_fill (const char *path, const char *name)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_stat st;
    MDB_val k, v;
    double used = 0, room = -1;
    int rc = mdb_env_create (&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (env, 16);
    if (rc == 0)
        rc = mdb_env_open (env, path, MDB_RDONLY, 0600);
    if (rc == 0 && (rc = mdb_txn_begin (env, NULL, MDB_RDONLY, &txn)) == 0) {
        if (mdb_dbi_open (txn, name, 0, &dbi) == 0 && mdb_stat (txn, dbi, &st) == 0
            && mdb_cursor_open (txn, dbi, &cur) == 0) {
            while (mdb_cursor_get (cur, &k, &v, MDB_NEXT) == 0)
                used += (double)(((8 + k.mv_size + v.mv_size + 1) & ~(size_t)1) + 2);
            mdb_cursor_close (cur);
            room = (double)st.ms_leaf_pages * (st.ms_psize - 16);
        }
        mdb_txn_abort (txn);
    }
    mdb_env_close (env);
    return room > 0 ? used / room : -1;
}

/* Entries in the store's database NAME (the store closed). */
static size_t
db_entries (const char *path, const char *name)
{
    MDB_stat st;
    return db_stat (path, name, &st) ? (size_t)-1 : st.ms_entries;
}

static void
test_compact (void)
{
    char dir[64], path[128];
    origin_t o;
    origin_new (&o);
    make_dir (dir, sizeof dir, "compact");
    sub_path (path, sizeof path, dir, "store");
    /* A full batch put in two parts, 5 of a batch of 8, 3 of format 1. */
    enum { FULL = 32, PART = 8, HELD = 5, OLD = 3 };
    signed_t *s = signed_alloc (FULL + PART + OLD),
             *put = signed_alloc (FULL + HELD + OLD);
    make_batches (s, FULL, &o, FULL, "full");
    make_batches (s + FULL, PART, &o, PART, "part");
    make_batches (s + FULL + PART, OLD, &o, 0, "old");
    memcpy (put, s, (FULL + HELD) * sizeof *s);
    memcpy (put + FULL + HELD, s + FULL + PART, OLD * sizeof *s);
    im_store_t *store = open_store (path, 0, o.pk);
    int results[FULL + HELD + OLD];
    ok (put_n (store, put, 20, results) == 20
            && put_n (store, put + 20, FULL + HELD + OLD - 20, results)
                   == FULL + HELD + OLD - 20,
        "a batch of 32 in two puts, 5 of a batch of 8 and 3 of format 1 are stored");
    ok (bytes_differ (store, put, FULL + HELD + OLD) == 0,
        "get, get_raw, version, look-ups, list and changes hand out the bytes put, "
        "which verify");
    im_store_destroy (&store);
    ok (db_entries (path, "batches") == 4 && db_entries (path, "batchroots") == 2,
        "2 batches are kept once each (2 entries a batch)");

    /* The 5 of the partial batch replaced by newer versions (batches of 1). */
    store = open_store (path, 0, o.pk);
    signed_t *newer = signed_alloc (HELD);
    for (size_t i = 0; i < HELD; i++)
        make (&newer[i], &o, put[FULL + i].rec.id, 2, IM_OP_PUT, IM_TYPE_DOMAIN,
              IM_TLP_GREEN, put[FULL + i].rec.value, "newer");
    ok (put_n (store, newer, HELD, results) == HELD && results[0] == IM_STORE_NEWER,
        "5 newer versions replace the partial batch's records");
    memcpy (put + FULL, newer, HELD * sizeof *s);
    ok (bytes_differ (store, put, FULL + HELD + OLD) == 0,
        "after the replacement every reader hands out the bytes put");
    im_store_destroy (&store);
    ok (db_entries (path, "batches") == 2 * (1 + HELD)
            && db_entries (path, "batchroots") == 1 + HELD,
        "the replaced batch is gone: 1 + 5 batches remain (%zu entries)",
        db_entries (path, "batchroots"));

    /* A store of schema 2 (records whole) opens and is read as it is. */
    ok (set_schema (path, 2) == 0 && (store = open_store (path, 0, o.pk)) != NULL
            && bytes_differ (store, put, FULL + HELD + OLD) == 0,
        "a store of schema 2 opens, its records read as put");
    im_store_destroy (&store);
    free (s);
    free (put);
    free (newer);
    remove_dir (dir);
}

/* feed_skip asks SKIP of up to IM_STORE_SKIP_CHUNK changes at a time, read
 * ahead; the walk still stops where LIMIT, MAX_SCAN or FN say, and *LAST is
 * the last change it reached, as one change at a time. */
typedef struct {
    size_t calls, most;    /* SKIP's calls, and the most changes in one */
    uint64_t seen[64];     /* what FN was handed, in order */
    size_t nseen, stop_at; /* FN asks to stop at its STOP_AT-th call (0: never) */
} chunk_walk_t;

static void
every_third (const im_store_change_t *cs, size_t n, uint8_t *skip, void *arg)
{
    chunk_walk_t *w = arg;
    w->calls++;
    if (n > w->most)
        w->most = n;
    for (size_t i = 0; i < n; i++)
        skip[i] = cs[i].seq % 3 == 0;
}

static int
chunk_seen (const im_store_change_t *c, void *arg)
{
    chunk_walk_t *w = arg;
    if (w->nseen < 64)
        w->seen[w->nseen] = c->seq;
    return ++w->nseen == w->stop_at;
}

/* What a walk of one change at a time hands over and reaches: the changes
 * after SINCE up to 40 that are not multiples of 3. */
static int
walk_as_one (uint64_t since, size_t limit, size_t max_scan, size_t stop_at,
             const chunk_walk_t *w, uint64_t last, int rc)
{
    size_t count = 0, scanned = 0;
    uint64_t reached = since;
    for (uint64_t seq = since + 1; seq <= 40 && count < limit && scanned < max_scan;
         seq++) {
        reached = seq;
        scanned++;
        if (seq % 3 == 0)
            continue;
        if (count >= w->nseen || w->seen[count] != seq)
            return 0;
        if (++count == stop_at)
            break;
    }
    return rc == (int)count && w->nseen == count && last == reached;
}

static void
test_feed_chunks (void)
{
    char dir[64], path[128];
    origin_t o;
    origin_new (&o);
    make_dir (dir, sizeof dir, "chunks");
    sub_path (path, sizeof path, dir, "store");
    signed_t *s = signed_alloc (40);
    make_batches (s, 40, &o, 8, "chunk");
    im_store_t *store = open_store (path, 0, o.pk);
    int results[40];
    ok (put_n (store, s, 40, results) == 40, "40 records make changes 1 to 40");
    const struct {
        uint64_t since;
        size_t limit, max_scan, stop_at;
        const char *what;
    } walks[] = {
        { 0, 100, 100, 0, "the whole log, every third change passed over" },
        { 0, 10, 100, 0, "a limit of 10 reached within the first chunk" },
        { 0, 15, 100, 0, "a limit of 15 reached within the second chunk" },
        { 0, 100, 20, 0, "20 changes scanned at most" },
        { 0, 100, 100, 5, "FN asks to stop at its fifth" },
        { 17, 100, 100, 0, "from change 17, across chunks" },
        { 0, 11, 100, 0, "a limit met at a chunk's end" },
        { 40, 100, 100, 0, "from the last change: nothing" },
    };
    for (size_t i = 0; i < sizeof walks / sizeof walks[0]; i++) {
        chunk_walk_t w = { .stop_at = walks[i].stop_at };
        uint64_t last = 0;
        int rc
            = im_store_feed_skip (store, walks[i].since, walks[i].limit,
                                  walks[i].max_scan, every_third, chunk_seen, &w, &last);
        ok (walk_as_one (walks[i].since, walks[i].limit, walks[i].max_scan,
                         walks[i].stop_at, &w, last, rc)
                && w.most <= IM_STORE_SKIP_CHUNK && (w.calls > 0 || walks[i].since == 40),
            "%s: as one change at a time (%d handed over, last %llu, %zu asks of at most "
            "%zu)",
            walks[i].what, rc, (unsigned long long)last, w.calls, w.most);
    }
    chunk_walk_t w = { 0 };
    uint64_t last = 0;
    im_store_feed_skip (store, 0, 100, 100, every_third, chunk_seen, &w, &last);
    ok (w.most == IM_STORE_SKIP_CHUNK && w.calls == 3,
        "the 40 changes are asked about 16 at a time (%zu asks)", w.calls);
    im_store_destroy (&store);

    /* Change 20 made 3 bytes long, as no version writes one: a walk hands
     * over the changes before it and stops there; one from past it goes on
     * to the end. */
    uint8_t seq20[8] = { 0, 0, 0, 0, 0, 0, 0, 20 };
    ok (db_edit (path, "changes", seq20, 8, "bad", 3) == 0,
        "change 20 is overwritten with 3 bytes");
    store = open_store (path, 0, o.pk);
    w = (chunk_walk_t){ 0 };
    last = 0;
    int rc = im_store_feed_skip (store, 0, 100, 100, every_third, chunk_seen, &w, &last);
    ok (rc == 13 && w.nseen == 13 && w.seen[12] == 19 && last == 19,
        "a walk from 0 stops before the entry that is not a change (%d handed over, "
        "last %llu)",
        rc, (unsigned long long)last);
    w = (chunk_walk_t){ 0 };
    rc = im_store_feed_skip (store, 19, 100, 100, every_third, chunk_seen, &w, &last);
    ok (rc == 0 && w.nseen == 0 && last == 19,
        "a walk whose first entry is that one hands over nothing and stays at 19 (%d, "
        "last %llu)",
        rc, (unsigned long long)last);
    w = (chunk_walk_t){ 0 };
    rc = im_store_feed_skip (store, 20, 100, 100, every_third, chunk_seen, &w, &last);
    ok (rc == 13 && w.nseen == 13 && w.seen[0] == 22 && last == 40,
        "a walk from past it reaches change 40 (%d handed over, last %llu)", rc,
        (unsigned long long)last);
    im_store_destroy (&store);
    free (s);
    remove_dir (dir);
}

/* A put whose items interleave batches stores each batch's records together,
 * batches in the order they first come, and each item's result stays its
 * own. */
static void
test_batch_order (void)
{
    char dir[64], path[128], err[256] = "";
    origin_t o, q;
    origin_new (&o);
    origin_new (&q);
    make_dir (dir, sizeof dir, "order");
    sub_path (path, sizeof path, dir, "store");
    signed_t *s = signed_alloc (9);
    make_batches (s, 4, &o, 4, "a");     /* A: 0-3, of O */
    make_batches (s + 4, 4, &q, 4, "b"); /* B: 4-7, of Q */
    make_batches (s + 8, 1, &o, 0, "f"); /* F: 8, of format 1 */
    /* A0 B0 F A1 B1 A2 B2 A3 B3. */
    const size_t put[] = { 0, 4, 8, 1, 5, 2, 6, 3, 7 };
    enum { N = sizeof put / sizeof put[0] };
    im_store_item_t items[N];
    for (size_t i = 0; i < N; i++)
        items[i]
            = (im_store_item_t){ s[put[i]].blob, s[put[i]].len, &s[put[i]].rec, 0, NULL };
    im_store_t *store = open_store (path, 0, o.pk);
    int results[N];
    int rc = im_store_put_batch (store, items, N, results, err, sizeof err);
    ok (rc == 9,
        "9 records of two batches and one of format 1, interleaved, are stored (%d)", rc);
    int own = 1;
    for (size_t i = 0; i < 9; i++)
        own &= results[i] == IM_STORE_NEW;
    ok (own, "each item's result is its own: 9 new");
    static feed_seen_t f;
    uint64_t last;
    rc = im_store_feed (store, 0, 100, 100, feed_seen_fn, &f, &last);
    const size_t want[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
    int in_order = rc == 9 && f.calls == 9;
    for (size_t i = 0; in_order && i < 9; i++)
        in_order = memcmp (f.hit[i].id, s[want[i]].rec.id, IM_ID_SIZE) == 0
                   && f.hit[i].seq == i + 1;
    ok (in_order, "the change log has A's four, then B's four, then F (%zu changes)",
        f.calls);
    ok (bytes_differ (store, s, 9) == 0, "every reader hands out the bytes put");

    /* A record twice, its newer version first, of another batch: B0 X2 X1
     * (B0 and X1 one batch). Grouped, X1 would be put before X2. */
    signed_t *d = signed_alloc (3);
    make_batches (d, 2, &o, 2, "dup");
    make (&d[2], &o, d[1].rec.id, 2, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN,
          d[1].rec.value, "newer");
    im_store_item_t dup[3] = { { d[0].blob, d[0].len, &d[0].rec, 0, NULL },
                               { d[2].blob, d[2].len, &d[2].rec, 0, NULL },
                               { d[1].blob, d[1].len, &d[1].rec, 0, NULL } };
    rc = im_store_put_batch (store, dup, 3, results, err, sizeof err);
    uint64_t version = 0, versions[1] = { 0 };
    uint8_t key[IM_NODE_ID_SIZE + IM_ID_SIZE];
    memcpy (key, o.pk, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, d[1].rec.id, IM_ID_SIZE);
    ok (rc == 2 && results[0] == IM_STORE_NEW && results[1] == IM_STORE_NEW
            && results[2] == IM_STORE_STALE,
        "a record put twice, the newer first: the older one that comes after is stale");
    ok (im_store_version (store, o.pk, d[1].rec.id, &version) == 0 && version == 2
            && im_store_versions (store, key, sizeof key, 1, versions) == 0
            && versions[0] == 2,
        "version 2 is held, and the versions read say so");
    im_store_destroy (&store);
    ok (db_entries (path, "batchroots") == 4, "each batch is kept once");
    free (d);
    free (s);
    remove_dir (dir);
}

/* Relative size: 20,000 records of 32-record batches, each 177 bytes longer
 * than the same body signed alone (format 1) for its path and its batch's
 * signature, take no more room than those of format 1: the path's nodes and
 * the signature are kept once a batch. (A full batch keeps 62 nodes, about
 * what format 1 spends on signatures and keys in each value; with the new
 * records put in key order, both fill their pages, and the two come within
 * a few pages of each other.) */
static void
test_compact_size (void)
{
    char dir[64], path[128];
    origin_t o;
    origin_new (&o);
    enum { N = 20000 };
    signed_t *s = signed_alloc (N);
    uint64_t used[2] = { 0, 0 };
    make_dir (dir, sizeof dir, "compactsize");
    for (int f = 0; f < 2; f++) {
        make_batches (s, N, &o, f ? IM_BATCH_MAX : 0, "size");
        sub_path (path, sizeof path, dir, f ? "store2" : "store1");
        im_store_t *store = open_store (path, 0, o.pk);
        int *results = calloc (1000, sizeof *results);
        for (size_t at = 0; at < N; at += 1000)
            put_n (store, s + at, 1000, results);
        im_store_stats_t st;
        im_store_stats (store, &st);
        used[f] = st.used_bytes;
        free (results);
        im_store_destroy (&store);
    }
    ok (used[1] <= used[0] + N * 4,
        "20,000 records of format 2 take about the room (%llu B) of format 1 (%llu B), "
        "not 177 bytes a record more",
        (unsigned long long)used[1], (unsigned long long)used[0]);
    free (s);
    remove_dir (dir);
}

/* Records' keys, for sorting a test's items. */
static const signed_t *key_of;

static int
key_cmp (const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    return memcmp (key_of[*x].rec.origin, key_of[*y].rec.origin, IM_STORE_KEY_SIZE);
}

/* The N indexes of S in key order, into IDX. */
static void
by_key (const signed_t *s, size_t n, size_t *idx)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    key_of = s;
    qsort (idx, n, sizeof *idx, key_cmp);
}

/* New records go to the records table in key order, but every other effect
 * of a put keeps the order given: the change log (what peers pull) and the
 * change number each HELD entry points at, which a copy over fewer hops
 * replaces. */
static void
test_key_order (void)
{
    char dir[64], path[128], err[256] = "";
    origin_t o;
    uint8_t peer[IM_NODE_ID_SIZE];
    origin_new (&o);
    memset (peer, 0x5e, sizeof peer);
    make_dir (dir, sizeof dir, "keyorder");
    sub_path (path, sizeof path, dir, "store");
    enum { N = 40 };
    signed_t *s = signed_alloc (N), *upd = signed_alloc (2);
    char value[64];
    for (size_t i = 0; i < N; i++) {
        uint8_t id[IM_ID_SIZE];
        im_id_generate (id);
        snprintf (value, sizeof value, "key-%zu.order.example.org", i);
        with_reach (
            make (&s[i], &o, id, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, value, NULL),
            &o, 2);
    }
    size_t asc[N];
    by_key (s, N, asc);
    /* Every fourth key held first (changes 1 to 10); two of them come again
     * at version 2. */
    im_store_item_t items[N];
    int results[N];
    for (size_t j = 0; j < N / 4; j++)
        items[j] = (im_store_item_t){ s[asc[4 * j]].blob, s[asc[4 * j]].len,
                                      &s[asc[4 * j]].rec, 3, peer };
    im_store_t *store = open_store (path, 0, o.pk);
    int rc = im_store_put_batch (store, items, N / 4, results, err, sizeof err);
    ok (rc == N / 4, "10 records, every fourth in key order, are held first (%d)", rc);
    for (size_t u = 0; u < 2; u++) {
        const signed_t *was = &s[asc[4 * (u + 1)]];
        with_reach (make (&upd[u], &o, was->rec.id, 2, IM_OP_PUT, IM_TYPE_DOMAIN,
                          IM_TLP_GREEN, was->rec.value, "newer"),
                    &o, 2);
    }

    /* All 40 in falling key order, at 3 hops. */
    const signed_t *put[N];
    for (size_t j = 0; j < N; j++) {
        size_t k = N - 1 - j;
        put[j] = k == 4 ? &upd[0] : k == 8 ? &upd[1] : &s[asc[k]];
        items[j] = (im_store_item_t){ put[j]->blob, put[j]->len, &put[j]->rec, 3, peer };
    }
    rc = im_store_put_batch (store, items, N, results, err, sizeof err);
    int right = 1;
    for (size_t j = 0; j < N; j++) {
        size_t k = N - 1 - j;
        int want = k == 4 || k == 8 ? IM_STORE_NEWER
                   : k % 4 == 0     ? IM_STORE_STALE
                                    : IM_STORE_NEW;
        right &= results[j] == want;
    }
    ok (rc == 32 && right,
        "40 records put in falling key order: 30 new, 2 newer, 8 stale, each its own "
        "(%d)",
        rc);
    static feed_seen_t f;
    uint64_t last = 0;
    memset (&f, 0, sizeof f);
    rc = im_store_feed (store, 10, 100, 100, feed_seen_fn, &f, &last);
    size_t at = 0;
    int in_order = rc == 32 && f.calls == 32;
    for (size_t j = 0; in_order && j < N; j++)
        if (results[j] != IM_STORE_STALE) {
            in_order = memcmp (f.hit[at].id, put[j]->rec.id, IM_ID_SIZE) == 0
                       && f.hit[at].seq == 11 + at && f.hit[at].hops == 3
                       && f.hit[at].version == put[j]->rec.version;
            at++;
        }
    ok (in_order, "the change log has the 32 in the order given, changes 11 to 42 (%zu)",
        f.calls);

    /* All 40 again in rising key order, over 1 hop: each is logged again,
     * its change at 3 hops dropped through its HELD entry. */
    for (size_t j = 0; j < N; j++) {
        const signed_t *r = j == 4 ? &upd[0] : j == 8 ? &upd[1] : &s[asc[j]];
        items[j] = (im_store_item_t){ r->blob, r->len, &r->rec, 1, peer };
    }
    rc = im_store_put_batch (store, items, N, results, err, sizeof err);
    int closer = 1;
    for (size_t j = 0; j < N; j++)
        closer &= results[j] == IM_STORE_CLOSER;
    ok (rc == N && closer, "the 40 over 1 hop are each closer (%d)", rc);
    memset (&f, 0, sizeof f);
    rc = im_store_feed (store, 0, 100, 100, feed_seen_fn, &f, &last);
    int once = rc == N && f.calls == N;
    for (size_t j = 0; once && j < N; j++)
        once = f.hit[j].seq == 43 + j && f.hit[j].hops == 1
               && memcmp (f.hit[j].id, s[asc[j]].rec.id, IM_ID_SIZE) == 0;
    ok (once,
        "the change log then holds each record once, at 1 hop, changes 43 to 82 in "
        "rising key order (%zu changes, %d)",
        f.calls, rc);
    im_store_destroy (&store);
    free (s);
    free (upd);
    remove_dir (dir);
}

/* Records whose ids sort at random within a put (those of one millisecond)
 * fill the records table's pages as those put in key order do. */
static void
test_key_order_pages (void)
{
    char dir[64], path[128];
    origin_t o;
    origin_new (&o);
    make_dir (dir, sizeof dir, "keypages");
    enum { N = 4000, PUT = 1000 };
    signed_t *s = signed_alloc (N);
    make_batches (s, N, &o, IM_BATCH_MAX, "pages");
    size_t *idx = malloc (N * sizeof *idx);
    int *results = calloc (PUT, sizeof *results);
    im_store_item_t *items = calloc (PUT, sizeof *items);
    if (!idx || !results || !items)
        BAIL_OUT ("out of memory");
    MDB_stat st[2];
    double fill[2];
    for (int shuffled = 0; shuffled < 2; shuffled++) {
        sub_path (path, sizeof path, dir, shuffled ? "shuffled" : "sorted");
        im_store_t *store = open_store (path, 0, o.pk);
        int stored = 0;
        for (size_t at = 0; at < N; at += PUT) {
            /* Shuffled: each batch of 32 together, as a publish signs them,
             * its records in an order of their own. */
            if (shuffled)
                for (size_t j = 0; j < PUT; j++) {
                    size_t first = j - j % IM_BATCH_MAX;
                    size_t k = first + randombytes_uniform ((uint32_t)(j - first + 1));
                    idx[j] = idx[k];
                    idx[k] = j;
                }
            else
                by_key (s + at, PUT, idx);
            for (size_t j = 0; j < PUT; j++) {
                const signed_t *r = &s[at + idx[j]];
                items[j] = (im_store_item_t){ r->blob, r->len, &r->rec, 0, NULL };
            }
            stored += im_store_put_batch (store, items, PUT, results, NULL, 0);
        }
        im_store_destroy (&store);
        fill[shuffled] = db_fill (path, "records");
        ok (stored == N && db_stat (path, "records", &st[shuffled]) == 0,
            "%s: 4,000 records put, 1,000 a put (%d)",
            shuffled ? "each batch's records in their own order" : "in key order",
            stored);
    }
    ok (st[1].ms_leaf_pages <= st[0].ms_leaf_pages + 4,
        "the records table takes %zu leaf pages put shuffled, %zu put in key order",
        st[1].ms_leaf_pages, st[0].ms_leaf_pages);
    /* Appended, a page is filled up to its last whole entry (97%: an entry is
     * about 200 bytes); put between keys, even in key order, LMDB splits a full
     * page in half (94% here, review 102). */
    ok (fill[0] >= 0.96 && fill[1] >= 0.96,
        "its leaf pages are filled: %.1f%% put shuffled, %.1f%% in key order",
        100 * fill[1], 100 * fill[0]);
    free (idx);
    free (results);
    free (items);
    free (s);
    remove_dir (dir);
}

/* im_store_value_prefix: the member records of one indicator, found by the
 * prefix "ORIGINHEX/INDICATOR-UUID " of their values (SPEC.md, "Members"). */
static void
test_value_prefix (void)
{
    char dir[256], path[512], value[IM_MEMBER_VALUE_SIZE], prefix[IM_MEMBER_VALUE_SIZE];
    uint8_t node[IM_NODE_ID_SIZE], a[IM_ID_SIZE], b[IM_ID_SIZE], r1[IM_ID_SIZE],
        r2[IM_ID_SIZE], mid[4][IM_ID_SIZE];
    origin_t o;
    found_t f;
    int r;
    signed_t *s = signed_alloc (1);
    make_dir (dir, sizeof dir, "prefix");
    randombytes_buf (node, sizeof node);
    origin_new (&o);
    im_id_generate (a);
    im_id_generate (b);
    im_id_generate (r1);
    im_id_generate (r2);
    im_store_t *store = open_store (sub_path (path, sizeof path, dir, "store"), 0, node);
    /* a in r1 and r2, b in r1; then a leaves r2 (a tombstone). */
    const uint8_t *pairs[3][2] = { { a, r1 }, { a, r2 }, { b, r1 } };
    for (int i = 0; i < 3; i++) {
        im_member_value (o.pk, pairs[i][0], pairs[i][1], value);
        im_id_from_name (value, strlen (value), mid[i]);
        put1 (
            store,
            make (s, &o, mid[i], 1, IM_OP_PUT, IM_TYPE_MEMBER, IM_TLP_GREEN, value, NULL),
            &r);
        ok (r == IM_STORE_NEW, "member %d is stored", i);
    }
    im_member_value (o.pk, a, r2, value);
    put1 (
        store,
        make (s, &o, mid[1], 2, IM_OP_REVOKE, IM_TYPE_MEMBER, IM_TLP_GREEN, value, NULL),
        &r);
    put1 (store,
          make (s, &o, a, 1, IM_OP_PUT, IM_TYPE_DOMAIN, IM_TLP_GREEN, "prefix.example",
                NULL),
          &r);
    im_member_value (o.pk, a, r1, prefix);
    prefix[IM_MEMBER_VALUE_SIZE - 1 - 36] = 0; /* "ORIGINHEX/A-UUID " */
    memset (&f, 0, sizeof f);
    ok (im_store_value_prefix (store, IM_TYPE_MEMBER, prefix, 100, collect, &f) == 1
            && f.calls == 1 && memcmp (f.hit[0].id, mid[0], IM_ID_SIZE) == 0
            && f.hit[0].op == IM_OP_PUT,
        "the prefix of indicator a finds its one live member (the revoked one is not)");
    im_member_value (o.pk, b, r1, prefix);
    prefix[IM_MEMBER_VALUE_SIZE - 1 - 36] = 0;
    memset (&f, 0, sizeof f);
    ok (im_store_value_prefix (store, IM_TYPE_MEMBER, prefix, 100, collect, &f) == 1
            && memcmp (f.hit[0].id, mid[2], IM_ID_SIZE) == 0,
        "the prefix of indicator b finds b's member only");
    prefix[64] = 0; /* the origin: every member of it */
    memset (&f, 0, sizeof f);
    ok (im_store_value_prefix (store, IM_TYPE_MEMBER, prefix, 100, collect, &f) == 2,
        "the origin's prefix finds the two live members");
    memset (&f, 0, sizeof f);
    ok (im_store_value_prefix (store, IM_TYPE_MEMBER, prefix, 1, collect, &f) == 1
            && f.calls == 1,
        "at most LIMIT matches");
    memset (&f, 0, sizeof f);
    f.stop_after = 1;
    ok (im_store_value_prefix (store, IM_TYPE_MEMBER, prefix, 100, collect, &f) == 1
            && f.calls == 1,
        "FN stops the walk");
    memset (&f, 0, sizeof f);
    ok (im_store_value_prefix (store, IM_TYPE_DOMAIN, prefix, 100, collect, &f) == 0
            && im_store_value_prefix (store, IM_TYPE_MEMBER, "zz", 100, collect, &f) == 0
            && f.calls == 0,
        "another type or a prefix no value begins with finds nothing");
    memset (&f, 0, sizeof f);
    ok (im_store_value_prefix (store, IM_TYPE_DOMAIN, "prefix.", 100, collect, &f) == 1,
        "a domain is found by its first bytes too");
    char longp[460];
    memset (longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    const struct {
        im_store_t *st;
        int type;
        const char *p;
        const char *what;
    } bad[] = { { NULL, IM_TYPE_MEMBER, "a", "no store" },
                { store, IM_TYPE_MEMBER, NULL, "no prefix" },
                { store, IM_TYPE_MEMBER, "", "an empty prefix" },
                { store, IM_TYPE_MEMBER, longp, "a prefix of 459 bytes" },
                { store, IM_TYPE_NONE, "a", "an unknown type" } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        ok (im_store_value_prefix (bad[i].st, bad[i].type, bad[i].p, 10, collect, &f)
                    == -1
                && errno == EINVAL,
            "value_prefix rejects %s", bad[i].what);
    }
    im_store_destroy (&store);
    free (s);
    remove_dir (dir);
}

static const tap_test_t tests[]
    = { TAP_DIAG ("SPEC.md: Storage and durability; Ownership and versions"),
        TAP_TEST (test_bad_arguments),
        TAP_TEST (test_node_identity),
        TAP_TEST (test_versions),
        TAP_TEST (test_update_moves_index),
        TAP_TEST (test_revocation),
        TAP_TEST (test_versions_at_once),
        TAP_TEST (test_versions_remembered),
        TAP_TEST (test_lookup),
        TAP_TEST (test_value_prefix),
        TAP_TEST (test_list),
        TAP_TEST (test_changes),
        TAP_TEST (test_stats),
        TAP_TEST (test_persistence),
        TAP_TEST (test_map_growth),
        TAP_TEST (test_failed_batch),
        TAP_DIAG ("SPEC.md: A full disk"),
        TAP_TEST (test_store_error),
        TAP_TEST (test_size_limit),
        TAP_TEST (test_full_filesystem),
        TAP_TEST (test_get_raw),
        TAP_TEST (test_purge),
        TAP_TEST (test_purge_retried),
        TAP_DIAG ("SPEC.md: Sharing policy (the sent log; hops over several paths)"),
        TAP_TEST (test_set_cursor),
        TAP_TEST (test_counts_of_fewer_types),
        TAP_TEST (test_served),
        TAP_TEST (test_lazy_sync),
        TAP_TEST (test_sent_log),
        TAP_TEST (test_sent_once),
        TAP_TEST (test_sent_peers),
        TAP_TEST (test_sent_prune),
        TAP_TEST (test_held),
        TAP_TEST (test_closer),
        TAP_TEST (test_read_in_walk),
        TAP_DIAG ("SPEC.md: Storage and durability (a store made before format 2)"),
        TAP_TEST (test_reseal),
        TAP_DIAG ("SPEC.md: Storage and durability (records of format 2 kept compact)"),
        TAP_TEST (test_compact),
        TAP_TEST (test_batch_order),
        TAP_TEST (test_feed_chunks),
        TAP_TEST (test_compact_size),
        TAP_TEST (test_key_order),
        TAP_TEST (test_key_order_pages),
        TAP_END };

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init failed");
    snprintf (sent_fault_path, sizeof sent_fault_path, "/tmp/im-sentlog-fail-%ld",
              (long)getpid ());
    remove (sent_fault_path);
    setenv ("IM_TEST_SENTLOG_FAIL", sent_fault_path, 1);
    return tap_main (argc, argv, tests);
}
