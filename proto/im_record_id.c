/* SPDX-License-Identifier: MPL-2.0 */
/* im_record_id.c -- the text forms of indicator ids (UUIDs: parsed, written,
 * made as version 7, named as version 5 for the outside) and of node ids. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "im_record.h"
#include "im_time.h"

void
im_id_format (const uint8_t id[IM_ID_SIZE], char out[IM_ID_STR_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < IM_ID_SIZE; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[id[i] >> 4];
        *p++ = hex[id[i] & 15];
    }
    *p = 0;
}

static int
hexval (int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
im_id_parse (const char *text, uint8_t id[IM_ID_SIZE])
{
    if (!text || strlen (text) != 36)
        goto bad;
    const char *p = text;
    for (int i = 0; i < IM_ID_SIZE; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (*p++ != '-')
                goto bad;
        }
        int hi = hexval (p[0]), lo = hexval (p[1]);
        if (hi < 0 || lo < 0)
            goto bad;
        id[i] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    return 0;
bad:
    errno = EINVAL;
    return -1;
}

void
im_id_from_name (const void *name, size_t len, uint8_t id[IM_ID_SIZE])
{
    uuid_t ns;
    if (uuid_parse (IM_ID_NAMESPACE, ns) != 0)
        abort (); /* a constant: cannot fail */
    uuid_generate_sha1 (id, ns, name, len);
}

int
im_id_is_rfc4122 (const uint8_t id[IM_ID_SIZE])
{
    int version = id[6] >> 4;
    return version >= 1 && version <= 5 && (id[8] & 0xC0) == 0x80;
}

void
im_id_export (const uint8_t origin[IM_NODE_ID_SIZE], const uint8_t id[IM_ID_SIZE],
              uint8_t out[IM_ID_SIZE])
{
    if (im_id_is_rfc4122 (id)) {
        memmove (out, id, IM_ID_SIZE);
        return;
    }
    char name[IM_NODE_HEX_SIZE + IM_ID_STR_SIZE];
    im_node_format (origin, name);
    name[IM_NODE_HEX_SIZE - 1] = '/';
    im_id_format (id, name + IM_NODE_HEX_SIZE);
    im_id_from_name (name, strlen (name), out);
}

/* Random bytes for ids, drawn from the kernel 1 KiB at a time rather than
 * in one system call an id (a twelfth of a node's time in `publish -`).
 * Each thread has its own pool; a forked child starts with an empty one. */
#define ID_POOL 1024
static _Thread_local struct {
    uint8_t bytes[ID_POOL];
    size_t used;
    int ready;
} id_pool;
static pthread_once_t id_pool_once = PTHREAD_ONCE_INIT;

static void
id_pool_forked (void)
{
    sodium_memzero (&id_pool, sizeof id_pool);
}

static void
id_pool_init (void)
{
    pthread_atfork (NULL, NULL, id_pool_forked);
}

static void
id_random (uint8_t *out, size_t len)
{
    pthread_once (&id_pool_once, id_pool_init);
    if (!id_pool.ready || id_pool.used + len > ID_POOL) {
        randombytes_buf (id_pool.bytes, ID_POOL);
        id_pool.used = 0;
        id_pool.ready = 1;
    }
    memcpy (out, id_pool.bytes + id_pool.used, len);
    sodium_memzero (id_pool.bytes + id_pool.used, len); /* never given twice */
    id_pool.used += len;
}

void
im_id_generate (uint8_t id[IM_ID_SIZE])
{
    /* UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then
     * random bits. Ids made in one millisecond sort after those of the one
     * before, so a node's own records are appended to the store rather than
     * scattered; within a millisecond they do not. Not the fraction of the
     * millisecond, nor a counter, there: each item of a bulk publish takes
     * about the same time, so the gap between two ids a partner was given
     * would count the records made between them that it was not (review
     * 100: gap in 244 ns steps over four, the withheld items within one). */
    uint64_t ms = (uint64_t)im_time_now_ms ();
    id_random (id, IM_ID_SIZE);
    for (int i = 0; i < 6; i++)
        id[i] = (uint8_t)(ms >> (40 - 8 * i));
    id[6] = (uint8_t)((id[6] & 0x0F) | 0x70);
    id[8] = (uint8_t)((id[8] & 0x3F) | 0x80);
}

void
im_node_format (const uint8_t node[IM_NODE_ID_SIZE], char out[IM_NODE_HEX_SIZE])
{
    sodium_bin2hex (out, IM_NODE_HEX_SIZE, node, IM_NODE_ID_SIZE);
}

int
im_node_parse (const char *text, uint8_t node[IM_NODE_ID_SIZE])
{
    size_t binlen = 0;
    const char *end = NULL;
    if (!text || strlen (text) != 2 * IM_NODE_ID_SIZE
        || sodium_hex2bin (node, IM_NODE_ID_SIZE, text, strlen (text), NULL, &binlen,
                           &end)
               != 0
        || binlen != IM_NODE_ID_SIZE || *end != 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}
