/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_seen.c -- a PUBLISH request's earlier items found again: the batch
 * index of the newest record of each id and of each type and value, in two
 * open-addressed tables sized to the request (a czmq hash of "#ID" and
 * "TYPE|VALUE" strings was a twentieth of a bulk publish). */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "im_node_publish_int.h"

/* Keyed, so that no importer can choose ids or values that collide. */
static uint8_t seen_key[crypto_shorthash_KEYBYTES];
static pthread_once_t seen_once = PTHREAD_ONCE_INIT;

static void
seen_key_init (void)
{
    randombytes_buf (seen_key, sizeof seen_key);
}

int
publish_seen_init (publish_t *p, size_t n)
{
    pthread_once (&seen_once, seen_key_init);
    /* An item adds at most one record, and two ids when an importer's id
     * maps to a record of another id: at least half the slots stay free. */
    size_t size = 16;
    while (size < 4 * n)
        size *= 2;
    p->seen.mask = size - 1;
    p->seen.ids = calloc (size, sizeof *p->seen.ids);
    p->seen.values = calloc (size, sizeof *p->seen.values);
    return p->seen.ids && p->seen.values ? 0 : -1;
}

void
publish_seen_free (publish_t *p)
{
    free (p->seen.ids);
    free (p->seen.values);
    p->seen.ids = NULL;
    p->seen.values = NULL;
}

static size_t
hash_of (const void *data, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash (h, data, len, seen_key);
    uint64_t v;
    memcpy (&v, h, sizeof v);
    return (size_t)v;
}

/* The slot of ID: the one holding it, or the free one it would go in. */
static publish_seen_id_t *
id_slot (publish_t *p, const uint8_t id[IM_ID_SIZE])
{
    size_t i = hash_of (id, IM_ID_SIZE) & p->seen.mask;
    while (p->seen.ids[i].at && memcmp (p->seen.ids[i].id, id, IM_ID_SIZE) != 0)
        i = (i + 1) & p->seen.mask;
    return &p->seen.ids[i];
}

/* The slot of TYPE and VALUE: the one whose record has them, or the free one
 * they would go in (every record a value slot names has that value). */
static uint32_t *
value_slot (publish_t *p, int type, const char *value)
{
    size_t i = hash_of (value, strlen (value)) & p->seen.mask;
    for (;;) {
        uint32_t at = p->seen.values[i];
        if (!at)
            return &p->seen.values[i];
        const im_record_t *r = &p->b.recs[at - 1];
        if (r->type == type && strcmp (r->value, value) == 0)
            return &p->seen.values[i];
        i = (i + 1) & p->seen.mask;
    }
}

size_t
publish_seen_id (publish_t *p, const uint8_t id[IM_ID_SIZE])
{
    return id_slot (p, id)->at;
}

size_t
publish_seen_value (publish_t *p, int type, const char *value)
{
    return *value_slot (p, type, value);
}

void
publish_seen_note (publish_t *p, const uint8_t *item_id)
{
    uint32_t at = (uint32_t)p->b.n;
    const im_record_t *rec = &p->b.recs[at - 1];
    publish_seen_id_t *s = id_slot (p, rec->id);
    memcpy (s->id, rec->id, IM_ID_SIZE);
    s->at = at;
    if (item_id && memcmp (item_id, rec->id, IM_ID_SIZE) != 0) {
        s = id_slot (p, item_id);
        memcpy (s->id, item_id, IM_ID_SIZE);
        s->at = at;
    }
    *value_slot (p, rec->type, rec->value) = at;
}
